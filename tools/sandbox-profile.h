/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sandbox's system-call profile (tools/common-sandbox-profile.c): the
 * table of groups and the libseccomp code that turns a choice of groups
 * into a filter.  Used at run time by tools/common-sandbox.c (for the
 * profiles that depend on which descriptors are open) and at build time
 * by tools/sandbox-bpfgen.c, which writes the BPF program of every other
 * profile into the build tree, so that most tools load a ready program
 * instead of having libseccomp generate one on every run. */
#ifndef GK_TOOLS_SANDBOX_PROFILE_H
#define GK_TOOLS_SANDBOX_PROFILE_H

#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>

/* What a filter depends on besides the groups. */
typedef struct gk_sb_filter_in {
    unsigned needs;          /* GK_SB_* groups, GK_SB_BROKER already folded in */
    uint32_t refuse;         /* action for calls no group allows */
    long pid;                /* "self": our own pid */
    int broker_fd;           /* "broker": the socket to the front end */
    /* "notpre"/"fd"/"nodup" with host-write: descriptors open before
     * entering (entries < 0 are ignored), and the highest of them */
    const int *pre;
    int npre, premax;
} gk_sb_filter_in;

/* The filter of in, or NULL with a message in err (at most errlen bytes).
 * *nallowed: how many system calls some rule allows. */
scmp_filter_ctx gk_sb_filter_build(const gk_sb_filter_in *in, int *nallowed, char *err,
                                   size_t errlen);

/* Bits of the groups whose rules need nothing known only at run time
 * except the pid and the broker's descriptor: their programs are made at
 * build time.  All group bits in the table, and "base+group+..." names. */
unsigned gk_sb_static_groups(void);
unsigned gk_sb_all_groups(void);
void gk_sb_group_names(unsigned needs, char *buf, size_t len);

/* Placeholders for the pid and the broker's descriptor in build-time
 * programs (patched at run time; never a pid or a descriptor number). */
#define GK_SB_PID_MARK 0x7ea1d0c1u
#define GK_SB_FD_MARK 0x7ea1d0c2u

#endif
