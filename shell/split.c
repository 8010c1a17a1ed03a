/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gfsh's privilege separation (issue 11): where the line goes.
 *
 * gfsh reads what the user types and runs host programs (!cmd, <!,
 * | hostcmd, $EDITOR, $PAGER), so it cannot give up its host rights; what
 * a disk image holds must still never be parsed with them.  So at launch
 * (the first command that needs the guest, or -i / -m at the start) gfsh
 * forks (gk_sandbox_fork):
 *
 *  - the front end (this process, outside the sandbox) never looks at
 *    guest data: it reads and splits the command lines, runs !cmd, <! and
 *    | hostcmd, lcd, help, echo, time, sleep and quit itself, the disk-*
 *    commands (which read an image header, as opening any image does
 *    before the sandbox) in a child, and forwards every other command's
 *    words to the worker.  While one runs it opens the host files named
 *    on that command's line when the worker asks for them (one output
 *    file through gk_hostout_open, one input file, copy-out's directory),
 *    makes files beneath copy-out's directory, opens files beneath
 *    copy-in's sources, and runs the editor (edit, vi, emacs) or the pager
 *    (more) on a host copy it makes;
 *  - the worker (sandboxed: no file system access at all, the seccomp
 *    allow-list, no new privileges, fixed limits) holds the guest:
 *    launch, inspection, mounts and every guest command run there, writing
 *    to the descriptors it was given.
 *
 * The worker never names a host file the front end would open on its
 * say-so: a request names one of the host words of the command being run
 * (and of the kind that command takes: output, input, directory), and
 * copy-out/copy-in requests are checked against the directory and sources
 * on its line (tools/common-sandbox.c).  Messages are SOCK_SEQPACKET of at
 * most GK_BROKER_MSG bytes, one command at a time; a worker that breaks
 * the protocol is killed, and a worker that dies ends gfsh the same way.
 * Guest path completion asks the worker too (one directory per Tab).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmds-int.h"
#include "edit.h"
#include "hostio.h"

/* front end -> worker */
enum { W_RUN = 1, W_STDOUT, W_LAUNCH, W_COMPLETE, W_BANNER };
/* worker -> front end, during a command (below GK_EDIT_REQ) */
enum { Q_OPEN_OUT = 0xd0, Q_CLOSE_OUT, Q_OPEN_IN, Q_OPEN_DIR, Q_PAGE, Q_IDNAME };

struct run_hdr {
    uint8_t op, in_pipe, pad[2];
    uint32_t nwords;
    /* then the words, each NUL-terminated */
};

struct answer {
    uint8_t op, quit, pad[2];
    int32_t r;
    /* W_COMPLETE: then the candidates, each NUL-terminated */
};

/* ------------------------------------------------------------------ */
/* Front end                                                           */

enum { HK_NONE, HK_OUT, HK_IN, HK_DIR, HK_TREE };

/* The command being run in the worker, and what it may ask for. */
static struct {
    const gfsh_cmd *c;
    char **words;         /* the host words of the command            */
    int nwords;
    int kind;             /* HK_*                                     */
    gk_hostout outs[4];
    int dirfd;
    int edit_left, page_left;
    const char *editor;
} cur;

/* What kind of host file a command's host words are. */
static int host_kind(const gfsh_cmd *c)
{
    int has = 0;
    for (int i = 0; i < GFSH_MAXARGS && c->args[i].kind; i++)
        has |= c->args[i].kind == GA_HOST;
    if (!has)
        return HK_NONE;
    if (c->run == run_copy_out)
        return HK_DIR;
    if (c->run == run_copy_in)
        return HK_TREE;
    if (c->run == run_upload || c->run == run_tar_in)
        return HK_IN;
    return HK_OUT;
}

/* Commands the front end runs itself (they touch no guest data). */
static int front_end_cmd(const gfsh_cmd *c)
{
    return c->run == run_help || c->run == run_quit || c->run == run_echo || c->run == run_lcd ||
           c->run == run_time || c->run == run_sleep;
}

/* The disk-* commands: a host image's header, in a child. */
static int image_cmd(const gfsh_cmd *c)
{
    return !(c->flags & GF_LAUNCHED) && host_kind(c) == HK_OUT && c->run != run_add &&
           c->run != run_add_ro;
}

static int is_cur_word(const char *name, size_t len)
{
    if (memchr(name, 0, len) == NULL)
        return -1;
    for (int i = 0; i < cur.nwords; i++)
        if (strcmp(cur.words[i], name) == 0 && strcmp(name, "-") != 0)
            return i;
    return -1;
}

static ssize_t reply(char *rep, int32_t err, const char *msg)
{
    size_t ml = msg ? strlen(msg) : 0;
    if (ml > GK_BROKER_MSG - sizeof err)
        ml = GK_BROKER_MSG - sizeof err;
    memcpy(rep, &err, sizeof err);
    if (ml)
        memcpy(rep + sizeof err, msg, ml);
    return (ssize_t)(sizeof err + ml);
}

/* The pager on a host copy of fd_in (more). */
static ssize_t serve_page(int fd_in, char *rep)
{
    char tmpl[] = "/tmp/gfsh-more.XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0)
        return reply(rep, errno, "temporary file");
    char buf[65536];
    int ok = 1;
    for (off_t off = 0;;) {
        ssize_t k = pread(fd_in, buf, sizeof buf, off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            ok = k == 0;
            break;
        }
        if (write(fd, buf, (size_t)k) != k) {
            ok = 0;
            break;
        }
        off += k;
    }
    close(fd);
    if (ok) {
        const char *pager = getenv("PAGER");
        char *c = gk_asprintf("%s '%s'", pager && *pager ? pager : "more", tmpl);
        fflush(stdout);
        if (system(c) == -1)
            gfsh_err(cur.c, "%s: %s", c, strerror(errno));
        free(c);
    }
    unlink(tmpl);
    return reply(rep, ok ? 0 : EIO, ok ? NULL : "temporary file");
}

static ssize_t serve(void *ud, const char *req, size_t len, int fd_in, char *rep, int *fd_out)
{
    (void)ud;
    uint8_t op = (uint8_t)req[0];
    if (op == GK_EDIT_REQ && len == 1 && cur.edit_left > 0) {
        cur.edit_left--;
        return gk_edit_serve(fd_in, cur.editor, NULL, rep, GK_BROKER_MSG, fd_out);
    }
    if (op == Q_PAGE && len == 1 && cur.page_left > 0 && fd_in >= 0) {
        cur.page_left--;
        return serve_page(fd_in, rep);
    }
    if (len < 2)
        return -1;
    if (op == Q_IDNAME) {
        /* 'u' or 'g', then the id in decimal: host user and group names
         * (what tune2fs -l prints beside the reserved uid and gid) */
        char num[24];
        if (len - 2 >= sizeof num || (req[1] != 'u' && req[1] != 'g'))
            return -1;
        memcpy(num, req + 2, len - 2);
        num[len - 2] = 0;
        char *end;
        unsigned long id = strtoul(num, &end, 10);
        if (*end || end == num)
            return -1;
        const char *nm = NULL;
        if (req[1] == 'u') {
            struct passwd *pw = getpwuid((uid_t)id);
            nm = pw ? pw->pw_name : NULL;
        } else {
            struct group *gr = getgrgid((gid_t)id);
            nm = gr ? gr->gr_name : NULL;
        }
        return reply(rep, nm ? 0 : ENOENT, nm);
    }
    const char *name = req + 1;
    if (op == Q_CLOSE_OUT) {
        /* a failed flag, then the name */
        if (len < 3)
            return -1;
        name = req + 2;
    }
    int w = is_cur_word(name, len - (size_t)(name - req));
    if (w < 0)
        return reply(rep, EACCES, "not a host file named on the command line");
    switch (op) {
    case Q_OPEN_OUT: {
        if (cur.kind != HK_OUT)
            return -1;
        for (int i = 0; i < 4; i++) {
            if (cur.outs[i].path)
                continue;
            if (gk_hostout_open(&cur.outs[i], name) < 0)
                return reply(rep, errno ? errno : EIO, gk_errmsg());
            *fd_out = dup(cur.outs[i].fd);
            return reply(rep, 0, NULL);
        }
        return reply(rep, EMFILE, "too many output files open");
    }
    case Q_CLOSE_OUT:
        for (int i = 0; i < 4; i++)
            if (cur.outs[i].path && strcmp(cur.outs[i].path, name) == 0) {
                if (gk_hostout_close(&cur.outs[i], req[1] != 0) < 0)
                    return reply(rep, EIO, gk_errmsg());
                return reply(rep, 0, NULL);
            }
        return reply(rep, EBADF, "not open");
    case Q_OPEN_IN: {
        if (cur.kind != HK_IN)
            return -1;
        int fd = open(name, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return reply(rep, errno, NULL);
        *fd_out = fd;
        return reply(rep, 0, NULL);
    }
    case Q_OPEN_DIR: {
        if (cur.kind != HK_DIR || w != cur.nwords - 1)
            return -1;
        int fd = open(name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return reply(rep, errno, NULL);
        if (cur.dirfd >= 0)
            close(cur.dirfd);
        cur.dirfd = fd;
        gk_sandbox_grant_outdir(fd);
        *fd_out = dup(fd);
        return reply(rep, 0, NULL);
    }
    }
    return -1;
}

static const gk_broker broker = {.serve = serve};

/* The worker is gone (it died, or was killed for a forbidden call): end as
 * it did, after saying so. */
static void __attribute__((noreturn)) worker_gone(gfsh *sh)
{
    (void)sh;
    int st = gk_sandbox_end_worker();
    fflush(stdout);
    gk_sandbox_exit_as(st);
}

static char **absolute_words(char **w, int n)
{
    char **v = gk_calloc((size_t)n + 1, sizeof *v);
    char *cwd = getcwd(NULL, 0);
    for (int i = 0; i < n; i++)
        v[i] = w[i][0] == '/' || !cwd ? gk_strdup(w[i]) : gk_asprintf("%s/%s", cwd, w[i]);
    free(cwd);
    return v;
}

static int send_words(gfsh *sh, uint8_t op, int nwords, char **words, struct answer *ans,
                      char *extra, size_t *extralen)
{
    static char msg[GK_BROKER_MSG];
    struct run_hdr h = {.op = op, .in_pipe = (uint8_t)sh->in_pipe, .nwords = (uint32_t)nwords};
    size_t len = sizeof h;
    memcpy(msg, &h, sizeof h);
    for (int i = 0; i < nwords; i++) {
        size_t l = strlen(words[i]) + 1;
        if (len + l > sizeof msg) {
            gfsh_err(NULL, "%s: the command is too long for the sandboxed session (%d bytes)",
                     words[0], GK_BROKER_MSG);
            return -1;
        }
        memcpy(msg + len, words[i], l);
        len += l;
    }
    fflush(stdout);
    fflush(stderr);
    if (op != W_COMPLETE) {
        /* the output of this command: ours (a | hostcmd's pipe, or the
         * terminal); the worker drops its copy of a pipe afterwards */
        uint8_t o = W_STDOUT;
        if (gk_sandbox_tell_worker(&o, 1, fcntl(1, F_GETFD) >= 0 ? 1 : -1) < 0)
            worker_gone(sh);
    }
    static char rep[GK_BROKER_MSG];
    int fd = -1;
    ssize_t n = gk_sandbox_ask_worker(msg, len, -1, rep, sizeof rep, &fd, &broker);
    if (fd >= 0)
        close(fd);
    if (n < (ssize_t)sizeof *ans)
        worker_gone(sh);
    memcpy(ans, rep, sizeof *ans);
    if (extra) {
        *extralen = (size_t)n - sizeof *ans;
        memcpy(extra, rep + sizeof *ans, *extralen);
    }
    return 0;
}

int gfsh_split_forward(gfsh *sh, const gfsh_cmd *c, int nwords, char **words)
{
    if (front_end_cmd(c))
        return -2;
    if (image_cmd(c)) {
        /* an image header is guest data: read in a child, as gimg would */
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            sh->worker = 0;
            int r = gfsh_run_words(sh, nwords, words);
            fflush(NULL);
            _exit(r < 0 ? 1 : 0);
        }
        int st = 0;
        while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        if (pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            if (pid > 0 && WIFSIGNALED(st))
                gfsh_err(c, "killed by signal %d", WTERMSIG(st));
            return -1;
        }
        return 0;
    }
    memset(&cur, 0, sizeof cur);
    cur.c = c;
    cur.dirfd = -1;
    cur.kind = host_kind(c);
    char **abs = NULL;
    if (cur.kind != HK_NONE) {
        if (cur.kind == HK_TREE) {
            /* the sources: every word but the last, as absolute paths
             * (lcd moves only the front end) */
            abs = absolute_words(words + 1, nwords - 2);
            gk_sandbox_grant_read((const char *const *)abs, nwords - 2);
        } else {
            cur.words = words + 1;
            cur.nwords = nwords - 1;
        }
    }
    if (c->run == run_edit) {
        cur.edit_left = 1;
        cur.editor = strcmp(c->name, "vi") == 0 ? "vi" : strcmp(c->name, "emacs") == 0 ? "emacs" : NULL;
    }
    if (c->run == run_more)
        cur.page_left = 1;
    struct answer ans;
    int r;
    if (abs) {
        char **w2 = gk_calloc((size_t)nwords + 1, sizeof *w2);
        w2[0] = words[0];
        for (int i = 1; i < nwords - 1; i++)
            w2[i] = abs[i - 1];
        w2[nwords - 1] = words[nwords - 1];
        r = send_words(sh, W_RUN, nwords, w2, &ans, NULL, 0);
        free(w2);
    } else {
        r = send_words(sh, W_RUN, nwords, words, &ans, NULL, 0);
    }
    /* anything the worker left open failed half way */
    for (int i = 0; i < 4; i++)
        if (cur.outs[i].path)
            gk_hostout_close(&cur.outs[i], 1);
    if (cur.dirfd >= 0)
        close(cur.dirfd);
    gk_sandbox_grant_outdir(-1);
    gk_sandbox_grant_read(NULL, 0);
    for (int i = 0; abs && i < nwords - 2; i++)
        free(abs[i]);
    free(abs);
    memset(&cur, 0, sizeof cur);
    if (r < 0)
        return -1;
    if (ans.quit)
        sh->quit = 1;
    return ans.r;
}

int gfsh_split_launch(gfsh *sh)
{
    struct answer ans;
    char *w[1] = {"launch"};
    if (send_words(sh, W_LAUNCH, 1, w, &ans, NULL, 0) < 0)
        return -1;
    return ans.r;
}

void gfsh_split_banner(gfsh *sh)
{
    struct answer ans;
    char *w[1] = {"banner"};
    send_words(sh, W_BANNER, 1, w, &ans, NULL, NULL);
}

int gfsh_split_complete(gfsh *sh, const char *text, char ***out, int *n)
{
    static char buf[GK_BROKER_MSG];
    struct answer ans;
    char *w[1] = {(char *)text};
    size_t len = 0;
    *out = NULL;
    *n = 0;
    if (strlen(text) > GK_BROKER_MSG / 2 || send_words(sh, W_COMPLETE, 1, w, &ans, buf, &len) < 0)
        return -1;
    for (size_t off = 0; off < len;) {
        const char *e = memchr(buf + off, 0, len - off);
        if (!e)
            break;
        *out = gk_realloc(*out, (size_t)(*n + 1) * sizeof **out);
        (*out)[(*n)++] = gk_strdup(buf + off);
        off = (size_t)(e - buf) + 1;
    }
    return 0;
}

int gfsh_split_end(gfsh *sh)
{
    if (sh->worker <= 0)
        return 0;
    sh->worker = 0;
    fflush(stdout);
    int st = gk_sandbox_end_worker();
    if (WIFSIGNALED(st))
        gk_sandbox_exit_as(st);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* Worker                                                              */

static int in_worker;

static void on_sigint(int sig)
{
    (void)sig;
    gfsh_interrupted = 1;
}

int gfsh_in_worker(void)
{
    return in_worker;
}

/* A request about a host word; the answer's errno (0) and message. */
static int ask(uint8_t op, const char *prefix, size_t plen, const char *name, int fd_in,
               int *fd_out)
{
    static char req[GK_BROKER_MSG];
    struct {
        int32_t err;
        char msg[1024];
    } rep;
    size_t nl = strlen(name) + 1;
    if (1 + plen + nl > sizeof req) {
        errno = ENAMETOOLONG;
        gk_error("%s: %s", name, strerror(errno));
        return -1;
    }
    req[0] = (char)op;
    if (plen)
        memcpy(req + 1, prefix, plen);
    memcpy(req + 1 + plen, name, nl);
    int fd = -1;
    ssize_t n = gk_broker_call(req, 1 + plen + nl, fd_in, &rep, sizeof rep, &fd);
    if (n < (ssize_t)sizeof rep.err)
        return -1;
    if (rep.err) {
        if (fd >= 0)
            close(fd);
        errno = rep.err;
        if (n > (ssize_t)sizeof rep.err)
            gk_error("%.*s", (int)(n - (ssize_t)sizeof rep.err), rep.msg);
        else
            gk_error("%s: %s", name, strerror(rep.err));
        return -1;
    }
    if (fd_out)
        *fd_out = fd;
    else if (fd >= 0)
        close(fd);
    return 0;
}

int gfsh_worker_open_out(const char *name, FILE **fp)
{
    int fd = -1;
    *fp = NULL;
    if (ask(Q_OPEN_OUT, NULL, 0, name, -1, &fd) < 0)
        return -1;
    if (fd < 0 || !(*fp = fdopen(fd, "w"))) {
        if (fd >= 0)
            close(fd);
        gk_error("%s: %s", name, strerror(EIO));
        return -1;
    }
    return 0;
}

int gfsh_worker_close_out(const char *name, FILE *fp, int failed)
{
    int r = 0;
    if (fclose(fp) != 0 && !failed) {
        gk_error("%s: %s", name, strerror(errno));
        failed = 1;
        r = -1;
    }
    char f = (char)(failed != 0);
    if (ask(Q_CLOSE_OUT, &f, 1, name, -1, NULL) < 0)
        r = -1;
    return r;
}

int gfsh_worker_open_in(const char *name)
{
    int fd = -1;
    if (ask(Q_OPEN_IN, NULL, 0, name, -1, &fd) < 0)
        return -1;
    return fd;
}

int gfsh_worker_open_dir(const char *name)
{
    int fd = -1;
    if (ask(Q_OPEN_DIR, NULL, 0, name, -1, &fd) < 0)
        return -1;
    return fd;
}

int gfsh_worker_idname(int group, unsigned long id, char *name, size_t cap)
{
    char req[32];
    int l = snprintf(req, sizeof req, "%c%c%lu", (char)Q_IDNAME, group ? 'g' : 'u', id);
    struct {
        int32_t err;
        char msg[256];
    } rep;
    int fo = -1;
    ssize_t n = gk_broker_call(req, (size_t)l, -1, &rep, sizeof rep, &fo);
    if (fo >= 0)
        close(fo);
    if (n <= (ssize_t)sizeof rep.err || rep.err || cap == 0)
        return -1;
    size_t nl = (size_t)n - sizeof rep.err;
    if (nl >= cap)
        nl = cap - 1;
    memcpy(name, rep.msg, nl);
    name[nl] = 0;
    return 0;
}

int gfsh_worker_page(int fd)
{
    char req = (char)Q_PAGE;
    struct {
        int32_t err;
        char msg[256];
    } rep;
    int fo = -1;
    ssize_t n = gk_broker_call(&req, 1, fd, &rep, sizeof rep, &fo);
    if (fo >= 0)
        close(fo);
    if (n < (ssize_t)sizeof rep.err)
        return -1;
    if (rep.err) {
        errno = rep.err;
        return -1;
    }
    return 0;
}

static int worker_launch(gfsh *sh)
{
    if (gk_guest_launch(sh->g) < 0) {
        gfsh_err(NULL, "%s", gk_errmsg());
        return -1;
    }
    if (sh->cli.inspector) {
        gk_cli_decrypt(&sh->cli, sh->g); /* guestfish -i opens LUKS volumes first */
        if (gk_guest_mount_inspected(sh->g) < 0) {
            gfsh_err(NULL, "%s", gk_errmsg());
            return -1;
        }
    } else if (sh->cli.nmounts && gk_cli_mount_list(&sh->cli, sh->g) < 0) {
        gfsh_err(NULL, "%s", gk_errmsg());
        return -1;
    }
    return 0;
}

static void __attribute__((noreturn)) worker_loop(gfsh *sh)
{
    static char buf[GK_BROKER_MSG + 1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL); /* no SA_RESTART: blocked writes return */
    for (;;) {
        int fd = -1;
        ssize_t n = gk_sandbox_next_request(buf, GK_BROKER_MSG, &fd);
        if (n <= 0)
            break;
        buf[n] = 0;
        if (buf[0] == W_STDOUT) {
            if (fd >= 0) {
                fflush(stdout);
                /* after a pipe our fd 1 is closed: it may come as 1 */
                if (fd != 1) {
                    dup2(fd, 1);
                    close(fd);
                }
            }
            continue;
        }
        if (fd >= 0)
            close(fd);
        struct run_hdr h;
        if ((size_t)n < sizeof h)
            break;
        memcpy(&h, buf, sizeof h);
        if (h.nwords == 0 || h.nwords > GK_BROKER_MSG / 2)
            break;
        char **words = gk_calloc(h.nwords + 1, sizeof *words);
        char *p = buf + sizeof h, *end = buf + n;
        uint32_t k = 0;
        for (; k < h.nwords && p < end; k++) {
            words[k] = p;
            p += strlen(p) + 1;
        }
        if (k != h.nwords) {
            free(words);
            break;
        }
        static char out[GK_BROKER_MSG];
        struct answer ans = {.op = GK_SB_DONE};
        size_t alen = sizeof ans;
        sh->in_pipe = h.in_pipe;
        if (h.in_pipe)
            signal(SIGPIPE, SIG_IGN);
        gfsh_interrupted = 0;
        if (h.op == W_RUN) {
            ans.r = gfsh_run_words(sh, (int)h.nwords, words);
        } else if (h.op == W_LAUNCH) {
            ans.r = worker_launch(sh);
        } else if (h.op == W_BANNER) {
            gfsh_print_banner(sh);
        } else if (h.op == W_COMPLETE) {
            char **v;
            int nv;
            gfsh_guest_candidates(sh, words[0], &v, &nv);
            for (int i = 0; i < nv; i++) {
                size_t l = strlen(v[i]) + 1;
                if (alen + sizeof ans + l <= sizeof out)
                    memcpy(out + sizeof ans + (alen - sizeof ans), v[i], l), alen += l;
                free(v[i]);
            }
            free(v);
        } else {
            free(words);
            break;
        }
        free(words);
        if (fflush(stdout) != 0)
            clearerr(stdout);
        if (h.in_pipe) {
            /* the host command sees the end of its input when gfsh's
             * front end closes the pipe: our copy goes now */
            close(1);
            signal(SIGPIPE, SIG_DFL);
        }
        sh->in_pipe = 0;
        ans.quit = (uint8_t)sh->quit;
        memcpy(out, &ans, sizeof ans);
        if (gk_sandbox_answer(out, alen, -1) < 0)
            break;
    }
    /* the end: what the commands changed becomes durable (and reported) */
    int rc = 0;
    if (fflush(stdout) != 0 && errno != EPIPE)
        rc = 1;
    if (sh->cli.rw && sh->g->launched && gk_vfs_sync(sh->g->vfs) < 0) {
        fprintf(stderr, "gfsh: sync: %s\n", gk_errmsg());
        rc = 1;
    }
    gk_guest_free(sh->g);
    _exit(rc);
}

int gfsh_split_start(gfsh *sh)
{
    if (sh->worker > 0 || in_worker)
        return 0;
    if (sh->cli.sb.off) {
        gk_sandbox_warn_off();
        return 0;
    }
    gk_cli_keys_prepare(&sh->cli);
    gfsh_magic_preload();
    gk_sandbox sb = sh->cli.sb;
    sb.crypto = 1; /* keys, checksum commands */
    sb.needs |= GK_SB_BROKER | GK_SB_HOSTWRITE | GK_SB_HOSTREAD | GK_SB_SCRATCH | GK_SB_HIVES;
    if (sh->cli.rw)
        sb.needs |= GK_SB_IMGWRITE;
    sb.outdir = NULL;
    sb.outdir_fd = -1;
    const char **imgs = gk_calloc((size_t)sh->cli.ndrives + 1, sizeof *imgs);
    for (int i = 0; i < sh->cli.ndrives; i++)
        imgs[i] = sh->cli.drives[i].path;
    sb.images = imgs;
    sb.nimages = sh->cli.ndrives;
    fflush(NULL);
    pid_t pid = gk_sandbox_fork(&sb);
    if (pid < 0)
        gk_die("sandbox: cannot start the worker");
    if (pid == 0) {
        in_worker = 1;
        worker_loop(sh);
    }
    free(imgs);
    sh->worker = pid;
    return 0;
}
