/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guestfish's read-only btrfs commands: btrfs-subvolume-list and
 * btrfs-subvolume-get-default, over the btrfs driver's subvolume list. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmds-int.h"

/* The filesystem fs names (libguestfs' Mountable_or_Path): a device or a
 * btrfsvol: name, opened for the command (*owned set), or a guest path
 * where one is mounted. */
static gk_fs *btrfs_of(gfsh *sh, const gfsh_cmd *cmd, const char *fs, int *owned)
{
    gk_fs *f;
    *owned = 0;
    if (strncmp(fs, "/dev/", 5) == 0 || strncmp(fs, "btrfsvol:/dev/", 14) == 0) {
        if (!(f = gk_guest_fs_open(sh->g, fs, NULL, NULL, 0, NULL))) {
            gfsh_err_about(cmd, fs);
            return NULL;
        }
        *owned = 1;
    } else {
        gk_node n;
        if (fs[0] != '/' || gk_vfs_resolve(sh->g->vfs, fs, 1, &n) < 0) {
            io_path_err(cmd, fs);
            return NULL;
        }
        f = n.mnt->fs;
    }
    if (strcmp(gk_fs_type(f), "btrfs") != 0) {
        gfsh_err(cmd, "%s: not a btrfs filesystem (%s)", fs, gk_fs_type(f));
        if (*owned)
            gk_fs_close(f);
        return NULL;
    }
    return f;
}

static int subvolumes(gfsh *sh, const gfsh_cmd *cmd, const char *fs, gk_subvol **v, size_t *n)
{
    int owned;
    gk_fs *f = btrfs_of(sh, cmd, fs, &owned);
    if (!f)
        return -1;
    int r = gk_fs_subvolumes(f, v, n);
    if (r < 0)
        gfsh_err_about(cmd, fs);
    if (owned)
        gk_fs_close(f);
    return r;
}

int run_btrfs_subvolume_list(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_subvol *v;
    size_t n;
    if (subvolumes(sh, cmd, a->argv[0], &v, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        printf("[%zu] = {\n  btrfssubvolume_id: %" PRIu64 "\n  btrfssubvolume_top_level_id: %" PRIu64
               "\n  btrfssubvolume_path: %s\n}\n", i, v[i].id, v[i].top_level, v[i].path);
    gk_subvols_free(v, n);
    return 0;
}

int run_btrfs_subvolume_get_default(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_subvol *v;
    size_t n;
    if (subvolumes(sh, cmd, a->argv[0], &v, &n) < 0)
        return -1;
    uint64_t id = 5;                    /* the top level, unless one is marked */
    for (size_t i = 0; i < n; i++)
        if (v[i].is_default)
            id = v[i].id;
    printf("%" PRIu64 "\n", id);
    gk_subvols_free(v, n);
    return 0;
}
