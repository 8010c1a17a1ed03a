/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: registry hives as guestkit reads them with hivex
 * (inspection, gwinreg, gfsh's hivex-* commands): the input is a hive file,
 * opened as gk_hive_open does (a memfd named through /proc/self/fd, hivex's
 * strict and unsafe modes), walked depth-first (bounded) with every call
 * those use on each key and value. */
#include <hivex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void walk(hive_h *h, hive_node_h n, int depth, int *budget)
{
    if (depth > 32 || --*budget < 0)
        return;
    free(hivex_node_name(h, n));
    hivex_node_parent(h, n);
    hive_value_h *vals = hivex_node_values(h, n);
    for (size_t i = 0; vals && vals[i] && i < 64; i++) {
        hive_type t;
        size_t len;
        free(hivex_value_key(h, vals[i]));
        if (hivex_value_type(h, vals[i], &t, &len) < 0)
            continue;
        free(hivex_value_value(h, vals[i], &t, &len));
        free(hivex_value_string(h, vals[i]));
        char **ss = hivex_value_multiple_strings(h, vals[i]);
        for (size_t k = 0; ss && ss[k]; k++)
            free(ss[k]);
        free(ss);
        hivex_value_dword(h, vals[i]);
        hivex_value_qword(h, vals[i]);
    }
    free(vals);
    hivex_node_get_value(h, n, "DisplayName");
    hivex_node_get_child(h, n, "Microsoft");
    hive_node_h *kids = hivex_node_children(h, n);
    for (size_t i = 0; kids && kids[i] && i < 64; i++)
        walk(h, kids[i], depth + 1, budget);
    free(kids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-hive", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char name[64];
    snprintf(name, sizeof name, "/proc/self/fd/%d", fd);
    for (int mode = 0; mode < 2; mode++) {
        hive_h *h = hivex_open(name, mode ? HIVEX_OPEN_UNSAFE : 0);
        if (!h)
            continue;
        int budget = 2000;
        hive_node_h root = hivex_root(h);
        if (root)
            walk(h, root, 0, &budget);
        hivex_close(h);
    }
    close(fd);
    return 0;
}
