/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gfedit: edit a file in a disk image, like virt-edit (not "gedit": that is
 * GNOME's editor).
 *
 * The image is opened read-only to fetch the files; only if an edit
 * changed one is it opened again, for writing, and the file replaced (see
 * tools/edit.h: a new file with the original's owner, mode and xattrs,
 * renamed over it, -b keeping the original).  A file that changed in the
 * guest meanwhile is not overwritten.
 *
 * With the sandbox (the default) the guest is read and written by a
 * sandboxed worker and this process only runs the editor and opens the
 * images: see "In the sandbox" below. */
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "edit.h"

static const char *backup, *expr;

static void usage(FILE *f)
{
    fprintf(f,
        "gfedit: edit a file in a disk image (like virt-edit)\n"
        "Usage:\n"
        "  gfedit [--options] -a IMAGE [-a IMAGE...] FILE [FILE...]\n"
        "  gfedit [--options] -a IMAGE FILE -e 'EXPR'\n"
        "  gfedit [--options] IMAGE FILE\n"
        "Options:\n"
        "  -a, --add IMAGE      add a disk image (repeat for every disk of the VM)\n"
        "  --format[=raw|..]    force the format of the following -a images\n"
        "  -m, --mount DEV[:MP[:OPTS[:TYPE]]]\n"
        "                       mount DEV on MP (default /) instead of inspecting\n"
        "  -b, --backup EXT     keep the original in the guest as FILE+EXT\n"
        "  -e, --edit, --expr EXPR\n"
        "                       apply the Perl expression EXPR to each line ($_ the\n"
        "                       line, $lineno its number) instead of running $EDITOR\n"
        "  -U, -v, -V, --help   as in the other tools\n"
        "The file is written back only if its contents changed; it keeps its\n"
        "owner, mode and extended attributes (SELinux label).\n");
}

static int handler(int opt, const char *arg, void *ud)
{
    (void)ud;
    if (opt == 'b')
        backup = arg;
    else if (opt == 'e')
        expr = arg;
    else
        return -1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* In the sandbox (the default) gfedit is split in two.  This process, the
 * front end, never parses the guest: it opens the images, runs the editor
 * or perl on host copies (gk_edit_serve, the command being its own, never
 * the worker's).  When every image is a local file, one sandboxed worker
 * does the rest: it fetches the files from the images opened read-only,
 * has them edited, and only if an edit changed one asks the front end for
 * the images opened read-write (Q_RW: the front end opens them, taking
 * qemu's locks, and hands over the descriptors, which the worker reopens
 * its images through, gk_file_keep_fd), then stores them.  One fork and one
 * sandbox set-up instead of two: that was a third of gfedit -e's time.
 * Images of other protocols (nbd://, https://: a connection, not a
 * descriptor to hand over) get two workers: the first fetches and has
 * the files edited, the front end keeps the edited contents, and a second,
 * with the images opened read-write, stores them.  Either way a worker can
 * write nothing but the images, and the images are opened for writing
 * only once an edit changed a file. */

enum { Q_RESULT = 0xd0, Q_MOUNT, Q_KEY, Q_RW };
static gk_cli *front_cli;    /* the front end's, for Q_KEY and Q_RW */
static gk_guest *rw_guest;   /* the front end's read-write open (Q_RW) */
static int one_worker;

struct result {
    char *guestpath;
    uint64_t size;
    unsigned char sum[32];
    int fd;
};
static struct result *res;
static int nres, nfiles, edits_left;
static char *mdev[GK_VFS_MAX_MOUNTS], *mmp[GK_VFS_MAX_MOUNTS];
static int nm;

struct result_hdr {
    uint8_t op, pad[7];
    uint64_t size;
    unsigned char sum[32];
    /* then the guest path, NUL-terminated */
};

static ssize_t serve(void *ud, const char *req, size_t len, int fd_in, char *rep, int *fd_out)
{
    (void)ud;
    uint8_t op = (uint8_t)req[0];
    if (op == GK_EDIT_REQ && len == 1 && edits_left > 0) {
        edits_left--;
        return gk_edit_serve(fd_in, NULL, expr, rep, GK_BROKER_MSG, fd_out);
    }
    if (len < 2 || req[len - 1] != 0)
        return -1;
    if (op == Q_RESULT) {
        struct result_hdr h;
        if (len <= sizeof h + 1 || fd_in < 0 || nres >= nfiles)
            return -1;
        memcpy(&h, req, sizeof h);
        res = gk_realloc(res, (size_t)(nres + 1) * sizeof *res);
        res[nres].guestpath = gk_strdup(req + sizeof h);
        res[nres].size = h.size;
        memcpy(res[nres].sum, h.sum, 32);
        res[nres].fd = dup(fd_in);
        nres++;
    } else if (op == Q_KEY) {
        /* a key the first worker was given at its prompt, so that the
         * second does not ask again (at most a few: the devices are few) */
        const char *id = req + 1;
        size_t il = strlen(id);
        if (1 + il + 1 >= len || front_cli->nkeys >= 64)
            return -1;
        gk_cli_remember_key(front_cli, id, id + il + 1, len - il - 3);
    } else if (op == Q_RW) {
        /* the descriptor of image i opened read-write: the first asks open
         * them all (kept until the end, with qemu's locks) */
        uint32_t i;
        if (!one_worker || len != 2 + sizeof i)
            return -1;
        memcpy(&i, req + 1, sizeof i);
        if (i >= (uint32_t)front_cli->ndrives)
            return -1;
        int32_t rc = 0;
        if (!rw_guest) {
            rw_guest = gk_guest_new();
            rw_guest->readwrite = front_cli->rw = 1;
            gk_file_keep(1);
            for (int k = 0; k < front_cli->ndrives && rc == 0; k++) {
                gk_open_opts o = {
                    .format = front_cli->drives[k].format,
                    .readwrite = 1,
                    .untrusted = front_cli->untrusted,
                    .force_share = front_cli->force_share,
                };
                if (gk_cli_add_drive(front_cli, rw_guest, front_cli->drives[k].path, &o) < 0) {
                    gk_say("%s", gk_errmsg());
                    rc = -1;
                }
            }
            gk_file_keep(0);
            if (rc < 0)
                one_worker = 0;      /* asked again: refused */
        }
        if (rc == 0 && (*fd_out = gk_file_kept_copy(front_cli->drives[i].path, 1)) < 0) {
            gk_say("%s: %s", front_cli->drives[i].path, strerror(errno));
            rc = -1;
        }
        memcpy(rep, &rc, sizeof rc);
        return sizeof rc;
    } else if (op == Q_MOUNT) {
        const char *dev = req + 1, *mp = dev + strlen(dev) + 1;
        if (mp >= req + len || nm >= GK_VFS_MAX_MOUNTS)
            return -1;
        mdev[nm] = gk_strdup(dev);
        mmp[nm++] = gk_strdup(mp);
    } else {
        return -1;
    }
    int32_t ok = 0;
    memcpy(rep, &ok, sizeof ok);
    return sizeof ok;
}

static const gk_broker broker = {.serve = serve};

struct answer {
    uint8_t op, pad[3];
    int32_t rc;
};

static void __attribute__((noreturn)) worker_end(int rc)
{
    struct answer a = {.op = GK_SB_DONE, .rc = rc};
    fflush(NULL);
    gk_sandbox_answer(&a, sizeof a, -1);
    _exit(rc);
}

static void worker_wait(void)
{
    char go[8];
    int fd;
    if (gk_sandbox_next_request(go, sizeof go, &fd) <= 0)
        _exit(1);
    if (fd >= 0)
        close(fd);
}

static int tell(const void *req, size_t len, int fd)
{
    int32_t ok = -1;
    int fo = -1;
    ssize_t n = gk_broker_call(req, len, fd, &ok, sizeof ok, &fo);
    if (fo >= 0)
        close(fo);
    return n == sizeof ok && ok == 0 ? 0 : -1;
}

/* Windows guests (found by inspection): drive letters, backslashes and
 * names matched ignoring case, as virt-edit's windows_path.  Each file name
 * in c->args is replaced by the guest path; the new strings go to keep[i]
 * when keep is given (for the caller to free). */
static void resolve_paths(gk_cli *c, gk_guest *g, char **keep)
{
    for (int i = 0; i < c->nargs; i++) {
        if (gk_guest_is_windows(g)) {
            char *p = gk_guest_windows_path(g, c->args[i]);
            if (!p)
                gk_die("%s: %s", c->args[i], gk_errmsg());
            c->args[i] = p;
            if (keep)
                keep[i] = p;
        } else if (c->args[i][0] != '/') {
            gk_die("%s: the file must be an absolute path (start with /)", c->args[i]);
        }
    }
}

/* Worker 1: fetch each file (read-only) and have the front end edit it. */
static void __attribute__((noreturn)) worker_fetch(gk_cli *c, gk_guest *g)
{
    worker_wait();
    if (gk_guest_launch(g) < 0)
        gk_die_err();
    int nkeys = c->nkeys;
    gk_cli_decrypt(c, g);
    /* keys typed at its prompt go to the front end for the store worker */
    for (int k = nkeys; k < c->nkeys; k++) {
        static char buf[GK_BROKER_MSG];
        size_t il = strlen(c->keys[k].id) + 1, sl = c->keys[k].len;
        if (1 + il + sl + 1 > sizeof buf)
            continue;
        buf[0] = (char)Q_KEY;
        memcpy(buf + 1, c->keys[k].id, il);
        memcpy(buf + 1 + il, c->keys[k].secret, sl);
        buf[1 + il + sl] = 0;
        int r = tell(buf, 1 + il + sl + 1, -1);
        memset(buf, 0, sizeof buf);
        if (r < 0)
            gk_die("sandbox: the front end refused a key");
    }
    gk_cli_mount_launched(c, g);
    /* the store worker gets the resolved guest paths back through the
     * front end; the worker ends soon, so they are not freed */
    resolve_paths(c, g, NULL);
    int rc = 0, nchanged = 0;
    for (int i = 0; i < c->nargs && rc == 0; i++) {
        gk_edit e;
        int changed = 0;
        if (gk_edit_fetch(g->vfs, c->args[i], &e) < 0 || gk_edit_run(&e, NULL, expr, &changed) < 0) {
            gk_say("%s", gk_errmsg());
            rc = 1;
        } else if (changed) {
            static char buf[GK_BROKER_MSG];
            struct result_hdr h = {.op = Q_RESULT, .size = e.size};
            memcpy(h.sum, e.sum, 32);
            size_t pl = strlen(e.guestpath) + 1;
            if (sizeof h + pl > sizeof buf) {
                gk_say("%s: path too long", e.guestpath);
                rc = 1;
            } else {
                memcpy(buf, &h, sizeof h);
                memcpy(buf + sizeof h, e.guestpath, pl);
                if (tell(buf, sizeof h + pl, e.fd) < 0) {
                    gk_say("%s", gk_errmsg());
                    rc = 1;
                }
                nchanged++;
            }
        }
        gk_edit_clear(&e);
    }
    /* what was mounted where, to mount it again read-write */
    for (int i = 0; rc == 0 && nchanged && i < gk_vfs_nmounts(g->vfs); i++) {
        gk_mount *m = gk_vfs_mount_at(g->vfs, i);
        static char buf[GK_BROKER_MSG];
        size_t dl = strlen(m->device) + 1, ml = strlen(m->mountpoint) + 1;
        if (1 + dl + ml > sizeof buf)
            rc = 1;
        buf[0] = (char)Q_MOUNT;
        memcpy(buf + 1, m->device, dl);
        memcpy(buf + 1 + dl, m->mountpoint, ml);
        if (rc == 0 && tell(buf, 1 + dl + ml, -1) < 0)
            rc = 1;
    }
    worker_end(rc);
}

/* Worker 2: store what changed, on the images opened read-write. */
static void __attribute__((noreturn)) worker_store(gk_cli *c, gk_guest *g)
{
    worker_wait();
    if (gk_guest_launch(g) < 0)
        gk_die_err();
    gk_cli_decrypt(c, g);
    for (int i = 0; i < nm; i++)
        if (gk_guest_mount(g, mdev[i], mmp[i]) < 0)
            gk_die_err();
    int rc = 0;
    for (int i = 0; i < nres && rc == 0; i++) {
        gk_edit e;
        memset(&e, 0, sizeof e);
        e.guestpath = res[i].guestpath;
        e.size = res[i].size;
        memcpy(e.sum, res[i].sum, 32);
        e.fd = res[i].fd;
        e.has_fd = 1;
        int ch = gk_edit_changed_in_guest(g->vfs, &e);
        if (ch != 0) {
            if (ch > 0)
                gk_say("%s: changed in the guest while it was edited: not written", e.guestpath);
            else
                gk_say("%s", gk_errmsg());
            rc = 1;
        } else if (gk_edit_store(g->vfs, &e, backup) < 0) {
            gk_say("%s", gk_errmsg());
            rc = 1;
        }
    }
    if (gk_vfs_sync(g->vfs) < 0) {
        gk_say("%s", gk_errmsg());
        rc = 1;
    }
    gk_guest_free(g);
    worker_end(rc);
}

/* In the one worker: the images opened read-write by the front end,
 * kept so that opening them again (gk_cli_launch) takes these
 * descriptors, since the worker may open no file itself.  0 or -1. */
static int take_rw_images(gk_cli *c)
{
    for (int i = 0; i < c->ndrives; i++) {
        uint32_t k = (uint32_t)i;
        char req[2 + sizeof k];
        req[0] = (char)Q_RW;
        memcpy(req + 1, &k, sizeof k);
        req[sizeof req - 1] = 0;
        int32_t rc = -1;
        int fd = -1;
        ssize_t n = gk_broker_call(req, sizeof req, -1, &rc, sizeof rc, &fd);
        if (n != sizeof rc || rc != 0 || fd < 0) {
            if (fd >= 0)
                close(fd);
            if (n < 0)
                gk_say("%s", gk_errmsg());
            return -1;
        }
        int r = gk_file_keep_fd(fd, 1);
        int e = errno;
        close(fd);
        if (r < 0) {
            gk_say("%s: %s", c->drives[i].path, strerror(e));
            return -1;
        }
    }
    return 0;
}

/* Edit each file of c->args in g (mounted; taken over and freed): fetch,
 * edit, and if a file changed, open the images again read-write and store
 * it.  0, or 1 (the messages printed).  Without the sandbox, or in the
 * one worker. */
static int edit_files(gk_cli *c, gk_guest *g)
{
    int n = c->nargs, rc = 0, nchanged = 0;
    char **winpath = gk_calloc((size_t)n, sizeof *winpath);
    resolve_paths(c, g, winpath);
    gk_edit *e = gk_calloc((size_t)n, sizeof *e);
    int *changed = gk_calloc((size_t)n, sizeof *changed);
    for (int i = 0; i < n && rc == 0; i++)
        if (gk_edit_fetch(g->vfs, c->args[i], &e[i]) < 0 ||
            gk_edit_run(&e[i], NULL, expr, &changed[i]) < 0) {
            gk_say("%s", gk_errmsg());
            rc = 1;
        } else {
            nchanged += changed[i];
        }
    if (rc == 0 && nchanged) {
        /* what was mounted where, to mount it again read-write */
        int nm = gk_vfs_nmounts(g->vfs);
        char **dev = gk_calloc((size_t)nm, sizeof *dev), **mp = gk_calloc((size_t)nm, sizeof *mp);
        for (int i = 0; i < nm; i++) {
            gk_mount *m = gk_vfs_mount_at(g->vfs, i);
            dev[i] = gk_strdup(m->device);
            mp[i] = gk_strdup(m->mountpoint);
        }
        gk_guest_free(g);
        g = NULL;
        c->rw = 1;
        if (gk_sandbox_proxied() && take_rw_images(c) < 0) {
            rc = 1;
        } else {
            g = gk_cli_launch(c);
            for (int i = 0; i < nm; i++)
                if (gk_guest_mount(g, dev[i], mp[i]) < 0)
                    gk_die_err();
        }
        for (int i = 0; i < nm; i++) {
            free(dev[i]);
            free(mp[i]);
        }
        free(dev);
        free(mp);
        for (int i = 0; i < n && rc == 0; i++) {
            if (!changed[i])
                continue;
            int ch = gk_edit_changed_in_guest(g->vfs, &e[i]);
            if (ch != 0) {
                if (ch > 0)
                    gk_say("%s: changed in the guest while it was edited: not written",
                           e[i].guestpath);
                else
                    gk_say("%s", gk_errmsg());
                rc = 1;
            } else if (gk_edit_store(g->vfs, &e[i], backup) < 0) {
                gk_say("%s", gk_errmsg());
                rc = 1;
            }
        }
        if (g && gk_vfs_sync(g->vfs) < 0) {
            gk_say("%s", gk_errmsg());
            rc = 1;
        }
    }
    for (int i = 0; i < n; i++)
        gk_edit_clear(&e[i]);
    free(e);
    free(changed);
    for (int i = 0; i < n; i++)
        free(winpath[i]);
    free(winpath);
    gk_guest_free(g);
    return rc;
}

/* The one worker: fetch, edit, and store what changed. */
static void __attribute__((noreturn)) worker_one(gk_cli *c, gk_guest *g)
{
    worker_wait();
    if (gk_guest_launch(g) < 0)
        gk_die_err();
    gk_cli_decrypt(c, g);
    gk_cli_mount_launched(c, g);
    worker_end(edit_files(c, g));
}

/* One worker (W_FETCH, W_STORE or W_ONE), to its end: 0, or 1 (its
 * messages printed). */
enum { W_FETCH, W_STORE, W_ONE };
static int run_worker(gk_cli *c, int kind)
{
    int store = kind != W_FETCH;
    /* the one worker opens its images again read-write through copies of
     * the descriptors (gk_file_keep): the backing files' read-only ones
     * are kept here, the read-write ones come later (Q_RW) */
    gk_file_keep(kind == W_ONE);
    gk_guest *g = gk_cli_add_drives(c);
    gk_file_keep(0);
    gk_cli_keys_prepare(c);
    gk_sandbox sb = c->sb;
    sb.crypto |= gk_cli_keys_possible(c);
    /* a Windows guest's registry is read only by inspection (-i) */
    sb.needs |= GK_SB_BROKER | (c->nmounts ? 0 : GK_SB_HIVES) | (store ? GK_SB_IMGWRITE : 0);
    const char **imgs = gk_calloc((size_t)c->ndrives + 1, sizeof *imgs);
    for (int i = 0; i < c->ndrives; i++)
        imgs[i] = c->drives[i].path;
    sb.images = imgs;
    sb.nimages = c->ndrives;
    pid_t pid = gk_sandbox_fork(&sb);
    if (pid < 0)
        gk_die("sandbox: cannot start the worker");
    if (pid == 0) {
        if (kind == W_ONE)
            worker_one(c, g);
        if (kind == W_STORE)
            worker_store(c, g);
        worker_fetch(c, g);
    }
    free(imgs);
    char go = 1;
    struct answer a;
    int fd = -1;
    ssize_t r = gk_sandbox_ask_worker(&go, 1, -1, &a, sizeof a, &fd, &broker);
    if (fd >= 0)
        close(fd);
    int st = gk_sandbox_end_worker();
    /* the front end keeps no read-only handle past its worker (closed only
     * now: closing a remote image's connection would close the worker's,
     * the same socket); a read-write one stays until the end (the
     * worker's locks with it) */
    if (kind != W_STORE)
        gk_guest_free(g);
    if (r < (ssize_t)sizeof a || !WIFEXITED(st))
        gk_sandbox_exit_as(st);
    return a.rc || WEXITSTATUS(st) ? 1 : 0;
}

int main(int argc, char **argv)
{
    gk_cli c;
    static const struct option longopts[] = {
        {"backup", required_argument, 0, 'b'},
        {"edit", required_argument, 0, 'e'},
        {"expr", required_argument, 0, 'e'},
        {0, 0, 0, 0},
    };
    /* virt-edit takes -e and -b after the file names too */
    argv = gk_cli_permute(&argc, argv, "b:e:", longopts);
    gk_cli_parse(&c, "gfedit", argc, argv, "b:e:", longopts, handler, NULL, usage);
    if (c.ndrives == 0 && c.nargs >= 2)
        gk_cli_positional_image(&c);
    if (c.ndrives == 0 || c.nargs < 1) {
        fprintf(stderr, "gfedit: usage: gfedit -a IMAGE FILE [-e EXPR]\n"
                        "Try 'gfedit --help' for more information.\n");
        gk_cli_clear(&c);
        return 1;
    }
    for (int i = 0; i < c.nargs; i++)
        if (c.args[i][0] != '/' && !gk_cli_windows_like(c.args[i]))
            gk_die("%s: the file must be an absolute path (start with /)", c.args[i]);
    if (backup && (!*backup || strchr(backup, '/')))
        gk_die("-b %s: the extension must not be empty or hold a '/'", backup);
    /* read-only first */
    c.rw = 0;
    if (!c.sb.off) {
        /* the sandbox: two workers and this front end (above) */
        front_cli = &c;
        nfiles = edits_left = c.nargs;
        one_worker = 1;
        for (int i = 0; i < c.ndrives; i++)
            if (!gk_location_is_file(c.drives[i].path))
                one_worker = 0;
        int rc;
        if (one_worker) {
            rc = run_worker(&c, W_ONE);
            gk_cli_clear(&c);
            return rc;
        }
        rc = run_worker(&c, W_FETCH);
        if (rc == 0 && nres > 0) {
            c.rw = 1;
            rc = run_worker(&c, W_STORE);
        }
        gk_cli_clear(&c);
        return rc;
    }
    int rc = edit_files(&c, gk_cli_mount(&c));
    gk_cli_clear(&c);
    return rc;
}
