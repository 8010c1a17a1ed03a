/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Editing a guest file on the host: gfedit and gfsh's edit/vi/emacs (see
 * tools/edit.h). */
/* SHA256_Init, not EVP: EVP's first digest loads OpenSSL's provider
 * configuration, about 3 ms of CPU in each process that edits (gfedit -e
 * has a 50 ms budget); the plain digest costs microseconds */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "edit.h"

#define CHUNK (1u << 20)

/* The per-line Perl filter: $_ is the line (with its newline), $lineno its
 * number; the expression comes in the environment, so no quoting can break
 * it; die (or a syntax error) stops with a non-zero status. */
static const char perl_filter[] =
    "my $e = $ENV{GK_EDIT_EXPR};\n"
    "our $lineno = 0;\n"
    "while (defined($_ = <STDIN>)) {\n"
    "    $lineno++;\n"
    "    eval $e;\n"
    "    die $@ if $@;\n"
    "    print STDOUT $_ or die \"write: $!\\n\";\n"
    "}\n"
    "close STDOUT or die \"close: $!\\n\";\n";

static int sha_file(int fd, unsigned char sum[32], uint64_t *size)
{
    SHA256_CTX c;
    char *buf = gk_malloc(CHUNK);
    uint64_t n = 0;
    int rc = SHA256_Init(&c) == 1 ? 0 : -1;
    while (rc == 0) {
        ssize_t k = read(fd, buf, CHUNK);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            gk_error("temporary file: %s", strerror(errno));
            rc = -1;
            break;
        }
        if (k == 0)
            break;
        SHA256_Update(&c, buf, (size_t)k);
        n += (uint64_t)k;
    }
    if (rc == 0)
        SHA256_Final(sum, &c);
    free(buf);
    if (size)
        *size = n;
    return rc;
}

/* Stream guest file n into fd; the SHA-256 and size of what was read. */
static int guest_to_fd(gk_node *n, uint64_t size, int fd, unsigned char sum[32], const char *path)
{
    SHA256_CTX c;
    SHA256_Init(&c);
    char *buf = gk_malloc(CHUNK);
    uint64_t off = 0;
    int rc = 0;
    while (off < size) {
        size_t want = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
        ssize_t k = gk_node_read(n, buf, want, off);
        if (k < 0) {
            gk_error_prefix("%s", path);
            rc = -1;
            break;
        }
        if (k == 0)
            break;
        SHA256_Update(&c, buf, (size_t)k);
        if (fd >= 0) {
            for (ssize_t done = 0; done < k;) {
                ssize_t w = write(fd, buf + done, (size_t)(k - done));
                if (w < 0 && errno == EINTR)
                    continue;
                if (w < 0) {
                    gk_error("temporary file: %s", strerror(errno));
                    rc = -1;
                    break;
                }
                done += w;
            }
            if (rc < 0)
                break;
        }
        off += (uint64_t)k;
    }
    SHA256_Final(sum, &c);
    free(buf);
    return rc;
}

int gk_edit_fetch(gk_vfs *v, const char *path, gk_edit *e)
{
    memset(e, 0, sizeof *e);
    gk_node n;
    gk_stat st;
    if (gk_vfs_resolve(v, path, 1, &n) < 0 || gk_node_stat(&n, &st) < 0)
        return -1;
    if (!S_ISREG(st.mode)) {
        gk_error("%s: %s", path, S_ISDIR(st.mode) ? strerror(EISDIR) : "not a regular file");
        return -1;
    }
    e->guestpath = gk_vfs_realpath(v, path);
    if (!e->guestpath)
        return -1;
    if (gk_sandbox_proxied()) {
        /* no host files here: a copy in memory, edited by the front end */
        int mfd = memfd_create("gk-edit", MFD_CLOEXEC);
        if (mfd < 0) {
            gk_error("memfd: %s", strerror(errno));
            return -1;
        }
        e->fd = mfd;
        e->has_fd = 1;
        e->size = st.size;
        return guest_to_fd(&n, st.size, mfd, e->sum, path);
    }
    const char *tmpdir = getenv("TMPDIR");
    e->tmpfile = gk_asprintf("%s/gfedit-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    int fd = mkstemp(e->tmpfile);
    if (fd < 0) {
        gk_error("temporary file %s: %s", e->tmpfile, strerror(errno));
        free(e->tmpfile);
        e->tmpfile = NULL;
        return -1;
    }
    int r = guest_to_fd(&n, st.size, fd, e->sum, path);
    e->size = st.size;
    if (close(fd) < 0 && r == 0) {
        gk_error("temporary file: %s", strerror(errno));
        r = -1;
    }
    return r;
}

/* In a sandboxed worker: the front end edits (the editor and the
 * expression are its own: the worker cannot choose what runs on the host). */
static int edit_via_front_end(gk_edit *e, int *changed)
{
    char req[1] = {(char)GK_EDIT_REQ};
    struct {
        int32_t err;
        char msg[1024];
    } rep;
    int fd = -1;
    ssize_t n = gk_broker_call(req, 1, e->fd, &rep, sizeof rep, &fd);
    if (n < (ssize_t)sizeof rep.err || rep.err) {
        if (n >= (ssize_t)sizeof rep.err)
            gk_error("%.*s", (int)(n - (ssize_t)sizeof rep.err), rep.msg);
        else if (n >= 0)
            gk_error("editor: no answer from the front end");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (fd < 0) {
        gk_error("editor: no result from the front end");
        return -1;
    }
    close(e->fd);
    e->fd = fd;
    unsigned char sum[32];
    uint64_t size;
    if (lseek(fd, 0, SEEK_SET) < 0 || sha_file(fd, sum, &size) < 0)
        return -1;
    *changed = size != e->size || memcmp(sum, e->sum, 32) != 0;
    return 0;
}

ssize_t gk_edit_serve(int fd_in, const char *editor, const char *perl_expr, char *rep, size_t cap,
                      int *fd_out)
{
    int32_t err = 1;
    const char *msg = "temporary file";
    char *emsg = NULL;
    gk_edit e;
    memset(&e, 0, sizeof e);
    const char *tmpdir = getenv("TMPDIR");
    e.tmpfile = gk_asprintf("%s/gfedit-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    int tfd = mkstemp(e.tmpfile);
    int ok = tfd >= 0 && fd_in >= 0;
    char *buf = gk_malloc(CHUNK);
    for (off_t off = 0; ok;) {
        ssize_t k = pread(fd_in, buf, CHUNK, off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            ok = k == 0;
            break;
        }
        ok = write(tfd, buf, (size_t)k) == k;
        off += k;
    }
    free(buf);
    if (tfd >= 0 && close(tfd) < 0)
        ok = 0;
    int changed;
    if (ok) {
        if (gk_edit_run(&e, editor, perl_expr, &changed) < 0) {
            emsg = gk_strdup(gk_errmsg());
            msg = emsg;
        } else if ((*fd_out = open(e.tmpfile, O_RDONLY | O_CLOEXEC)) >= 0) {
            err = 0;
            msg = "";
        }
    }
    if (tfd >= 0)
        unlink(e.tmpfile);
    free(e.tmpfile);
    size_t ml = strlen(msg);
    if (ml > cap - sizeof err)
        ml = cap - sizeof err;
    memcpy(rep, &err, sizeof err);
    memcpy(rep + sizeof err, msg, ml);
    free(emsg);
    return (ssize_t)(sizeof err + ml);
}

extern char **environ;

/* perl running the filter on in (stdin) into out (stdout), the expression
 * in its environment: its pid, or -1.  posix_spawn (a vfork) rather than
 * fork: no copy of this process' page tables just to run exec. */
static pid_t spawn_perl(int in, int out, const char *expr)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = gk_calloc(n + 2, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "GK_EDIT_EXPR=", 13) != 0)
            env[k++] = environ[i];
    char *var = gk_asprintf("GK_EDIT_EXPR=%s", expr);
    env[k] = var;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in, 0);
    posix_spawn_file_actions_adddup2(&fa, out, 1);
    char *argv[] = {"perl", "-e", (char *)perl_filter, NULL};
    pid_t pid;
    int e = posix_spawnp(&pid, "perl", &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    free(var);
    free(env);
    if (e != 0) {
        gk_error("perl: %s", strerror(e));
        return -1;
    }
    return pid;
}

int gk_edit_run(gk_edit *e, const char *editor, const char *perl_expr, int *changed)
{
    *changed = 0;
    if (e->has_fd)
        return edit_via_front_end(e, changed);
    if (perl_expr) {
        char *out = gk_asprintf("%s.out", e->tmpfile);
        int in = open(e->tmpfile, O_RDONLY | O_CLOEXEC);
        int of = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (in < 0 || of < 0) {
            gk_error("temporary file: %s", strerror(errno));
            if (in >= 0)
                close(in);
            if (of >= 0)
                close(of);
            unlink(out);
            free(out);
            return -1;
        }
        fflush(NULL);
        pid_t pid = spawn_perl(in, of, perl_expr);
        close(in);
        close(of);
        int status = 0;
        while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            if (pid < 0)
                gk_error_prefix("the expression could not run: the file is left as it was");
            else
                gk_error("the expression failed (perl exited with %d): the file is left as it "
                         "was", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
            unlink(out);
            free(out);
            return -1;
        }
        if (rename(out, e->tmpfile) < 0) {
            gk_error("temporary file: %s", strerror(errno));
            unlink(out);
            free(out);
            return -1;
        }
        free(out);
    } else {
        if (!editor || !*editor)
            editor = getenv("EDITOR");
        if (!editor || !*editor)
            editor = "vi";
        char *cmd = gk_asprintf("%s '%s'", editor, e->tmpfile);
        fflush(NULL);
        int status = system(cmd);
        if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            gk_error("%s: the editor failed: the file is left as it was", cmd);
            free(cmd);
            return -1;
        }
        free(cmd);
    }
    /* changed means: other contents (an editor that saves the same bytes
     * changes nothing) */
    int fd = open(e->tmpfile, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        gk_error("%s: %s", e->tmpfile, strerror(errno));
        return -1;
    }
    unsigned char sum[32];
    uint64_t size;
    int r = sha_file(fd, sum, &size);
    close(fd);
    if (r < 0)
        return -1;
    *changed = size != e->size || memcmp(sum, e->sum, 32) != 0;
    return 0;
}

int gk_edit_changed_in_guest(gk_vfs *v, const gk_edit *e)
{
    gk_node n;
    gk_stat st;
    if (gk_vfs_resolve(v, e->guestpath, 1, &n) < 0 || gk_node_stat(&n, &st) < 0)
        return -1;
    if (st.size != e->size)
        return 1;
    unsigned char sum[32];
    if (guest_to_fd(&n, st.size, -1, sum, e->guestpath) < 0)
        return -1;
    return memcmp(sum, e->sum, 32) != 0;
}

static int copy_xattrs(gk_node *from, gk_node *to)
{
    ssize_t len = gk_node_listxattr(from, NULL, 0);
    if (len <= 0)
        return len < 0 ? -1 : 0;
    char *names = gk_malloc((size_t)len);
    len = gk_node_listxattr(from, names, (size_t)len);
    int rc = len < 0 ? -1 : 0;
    for (ssize_t off = 0; rc == 0 && off < len; off += (ssize_t)strlen(names + off) + 1) {
        const char *nm = names + off;
        ssize_t vl = gk_node_getxattr(from, nm, NULL, 0);
        if (vl < 0) {
            rc = -1;
            break;
        }
        char *val = gk_malloc((size_t)vl + 1);
        vl = gk_node_getxattr(from, nm, val, (size_t)vl);
        if (vl < 0 || gk_node_setxattr(to, nm, val, (size_t)vl, 0) < 0)
            rc = -1;
        free(val);
    }
    free(names);
    return rc;
}

int gk_edit_store(gk_vfs *v, const gk_edit *e, const char *backup_ext)
{
    const char *path = e->guestpath;
    gk_node orig, nn;
    gk_stat st;
    if (gk_vfs_resolve(v, path, 0, &orig) < 0 || gk_node_stat(&orig, &st) < 0)
        return -1;
    /* a random name next to the file */
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char rnd[8];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        for (size_t i = 0; i < sizeof rnd; i++)
            rnd[i] = (unsigned char)(rand() ^ getpid());
    }
    char *tmp = gk_strdup(path);
    char *slash = strrchr(tmp, '/');
    char name[9];
    for (int i = 0; i < 8; i++)
        name[i] = alnum[rnd[i] % (sizeof alnum - 1)];
    name[8] = 0;
    char *newpath = gk_asprintf("%.*s/%s", (int)(slash - tmp), tmp, name);
    free(tmp);
    int fd = e->has_fd ? dup(e->fd) : open(e->tmpfile, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || (e->has_fd && lseek(fd, 0, SEEK_SET) < 0)) {
        gk_error("%s: %s", e->has_fd ? "the edited copy" : e->tmpfile, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(newpath);
        return -1;
    }
    int rc = gk_vfs_open_file(v, newpath, 0600, GK_WR_CREATE | GK_WR_EXCL, &nn);
    if (rc == 0) {
        char *buf = gk_malloc(CHUNK);
        uint64_t off = 0;
        for (;;) {
            ssize_t k = read(fd, buf, CHUNK);
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0) {
                gk_error("%s: %s", e->has_fd ? "the edited copy" : e->tmpfile, strerror(errno));
                rc = -1;
                break;
            }
            if (k == 0)
                break;
            if (gk_node_write(&nn, buf, (size_t)k, off) != k) {
                gk_error_prefix("%s", path);
                rc = -1;
                break;
            }
            off += (uint64_t)k;
        }
        free(buf);
        /* the original's owner, mode (after chown: it clears set-id bits)
         * and extended attributes */
        if (rc == 0 && (gk_node_chown(&nn, st.uid, st.gid) < 0 ||
                        gk_node_chmod(&nn, st.mode & 07777) < 0 || copy_xattrs(&orig, &nn) < 0)) {
            gk_error_prefix("%s", path);
            rc = -1;
        }
        char *bak = NULL;
        if (rc == 0 && backup_ext) {
            bak = gk_asprintf("%s%s", path, backup_ext);
            if (gk_vfs_rename(v, path, bak, 0) < 0) {
                rc = -1;
                free(bak);
                bak = NULL;
            }
        }
        if (rc == 0 && gk_vfs_rename(v, newpath, path, 0) < 0) {
            rc = -1;
            if (bak) {                 /* put the original back */
                char *msg = gk_strdup(gk_errmsg());
                gk_vfs_rename(v, bak, path, 0);
                gk_error("%s", msg);
                free(msg);
            }
        }
        free(bak);
        if (rc < 0) {
            char *msg = gk_strdup(gk_errmsg());
            gk_vfs_unlink(v, newpath);
            gk_error("%s", msg);
            free(msg);
        }
    }
    close(fd);
    free(newpath);
    return rc;
}

void gk_edit_clear(gk_edit *e)
{
    if (e->tmpfile)
        unlink(e->tmpfile);
    if (e->has_fd)
        close(e->fd);
    free(e->tmpfile);
    free(e->guestpath);
    memset(e, 0, sizeof *e);
}
