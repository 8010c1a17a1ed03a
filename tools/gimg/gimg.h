/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gimg: qemu-img's commands over guestkit's block layer.
 *
 * One command is one record of the table in main.c ({name, function,
 * usage, options}) and one file here; main.c parses every command's
 * options with one parser (gimg_parse) and hands the command a gimg_args.
 * Option names, messages, exit codes and output shapes follow qemu-img 7.2
 * so that scripts (and our tests) can use either tool. */
#ifndef GIMG_H
#define GIMG_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "blk.h"
#include "common.h"

#define GiB (1ULL << 30)

/* Options the shared parser knows; a command lists those it takes. */
enum {
    GO_FORMAT = 1,       /* -f FMT, --format=FMT (checked against the formats) */
    GO_OUTPUT = 2,       /* --output=human|json                                */
    GO_SHARE = 4,        /* -U, --force-share                                  */
    GO_QUIET = 8,        /* -q                                                 */
    GO_PROGRESS = 16,    /* -p                                                 */
    GO_CACHE = 32,       /* -T SRC_CACHE, -t CACHE: accepted, no effect here   */
    GO_IMGOPTS = 64,     /* --object secret,..., --image-opts (secret.c)       */
    GO_RAW_LAST = 128,   /* the last argument is taken off before the options
                          * are parsed, so that it may start with '-' (qemu-img
                          * resize's size): gimg_args.last                   */
    GO_OBJECT = 256,     /* --object only (create: secrets named by -o)        */
};

enum { OUT_HUMAN, OUT_JSON };

/* Progress bar, as qemu-img -p: "    (12.34/100%)\r" */
struct progress {
    int on;
    double last;
};

struct gimg_opt {        /* one command-specific option, in command-line order */
    int opt;
    const char *arg;
};

struct gimg_cmd;

typedef struct gimg_args {
    const struct gimg_cmd *cmd;
    const char *fmt;     /* -f, NULL = probe                                   */
    int output;          /* OUT_HUMAN / OUT_JSON                               */
    int share, quiet;
    int image_opts;      /* --image-opts: image arguments are option lists     */
    struct progress progress;
    struct gimg_opt *opts; int nopts;  /* the command's own options           */
    char **args; int nargs;            /* positional arguments                */
    const char *last;                  /* with GO_RAW_LAST: the last argument */
} gimg_args;

struct gimg_cmd {
    const char *name;
    int (*run)(gimg_args *a);
    const char *usage;   /* printed by COMMAND --help, and on usage errors     */
    unsigned common;     /* GO_* it takes                                      */
    const char *shortopts;             /* its own short options ("b", "s:")   */
    const struct option *longopts;     /* its own long options, or NULL       */
    int error_status;    /* exit status of usage errors (qemu-img compare: 2)  */
};

extern int gimg_untrusted; /* --untrusted (or GUESTKIT_UNTRUSTED=1: -1)      */

/* Open an image with the common options: -f, -U, --untrusted; flags are
 * GK_OPEN_*.  Dies with status on failure. */
gk_dev *gimg_open(const gimg_args *a, const char *path, const char *fmt, unsigned flags, int status);
/* Open with every option spelled out (snapshot selection for convert). */
gk_dev *gimg_open_opts(const gimg_args *a, const char *path, gk_open_opts *o, int status);
/* --object secret,id=ID,data=...|file=...[,format=base64] (dies on a bad
 * one; data= is wiped from argv). */
void gimg_add_object(char *arg);
/* With --image-opts, the file name of an option list spec ("driver=qcow2,
 * file.filename=F,encrypt.key-secret=ID"), allocated (the caller frees
 * it), its format and key set in o; without, spec itself.  Dies on a bad
 * list. */
const char *gimg_image_opts(const gimg_args *a, const char *spec, gk_open_opts *o);
/* Once d, the image of the last spec, is open: dies with status as qemu-img
 * does if the list held an option its format leaves unused (filename=
 * beside file.filename=; backing.encrypt.key-secret for a command that
 * opens no backing file: info, rebase -u). */
void gimg_image_opts_unused(gk_dev *d, int status);
/* When an open of the image of the last spec failed for want of its key
 * (errno ENOKEY): dies with status as qemu-img does if the list named a
 * key secret --object did not define (qemu looks it up only then). */
void gimg_image_opts_nokey(int status);
/* The name qemu-img gives the image of spec (opened, of format fmt): spec
 * itself, or with --image-opts the file name, or "json:{...}" when the list
 * holds an option a file name cannot carry (encrypt.key-secret).
 * Allocated (the caller frees it). */
char *gimg_image_name(const gimg_args *a, const char *spec, const char *fmt);
extern int gimg_no_sandbox; /* --no-sandbox                                 */
/* Enter the sandbox (tools/sandbox.h) once a command has opened what it
 * reads (the first nimages of its arguments, with their backing files)
 * and what it writes: from here on nothing else on the host can be opened.
 * needs: GK_SB_* (GK_SB_IMGWRITE for an output image); fsize: the most it
 * writes into a file (RLIMIT_FSIZE), 0 if it writes none or cannot say. */
void gimg_sandbox(const gimg_args *a, int nimages, unsigned needs, uint64_t fsize);
/* -l snapshot.id=ID,snapshot.name=NAME (convert, measure): *id and *name
 * (malloc'd) set from the list; dies on an unknown key. */
void gimg_parse_snapshot_opts(const char *arg, char **id, char **name);
/* qemu-img's size parser for option values ("1M", "512", "1.5G"). */
uint64_t gimg_parse_size(const char *s, const char *what);
void gimg_usage_error(const gimg_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* -o a=b,c=d (",," is a comma; a name alone is "on") appended to the
 * malloc'd arrays names/values of *n entries. */
void gimg_split_opts(const char *arg, const char ***names, const char ***values, int *n);

void progress_print(struct progress *p, double pct, int force);
void progress_end(struct progress *p);

/* Buffers of zeros: all_zero over n bytes; find_nonzero: offset of the
 * first 512-byte sector with a non-zero byte, or -1 (qemu-img's). */
int all_zero(const void *buf, size_t n);
int64_t find_nonzero(const unsigned char *buf, uint64_t n);

/* ---- JSON printed like qemu's qobject_to_json_pretty (json.c) ---- */

enum { J_OBJ, J_ARR, J_STR, J_INT, J_BOOL };

typedef struct jv {
    int type;
    char *key;      /* member name inside an object */
    char *s;
    long long i;
    struct jv **kid;
    int n, cap;     /* kid holds n of cap slots                           */
} jv;

jv *jv_new(int type);
jv *jv_add(jv *parent, const char *key, jv *v);
void jv_str(jv *o, const char *k, const char *s);
void jv_int(jv *o, const char *k, long long i);
void jv_bool(jv *o, const char *k, int b);
void jv_free(jv *v);
/* Members in qemu's QDict order (its hash buckets); indent < 0 prints on
 * one line as qobject_to_json() does ({"a": 1, "b": [2, 3]}). */
void json_print(FILE *f, const jv *v, int indent);
/* qemu's dump_qobject() for "Format specific information". */
void human_dump(const jv *v, int indent);

/* ---- snapshot tables (snapshot.c), shared with info ---- */
void snapshot_header(void);
void snapshot_line(const gk_snapshot_info *s);
jv *snapshot_json(const gk_snapshot_info *s);

/* ---- the commands ---- */
int cmd_info(gimg_args *a);
int cmd_map(gimg_args *a);
int cmd_check(gimg_args *a);
int cmd_snapshot(gimg_args *a);
int cmd_compare(gimg_args *a);
int cmd_convert(gimg_args *a);
int cmd_commit(gimg_args *a);
int cmd_rebase(gimg_args *a);
int cmd_create(gimg_args *a);
int cmd_resize(gimg_args *a);
int cmd_amend(gimg_args *a);
int cmd_measure(gimg_args *a);

#endif
