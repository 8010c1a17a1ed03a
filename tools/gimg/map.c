/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gimg map: the allocation map of an image, as qemu-img map prints it.
 * The status of each run comes from lib's one chain walk,
 * gk_block_status_above(); the merging and printing are qemu-img's. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gimg.h"

typedef struct map_entry {
    uint64_t start, length;
    int depth, present, zero, data, has_offset;
    uint64_t offset;
    const char *filename;  /* set with has_offset */
} map_entry;

/* qemu-img's get_block_status(): the layer whose own status says data or
 * zero, and what it says. */
static int map_status(gk_dev *top, uint64_t off, uint64_t len, map_entry *m)
{
    gk_extent e;
    if (gk_block_status_above(top, NULL, off, len, &e) < 0)
        return -1;
    memset(m, 0, sizeof *m);
    m->start = off;
    m->length = e.len;
    m->depth = e.depth;
    /* zeros past the end of a shorter backing file are not "present" in
     * the layer above it, where qemu-img map stops */
    m->present = (e.flags & GK_BS_ALLOCATED) && !(e.flags & GK_BS_BEYOND);
    m->data = !!(e.flags & GK_BS_DATA);
    m->zero = !!(e.flags & GK_BS_ZERO);
    if (e.flags & GK_BS_OFFSET) {
        m->has_offset = 1;
        m->offset = e.host_off;
        m->filename = e.host_file;
    }
    return 0;
}

static int mergeable(const map_entry *a, const map_entry *b)
{
    if (a->length == 0)
        return 0;
    if (a->zero != b->zero || a->data != b->data || a->depth != b->depth || a->present != b->present ||
        !a->filename != !b->filename || a->has_offset != b->has_offset)
        return 0;
    if (a->filename && strcmp(a->filename, b->filename) != 0)
        return 0;
    if (a->has_offset && a->offset + a->length != b->offset)
        return 0;
    return 1;
}

static void dump(int out, const map_entry *e, map_entry *next)
{
    if (out == OUT_HUMAN) {
        if (e->data && !e->has_offset)
            gk_die_status(1, "File contains external, encrypted or compressed clusters.");
        if (e->data && !e->zero) {
            char a[32], b[32], c[32];
            /* printf's %#x prints 0 without a prefix, as qemu does */
            snprintf(a, sizeof a, "%#" PRIx64, e->start);
            snprintf(b, sizeof b, "%#" PRIx64, e->length);
            snprintf(c, sizeof c, "%#" PRIx64, e->has_offset ? e->offset : 0);
            printf("%-16s%-16s%-16s%s\n", a, b, c, e->filename ? e->filename : "");
        }
        /* the human form ignores zero vs unallocated: qemu merges them */
        if (next && (!next->data || next->zero)) {
            next->data = 0;
            next->zero = 1;
        }
        return;
    }
    printf("{ \"start\": %" PRIu64 ", \"length\": %" PRIu64 ", \"depth\": %d, \"present\": %s, \"zero\": %s, "
           "\"data\": %s",
           e->start, e->length, e->depth, e->present ? "true" : "false", e->zero ? "true" : "false",
           e->data ? "true" : "false");
    if (e->has_offset)
        printf(", \"offset\": %" PRIu64, e->offset);
    putchar('}');
    if (next)
        puts(",");
}

int cmd_map(gimg_args *a)
{
    uint64_t start = 0, maxlen = UINT64_MAX;
    for (int i = 0; i < a->nopts; i++) {
        if (a->opts[i].opt == 's')
            start = gimg_parse_size(a->opts[i].arg, "start offset");
        else if (a->opts[i].opt == 'l')
            maxlen = gimg_parse_size(a->opts[i].arg, "max length");
    }
    if (a->nargs != 1)
        gimg_usage_error(a, "Expecting one image file name");
    gk_dev *top = gimg_open(a, a->args[0], a->fmt, GK_OPEN_NO_REPLAY, 1);
    gimg_sandbox(a, 1, 0, 0);

    uint64_t length = top->size;
    if (maxlen != UINT64_MAX && start <= length && maxlen < length - start)
        length = start + maxlen;
    if (a->output == OUT_HUMAN)
        printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
    else
        putchar('[');
    map_entry curr = {.start = start}, next;
    while (curr.start + curr.length < length) {
        uint64_t off = curr.start + curr.length;
        if (map_status(top, off, length - off, &next) < 0)
            gk_die_status(1, "Could not read file metadata: %s", gk_errmsg());
        if (mergeable(&curr, &next)) {
            curr.length += next.length;
            continue;
        }
        if (curr.length > 0)
            dump(a->output, &curr, &next);
        curr = next;
    }
    /* even a zero-length last entry (an empty image), as qemu-img */
    dump(a->output, &curr, NULL);
    if (a->output == OUT_JSON)
        printf("]\n");
    gk_dev_unref(top);
    return 0;
}
