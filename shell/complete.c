/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tab completion for the interactive shell: command names (and aliases)
 * from the table for the first word, guest paths from the VFS after it
 * (one readdir of the directory being completed, so it stays cheap), and
 * host file names for words that do not start with '/'. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <readline/readline.h>

#include "gfsh.h"

static gfsh *the_shell; /* readline's callbacks carry no user data */

static char *command_generator(const char *text, int state)
{
    static int ci, ai;
    static size_t len;
    if (!state) {
        ci = 0;
        ai = -1;
        len = strlen(text);
    }
    while (ci < gfsh_ncmds) {
        const gfsh_cmd *c = &gfsh_cmds[ci];
        const char *name = ai < 0 ? c->name : c->aliases[ai];
        if (!name) {
            ci++;
            ai = -1;
            continue;
        }
        ai++;
        if (strncasecmp(name, text, len) == 0)
            return strdup(name);
    }
    return NULL;
}

/* Guest path candidates for the current word, computed once per Tab. */
static char **cands;
static int ncands, cand_i;

static void free_cands(void)
{
    for (int i = 0; i < ncands; i++)
        free(cands[i]);
    free(cands);
    cands = NULL;
    ncands = 0;
}

struct cctx { const char *dir, *prefix; size_t plen; int ndirs; };

static int cand_cb(void *opaque, const char *name, uint64_t ino, int d_type)
{
    (void)ino;
    struct cctx *c = opaque;
    if (strncmp(name, c->prefix, c->plen) != 0)
        return 0;
    if (ncands >= 100000)
        return 1;
    int isdir = d_type == DT_DIR;
    char *full = gk_asprintf("%s%s%s", c->dir, name, isdir ? "/" : "");
    if (d_type == DT_LNK || d_type == DT_UNKNOWN) {
        /* a link to a directory completes like a directory */
        gk_stat st;
        if (gk_vfs_stat(the_shell->g->vfs, full, &st) == 0 && (st.mode & 0170000) == 0040000) {
            char *f2 = gk_asprintf("%s/", full);
            free(full);
            full = f2;
        }
    }
    cands = gk_realloc(cands, (size_t)(ncands + 1) * sizeof *cands);
    cands[ncands++] = full;
    return 0;
}

void gfsh_guest_candidates(gfsh *sh, const char *text, char ***v, int *n)
{
    gfsh *saved = the_shell;
    the_shell = sh;
    free_cands();
    if (sh->g && sh->g->launched && gk_vfs_nmounts(sh->g->vfs) > 0 && strchr(text, '/')) {
        const char *slash = strrchr(text, '/');
        char *dir = gk_strndup(text, (size_t)(slash - text) + 1);
        struct cctx c = {dir, slash + 1, strlen(slash + 1), 0};
        gk_vfs_readdir(sh->g->vfs, dir, cand_cb, &c);
        free(dir);
    }
    *v = cands;
    *n = ncands;
    cands = NULL;
    ncands = 0;
    the_shell = saved;
}

static void guest_candidates(const char *text)
{
    free_cands();
    if (the_shell->worker > 0) {
        /* the guest is in the worker */
        gfsh_split_complete(the_shell, text, &cands, &ncands);
        return;
    }
    const char *slash = strrchr(text, '/');
    char *dir = gk_strndup(text, (size_t)(slash - text) + 1); /* keeps the '/' */
    struct cctx c = {dir, slash + 1, strlen(slash + 1), 0};
    gk_vfs_readdir(the_shell->g->vfs, dir, cand_cb, &c);
    free(dir);
}

static char *path_generator(const char *text, int state)
{
    (void)text;
    if (!state)
        cand_i = 0;
    if (cand_i < ncands)
        return strdup(cands[cand_i++]);
    return NULL;
}

static int guest_mounted(void)
{
    if (the_shell && the_shell->worker > 0)
        return 1; /* the worker answers (nothing if nothing is mounted) */
    return the_shell && the_shell->g && the_shell->g->launched && gk_vfs_nmounts(the_shell->g->vfs) > 0;
}

static char **complete(const char *text, int start, int end)
{
    (void)end;
    rl_attempted_completion_over = 1;
    rl_completion_append_character = ' ';
    /* the first word (after blanks and an optional '-') is a command */
    int i = 0;
    while (i < start && (rl_line_buffer[i] == ' ' || rl_line_buffer[i] == '\t' ||
                         (rl_line_buffer[i] == '-' && i == (int)strspn(rl_line_buffer, " \t"))))
        i++;
    if (i == start)
        return rl_completion_matches(text, command_generator);
    /* the word after "time" or "glob" is a command too */
    const char *w = rl_line_buffer + i;
    for (;;) {
        size_t wl = strcspn(w, " \t");
        if (!((wl == 4 && (strncmp(w, "time", 4) == 0 || strncmp(w, "glob", 4) == 0))))
            break;
        w += wl;
        w += strspn(w, " \t");
        if (w - rl_line_buffer == start)
            return rl_completion_matches(text, command_generator);
    }
    if (text[0] == '/' && guest_mounted() && !the_shell->no_dest_paths) {
        guest_candidates(text);
        char **m = rl_completion_matches(text, path_generator);
        /* a directory is completed with its '/', and no space after it */
        if (m && !m[1]) {
            size_t l = strlen(m[0]);
            if (l && m[0][l - 1] == '/')
                rl_completion_suppress_append = 1;
        }
        free_cands();
        return m;
    }
    if (text[0] != '/') {
        /* not a guest path: a host file name (download's target, lcd...) */
        rl_attempted_completion_over = 0;
        return NULL;
    }
    return NULL; /* a guest path, but nothing is mounted: no completion */
}

void gfsh_completion_init(gfsh *sh)
{
    the_shell = sh;
    rl_attempted_completion_function = complete;
    /* no quoting or special characters inside guest paths */
    rl_completer_word_break_characters = (char *)" \t\n\"'";
}
