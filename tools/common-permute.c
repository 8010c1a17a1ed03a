/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Options after operands, as GNU tools take them (gtar-out / etc x.tar -z,
 * gfedit -a disk /etc/passwd -e ...): the common parser stops at the first
 * operand (gfsh needs that for its command words), so the tools that want
 * GNU order move options in front first. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* Does option word w take the next word as its argument? */
static int takes_arg(const char *w, const char *shortopts, const struct option *longopts)
{
    if (w[1] == '-') {
        const char *name = w + 2;
        if (strchr(name, '='))
            return 0;
        static const char *const common[] = {"add", "mount", "format", "key", NULL};
        for (int i = 0; common[i]; i++)
            if (strcmp(name, common[i]) == 0)
                return strcmp(name, "format") != 0;
        for (const struct option *o = longopts; o && o->name; o++)
            if (strcmp(name, o->name) == 0)
                return o->has_arg == required_argument;
        return 0;
    }
    /* a cluster of short options: the last one may take the next word */
    size_t len = strlen(w);
    char last = w[len - 1];
    if (last == 'a' || last == 'm')
        return len == 2 || !strchr(w + 1, 'a');
    const char *p = shortopts ? strchr(shortopts, last) : NULL;
    return p && p[1] == ':' && len == 2;
}

/* The vector made: like argv, it lives until exit (the parsed options
 * point into it).  Never read: volatile keeps the store, which is what
 * holds it for LeakSanitizer. */
static char **volatile permuted;

char **gk_cli_permute(int *argcp, char **argv, const char *shortopts, const struct option *longopts)
{
    int argc = *argcp;
    char **v = gk_calloc((size_t)argc + 2, sizeof *v), **ops = gk_calloc((size_t)argc + 1, sizeof *ops);
    int nv = 0, nops = 0;
    v[nv++] = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i];
        if (strcmp(w, "--") == 0) {
            while (++i < argc)
                ops[nops++] = argv[i];
            break;
        }
        if (w[0] == '-' && w[1]) {
            v[nv++] = argv[i];
            if (takes_arg(w, shortopts, longopts) && i + 1 < argc)
                v[nv++] = argv[++i];
            continue;
        }
        ops[nops++] = argv[i];
    }
    if (nops)
        v[nv++] = "--";
    for (int i = 0; i < nops; i++)
        v[nv++] = ops[i];
    free(ops);
    *argcp = nv;
    permuted = v;
    return v;
}
