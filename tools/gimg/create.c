/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gimg create: qemu-img create's options, line and messages; the format's
 * create (lib/) writes what qemu-img would write. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gimg.h"

/* -o a=b,c=d (",," is a comma) appended to names/values. */
void gimg_split_opts(const char *arg, const char ***names, const char ***values, int *n)
{
    size_t len = strlen(arg);
    char *tok = gk_malloc(len + 1);
    const char *p = arg;
    while (*p) {
        size_t k = 0;
        while (*p && !(*p == ',' && p[1] != ',')) {
            if (*p == ',')
                p++;
            tok[k++] = *p++;
        }
        tok[k] = 0;
        if (*p == ',')
            p++;
        char *eq = strchr(tok, '=');
        *names = gk_realloc(*names, (size_t)(*n + 1) * sizeof **names);
        *values = gk_realloc(*values, (size_t)(*n + 1) * sizeof **values);
        (*names)[*n] = gk_strndup(tok, eq ? (size_t)(eq - tok) : k);
        (*values)[*n] = gk_strdup(eq ? eq + 1 : "on");
        (*n)++;
    }
    free(tok);
}

static void create_ready(void *ud)
{
    gimg_sandbox(ud, 1, GK_SB_IMGWRITE, 0);
}

int cmd_create(gimg_args *a)
{
    const char *fmt = a->fmt ? a->fmt : "raw";
    const char **names = NULL, **values = NULL;
    int n = 0, unsafe = 0, help = 0;
    for (int i = 0; i < a->nopts; i++) {
        const char *arg = a->opts[i].arg;
        switch (a->opts[i].opt) {
        case 'b':
            names = gk_realloc(names, (size_t)(n + 1) * sizeof *names);
            values = gk_realloc(values, (size_t)(n + 1) * sizeof *values);
            names[n] = gk_strdup("backing_file");
            values[n++] = gk_strdup(arg);
            break;
        case 'F':
            names = gk_realloc(names, (size_t)(n + 1) * sizeof *names);
            values = gk_realloc(values, (size_t)(n + 1) * sizeof *values);
            names[n] = gk_strdup("backing_fmt");
            values[n++] = gk_strdup(arg);
            break;
        case 'u': unsafe = 1; break;
        case 'o':
            if (strcmp(arg, "help") == 0 || strcmp(arg, "?") == 0)
                help = 1;
            else
                gimg_split_opts(arg, &names, &values, &n);
            break;
        }
    }
    if (help) {
        if (gk_image_create_help(fmt, stdout) < 0)
            gk_die_status(1, "%s", gk_errmsg());
        return 0;
    }
    if (a->nargs < 1)
        gimg_usage_error(a, "Expecting image file name");
    if (a->nargs > 2)
        gk_die_status(1, "Unexpected argument: %s", a->args[2]);
    const char *path = a->args[0];
    uint64_t size = 0;
    int size_given = a->nargs == 2;
    if (size_given) {
        const char *s = a->args[1];
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        uint64_t mul = 1;
        switch (*end) {
        case 'b': case 'B': end++; break;
        case 'k': case 'K': mul = 1ULL << 10; end++; break;
        case 'M': mul = 1ULL << 20; end++; break;
        case 'G': mul = 1ULL << 30; end++; break;
        case 'T': mul = 1ULL << 40; end++; break;
        case 'P': mul = 1ULL << 50; end++; break;
        case 'E': mul = 1ULL << 60; end++; break;
        }
        if (errno || end == s || *end || v < 0 || v * (double)mul > 9223372036854775807.0)
            gk_die_status(1, "Invalid image size specified. You may use k, M, G, T, P or E suffixes for\n"
                             "qemu-img: kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
        size = (uint64_t)(v * (double)mul);
    }
    for (int i = 0; size_given && i < n; i++)
        if (strcmp(names[i], "size") == 0)
            gk_die_status(1, "%s: The image size must be specified only once", path);
    char *summary = NULL;
    /* the sandbox: once the backing file was read and the new image is
     * open (lib calls this), before it is written */
    gk_image_create_ready(create_ready, a);
    int r = gk_image_create(fmt, path, size, size_given, n, names, values, unsafe, &summary);
    if (summary && !a->quiet) {
        printf("Formatting '%s', %s\n", path, summary);
        fflush(stdout);
    }
    free(summary);
    for (int i = 0; i < n; i++) {
        free((char *)names[i]);
        free((char *)values[i]);
    }
    free(names);
    free(values);
    if (r < 0) {
        const char *m = gk_errmsg();
        size_t pl = strlen(path);
        if (strncmp(m, path, pl) == 0 && m[pl] == ':')
            gk_die_status(1, "%s", m);
        gk_die_status(1, "%s: %s", path, m);
    }
    return 0;
}
