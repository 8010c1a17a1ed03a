/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fleet mode: one worker process per image, N at a time (tools/each.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "each.h"

/* The sanitizers reserve terabytes of address space up front: no
 * RLIMIT_AS under them. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NO_AS_LIMIT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define NO_AS_LIMIT 1
#endif
#endif

/* What is read back of a worker's standard error (its messages). */
#define ERR_CAP (64 * 1024)
/* Lines of the --from list: a path or URI each. */
#define LINE_MAX_LEN 8192

int gk_each_opt(gk_each *e, int opt, const char *arg)
{
    char *end;
    long v;
    switch (opt) {
    case GK_EACH_OPT_EACH: e->on = 1; return 0;
    case GK_EACH_OPT_FROM:
        if (e->from)
            gk_die("--from can be given once (put every image in one list)");
        e->from = arg;
        return 0;
    case GK_EACH_OPT_JSON: e->json = 1; return 0;
    case GK_EACH_OPT_JOBS: case GK_EACH_OPT_TIMEOUT: case GK_EACH_OPT_MEMORY:
        errno = 0;
        v = strtol(arg, &end, 10);
        if (errno || end == arg || *end || v < 1 || v > 1000000)
            gk_die("--%s %s: expected a number from 1 to 1000000",
                   opt == GK_EACH_OPT_JOBS ? "jobs" : opt == GK_EACH_OPT_TIMEOUT ? "timeout" : "memory",
                   arg);
        if (opt == GK_EACH_OPT_JOBS)
            e->jobs = (int)v;
        else if (opt == GK_EACH_OPT_TIMEOUT)
            e->timeout = (int)v;
        else
            e->memory = (int)v;
        return 0;
    }
    return -1;
}

void gk_each_check(const gk_each *e)
{
    if (!e->on && (e->from || e->jobs || e->timeout || e->memory || e->json))
        gk_die("--from, --jobs, --timeout, --memory%s go with --each", e->json ? " and --json" : "");
}

/* ------------------------------------------------------------------ */
/* The list of images                                                  */

typedef struct item {
    char *path, *format;
} item;

typedef struct list {
    item *v;
    int n, cap;
} list;

static void list_add(list *l, char *path, char *format)
{
    if (l->n == INT_MAX - 1)
        gk_die("too many images");
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = gk_realloc(l->v, (size_t)l->cap * sizeof *l->v);
    }
    l->v[l->n].path = path;
    l->v[l->n].format = format;
    l->n++;
}

/* One image or URI per line; empty lines are skipped, a final line needs
 * no newline.  Names are taken as they are (no quoting, no comments), as
 * find -print writes them. */
static void read_list(list *l, const char *name, const char *format)
{
    FILE *f = strcmp(name, "-") == 0 ? stdin : fopen(name, "re");
    if (!f)
        gk_die("--from %s: %s", name, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long no = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        no++;
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = 0;
        if (n == 0)
            continue;
        if (n > LINE_MAX_LEN || memchr(line, 0, (size_t)n))
            gk_die("--from %s: line %ld: not an image name (%s)", name, no,
                   n > LINE_MAX_LEN ? "longer than 8192 bytes" : "a NUL byte in it");
        list_add(l, gk_strdup(line), (char *)format);
    }
    if (ferror(f))
        gk_die("--from %s: %s", name, strerror(errno));
    free(line);
    if (f != stdin)
        fclose(f);
}

/* ------------------------------------------------------------------ */
/* Workers                                                             */

typedef struct slot {
    pid_t pid;              /* 0: free */
    int index;              /* into the list */
    int out, err;           /* its stdout and stderr files */
    struct timespec start;
    int timed_out;          /* killed by the front end's wall clock */
} slot;

static int tmpfile_fd(void)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    /* a file system without O_TMPFILE: a named one, removed at once */
    char *tmpl = gk_asprintf("%s/gk-each.XXXXXX", dir);
    fd = mkostemp(tmpl, O_CLOEXEC);
    if (fd >= 0)
        unlink(tmpl);
    free(tmpl);
    if (fd < 0)
        gk_die("a temporary file in %s: %s", dir, strerror(errno));
    return fd;
}

static double since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static void set_limit(int res, rlim_t soft, rlim_t hard)
{
    struct rlimit rl;
    if (getrlimit(res, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < hard)
        hard = rl.rlim_max;
    if (soft > hard)
        soft = hard;
    rl.rlim_cur = soft;
    rl.rlim_max = hard;
    if (setrlimit(res, &rl) < 0) {
        fprintf(stderr, "%s: setrlimit: %s\n", gk_progname, strerror(errno));
        _exit(1);
    }
}

/* In the child: become the worker of one image. */
static void become_worker(gk_cli *c, gk_each *e, const item *it, slot *s, const sigset_t *mask,
                          pid_t front)
{
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != front)     /* it ended before the line above */
        _exit(1);
    sigprocmask(SIG_SETMASK, mask, NULL);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0 || dup2(null, 0) < 0 || dup2(s->out, 1) < 0 || dup2(s->err, 2) < 0)
        _exit(1);
    /* nothing of the front end's (other workers' files, the list, a
     * database) stays open in the sandbox */
    if (close_range(3, ~0u, 0) < 0)
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
    set_limit(RLIMIT_CPU, (rlim_t)e->timeout, (rlim_t)e->timeout + 1);
#ifndef NO_AS_LIMIT
    set_limit(RLIMIT_AS, (rlim_t)e->memory << 20, (rlim_t)e->memory << 20);
#endif
    /* the front end's list gives way to this worker's one image */
    for (int i = 0; i < c->ndrives; i++)
        gk_secret_free(c->drives[i].key, c->drives[i].keylen + 1);
    free(c->drives);
    gk_cli_drive *d = gk_calloc(1, sizeof *d);
    d->path = it->path;
    d->format = it->format;
    c->drives = d;
    c->ndrives = 1;
    /* no terminal to ask keys on: each worker takes --key or nothing */
    c->no_key_prompt = 1;
}

static char *dup_line(const char *s, size_t n)
{
    char *r = gk_malloc(n + 1);
    memcpy(r, s, n);
    r[n] = 0;
    return r;
}

static void push(char ***v, int *n, char *s)
{
    *v = gk_realloc(*v, (size_t)(*n + 1) * sizeof **v);
    (*v)[(*n)++] = s;
}

/* The worker's messages: "PROG: warning: X" lines are warnings, other
 * "PROG: X" lines messages, anything else (usage hints) a message too. */
static void read_messages(gk_each_result *r, int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return;
    size_t n = st.st_size > ERR_CAP ? ERR_CAP : (size_t)st.st_size;
    /* the end of a long stderr holds the error */
    off_t off = st.st_size > ERR_CAP ? st.st_size - ERR_CAP : 0;
    char *buf = gk_malloc(n + 1);
    ssize_t got = pread(fd, buf, n, off);
    n = got > 0 ? (size_t)got : 0;
    buf[n] = 0;
    size_t plen = strlen(gk_progname);
    for (char *p = buf, *nl; p < buf + n; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(buf + n - p));
        if (!nl)
            nl = buf + n;
        size_t len = (size_t)(nl - p);
        if (len == 0)
            continue;
        if (len > plen + 1 && memcmp(p, gk_progname, plen) == 0 && p[plen] == ':' &&
            p[plen + 1] == ' ') {
            p += plen + 2;
            len -= plen + 2;
            if (len >= 9 && memcmp(p, "warning: ", 9) == 0) {
                push(&r->warnings, &r->nwarnings, dup_line(p + 9, len - 9));
                continue;
            }
        }
        push(&r->messages, &r->nmessages, dup_line(p, len));
    }
    free(buf);
}

static char *joined(char **v, int n)
{
    size_t len = 1;
    for (int i = 0; i < n; i++)
        len += strlen(v[i]) + 2;
    char *r = gk_malloc(len), *w = r;
    *w = 0;
    for (int i = 0; i < n; i++)
        w += sprintf(w, "%s%s", i ? "; " : "", v[i]);
    return r;
}

static void finish(gk_each *e, list *l, slot *s, int st, const struct rusage *ru,
                   gk_each_report report, void *ud, int *failed)
{
    gk_each_result r = {
        .image = l->v[s->index].path,
        .index = s->index + 1,
        .out_fd = s->out,
    };
    read_messages(&r, s->err);
    r.ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    r.stopped = !r.ok && (s->timed_out || WIFSIGNALED(st) || !r.nmessages);
    if (s->timed_out) {
        r.error = gk_asprintf("%s: stopped after %d s of wall-clock time (ten times --timeout)",
                              r.image, e->timeout * 10);
    } else if (WIFSIGNALED(st)) {
        int sig = WTERMSIG(st);
        double cpu = (double)ru->ru_utime.tv_sec + (double)ru->ru_stime.tv_sec;
        if (sig == SIGXCPU || (sig == SIGKILL && cpu >= e->timeout))
            r.error = gk_asprintf("%s: stopped at the CPU time limit (--timeout %d)", r.image,
                                  e->timeout);
        else
            r.error = gk_asprintf("%s: the worker was killed by signal %d (%s)", r.image, sig,
                                  strsignal(sig));
    } else if (!r.ok) {
        r.error = r.nmessages ? joined(r.messages, r.nmessages)
                              : gk_asprintf("%s: the worker exited with status %d", r.image,
                                            WEXITSTATUS(st));
    }
    lseek(s->out, 0, SEEK_SET);
    if (report(&r, ud) != 0 || !r.ok)
        (*failed)++;
    free(r.error);
    for (int i = 0; i < r.nwarnings; i++)
        free(r.warnings[i]);
    for (int i = 0; i < r.nmessages; i++)
        free(r.messages[i]);
    free(r.warnings);
    free(r.messages);
    close(s->out);
    close(s->err);
    s->pid = 0;
}

static int cpu_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* the counts of the progress line on the terminal, -1: none drawn */
static int last[3] = {-1, -1, -1};

static void progress(int tty, int done, int total, int failed, int running)
{
    if (!tty || (last[0] == done && last[1] == failed && last[2] == running))
        return;
    last[0] = done;
    last[1] = failed;
    last[2] = running;
    fprintf(stderr, "\r\033[K%s: %d/%d images done, %d failed, %d running", gk_progname, done,
            total, failed, running);
    fflush(stderr);
}

static void progress_clear(int tty)
{
    if (tty) {
        last[0] = -1;
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}

void gk_each_run(gk_cli *c, gk_each *e, gk_each_report report, void *ud)
{
    if (c->keys_from_stdin)
        gk_die("--keys-from-stdin cannot be used with --each (give --key ID:file:FILE)");
    /* a static tool runs a fleet as its dynamic twin (lib/twin.c): a
     * worker may need a remote protocol's library, and must not run the
     * twin itself with the whole command line */
    if (gk_use_twin("--each") < 0)
        gk_twin_argv = NULL;
    /* static: a worker returns from here to run the tool on its image,
     * whose name (c->drives[0].path) lives in the list until it exits */
    static list l;
    for (int i = 0; i < c->ndrives; i++)
        list_add(&l, c->drives[i].path, c->drives[i].format);
    if (e->from)
        read_list(&l, e->from, c->format);
    if (l.n == 0)
        gk_die("--each: no image given (use -a IMAGE or --from FILE)");
    if (!e->jobs)
        e->jobs = cpu_count();
    if (!e->timeout)
        e->timeout = GK_EACH_TIMEOUT_DEFAULT;
    if (!e->memory)
        e->memory = GK_EACH_MEMORY_DEFAULT;
    int jobs = e->jobs < l.n ? e->jobs : l.n;
    int tty = isatty(STDERR_FILENO);

    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old);
    pid_t self = getpid();
    slot *slots = gk_calloc((size_t)jobs, sizeof *slots);
    int next = 0, done = 0, failed = 0, running = 0;
    while (done < l.n) {
        for (int i = 0; i < jobs && next < l.n; i++) {
            slot *s = &slots[i];
            if (s->pid)
                continue;
            s->index = next++;
            s->out = tmpfile_fd();
            s->err = tmpfile_fd();
            s->timed_out = 0;
            clock_gettime(CLOCK_MONOTONIC, &s->start);
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0)
                gk_die("fork: %s", strerror(errno));
            if (pid == 0) {
                become_worker(c, e, &l.v[s->index], s, &old, self);
                free(slots);
                return;
            }
            /* also here: no window where the child is not in its group */
            setpgid(pid, pid);
            s->pid = pid;
            running++;
        }
        progress(tty, done, l.n, failed, running);

        /* wait for a worker to end, at most until the next deadline */
        double wait = 1.0;
        for (int i = 0; i < jobs; i++)
            if (slots[i].pid) {
                double left = (double)e->timeout * 10 - since(&slots[i].start);
                if (left < wait)
                    wait = left > 0.01 ? left : 0.01;
            }
        struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
        sigtimedwait(&chld, NULL, &ts);

        int st;
        struct rusage ru;
        pid_t pid;
        while ((pid = wait4(-1, &st, WNOHANG, &ru)) > 0) {
            for (int i = 0; i < jobs; i++)
                if (slots[i].pid == pid) {
                    kill(-pid, SIGKILL);        /* anything it left behind */
                    progress_clear(tty);
                    finish(e, &l, &slots[i], st, &ru, report, ud, &failed);
                    running--;
                    done++;
                    break;
                }
        }
        for (int i = 0; i < jobs; i++)
            if (slots[i].pid && !slots[i].timed_out &&
                since(&slots[i].start) >= (double)e->timeout * 10) {
                slots[i].timed_out = 1;
                kill(-slots[i].pid, SIGKILL);
            }
    }
    progress_clear(tty);
    free(slots);
    if (e->end)
        e->end(ud);
    if (fflush(stdout) != 0 || ferror(stdout))
        gk_die("error writing standard output");
    exit(failed ? 1 : 0);
}

char *gk_each_slurp(gk_each_result *r, size_t cap, size_t *len)
{
    struct stat st;
    if (fstat(r->out_fd, &st) < 0)
        return gk_error("%s: the worker's output: %s", r->image, strerror(errno)), NULL;
    if ((uint64_t)st.st_size > cap)
        return gk_error("%s: the worker's output is larger than %zu MiB", r->image, cap >> 20),
               NULL;
    size_t n = (size_t)st.st_size;
    char *buf = gk_malloc(n + 1);
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(r->out_fd, buf + got, n - got, (off_t)got);
        if (k <= 0) {
            free(buf);
            return gk_error("%s: the worker's output: %s", r->image,
                            k < 0 ? strerror(errno) : "truncated"), NULL;
        }
        got += (size_t)k;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

/* ------------------------------------------------------------------ */
/* Text tools: prefixed lines or JSON lines                            */

void gk_json_str(FILE *f, const char *raw)
{
    char *s = gk_utf8_clean(raw);
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
    free(s);
}

static int valid_utf8(const char *s, size_t n)
{
    /* NULs and what gk_utf8_clean would change make it binary */
    if (memchr(s, 0, n))
        return 0;
    char *c = gk_utf8_clean(s);
    int same = strcmp(c, s) == 0;
    free(c);
    return same;
}

static void base64(FILE *f, const unsigned char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        fputc(tab[v >> 18 & 63], f);
        fputc(tab[v >> 12 & 63], f);
        fputc(i + 1 < n ? tab[v >> 6 & 63] : '=', f);
        fputc(i + 2 < n ? tab[v & 63] : '=', f);
    }
}

static void json_list(FILE *f, const char *key, char **v, int n)
{
    if (!n)
        return;
    fprintf(f, ",\"%s\":[", key);
    for (int i = 0; i < n; i++) {
        if (i)
            fputc(',', f);
        gk_json_str(f, v[i]);
    }
    fputc(']', f);
}

static int report_json(gk_each_result *r)
{
    size_t n = 0;
    /* a JSON line holds the output whole: 256 MiB at most */
    char *out = gk_each_slurp(r, (size_t)256 << 20, &n);
    int bad = 0;
    fputs("{\"image\":", stdout);
    gk_json_str(stdout, r->image);
    const char *err = r->error;
    if (!out) {
        err = gk_errmsg();
        bad = 1;
    }
    fputs(",\"status\":", stdout);
    fputs(r->ok && !bad ? "\"ok\"" : "\"error\"", stdout);
    fputs(",\"error\":", stdout);
    if (err && (bad || !r->ok))
        gk_json_str(stdout, err);
    else
        fputs("null", stdout);
    json_list(stdout, "warnings", r->warnings, r->nwarnings);
    if (r->ok && r->nmessages)      /* said something and still exited 0 */
        json_list(stdout, "messages", r->messages, r->nmessages);
    if (out) {
        if (valid_utf8(out, n)) {
            fputs(",\"output\":", stdout);
            gk_json_str(stdout, out);
        } else {
            fputs(",\"output_base64\":\"", stdout);
            base64(stdout, (const unsigned char *)out, n);
            fputc('"', stdout);
        }
    }
    fputs("}\n", stdout);
    fflush(stdout);
    free(out);
    return bad;
}

/* "PROG: IMAGE: message", without naming the image twice */
static void say_for(const char *image, const char *msg)
{
    size_t il = strlen(image);
    if (strncmp(msg, image, il) == 0 && msg[il] == ':')
        gk_say("%s", msg);
    else
        gk_say("%s: %s", image, msg);
}

static void prefix(const char *image, int csv)
{
    if (csv) {
        gk_csv_field(image);
        putchar(',');
    } else {
        fputs(image, stdout);
        putchar('\t');
    }
}

int gk_each_report_text(gk_each_result *r, void *ud)
{
    gk_each *e = ud;
    if (e->json)
        return report_json(r);
    char buf[65536];
    ssize_t k;
    off_t off = 0;
    int bol = 1, quoted = 0;
    while ((k = pread(r->out_fd, buf, sizeof buf, off)) > 0) {
        off += k;
        for (ssize_t i = 0; i < k; i++) {
            char ch = buf[i];
            if (bol && !quoted)
                prefix(r->image, e->csv);
            bol = 0;
            putchar(ch);
            if (e->csv && ch == '"')
                quoted = !quoted;       /* a doubled quote toggles twice */
            if (ch == '\n')
                bol = 1;
        }
    }
    if (!bol)
        putchar('\n');
    fflush(stdout);
    for (int i = 0; i < r->nwarnings; i++) {
        char *w = gk_asprintf("warning: %s", r->warnings[i]);
        say_for(r->image, w);
        free(w);
    }
    if (r->ok) {
        for (int i = 0; i < r->nmessages; i++)
            say_for(r->image, r->messages[i]);
    } else {
        for (int i = 0; i < r->nmessages; i++)
            say_for(r->image, r->messages[i]);
        if (r->stopped)
            say_for(r->image, r->error);
    }
    if (k < 0) {
        gk_say("%s: the worker's output: %s", r->image, strerror(errno));
        return 1;
    }
    return 0;
}
