/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gfsh's own commands: echo, help, quit, time, glob, add, run. */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gfsh.h"

int run_echo(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)sh; (void)cmd;
    for (int i = 0; i < a->argc; i++)
        printf("%s%s", i ? " " : "", a->argv[i]);
    putchar('\n');
    return 0;
}

int run_help(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)sh;
    if (a->argc == 0 || (a->argc == 1 && strcmp(a->argv[0], "-l") == 0)) {
        gfsh_list_commands(stdout);
        return 0;
    }
    if (a->argc > 1) {
        gfsh_err(cmd, "use 'help' or 'help CMD'");
        return -1;
    }
    return gfsh_help_command(stdout, a->argv[0]);
}

int run_quit(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)cmd; (void)a;
    sh->quit = 1;
    return 0;
}

int run_lcd(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)sh;
    if (chdir(a->argv[0]) < 0) {
        gfsh_err(cmd, "%s: %s", a->argv[0], strerror(errno));
        return -1;
    }
    return 0;
}

int run_time(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)cmd;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int r = gfsh_run_words(sh, a->argc, a->argv);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long long us = (long long)(t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
    printf("elapsed time: %lld.%02lld seconds\n", us / 1000000, (us % 1000000) / 10000);
    return r;
}

int run_add(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    if (sh->g->launched) {
        gfsh_err(cmd, "disks must be added before the guest is launched (run)");
        return -1;
    }
    const char *fmt = a->set[0] ? a->ostr[0] : NULL;
    if (fmt && gk_format_check(fmt) < 0) {
        gfsh_err(cmd, "format: %s", gk_errmsg());
        return -1;
    }
    int ro = a->set[1] ? (int)a->onum[1] : !sh->cli.rw;
    gk_open_opts o = {
        .format = fmt,
        .readwrite = !ro,
        .untrusted = sh->cli.untrusted,
        .force_share = sh->cli.force_share,
    };
    if (gk_cli_add_drive(&sh->cli, sh->g, a->argv[0], &o) < 0) {
        gfsh_err_gk(cmd);
        return -1;
    }
    return 0;
}

int run_launch(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)a;
    if (sh->g->launched) {
        /* a no-op: gfsh launches on its own when a command needs the
         * disks, and scripts written for guestfish say run anyway */
        (void)cmd;
        return 0;
    }
    return gfsh_need_guest(sh, cmd);
}

/* ------------------------------------------------------------------ */
/* Guest wildcards                                                     */

static int has_wildcard(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

typedef struct strv {
    char **v; int n, cap;
} strv;

static void strv_add(strv *s, char *x)
{
    if (s->n + 1 >= s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = gk_realloc(s->v, (size_t)s->cap * sizeof *s->v);
    }
    s->v[s->n++] = x;
    s->v[s->n] = NULL;
}

struct glob_ctx {
    const char *pat;
    const char *dir;
    strv *out;
};

static int glob_cb(void *opaque, const char *name, uint64_t ino, int d_type)
{
    (void)ino; (void)d_type;
    struct glob_ctx *c = opaque;
    if (fnmatch(c->pat, name, FNM_PERIOD) == 0)
        strv_add(c->out, gk_asprintf("%s%s%s", c->dir, strcmp(c->dir, "/") ? "/" : "", name));
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walk the pattern one component at a time, keeping the paths that exist. */
int gfsh_guest_glob(gfsh *sh, const char *pattern, char ***out)
{
    strv cur = {0}, next = {0};
    *out = NULL;
    if (pattern[0] != '/')
        return 0;
    strv_add(&cur, gk_strdup("/"));
    char *pat = gk_strdup(pattern);
    char *save = NULL;
    for (char *comp = strtok_r(pat, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
        for (int i = 0; i < cur.n; i++) {
            const char *dir = cur.v[i];
            if (!has_wildcard(comp)) {
                char *p = gk_asprintf("%s%s%s", dir, strcmp(dir, "/") ? "/" : "", comp);
                gk_stat st;
                if (gk_vfs_lstat(sh->g->vfs, p, &st) == 0)
                    strv_add(&next, p);
                else
                    free(p);
            } else {
                struct glob_ctx c = {comp, dir, &next};
                gk_vfs_readdir(sh->g->vfs, dir, glob_cb, &c);
            }
        }
        for (int i = 0; i < cur.n; i++)
            free(cur.v[i]);
        free(cur.v);
        cur = next;
        memset(&next, 0, sizeof next);
        if (cur.n == 0)
            break;
    }
    free(pat);
    if (cur.n > 1)
        qsort(cur.v, (size_t)cur.n, sizeof *cur.v, cmp_str);
    *out = cur.v;
    return cur.n;
}

/* Run words with argument i onwards expanded: the cartesian product. */
static int glob_product(gfsh *sh, int n, char **words, int i, int *failed)
{
    if (gfsh_interrupted)
        return -1;
    if (i == n) {
        if (gfsh_run_words(sh, n, words) < 0)
            *failed = 1;
        return 0;
    }
    char *orig = words[i];
    char **m = NULL;
    int nm = has_wildcard(orig) ? gfsh_guest_glob(sh, orig, &m) : 0;
    if (nm == 0) {
        glob_product(sh, n, words, i + 1, failed);
    } else {
        for (int k = 0; k < nm; k++) {
            words[i] = m[k];
            glob_product(sh, n, words, i + 1, failed);
        }
        words[i] = orig;
    }
    for (int k = 0; k < nm; k++)
        free(m[k]);
    free(m);
    return 0;
}

int run_glob(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)cmd;
    int failed = 0;
    char **words = gk_malloc((size_t)(a->argc + 1) * sizeof *words);
    memcpy(words, a->argv, (size_t)a->argc * sizeof *words);
    words[a->argc] = NULL;
    /* the command name itself is never expanded */
    glob_product(sh, a->argc, words, 1, &failed);
    free(words);
    return failed || gfsh_interrupted ? -1 : 0;
}
