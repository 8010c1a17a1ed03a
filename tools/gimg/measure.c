/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gimg measure: qemu-img measure [--output=human|json] [-O FMT] [-o OPTIONS]
 * (--size N | [-f FMT] [-U] FILENAME): the file size a new image needs
 * (lib/qcow2-create.c, lib/raw.c do the sums as qemu 7.2 does). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gimg.h"

static void bad_size(void)
{
    fflush(stdout);
    fprintf(stderr, "%s: Invalid image size specified. You may use k, M, G, T, P or E suffixes for\n"
                    "%s: kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.\n",
            gk_progname, gk_progname);
    exit(1);
}

static uint64_t parse_size(const char *s)
{
    char *end;
    errno = 0;
    if (*s == '-')
        bad_size();
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
        bad_size();
    return (uint64_t)(v * (double)mul);
}

int cmd_measure(gimg_args *a)
{
    const char **names = NULL, **values = NULL, *out_fmt = "raw";
    const char *snap = NULL;
    char *snap_id = NULL, *snap_name = NULL;
    int n = 0, have_size = 0, by_opts = 0;
    uint64_t size = 0;
    for (int i = 0; i < a->nopts; i++) {
        const char *v = a->opts[i].arg;
        switch (a->opts[i].opt) {
        case 'O': out_fmt = v; break;
        case 'o': gimg_split_opts(v, &names, &values, &n); break;
        case 'S' | 0x1000: size = parse_size(v); have_size = 1; break;
        case 'l':
            if (strncmp(v, "snapshot.", 9) == 0) {
                gimg_parse_snapshot_opts(v, &snap_id, &snap_name);
                by_opts = 1;
            } else {
                snap = v; /* an ID or a name, ID first */
            }
            break;
        }
    }
    if (a->nargs > 1)
        gimg_usage_error(a, "Expecting one image file name");
    const char *path = a->nargs ? a->args[0] : NULL;
    if (path && have_size)
        gk_die_status(1, "--size N cannot be used together with a filename.");
    if (!path && !have_size)
        gk_die_status(1, "Either --size N or one filename must be specified.");
    if (!path && (a->fmt || a->image_opts || snap || by_opts))
        gk_die_status(1, "--image-opts, -f, and -l require a filename argument.");
    if (by_opts) /* -l snapshot.*= takes precedence over a bare -l */
        snap = NULL;
    if (by_opts && !snap_id && !snap_name)
        gk_die_status(1, "Failed to load snapshot: snapshot_id and name are both NULL");
    gk_dev *src = path ? gimg_open(a, path, a->fmt, 0, 1) : NULL;
    if (src && (snap || by_opts)) {
        /* qemu loads the snapshot's tables and keeps the image's size */
        size = src->size;
        gk_open_opts so = {.format = a->fmt, .snapshot = snap, .snapshot_id = snap_id, .snapshot_name = snap_name,
                           .untrusted = gimg_untrusted, .force_share = a->share};
        const char *name = gimg_image_opts(a, path, &so);
        gk_dev *s = gk_open_image(name, &so);
        if (name != path) { /* --image-opts: the device keeps a copy of the name */
            int e = errno;
            free((char *)name);
            errno = e;
        }
        if (!s && errno == ENOENT)
            gk_die_status(1, "Failed to load snapshot: Can't find snapshot");
        if (!s)
            gk_die_status(1, "Failed to load snapshot: %s", gk_errmsg());
        gk_dev_unref(src);
        src = s;
    }
    gimg_sandbox(a, path ? 1 : 0, 0, 0);
    if (gk_format_check(out_fmt) < 0 && errno == EINVAL)
        gk_die_status(1, "Unknown file format '%s'", out_fmt);
    gk_measure m;
    if (gk_image_measure(out_fmt, src, size, n, names, values, &m) < 0) {
        if (errno == ENOENT) {
            fflush(stdout);
            fprintf(stderr, "%s: %s\n", gk_progname, gk_errmsg());
            gk_die_status(1, "Invalid options for file format '%s'", out_fmt);
        }
        gk_die_status(1, "%s", gk_errmsg());
    }
    for (int i = 0; i < n; i++) {
        free((char *)names[i]);
        free((char *)values[i]);
    }
    free(names);
    free(values);
    if (a->output == OUT_JSON) {
        jv *o = jv_new(J_OBJ);
        if (m.has_bitmaps)
            jv_int(o, "bitmaps", (long long)m.bitmaps);
        jv_int(o, "required", (long long)m.required);
        jv_int(o, "fully-allocated", (long long)m.fully_allocated);
        json_print(stdout, o, 0);
        printf("\n");
        jv_free(o);
    } else {
        printf("required size: %" PRIu64 "\n", m.required);
        printf("fully allocated size: %" PRIu64 "\n", m.fully_allocated);
        if (m.has_bitmaps)
            printf("bitmaps size: %" PRIu64 "\n", m.bitmaps);
    }
    if (src)
        gk_dev_unref(src);
    free(snap_id);
    free(snap_name);
    return 0;
}
