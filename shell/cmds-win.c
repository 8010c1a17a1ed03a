/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gfsh commands for Windows guests: case-sensitive-path. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmds-int.h"

int run_case_sensitive_path(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    char *p = gk_vfs_case_sensitive_path(sh->g->vfs, a->argv[0]);
    if (!p) {
        io_path_err(cmd, a->argv[0]);
        return -1;
    }
    printf("%s\n", p);
    free(p);
    return 0;
}
