/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every tool shares: the virt-* style option parser and the steps from
 * options to a launched, mounted guest. */
#ifndef GK_TOOLS_COMMON_H
#define GK_TOOLS_COMMON_H

#include <getopt.h>
#include <stdio.h>
#include "fs.h"
#include "sandbox.h"

typedef struct gk_cli_drive {
    char *path;
    char *format;      /* --format in force when -a was given, or NULL */
    char *key;         /* the key that opened it (an encrypted image), kept
                        * for more sessions (gmount): gk_secret_alloc'd,
                        * keylen + 1 bytes, freed by gk_cli_keys_free */
    size_t keylen;
} gk_cli_drive;

typedef struct gk_cli_mount {
    char *dev, *mountpoint;
    char *options, *fstype;    /* -m DEV:MP:OPTIONS:FSTYPE, or NULL */
} gk_cli_mountopt;

typedef struct gk_cli {
    gk_cli_drive *drives; int ndrives;
    gk_cli_mountopt *mounts; int nmounts;
    int inspector;     /* -i */
    int rw;            /* --rw (default read-only) */
    int untrusted;     /* --untrusted or GUESTKIT_UNTRUSTED=1 */
    int force_share;   /* -U/--force-share: do not look at qemu's locks */
    struct gk_cli_key *keys; int nkeys; /* --key ID:key:PASS / ID:file:FILE */
    int keys_from_stdin, echo_keys;     /* --keys-from-stdin, --echo-keys   */
    char *format;      /* the last --format given (images of --each --from) */
    int no_key_prompt; /* never ask /dev/tty for a key (gfilesystems, as
                        * virt-filesystems never asks)                       */
    char **args; int nargs; /* positional arguments left */
    /* What the tool needs inside the sandbox (tools/sandbox.h), entered by
     * gk_cli_launch between opening the images and scanning them; zero is
     * the read-only profile.  --no-sandbox sets sb.off. */
    gk_sandbox sb;
    const char **sb_images;  /* the list gk_cli_sandbox made for sb, or NULL */
} gk_cli;

/* Extra options of one tool: called for each option the common parser does
 * not know; return 0, or -1 for a usage error (message already printed). */
typedef int (*gk_cli_handler)(int opt, const char *arg, void *ud);

/* Parse argv.  progname is set from name.  usage() prints the tool's help.
 * Handles -a/--add, --format[=F], -m/--mount, -i/--inspector, --ro/-r,
 * --rw/-w, -v/--verbose, -x, -V/--version, --help, --untrusted, -U,
 * --no-sandbox.
 * Exits 0 after --help/--version and 1 on usage errors. */
void gk_cli_parse(gk_cli *c, const char *name, int argc, char **argv,
                  const char *shortopts, const struct option *longopts,
                  gk_cli_handler handler, void *ud, void (*usage)(FILE *));

/* With no -a, take the first positional argument as the image (the old
 * "gcat disk.img /file" form).  Returns 0, or -1 if there is no image. */
int gk_cli_positional_image(gk_cli *c);
/* argv with every option moved before the operands (GNU order, for tools
 * whose options may follow their operands; tools/common-permute.c).  The
 * vector is kept until exit, like argv. */
char **gk_cli_permute(int *argc, char **argv, const char *shortopts, const struct option *longopts);

/* --key selectors (tools/common-keys.c): the passphrase is kept in locked
 * memory, wiped by gk_cli_keys_free, and the argv copy is overwritten. */
typedef struct gk_cli_key {
    char *id;          /* device name (/dev/sda2) or LUKS UUID             */
    char *secret;      /* ID:key:SECRET (gk_secret_alloc'd), or NULL        */
    size_t len;
    char *file;        /* ID:file:FILE, or NULL                            */
} gk_cli_key;
/* Parse and record one --key SELECTOR; exits 1 on a bad one. */
void gk_cli_add_key(gk_cli *c, char *selector);
/* Free what the parse, the key options and gk_cli_sandbox allocated
 * (drives, mounts, keys, the sandbox's image list) and zero c: every tool
 * calls it before main returns, so that LeakSanitizer finds nothing. */
void gk_cli_clear(gk_cli *c);
void gk_cli_keys_free(gk_cli *c);
/* Before the sandbox: read the key files of --key ID:file:FILE and open
 * /dev/tty for prompts (nothing can be opened by path after it). */
void gk_cli_keys_prepare(gk_cli *c);
/* After gk_cli_keys_prepare: whether a key may be used (given, or a
 * prompt possible), so libcrypto is loaded before the sandbox. */
int gk_cli_keys_possible(const gk_cli *c);
/* libguestfs' inspect_do_decrypt: open every LUKS device of the launched
 * guest with the --key selectors that name it (by device or UUID), or a
 * key read from /dev/tty (stdin with --keys-from-stdin) when none does, as
 * /dev/mapper/luks-UUID; then LVM is scanned again.  Exits 1 when no key
 * opens a device.  A device no selector names is left closed when there is
 * no terminal to ask (and with no_key_prompt). */
void gk_cli_decrypt(gk_cli *c, gk_guest *g);
/* The key of an encrypted image (qcow2 encryption): the --key selector
 * whose ID is the image's name as given to -a, or a prompt as for LUKS
 * devices.  1 and a copy the caller frees with gk_secret_free(*secret,
 * *len + 1), or 0 when there is none. */
int gk_cli_drive_key(gk_cli *c, const char *path, char **secret, size_t *len);
/* A key typed at a prompt for id (or one a worker typed, passed on by its
 * front end): kept in c->keys, so that a later opening of id, by this
 * process or a worker forked after, takes it without asking again. */
void gk_cli_remember_key(gk_cli *c, const char *id, const char *secret, size_t len);

/* gk_guest_add_drive, and for an encrypted image its key as
 * gk_cli_drive_key finds it and a second try: 0, or -1 with gk_error.
 * The key that opened a drive of c (path is its path) is kept there and
 * used first by later calls for it, which then never prompt. */
int gk_cli_add_drive(gk_cli *c, gk_guest *g, const char *path, gk_open_opts *o);

/* Add drives, enter the sandbox (c->sb), launch (and gk_cli_decrypt).
 * Exits after printing the error. */
gk_guest *gk_cli_add_drives(gk_cli *c);
gk_guest *gk_cli_launch(gk_cli *c);
/* Enter the sandbox of c->sb (the images of c named for -v): what
 * gk_cli_launch does once the drives are open, for a tool that opens its
 * images itself. */
void gk_cli_sandbox(gk_cli *c);
/* Launch and mount: the -m list if given, otherwise inspection (-i, also
 * the default when only images are given).  NULL after printing the error. */
gk_guest *gk_cli_mount(gk_cli *c);
/* Exit with "IMAGE: does not look like a disk image" when no disk of the
 * launched guest holds a partition table or anything blkid recognises. */
void gk_cli_check_image(gk_cli *c, gk_guest *g);
/* Mount the -m list of c on a launched guest: 0, or -1 with gk_error. */
int gk_cli_mount_list(gk_cli *c, gk_guest *g);
/* Mount what c asks on a launched guest: its -m list, or the inspected
 * operating system's filesystems; exits with the error otherwise. */
void gk_cli_mount_launched(gk_cli *c, gk_guest *g);
/* C:\path or \path: a Windows path, as virt-cat and virt-edit take them
 * for Windows guests (gk_guest_windows_path resolves it). */
int gk_cli_windows_like(const char *p);

/* One CSV field on stdout, quoted the way libguestfs' tools quote (only
 * when it holds a space, quote, comma or newline; quotes doubled). */
void gk_csv_field(const char *s);

/* A malloc'd copy of s as valid UTF-8 that XML 1.0 allows: control
 * characters but tab and newline, invalid or overlong sequences,
 * surrogates and U+FFFE/U+FFFF each become U+FFFD (guest strings in
 * reports that must parse). */
char *gk_utf8_clean(const char *s);

/* Guest bytes (file names, link targets, labels) for out.  When out is a
 * terminal, bytes that are not printable characters in the locale are
 * quoted as GNU ls -b does (\033, \n, \\), so that a name cannot send
 * escape sequences to it; pipes and files get the guest's bytes raw, as
 * virt-ls gives them.  gk_term_str returns a malloc'd copy. */
char *gk_term_str(FILE *out, const char *s);
void gk_term_puts(FILE *out, const char *s);
/* Whether out is a terminal (the decision gk_term_str makes). */
int gk_term_is(FILE *out);

/* "PROG: message" on stderr, guest names in it escaped on a terminal. */
void gk_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "PROG: message" and exit(1). */
void gk_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* The same with another exit status (gimg compare exits 2 on errors). */
void gk_die_status(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* "PROG: <gk_errmsg()>" and exit(1). */
void gk_die_err(void) __attribute__((noreturn));

#endif
