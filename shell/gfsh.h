/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gfsh, the guestkit shell: shared declarations of the shell's files.
 *
 * The command table (shell/cmds.c) is the single source of truth: each
 * command is one gfsh_cmd entry, and dispatch, argument checking, `help`,
 * tab completion and the COMMANDS section of gfsh(1) are all derived from
 * it.  Implementations live in shell/cmds-*.c.
 */
#ifndef GFSH_H
#define GFSH_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"

/* Argument kinds: how the dispatcher checks and converts each word. */
enum gfsh_argkind {
    GA_END = 0,
    GA_STR,        /* any string                                         */
    GA_PATH,       /* guest path: absolute                               */
    GA_DEV,        /* device name: /dev/...                              */
    GA_DEVPATH,    /* device or guest path (umount)                      */
    GA_INT,        /* integer: 0x hex, 0 octal, k/M/G... suffixes        */
    GA_HOST,       /* host file name ("-" is stdout where it makes sense) */
    GA_CMDNAME,    /* a gfsh command name (help)                         */
    /* optional name:value arguments */
    GA_OBOOL,
    GA_OINT,
    GA_OSTR,
};

typedef struct gfsh_arg {
    enum gfsh_argkind kind;
    const char *name;
} gfsh_arg;

#define GFSH_MAXARGS 4
#define GFSH_MAXOPTS 4

/* Command flags. */
enum {
    GF_RW = 1,         /* modifies the guest: refused unless --rw            */
    GF_VARARGS = 2,    /* any number of trailing GA_STR words (echo, glob)   */
    GF_LAUNCHED = 4,   /* needs the guest (drives added and scanned)         */
    GF_HIDDEN = 8,     /* not listed by `help` (still documented)            */
};

struct gfsh;

/* Checked arguments handed to a command's implementation. */
typedef struct gfsh_args {
    int argc;                    /* required + varargs words               */
    char **argv;
    int64_t num[GFSH_MAXARGS];   /* converted GA_INT arguments             */
    /* optional arguments, by index in cmd->opts; set[i] if given */
    int set[GFSH_MAXOPTS];
    const char *ostr[GFSH_MAXOPTS];
    int64_t onum[GFSH_MAXOPTS];
} gfsh_args;

typedef struct gfsh_cmd gfsh_cmd;
/* Returns 0 on success; -1 after printing an error with gfsh_err(). */
typedef int (*gfsh_fn)(struct gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a);

struct gfsh_cmd {
    const char *name;
    const char *aliases[3];      /* NULL-terminated                        */
    gfsh_arg args[GFSH_MAXARGS + 1];
    gfsh_arg opts[GFSH_MAXOPTS + 1];
    unsigned flags;
    const char *shortdesc;       /* one line, no final full stop           */
    const char *longdesc;        /* paragraphs separated by "\n\n"         */
    gfsh_fn run;
};

extern const gfsh_cmd gfsh_cmds[];
extern const int gfsh_ncmds;

/* The shell session. */
typedef struct gfsh {
    gk_cli cli;
    gk_guest *g;
    int interactive;     /* reading commands from a terminal            */
    int echo;            /* -x: print each command before running it   */
    int pipe_error;      /* --pipe-error                               */
    int in_pipe;         /* output currently goes to a host pipe        */
    int lineno;          /* current input line, for messages           */
    const char *source;  /* name of the script being read, or NULL     */
    int depth;           /* nesting of <! to stop runaway recursion    */
    int quit;            /* quit/exit was run                          */
    int no_dest_paths;   /* --no-dest-paths: no guest path completion  */
    pid_t worker;        /* the sandboxed worker holding the guest (split.c) */
} gfsh;

/* Set by SIGINT; long-running commands check it in their output loops. */
extern volatile sig_atomic_t gfsh_interrupted;

/* "gfsh: CMD: message" on stderr (the command name prefixes it). */
void gfsh_err(const gfsh_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same with gk_errmsg() as the message. */
void gfsh_err_gk(const gfsh_cmd *cmd);
/* gk_errmsg() about subject (a path, a device), without naming the
 * command or the subject twice when the library message already does. */
void gfsh_err_about(const gfsh_cmd *cmd, const char *subject);

/* parse.c: split one input line.  Returns 0 and fills *out, or -1 after
 * printing the reason (unterminated quote, bad escape...). */
typedef struct gfsh_line {
    char **words; int nwords;
    int may_fail;        /* leading '-'                                */
    char *pipe;          /* "| hostcmd": the host command, or NULL     */
    enum { GL_EMPTY, GL_CMD, GL_HOST, GL_HOSTCMDS } kind;
    char *host;          /* GL_HOST (!cmd) and GL_HOSTCMDS (<! cmd)    */
} gfsh_line;
int gfsh_parse_line(const char *line, gfsh_line *out);
void gfsh_line_free(gfsh_line *l);

/* cmds.c: the table, lookup, dispatch, help. */
const gfsh_cmd *gfsh_lookup(const char *name);
/* Run one command with its words (words[0] is the name).  Returns 0/-1. */
int gfsh_run_words(gfsh *sh, int nwords, char **words);
/* Run one input line (parse, !, <!, pipe, -).  Returns 0, or -1 on an
 * error that should stop a script. */
int gfsh_run_line(gfsh *sh, const char *line);
/* Parse an integer the way guestfish does (suffixes, 0x, 0 octal). */
int gfsh_parse_int(const char *s, int64_t *out);
/* guestfish's booleans: true/t/yes/y/on/1 -> 1, false/f/no/n/off/0 -> 0, else -1. */
int gfsh_parse_bool(const char *s);
void gfsh_list_commands(FILE *fp);
int gfsh_help_command(FILE *fp, const char *name);
void gfsh_man_commands(FILE *fp);
/* Synopsis "cat path" of a command, malloc'd. */
char *gfsh_synopsis(const gfsh_cmd *c);
/* Make sure the guest exists (launched): 0 or -1 with a message. */
int gfsh_need_guest(gfsh *sh, const gfsh_cmd *cmd);

/* cmds-*.c: implementations referenced by the table. */
#define GFSH_DECL(n) int n(struct gfsh *, const gfsh_cmd *, gfsh_args *)
/* cmds-shell.c */
GFSH_DECL(run_echo); GFSH_DECL(run_help); GFSH_DECL(run_quit);
GFSH_DECL(run_time); GFSH_DECL(run_glob); GFSH_DECL(run_add); GFSH_DECL(run_launch);
GFSH_DECL(run_lcd);
/* cmds-dev.c */
GFSH_DECL(run_list_devices); GFSH_DECL(run_list_partitions);
GFSH_DECL(run_list_filesystems); GFSH_DECL(run_lvs); GFSH_DECL(run_vgs);
GFSH_DECL(run_pvs); GFSH_DECL(run_vfs_type); GFSH_DECL(run_vfs_uuid);
GFSH_DECL(run_vfs_label); GFSH_DECL(run_blockdev_getsize64);
GFSH_DECL(run_part_list); GFSH_DECL(run_part_get_parttype);
GFSH_DECL(run_mount); GFSH_DECL(run_mount_ro); GFSH_DECL(run_umount);
GFSH_DECL(run_umount_all); GFSH_DECL(run_mounts); GFSH_DECL(run_mountpoints);
GFSH_DECL(run_canonical_device_name); GFSH_DECL(run_part_to_dev); GFSH_DECL(run_part_to_partnum);
GFSH_DECL(run_is_kind); GFSH_DECL(run_list_md_devices); GFSH_DECL(run_part_get);
GFSH_DECL(run_md_detail); GFSH_DECL(run_md_stat);
/* cmds-inspect.c */
GFSH_DECL(run_inspect_os); GFSH_DECL(run_inspect_get_roots);
GFSH_DECL(run_inspect_get); GFSH_DECL(run_inspect_get_mountpoints);
GFSH_DECL(run_inspect_get_filesystems); GFSH_DECL(run_inspect_list_apps);
GFSH_DECL(run_inspect_list_apps2);
/* cmds-file.c */
GFSH_DECL(run_ls); GFSH_DECL(run_ll); GFSH_DECL(run_find); GFSH_DECL(run_find0);
GFSH_DECL(run_cat); GFSH_DECL(run_head); GFSH_DECL(run_tail); GFSH_DECL(run_more);
GFSH_DECL(run_stat); GFSH_DECL(run_statns); GFSH_DECL(run_readlink);
GFSH_DECL(run_realpath); GFSH_DECL(run_checksum); GFSH_DECL(run_download);
GFSH_DECL(run_download_offset); GFSH_DECL(run_copy_out); GFSH_DECL(run_grep);
GFSH_DECL(run_is); GFSH_DECL(run_du); GFSH_DECL(run_df); GFSH_DECL(run_statvfs);
GFSH_DECL(run_read_lines); GFSH_DECL(run_filesize); GFSH_DECL(run_read_file);
GFSH_DECL(run_hexdump); GFSH_DECL(run_checksums_out);
/* cmds-tar.c */
GFSH_DECL(run_tar_out); GFSH_DECL(run_tar_in); GFSH_DECL(run_copy_in); GFSH_DECL(run_strings); GFSH_DECL(run_getxattrs); GFSH_DECL(run_getxattr);

/* cmds-win.c */
GFSH_DECL(run_case_sensitive_path); GFSH_DECL(run_hivex_open); GFSH_DECL(run_hivex_close);
GFSH_DECL(run_hivex_root); GFSH_DECL(run_hivex_node); GFSH_DECL(run_hivex_value);
GFSH_DECL(run_hivex_write); GFSH_DECL(run_inspect_get_drive_mappings);
/* guestfish's "win:C:\path" arguments: 1 if w is one; replace those of a
 * (path arguments) by guest paths (a->argv becomes a copy); free what
 * that allocated after the command ran.  -1 after an error message. */
int gfsh_is_win_path(const char *w);
int gfsh_win_paths(gfsh *sh, const gfsh_cmd *c, gfsh_args *a, char ***to_free);
void gfsh_win_paths_free(char **to_free);
/* cmds-inspect.c: the inspected OS whose root is name, or NULL (printed). */
gk_os *gfsh_find_os(gfsh *sh, const gfsh_cmd *cmd, const char *name);

/* cmds-write.c */
GFSH_DECL(run_write); GFSH_DECL(run_upload); GFSH_DECL(run_mkdir); GFSH_DECL(run_rmdir);
GFSH_DECL(run_rm); GFSH_DECL(run_cp); GFSH_DECL(run_mv); GFSH_DECL(run_ln);
GFSH_DECL(run_chmod); GFSH_DECL(run_chown); GFSH_DECL(run_touch); GFSH_DECL(run_truncate);
GFSH_DECL(run_setxattr); GFSH_DECL(run_removexattr); GFSH_DECL(run_mknod); GFSH_DECL(run_sync);
GFSH_DECL(run_edit);
/* cmds-ro.c */
GFSH_DECL(run_file); GFSH_DECL(run_file_architecture); GFSH_DECL(run_wc); GFSH_DECL(run_pread);
GFSH_DECL(run_is_zero); GFSH_DECL(run_ls0);
GFSH_DECL(run_statlist); GFSH_DECL(run_readlinklist); GFSH_DECL(run_lxattrlist);
GFSH_DECL(run_glob_expand); GFSH_DECL(run_tar_out_z); GFSH_DECL(run_add_ro);
GFSH_DECL(run_equal); GFSH_DECL(run_readdir); GFSH_DECL(run_base64_out); GFSH_DECL(run_sleep);
/* cmds-initrd.c */
GFSH_DECL(run_initrd);
/* cmds-btrfs.c */
GFSH_DECL(run_btrfs_subvolume_list); GFSH_DECL(run_btrfs_subvolume_get_default);
/* cmds-disk.c */
GFSH_DECL(run_blkid); GFSH_DECL(run_tune2fs_l); GFSH_DECL(run_disk_info);
GFSH_DECL(run_list_disk_labels); GFSH_DECL(run_device_index); GFSH_DECL(run_blockdev_get);
GFSH_DECL(run_part_get_disk_guid); GFSH_DECL(run_findfs); GFSH_DECL(run_mountable);
GFSH_DECL(run_list_dm_devices); GFSH_DECL(run_filesystem_available); GFSH_DECL(run_lvm_uuid);
GFSH_DECL(run_lvm_canonical); GFSH_DECL(run_filesystem_walk); GFSH_DECL(run_version);
GFSH_DECL(run_ntfs_3g_probe); GFSH_DECL(run_ntfscat_i);
GFSH_DECL(run_ping_daemon); GFSH_DECL(run_mount_vfs);
/* cmds-inspect.c */
GFSH_DECL(run_inspect_get_icon); GFSH_DECL(run_inspect_deprecated);

/* complete.c */
void gfsh_completion_init(gfsh *sh);
/* Guest paths completing text (one readdir), malloc'd. */
void gfsh_guest_candidates(gfsh *sh, const char *text, char ***v, int *n);

/* cmds-ro.c: load libmagic's database now (before the sandbox). */
void gfsh_magic_preload(void);

/* gfsh.c: the OS and mounts -i found, as the interactive start shows them. */
void gfsh_print_banner(gfsh *sh);

/* split.c: the front end and the sandboxed worker (see there).
 * gfsh_split_start forks at launch (a no-op with --no-sandbox);
 * gfsh_split_forward runs a command in the worker (-2: the front end runs
 * it itself); gfsh_split_launch launches (and -i / -m mounts) there;
 * gfsh_split_end waits for the worker at the end (-1 if it failed). */
int gfsh_split_start(gfsh *sh);
int gfsh_split_forward(gfsh *sh, const gfsh_cmd *c, int nwords, char **words);
int gfsh_split_launch(gfsh *sh);
void gfsh_split_banner(gfsh *sh);
int gfsh_split_complete(gfsh *sh, const char *text, char ***out, int *n);
int gfsh_split_end(gfsh *sh);
/* In the worker: the host files named on the command line, opened by the
 * front end (0 / fd, or -1 with gk_error and errno). */
int gfsh_in_worker(void);
int gfsh_worker_open_out(const char *name, FILE **fp);
int gfsh_worker_close_out(const char *name, FILE *fp, int failed);
int gfsh_worker_open_in(const char *name);
int gfsh_worker_open_dir(const char *name);
/* The host's name of a uid (group: a gid): 0, or -1 if it has none. */
int gfsh_worker_idname(int group, unsigned long id, char *name, size_t cap);
/* The pager on the contents of fd (more): 0 or -1. */
int gfsh_worker_page(int fd);

/* Guest glob (cmds-shell.c): expand one pattern into sorted matches;
 * returns the count (0 = no match). */
int gfsh_guest_glob(gfsh *sh, const char *pattern, char ***out);

#endif
