/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the cmds-*.c files share: guest file I/O that checks Ctrl-C and
 * reports errors as "gfsh: CMD: PATH: message" (shell/io.c). */
#ifndef GFSH_CMDS_INT_H
#define GFSH_CMDS_INT_H

#include "gfsh.h"

/* Files read whole (head, tail, grep) must fit in this. */
#define READ_ALL_MAX (512u << 20)
/* Read size of the streaming loops. */
#define CHUNK (256 * 1024)

/* gk_errmsg() about path, naming the command and the path once. */
void io_path_err(const gfsh_cmd *cmd, const char *path);
/* 1 after printing "interrupted" if Ctrl-C was pressed (drops buffered output). */
int io_interrupted(const gfsh_cmd *cmd);
/* Write to fp: 0, 1 = stop quietly (a host pipe closed), -1 = error printed. */
int io_write(gfsh *sh, const gfsh_cmd *cmd, FILE *fp, const void *buf, size_t n);
/* Resolve path (following links) to a regular file. */
int io_open_reg(gfsh *sh, const gfsh_cmd *cmd, const char *path, gk_node *n, gk_stat *st);

/* Read [off, off+len) of a file in chunks into a sink, checking Ctrl-C.
 * 0, 1 if the sink asked to stop, -1 on error (printed). */
typedef int (*sink_fn)(void *ud, const void *buf, size_t n);
int io_stream(const gfsh_cmd *cmd, const char *path, gk_node *n, uint64_t off, uint64_t len,
              sink_fn sink, void *ud);
/* The same over the whole of a device. */
int io_stream_dev(const gfsh_cmd *cmd, const char *name, gk_dev *dev, sink_fn sink, void *ud);
/* A sink writing to a FILE (ud is a struct out_sink). */
struct out_sink { gfsh *sh; const gfsh_cmd *cmd; FILE *fp; };
int io_out_sink(void *ud, const void *buf, size_t n);

/* A whole regular file in memory, NUL-terminated. */
int io_read_all(gfsh *sh, const gfsh_cmd *cmd, const char *path, char **out, size_t *len);
/* Lines of a buffer (without '\n'); a last line without '\n' counts. */
typedef struct lines { const char **p; size_t *len; size_t n; } lines;
void io_split_lines(const char *buf, size_t len, lines *l);
/* Print lines [from, to) each with a '\n'. */
int io_print_lines(gfsh *sh, const gfsh_cmd *cmd, lines *l, size_t from, size_t to);

/* A directory's entries, sorted by name. */
typedef struct dent { char *name; int type; } dent;
typedef struct dlist { dent *v; size_t n, cap; } dlist;
int io_read_dir(gfsh *sh, const gfsh_cmd *cmd, const char *path, dlist *l);
void io_dlist_free(dlist *l);
/* dir + "/" + name, malloc'd. */
char *io_join(const char *dir, const char *name);

/* Everything below dir as guestfish's find names it, in sorted order,
 * streamed (io_find: the walk of fs/walk.c, one depth and path-length rule
 * for every walker) or collected (io_find_all).  Errors are printed; the
 * walk goes on and the result is -1.  fn returning non-zero stops it. */
typedef int (*io_find_fn)(void *ud, const char *rel, const gk_walk_ent *e);
int io_find(gfsh *sh, const gfsh_cmd *cmd, const char *dir, io_find_fn fn, void *ud);
typedef struct pathv { char **v; size_t n, cap; } pathv;
void io_pathv_add(pathv *p, char *s);
void io_pathv_free(pathv *p);
int io_find_all(gfsh *sh, const gfsh_cmd *cmd, const char *dir, pathv *out);

/* A host output file, "-" being the shell's output, opened by the safe
 * opener of tools/hostio.h (never through a symlink); close returns r, or
 * -1 if closing failed; with r < 0 a half-written file is removed. */
FILE *io_open_out(const gfsh_cmd *cmd, const char *name);
int io_close_out(const gfsh_cmd *cmd, const char *name, FILE *fp, int r);

/* part-get-bootable, part-get-mbr-part-type of partition p (cmds-disk.c). */
int gfsh_part_get_more(gfsh *sh, const gfsh_cmd *cmd, gk_devent *p);

/* stat fields as guestfish prints a stat (ns = 0) or statns struct, each
 * line after indent (shell/cmds-stat.c). */
void gfsh_print_stat(FILE *fp, const gk_stat *st, int ns, const char *indent);

#endif
