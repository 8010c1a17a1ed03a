/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gumount: unmount a gmount (or any FUSE) mount, like guestunmount, and
 * wait until the gmount daemon behind it has exited, so its last changes
 * are on the image when gumount returns.
 * Exit status as guestunmount: 0 done, 1 program error, 2 the mount could
 * not be unmounted even after retrying, 3 it is not mounted. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *prog = "gumount";

static void usage(FILE *f)
{
    fprintf(f,
        "gumount: unmount a gmount filesystem (like guestunmount)\n"
        "Usage:\n"
        "  gumount [--options] MOUNTDIR\n"
        "Options:\n"
        "  --fd=FD          wait until the pipe FD is closed, then unmount\n"
        "  --no-retry       run fusermount3 -u once\n"
        "  --retry=N        retry N times when the mount is busy (default 5;\n"
        "                   waits 1, 2, 4, ... seconds between tries)\n"
        "  --wait=SECONDS   how long to wait for the gmount daemon to exit once\n"
        "                   unmounted, so its changes are committed (default 60;\n"
        "                   0: do not wait)\n"
        "  -q, --quiet      no error messages from fusermount3 (the status stays)\n"
        "  -v, --verbose    say what is done\n"
        "  -V, --version    print the version\n"
        "  --help           this help\n"
        "Exit status: 0 unmounted, 1 error, 2 could not unmount (busy), 3 not mounted.\n");
}

static int verbose, quiet;

/* An absolute, lexically clean path (no realpath: the mountpoint of a
 * dead FUSE daemon cannot be stat'ed). */
static char *abspath(const char *p)
{
    char *cwd = NULL, *in;
    if (p[0] != '/') {
        cwd = getcwd(NULL, 0);
        if (!cwd)
            return NULL;
        if (asprintf(&in, "%s/%s", cwd, p) < 0)
            in = NULL;
        free(cwd);
    } else {
        in = strdup(p);
    }
    if (!in)
        return NULL;
    char *out = malloc(strlen(in) + 2), *w = out;
    if (!out) {
        free(in);
        return NULL;
    }
    *w = 0;
    for (char *s = strtok(in, "/"); s; s = strtok(NULL, "/")) {
        if (strcmp(s, ".") == 0)
            continue;
        if (strcmp(s, "..") == 0) {
            char *sl = strrchr(out, '/');
            w = sl ? sl : out;
            *w = 0;
            continue;
        }
        w += sprintf(w, "/%s", s);
    }
    if (w == out)
        strcpy(out, "/");
    free(in);
    return out;
}

/* mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
    char *w = s;
    for (; *s; s++) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
            s[3] >= '0' && s[3] <= '7') {
            *w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
            s += 3;
        } else {
            *w++ = *s;
        }
    }
    *w = 0;
}

/* Is dir a mountpoint (the last mount on it)?  *fstype and *source of it. */
static int find_mount(const char *dir, char **fstype, char **source)
{
    FILE *f = fopen("/proc/self/mountinfo", "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    int found = 0;
    while (getline(&line, &cap, f) > 0) {
        /* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - TYPE SOURCE SUPEROPTS */
        char *save, *fld[5];
        int k = 0;
        for (char *t = strtok_r(line, " ", &save); t && k < 5; t = strtok_r(NULL, " ", &save))
            fld[k++] = t;
        if (k < 5)
            continue;
        unescape(fld[4]);
        if (strcmp(fld[4], dir) != 0)
            continue;
        char *t;
        while ((t = strtok_r(NULL, " ", &save)) && strcmp(t, "-") != 0)
            ;
        char *type = strtok_r(NULL, " ", &save), *src = strtok_r(NULL, " ", &save);
        if (!type || !src)
            continue;
        unescape(src);
        free(*fstype);
        free(*source);
        *fstype = strdup(type);
        *source = strdup(src);
        found = 1;
    }
    free(line);
    fclose(f);
    return found;
}

/* fusermount3 -u dir: its exit status; its stderr in err. */
static int fusermount(const char *dir, char *err, size_t errsz)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 2);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    char *argv[] = {"fusermount3", "-u", (char *)dir, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, "fusermount3", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        errno = rc;
        return -1;
    }
    size_t n = 0;
    ssize_t k;
    while (n + 1 < errsz && (k = read(p[0], err + n, errsz - 1 - n)) != 0) {
        if (k < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        n += (size_t)k;
    }
    err[n] = 0;
    close(p[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Has process pid ended (gone, or a zombie)? */
static int ended(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 1;
    buf[n] = 0;
    char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
}

int main(int argc, char **argv)
{
    enum { OPT_FD = 0x100, OPT_NORETRY, OPT_RETRY, OPT_WAIT, OPT_HELP };
    static const struct option lo[] = {
        {"fd", required_argument, 0, OPT_FD},
        {"no-retry", no_argument, 0, OPT_NORETRY},
        {"retry", required_argument, 0, OPT_RETRY},
        {"wait", required_argument, 0, OPT_WAIT},
        {"quiet", no_argument, 0, 'q'},
        {"verbose", no_argument, 0, 'v'},
        {"version", no_argument, 0, 'V'},
        {"help", no_argument, 0, OPT_HELP},
        {0, 0, 0, 0},
    };
    int fd = -1, retries = 5, opt;
    long wait_s = 60;
    char *end;
    while ((opt = getopt_long(argc, argv, "qvV", lo, NULL)) != -1) {
        switch (opt) {
        case OPT_FD:
            fd = (int)strtol(optarg, &end, 10);
            if (*end || fd < 0 || fcntl(fd, F_GETFD) < 0) {
                fprintf(stderr, "%s: --fd=%s: not an open file descriptor\n", prog, optarg);
                return 1;
            }
            break;
        case OPT_NORETRY: retries = 0; break;
        case OPT_RETRY:
            retries = (int)strtol(optarg, &end, 10);
            if (*end || retries < 0 || retries > 30) {
                fprintf(stderr, "%s: --retry=%s: a number from 0 to 30\n", prog, optarg);
                return 1;
            }
            break;
        case OPT_WAIT:
            wait_s = strtol(optarg, &end, 10);
            if (*end || wait_s < 0 || wait_s > 86400) {
                fprintf(stderr, "%s: --wait=%s: a number of seconds\n", prog, optarg);
                return 1;
            }
            break;
        case 'q': quiet = 1; break;
        case 'v': verbose = 1; break;
        case 'V': printf("%s %s (guestkit)\n", prog, GK_VERSION); return 0;
        case OPT_HELP: usage(stdout); return 0;
        default:
            fprintf(stderr, "Try '%s --help' for more information.\n", prog);
            return 1;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", prog,
                argc - optind ? "too many arguments (one MOUNTDIR)" : "missing MOUNTDIR", prog);
        return 1;
    }
    const char *dir = argv[optind];

    /* --fd: the caller's pipe; its closing says the mount may go */
    if (fd >= 0) {
        char b[256];
        for (;;) {
            struct pollfd pf = {fd, POLLIN, 0};
            if (poll(&pf, 1, -1) < 0) {
                if (errno == EINTR)
                    continue;
                break;
            }
            ssize_t k = read(fd, b, sizeof b);
            if (k == 0 || (k < 0 && errno != EINTR && errno != EAGAIN))
                break;
        }
    }

    char *abs = abspath(dir);
    if (!abs) {
        fprintf(stderr, "%s: %s: %s\n", prog, dir, strerror(errno));
        return 1;
    }
    char *fstype = NULL, *source = NULL;
    int m = find_mount(abs, &fstype, &source);
    if (m < 0) {
        fprintf(stderr, "%s: /proc/self/mountinfo: %s\n", prog, strerror(errno));
        return 1;
    }
    if (m == 0) {
        if (!quiet)
            fprintf(stderr, "%s: %s is not mounted\n", prog, dir);
        return 3;
    }
    if (strncmp(fstype, "fuse", 4) != 0) {
        fprintf(stderr, "%s: %s is not a FUSE mount (%s)\n", prog, dir, fstype);
        return 1;
    }
    /* gmount names its mount "gmount:PID": the daemon to wait for */
    pid_t pid = 0;
    if (strcmp(fstype, "fuse.gmount") == 0 && strncmp(source, "gmount:", 7) == 0) {
        long p = strtol(source + 7, &end, 10);
        if (!*end && p > 1)
            pid = (pid_t)p;
    }

    char err[4096];
    for (int attempt = 0;; attempt++) {
        int rc = fusermount(abs, err, sizeof err);
        if (rc < 0) {
            fprintf(stderr, "%s: fusermount3: %s\n", prog, strerror(errno));
            return 1;
        }
        if (rc == 0)
            break;
        free(fstype);
        free(source);
        fstype = source = NULL;
        if (find_mount(abs, &fstype, &source) == 0)
            break;                 /* gone meanwhile (the daemon ended) */
        if (attempt >= retries) {
            if (!quiet) {
                size_t n = strlen(err);
                while (n && err[n - 1] == '\n')
                    err[--n] = 0;
                fprintf(stderr, "%s: %s: could not unmount%s%s\n", prog, dir,
                        *err ? ": " : "", err);
            }
            return 2;
        }
        if (verbose)
            fprintf(stderr, "%s: %s busy, retrying in %d s\n", prog, dir, 1 << attempt);
        sleep(1u << attempt);
    }
    if (verbose)
        fprintf(stderr, "%s: %s unmounted\n", prog, dir);

    /* the daemon commits its last changes and closes the images on its way out */
    if (pid && wait_s > 0) {
        struct timespec t0, now;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (!ended(pid)) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec - t0.tv_sec >= wait_s) {
                fprintf(stderr, "%s: %s: unmounted, but gmount (pid %ld) has not exited after "
                        "%ld s\n", prog, dir, (long)pid, wait_s);
                return 1;
            }
            struct timespec d = {0, 10 * 1000 * 1000};
            nanosleep(&d, NULL);
        }
        if (verbose)
            fprintf(stderr, "%s: gmount (pid %ld) has exited\n", prog, (long)pid);
    }
    free(fstype);
    free(source);
    free(abs);
    return 0;
}
