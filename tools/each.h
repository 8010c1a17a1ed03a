/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fleet mode (tools/common-each.c): `--each` runs a tool once per image,
 * each image its own guest in a worker process of its own, N at a time.
 *
 * The front end forks the workers and never opens or parses an image: a
 * worker is the tool's ordinary single-image run (gk_each_run returns in
 * it with c->drives set to its one image, and the tool goes on as if it
 * had been started with `-a IMAGE`), so it enters the same sandbox.  Its
 * standard output and error go to unlinked temporary files; it runs under
 * RLIMIT_CPU (--timeout), RLIMIT_AS (--memory) and a wall-clock limit ten
 * times the CPU one, in a process group of its own that is killed whole.
 * The front end reports each image as its worker ends (completion order)
 * through the tool's report callback, draws a progress line on stderr when
 * that is a terminal, and exits 1 if any image failed, else 0. */
#ifndef GK_TOOLS_EACH_H
#define GK_TOOLS_EACH_H

#include <stddef.h>
#include <stdint.h>
#include "common.h"

enum {
    GK_EACH_OPT_EACH = 0x2800, GK_EACH_OPT_FROM, GK_EACH_OPT_JOBS, GK_EACH_OPT_TIMEOUT,
    GK_EACH_OPT_MEMORY, GK_EACH_OPT_JSON, GK_EACH_OPT_SQLITE,
};

/* The long options of fleet mode, for a tool's option table. */
#define GK_EACH_LONGOPTS \
    {"each", no_argument, 0, GK_EACH_OPT_EACH}, \
    {"from", required_argument, 0, GK_EACH_OPT_FROM}, \
    {"jobs", required_argument, 0, GK_EACH_OPT_JOBS}, \
    {"timeout", required_argument, 0, GK_EACH_OPT_TIMEOUT}, \
    {"memory", required_argument, 0, GK_EACH_OPT_MEMORY}

#define GK_EACH_TIMEOUT_DEFAULT 300     /* CPU seconds per image */
#define GK_EACH_MEMORY_DEFAULT 2048     /* MiB of address space per image */

typedef struct gk_each {
    int on;                 /* --each                                      */
    const char *from;       /* --from FILE ("-": stdin)                    */
    int jobs;               /* --jobs N (0: the CPUs this process may use) */
    int timeout;            /* --timeout SECS: CPU time of one image       */
    int memory;             /* --memory MIB: address space of one image    */
    int json;               /* gcat, gls: --json (JSON lines)              */
    int csv;                /* gls --csv: the image is a CSV field         */
    /* In the front end, after the last report, before it exits. */
    void (*end)(void *ud);
} gk_each;

/* One of the options above (or --json): 0 if it was handled, -1 if it is
 * not one of them.  Exits 1 on a bad value. */
int gk_each_opt(gk_each *e, int opt, const char *arg);

/* Exit 1 if a fleet option was given without --each. */
void gk_each_check(const gk_each *e);

/* An image's worker, once it ended. */
typedef struct gk_each_result {
    const char *image;      /* as given                                    */
    int index;              /* 1-based position in the input               */
    int ok;                 /* it exited 0                                 */
    char *error;            /* else why: its messages (the "PROG: " prefix
                             * removed, "; " between them) or how it was
                             * stopped                                      */
    int stopped;            /* error says how it was stopped (a signal, the
                             * wall clock) or that it exited saying nothing */
    char **warnings;        /* its "PROG: warning: " lines, prefixes removed */
    int nwarnings;
    char **messages;        /* its other stderr lines, prefixes removed      */
    int nmessages;
    int out_fd;             /* its standard output (a temporary file)       */
} gk_each_result;

/* Called in the front end for each image, in completion order; returns 0,
 * or 1 to count the image as failed although its worker exited 0. */
typedef int (*gk_each_report)(gk_each_result *r, void *ud);

/* With e->on: in the front end, run every image (-a and --from) and exit;
 * returns only in a worker, with c->drives one image.  Exits 1 after a
 * message when there is no image or a list cannot be read. */
void gk_each_run(gk_cli *c, gk_each *e, gk_each_report report, void *ud);

/* The worker's whole standard output (at most cap bytes), NUL-terminated,
 * malloc'd; NULL with gk_error when it is larger or cannot be read. */
char *gk_each_slurp(gk_each_result *r, size_t cap, size_t *len);

/* Reports for tools printing text (gcat, gls; ud is the gk_each): each
 * line of output prefixed with the image and a tab (with e->csv, the image
 * as a first CSV field, lines inside quoted fields left alone), messages
 * on stderr as "PROG: IMAGE: message"; or with e->json one JSON object per
 * image: image, status, error, warnings, output (UTF-8) or output_base64. */
int gk_each_report_text(gk_each_result *r, void *ud);

/* A JSON string literal of s on f: invalid UTF-8 and the characters XML
 * refuses replaced with U+FFFD (gk_utf8_clean), escaped as JSON needs. */
void gk_json_str(FILE *f, const char *s);

/* --sqlite for ginspect (tools/common-each-db.c): the tables of
 * ginspect(1), "SQLITE OUTPUT". */
typedef struct gk_each_db gk_each_db;
/* Create FILE (it must not exist) with the tables; exits 1 on errors.
 * Until gk_each_db_close has closed it whole, an exit of this process
 * removes it (and the companions SQLite made). */
gk_each_db *gk_each_db_create(const char *path);
/* One image: its result and its report (a json_object *, or NULL), in one
 * transaction.  0, or -1 with gk_error. */
int gk_each_db_add(gk_each_db *db, const gk_each_result *r, const char *status,
                   const char *error, void *inspection);
/* Close; -1 with gk_error if the last writes failed. */
int gk_each_db_close(gk_each_db *db);
/* In a worker: let go of the front end's database without touching it
 * (its descriptors are closed; the front end alone writes and closes it). */
void gk_each_db_forget(gk_each_db *db);

#endif
