/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gmount: a guest's filesystems (or its block devices) as a FUSE mount,
 * like guestmount, served from this process: no appliance, no VM.
 *
 * Setup order (what a sandbox needs to know): options; fork (the parent
 * waits for a status byte on a pipe); the images are opened and the guest
 * mounted; the FUSE session is created and mounted on MOUNTDIR (as root
 * with mount(2) on /dev/fuse, otherwise through fusermount3); the pid file
 * and --fd are written.
 *
 * The sandbox (tools/sandbox.h) splits the daemon in two when the images
 * are open (gk_cli_launch): the worker, confined, reads the guest and
 * serves the FUSE requests; the front end, its parent, never looks at
 * guest data and does the three things that need the host: it mounts FUSE
 * on MOUNTDIR when the worker has mounted the guest and hands it the
 * /dev/fuse descriptor (libfuse takes it as the mount point /dev/fd/N),
 * writes the pid file (its own pid: the process gumount waits for), and
 * unmounts once the worker has ended, however it ended.  The pool's other
 * sessions open the images again from the worker: the file layer keeps a
 * descriptor of each file the first session opened (gk_file_keep) and
 * reuses it, since the worker may open nothing by name. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gmount.h"

#include <fuse_lowlevel.h>   /* fuse_session_fd */

gm_state gm;

enum {
    OPT_NOFORK = 0x2000, OPT_FD, OPT_PIDFILE, OPT_DEVICES, OPT_LIVE, OPT_FUSEHELP,
    OPT_SELINUX, OPT_DIRCACHE, OPT_TRACE,
};

static const struct option longopts[] = {
    {"no-fork", no_argument, 0, OPT_NOFORK},
    {"fd", required_argument, 0, OPT_FD},
    {"pid-file", required_argument, 0, OPT_PIDFILE},
    {"option", required_argument, 0, 'o'},
    {"devices", no_argument, 0, OPT_DEVICES},
    {"live", no_argument, 0, OPT_LIVE},
    {"domain", required_argument, 0, 'd'},
    {"connect", required_argument, 0, 'c'},
    {"no-sync", no_argument, 0, 'n'},
    {"fuse-help", no_argument, 0, OPT_FUSEHELP},
    {"selinux", no_argument, 0, OPT_SELINUX},
    {"dir-cache-timeout", required_argument, 0, OPT_DIRCACHE},
    {"trace", no_argument, 0, OPT_TRACE},
    {0, 0, 0, 0},
};

static struct {
    int no_fork, devices, fd;
    const char *pidfile;
    char **fuseopts;
    int nfuseopts;
} o = {.fd = -1};

static void usage(FILE *f)
{
    fprintf(f,
        "gmount: mount a guest filesystem on the host using FUSE (like guestmount)\n"
        "Usage:\n"
        "  gmount [--options] -a IMAGE [-a IMAGE...] -i MOUNTDIR\n"
        "  gmount [--options] -a IMAGE -m DEV[:MP[:OPTS[:TYPE]]]... MOUNTDIR\n"
        "  gmount [--options] -a IMAGE --devices MOUNTDIR\n"
        "Options:\n"
        "  -a, --add IMAGE      add a disk image (repeat for every disk of the VM)\n"
        "  --format[=raw|..]    force the format of the following -a images\n"
        "  -i, --inspector      inspect the guest and mount its filesystems as it does\n"
        "  -m, --mount DEV[:MP[:OPTS[:TYPE]]]\n"
        "                       mount DEV on MP in the guest tree (default /)\n"
        "  --devices            show the guest's disks, partitions, LVs and md arrays\n"
        "                       as read-only files (MOUNTDIR/sda1, MOUNTDIR/VG/LV)\n"
        "  -r, --ro             read-only (the default)\n"
        "  -w, --rw             allow changes (ext2/3/4 only; crash-safe on ext3/4)\n"
        "  -o, --option OPT     a FUSE option: allow_other, uid=N, gid=N, umask=M,\n"
        "                       attr_timeout=S, kernel_cache, max_read=N, ... (--fuse-help)\n"
        "  --no-fork            stay in the foreground\n"
        "  --fd=FD              write one byte to FD when the mount is ready\n"
        "  --pid-file FILE      write the pid of the gmount daemon to FILE\n"
        "  -n, --no-sync        accepted for guestmount compatibility: changes are\n"
        "                       always committed when the mount goes away\n"
        "  -U, --force-share    do not check whether qemu is using the image\n"
        "  --untrusted          backing files only from the image's directory\n"
        "  --key ID:key:PASS, --key ID:file:FILE, --keys-from-stdin, --echo-keys\n"
        "                       keys of LUKS volumes (ID: /dev/sda2 or a UUID) and of\n"
        "                       encrypted qcow2 images (ID: the image as given to -a)\n"
        "  -v, --verbose        debug messages (and keep stderr in the background)\n"
        "  -x, --trace          trace every FUSE call (implies --no-fork)\n"
        "  -V, --version        print the version\n"
        "  --help               this help\n"
        "Unmount with gumount MOUNTDIR (or fusermount3 -u MOUNTDIR).\n");
}

static int handler(int opt, const char *arg, void *ud)
{
    (void)ud;
    switch (opt) {
    case OPT_NOFORK: o.no_fork = 1; return 0;
    case OPT_DEVICES: o.devices = 1; return 0;
    case OPT_PIDFILE: o.pidfile = arg; return 0;
    case OPT_TRACE: gk_trace = 1; return 0;
    case OPT_SELINUX: case 'n': return 0;
    case OPT_DIRCACHE: {
        /* guestmount's readdir cache: here the kernel's attribute cache */
        char *end;
        long s = strtol(arg, &end, 10);
        if (*end || s < 0) {
            gk_say("--dir-cache-timeout: \"%s\": not a number of seconds", arg);
            return -1;
        }
        char *opt = gk_asprintf("attr_timeout=%ld,entry_timeout=%ld", s, s);
        o.fuseopts = gk_realloc(o.fuseopts, (o.nfuseopts + 1) * sizeof *o.fuseopts);
        o.fuseopts[o.nfuseopts++] = opt;
        return 0;
    }
    case OPT_FD: {
        char *end;
        long fd = strtol(arg, &end, 10);
        if (*end || fd < 0 || fd > 65535 || fcntl((int)fd, F_GETFD) < 0) {
            gk_say("--fd=%s: not an open file descriptor", arg);
            return -1;
        }
        o.fd = (int)fd;
        return 0;
    }
    case 'o':
        /* guestmount users pass it; gmount always shows the real numbers */
        if (strcmp(arg, "use_ino") == 0 || strcmp(arg, "readdir_ino") == 0)
            return 0;
        o.fuseopts = gk_realloc(o.fuseopts, (o.nfuseopts + 1) * sizeof *o.fuseopts);
        o.fuseopts[o.nfuseopts++] = gk_strdup(arg);
        return 0;
    case OPT_LIVE:
        gk_say("--live is not supported: guestkit never attaches to a running guest "
               "(mount a copy or a snapshot of its disks with -a, read-only)");
        return -1;
    case 'd': case 'c':
        gk_say("-%c: libvirt domains are not supported: give the domain's disk images "
               "with -a", opt);
        return -1;
    case OPT_FUSEHELP: {
        printf("gmount: FUSE options (-o OPTION), as libfuse takes them:\n");
        struct fuse_args a = FUSE_ARGS_INIT(0, NULL);
        fuse_opt_add_arg(&a, "gmount");
        fuse_lib_help(&a);
        fuse_opt_free_args(&a);
        printf("Mount options: allow_other, allow_root, default_permissions (always on),\n"
               "    max_read=N, blkdev, fsname=NAME, subtype=NAME\n");
        exit(0);
    }
    }
    return -1;
}

void gm_conn_init(struct fuse_conn_info *conn)
{
    /* read ahead in 1 MiB requests (the kernel lowers it to what it
     * allows): fewer round trips for sequential reads */
    conn->max_readahead = 1u << 20;
    /* the kernel decides per directory whether names come with attributes */
    if (conn->capable & FUSE_CAP_READDIRPLUS_AUTO)
        conn->want |= FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO;
}

/* A status byte for the parent (0: the mount is ready), once. */
static int ready_fd = -1;

static void tell_parent(int status)
{
    if (ready_fd >= 0) {
        unsigned char b = (unsigned char)status;
        if (write(ready_fd, &b, 1) < 0) {
            /* the parent is gone: nothing to tell */
        }
        close(ready_fd);
        ready_fd = -1;
    }
}

/* Fork into the background: the parent returns only through exit, with 0
 * once the child says the mount is ready, else the child's status. */
static void background(void)
{
    int p[2];
    if (pipe(p) < 0)
        gk_die("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        gk_die("fork: %s", strerror(errno));
    if (pid > 0) {
        close(p[1]);
        unsigned char b;
        ssize_t n;
        while ((n = read(p[0], &b, 1)) < 0 && errno == EINTR)
            ;
        if (n == 1 && b == 0)
            _exit(0);
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        _exit(WIFEXITED(st) && WEXITSTATUS(st) ? WEXITSTATUS(st) : 1);
    }
    close(p[0]);
    ready_fd = p[1];
    setsid();
}

/* The daemon's errors before the mount is ready: the parent passes the
 * status on (stderr is still the user's). */
static void __attribute__((noreturn)) fail_setup(void)
{
    gk_say("%s", gk_errmsg());
    exit(1);
}

static const gk_broker front_end;

static gk_guest *open_guest(gk_cli *c)
{
    /* libfuse cancels its threads at the end: glibc loads libgcc_s for
     * that on first use, which the worker could not (kept loaded) */
    if (!dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_NODELETE))
        gk_debug("libgcc_s.so.1: %s", dlerror());
    c->sb.broker = &front_end;
    gk_file_keep(1);
    if (!o.devices && c->nmounts == 0)
        c->sb.needs |= GK_SB_HIVES;     /* inspection: a Windows guest's registry */
    gk_guest *g = gk_cli_launch(c);
    gk_file_keep(0);
    if (o.devices)
        return g;
    if (c->nmounts > 0) {
        for (int i = 0; i < c->nmounts; i++) {
            gk_cli_mountopt *m = &c->mounts[i];
            if (gk_guest_mount_opts(g, m->dev, m->mountpoint, m->options, m->fstype) < 0) {
                if (c->rw && errno == EROFS)
                    gk_die("%s (only ext2/3/4 can be mounted --rw; mount it without --rw)",
                           gk_errmsg());
                fail_setup();
            }
        }
    } else if ((g->inspect_for_mount = 1) && gk_guest_mount_inspected(g) < 0) {
        char *err = gk_strdup(gk_errmsg());
        gk_cli_check_image(c, g);
        gk_die("%s", err);
    }
    if (c->rw) {
        /* say which parts of the tree cannot take changes */
        for (int i = 0; i < gk_vfs_nmounts(g->vfs); i++) {
            gk_mount *m = gk_vfs_mount_at(g->vfs, i);
            if (gk_fs_readonly(m->fs))
                gk_warn("%s on %s (%s) is mounted read-only",
                        m->device ? m->device : "?", m->mountpoint, gk_fs_type(m->fs));
        }
    }
    return g;
}

/* More sessions for the pool (pool.c), opened from a FUSE thread: the
 * same images and mounts as the first, quietly (its warnings were said
 * once), NULL when that fails or the mount table came out otherwise. */
static gk_cli cli;
static gk_guest *first;
static __thread int quiet;
static void (*say_warning)(const char *msg);

static void warn_once(const char *msg)
{
    if (!quiet && say_warning)
        say_warning(msg);
}

static gk_guest *open_more(void)
{
    quiet = 1;
    gk_guest *g = gk_guest_new();
    int ok = 1;
    for (int i = 0; ok && i < cli.ndrives; i++) {
        gk_open_opts op = {
            .format = cli.drives[i].format,
            .untrusted = cli.untrusted,
            .force_share = cli.force_share,
        };
        /* an encrypted image: the key the first session opened it with */
        ok = gk_cli_add_drive(&cli, g, cli.drives[i].path, &op) == 0;
    }
    /* LUKS volumes inside the guest are not opened again (gk_cli_decrypt
     * exits when a key fails): their mounts are missing here, so the
     * mount tables differ below and the first session serves alone */
    ok = ok && gk_guest_launch(g) == 0;
    if (ok && !o.devices)
        ok = (cli.nmounts > 0 ? gk_cli_mount_list(&cli, g)
                              : (g->inspect_for_mount = 1, gk_guest_mount_inspected(g))) == 0;
    if (ok && o.devices)
        ok = g->devs->nents == first->devs->nents;
    if (ok && !o.devices) {
        int n = gk_vfs_nmounts(first->vfs);
        ok = gk_vfs_nmounts(g->vfs) == n;
        for (int i = 0; ok && i < n; i++)
            ok = strcmp(gk_vfs_mount_at(g->vfs, i)->mountpoint,
                        gk_vfs_mount_at(first->vfs, i)->mountpoint) == 0;
    }
    quiet = 0;
    if (!ok) {
        gk_debug("no more sessions: %s", gk_errmsg());
        gk_guest_free(g);
        return NULL;
    }
    return g;
}

static int write_pidfile(void)
{
    if (!o.pidfile)
        return 0;
    FILE *f = fopen(o.pidfile, "w");
    if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0) {
        gk_error("--pid-file %s: %s", o.pidfile, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- the front end (see the top of this file) ---- */

static struct fuse *gm_fuse;      /* made before the split: both have it */
static const char *gm_dir;
static int fe_mounted;

enum { REQ_MOUNT = 'M', REQ_READY = 'R' };

/* Its stdin, stdout (and stderr unless -v) to /dev/null: a daemon keeps
 * no terminal or pipe of the user's open. */
static int to_devnull(void)
{
    int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (nul < 0)
        return -1;
    dup2(nul, 0);
    dup2(nul, 1);
    if (!gk_verbose)
        dup2(nul, 2);
    return nul;
}

/* One request of the worker: REQ_MOUNT, mount and send the /dev/fuse
 * descriptor ('K'), or 'E' and the message; REQ_READY (going to the
 * background), let go of the user's files and send a /dev/null. */
static ssize_t fe_serve(void *ud, const char *req, size_t len, int fd_in, char *rep, int *fd_out)
{
    (void)ud;
    (void)fd_in;
    if (len != 1)
        return -1;
    if (req[0] == REQ_MOUNT && !fe_mounted) {
        if (fuse_mount(gm_fuse, gm_dir) < 0)
            return snprintf(rep, GK_BROKER_MSG, "E%.4000s: cannot mount the FUSE filesystem (see the "
                            "message above)", gm_dir);
        fe_mounted = 1;
        if (write_pidfile() < 0)
            return snprintf(rep, GK_BROKER_MSG, "E%.4000s", gk_errmsg());
        *fd_out = fcntl(fuse_session_fd(fuse_get_session(gm_fuse)), F_DUPFD_CLOEXEC, 0);
        rep[0] = *fd_out >= 0 ? 'K' : 'E';
        return 1;
    }
    if (req[0] == REQ_READY) {
        if (chdir("/") < 0) {
            /* harmless: only to let the directory go */
        }
        *fd_out = to_devnull();
        rep[0] = 'K';
        return 1;
    }
    return -1;
}

/* The worker has ended: the mount goes with it (a worker killed mid-way
 * included: no dead mount is left behind). */
static void fe_done(void *ud, int status)
{
    (void)ud;
    (void)status;
    if (fe_mounted)
        fuse_unmount(gm_fuse);
}

static const gk_broker front_end = {.serve = fe_serve, .done = fe_done};

/* Mount FUSE on MOUNTDIR: through the front end in the sandbox. */
static void mount_fuse(void)
{
    if (!gk_sandbox_active()) {
        if (fuse_mount(gm_fuse, gm_dir) < 0)
            gk_die("%s: cannot mount the FUSE filesystem (see the message above)", gm_dir);
        if (write_pidfile() < 0) {
            fuse_unmount(gm_fuse);
            gk_die("%s", gk_errmsg());
        }
        return;
    }
    char req = REQ_MOUNT, rep[GK_BROKER_MSG + 1];
    int fd = -1;
    ssize_t n = gk_broker_call(&req, 1, -1, rep, GK_BROKER_MSG, &fd);
    if (n <= 0)
        gk_die("%s", n < 0 ? gk_errmsg() : "sandbox: no answer from the front end");
    rep[n] = 0;
    if (rep[0] != 'K' || fd < 0)
        gk_die("%s", rep[0] == 'E' && n > 1 ? rep + 1 : "cannot mount the FUSE filesystem");
    char mp[32];
    snprintf(mp, sizeof mp, "/dev/fd/%d", fd);
    if (fuse_mount(gm_fuse, mp) < 0)
        gk_die("%s: cannot take the FUSE descriptor from the front end", gm_dir);
}

/* Going to the background: the user's files let go (both processes). */
static void detach(void)
{
    if (!gk_sandbox_active()) {
        if (chdir("/") < 0) {
            /* harmless: only to let the directory go */
        }
        int nul = to_devnull();
        if (nul > 2)
            close(nul);
        return;
    }
    char req = REQ_READY, rep[16];
    int nul = -1;
    if (gk_broker_call(&req, 1, -1, rep, sizeof rep, &nul) > 0 && nul >= 0) {
        dup2(nul, 0);
        dup2(nul, 1);
        if (!gk_verbose)
            dup2(nul, 2);
        if (nul > 2)
            close(nul);
    }
}

/* --rw: commit what changed every 5 seconds, as the kernel's ext4 does,
 * so an idle mount does not keep changes only in memory. */
static pthread_mutex_t tick_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tick_cv = PTHREAD_COND_INITIALIZER;
static int tick_stop;

static void *ticker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&tick_mu);
    while (!tick_stop) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_sec += 5;
        pthread_cond_timedwait(&tick_cv, &tick_mu, &t);
        if (tick_stop)
            break;
        pthread_mutex_unlock(&tick_mu);
        gm_sync_locked(gm_take_first(), "commit");
        gm_give(0);
        pthread_mutex_lock(&tick_mu);
    }
    pthread_mutex_unlock(&tick_mu);
    return NULL;
}

static void add_opt(struct fuse_args *a, const char *opt)
{
    if (fuse_opt_add_arg(a, "-o") < 0 || fuse_opt_add_arg(a, opt) < 0)
        gk_die("out of memory");
}

/* The FUSE session with gmount's defaults first, the user's -o options
 * after them (they win). */
static struct fuse *make_fuse(struct fuse_args *a, const gk_cli *c)
{
    fuse_opt_add_arg(a, "gmount");
    char *base = gk_asprintf("fsname=gmount:%ld,subtype=gmount,default_permissions",
                             (long)getpid());
    add_opt(a, base);
    free(base);
    if (!c->rw)
        /* nothing changes under a read-only mount: cache everything */
        add_opt(a, "ro,kernel_cache,entry_timeout=3600,attr_timeout=3600,negative_timeout=3600");
    else
        /* the kernel knows each name apart, not the inode behind hard
         * links: an unlink or chmod through one name must show through
         * the others at once */
        add_opt(a, "entry_timeout=0,attr_timeout=0,negative_timeout=0");
    for (int i = 0; i < o.nfuseopts; i++)
        add_opt(a, o.fuseopts[i]);
    struct fuse *f = fuse_new(a, o.devices ? &gm_dev_ops : &gm_fs_ops, sizeof(struct fuse_operations),
                              NULL);
    if (!f)
        gk_die("invalid FUSE options (see gmount --fuse-help)");
    return f;
}

int main(int argc, char **argv)
{
    gk_cli c;
    /* options may follow MOUNTDIR, as guestmount takes them */
    argv = gk_cli_permute(&argc, argv, "o:d:c:n", longopts);
    gk_cli_parse(&c, "gmount", argc, argv, "o:d:c:n", longopts, handler, NULL, usage);
    if (c.nargs != 1) {
        fprintf(stderr, "gmount: %s\nTry 'gmount --help' for more information.\n",
                c.nargs ? "too many arguments (one MOUNTDIR)" : "missing MOUNTDIR");
        gk_cli_clear(&c);
        return 1;
    }
    const char *dir = c.args[0];
    if (c.ndrives == 0)
        gk_die("no disk image given: use -a IMAGE (see --help)");
    if (o.devices && (c.nmounts || c.inspector))
        gk_die("--devices shows the disks themselves: it takes no -i or -m");
    if (o.devices && c.rw)
        gk_die("--devices with --rw is not supported: the device files are read-only");
    if (!o.devices && !c.nmounts && !c.inspector)
        gk_die("must have at least one -m option, or -i (or --devices)");
    struct stat st;
    if (stat(dir, &st) < 0)
        gk_die("%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        gk_die("%s: %s", dir, strerror(ENOTDIR));
    if (gk_trace)
        o.no_fork = 1;

    if (!o.no_fork)
        background();

    /* the daemon leaves its directory: more sessions need absolute names
     * (taken now: the worker may not resolve names) */
    int nabs = c.ndrives;
    char **abs = gk_calloc((size_t)nabs + 1, sizeof *abs);
    for (int i = 0; i < nabs; i++)
        abs[i] = realpath(c.drives[i].path, NULL);
    /* the FUSE session before the split: the front end mounts it, the
     * worker serves it */
    struct fuse_args a = FUSE_ARGS_INIT(0, NULL);
    gm_fuse = make_fuse(&a, &c);
    gm_dir = dir;

    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);   /* reads /sys: before the sandbox */
    gk_guest *g = open_guest(&c);
    gm.rw = c.rw;
    if (o.devices)
        gm_dev_setup(g);
    /* read-only: up to one session per CPU (at most GM_POOL_MAX), opened
     * when the ones there are all busy; --rw: this one only */
    cli = c;
    cli.keys_from_stdin = 0;
    cli.no_key_prompt = 1;
    first = g;
    for (int i = 0; i < cli.ndrives; i++)
        if (abs[i])
            cli.drives[i].path = abs[i];
    say_warning = gk_warn_hook;
    gk_warn_hook = warn_once;
    gm_pool_init(g, c.rw ? 1 : (int)(ncpu < 1 ? 1 : ncpu > GM_POOL_MAX ? GM_POOL_MAX : ncpu),
                 open_more);

    mount_fuse();
    struct fuse *f = gm_fuse;
    struct fuse_session *se = fuse_get_session(f);
    if (fuse_set_signal_handlers(se) < 0) {
        fuse_unmount(f);
        gk_die("cannot set signal handlers");
    }

    if (o.fd >= 0) {
        char b = 0;
        if (write(o.fd, &b, 1) < 0)
            gk_warn("--fd=%d: %s", o.fd, strerror(errno));
    }
    if (!o.no_fork) {
        detach();
        tell_parent(0);
    }

    pthread_t tick;
    int have_tick = c.rw && pthread_create(&tick, NULL, ticker, NULL) == 0;
    struct fuse_loop_config *lc = fuse_loop_cfg_create();
    fuse_loop_cfg_set_clone_fd(lc, 0);
    fuse_loop_cfg_set_max_threads(lc, 8);
    int r = fuse_loop_mt(f, lc);
    fuse_loop_cfg_destroy(lc);
    if (have_tick) {
        pthread_mutex_lock(&tick_mu);
        tick_stop = 1;
        pthread_cond_signal(&tick_cv);
        pthread_mutex_unlock(&tick_mu);
        pthread_join(tick, NULL);
    }
    fuse_remove_signal_handlers(se);
    if (!gk_sandbox_active())
        fuse_unmount(f);     /* else the front end's (fe_done) */
    fuse_destroy(f);
    fuse_opt_free_args(&a);
    /* the last changes: committed and the journal emptied by the close */
    gm_sync_locked(gm_take_first(), "unmount");
    gm_give(0);
    gm_pool_free();
    gk_cli_clear(&c);
    /* the absolute names the sessions were opened by (cli shares c's
     * drive list, whose names they replaced) */
    for (int i = 0; i < nabs; i++)
        free(abs[i]);
    free(abs);
    return r < 0 ? 1 : 0;
}
