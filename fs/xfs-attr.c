/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* XFS extended attributes: shortform (in the inode), leaf (one block of
 * the attribute fork) and node (a dabtree of leaves), values local or in
 * remote blocks.
 *
 * Names are shown as the kernel shows them: the user namespace as
 * "user.", XFS_ATTR_ROOT as "trusted.", XFS_ATTR_SECURE as "security.";
 * POSIX ACLs (trusted SGI_ACL_FILE / SGI_ACL_DEFAULT in XFS's own format)
 * also as system.posix_acl_access / _default in the VFS format; parent
 * pointers and incomplete attributes are hidden.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xfs-int.h"

#define A_LOCAL 0x01
#define A_ROOT 0x02
#define A_SECURE 0x04
#define A_PARENT 0x08
#define A_INCOMPLETE 0x80
#define A_NS (A_ROOT | A_SECURE | A_PARENT)

#define M_ALEAF_2 0xfbee
#define M_ALEAF_3 0x3bee
#define XATTR_SIZE_MAX 65536

/* One attribute as found: a local value (val, vlen) or a remote one
 * (rblk, vlen). */
struct attr {
    unsigned flags;
    const uint8_t *name;
    unsigned nlen;
    const uint8_t *val;
    uint32_t vlen, rblk;
    int remote;
};

typedef int (*attr_fn)(void *opaque, const struct attr *a);

struct afork {
    struct xfs *x;
    struct xfs_ino *ip;
    struct xfs_ext *m;
    size_t n;
    char what[64];
};

static int sf_walk(struct afork *f, attr_fn fn, void *opaque)
{
    const uint8_t *p = f->ip->raw + f->ip->aoff;
    unsigned alen = f->ip->alen;
    if (alen < 4)
        return xfs_corrupt("%s: shortform too small", f->what);
    unsigned tot = gk_be16(p), count = p[2];
    if (tot < 4 || tot > alen)
        return xfs_corrupt("%s: bad shortform size", f->what);
    unsigned pos = 4;
    for (unsigned i = 0; i < count; i++) {
        if (pos + 3 > tot || p[pos] == 0 || pos + 3 + p[pos] + p[pos + 1] > tot)
            return xfs_corrupt("%s: bad shortform entry %u", f->what, i);
        struct attr a = {
            .flags = p[pos + 2], .name = p + pos + 3, .nlen = p[pos],
            .val = p + pos + 3 + p[pos], .vlen = p[pos + 1],
        };
        pos += 3 + a.nlen + a.vlen;
        int r = fn(opaque, &a);
        if (r)
            return r;
    }
    return 0;
}

/* Every entry of the leaf block in b. */
static int leaf_walk(struct afork *f, const uint8_t *b, attr_fn fn, void *opaque)
{
    struct xfs *x = f->x;
    unsigned hdr = x->v5 ? 80 : 32, bs = x->bs;
    unsigned cnt = gk_be16(b + (x->v5 ? 56 : 12));
    if (hdr + (uint64_t)cnt * 8 > bs)
        return xfs_corrupt("%s: bad leaf entry count", f->what);
    unsigned names = hdr + cnt * 8;
    for (unsigned i = 0; i < cnt; i++) {
        const uint8_t *e = b + hdr + 8 * i;
        unsigned idx = gk_be16(e + 4), flags = e[6];
        struct attr a = {.flags = flags};
        if (idx < names || idx >= bs)
            return xfs_corrupt("%s: leaf entry %u: bad name offset", f->what, i);
        if (flags & A_LOCAL) {
            if (idx + 3 > bs)
                return xfs_corrupt("%s: leaf entry %u: bad name", f->what, i);
            a.vlen = gk_be16(b + idx);
            a.nlen = b[idx + 2];
            a.name = b + idx + 3;
            a.val = a.name + a.nlen;
            if ((uint64_t)idx + 3 + a.nlen + a.vlen > bs)
                return xfs_corrupt("%s: leaf entry %u: bad value", f->what, i);
        } else {
            if (idx + 9 > bs)
                return xfs_corrupt("%s: leaf entry %u: bad name", f->what, i);
            a.remote = 1;
            a.rblk = gk_be32(b + idx);
            a.vlen = gk_be32(b + idx + 4);
            a.nlen = b[idx + 8];
            a.name = b + idx + 9;
            if (idx + 9 + a.nlen > bs)
                return xfs_corrupt("%s: leaf entry %u: bad name", f->what, i);
        }
        if (a.nlen == 0)
            return xfs_corrupt("%s: leaf entry %u: empty name", f->what, i);
        int r = fn(opaque, &a);
        if (r)
            return r;
    }
    return 0;
}

/* Every attribute, in the order they are stored; with by_hash, only the
 * leaves that may hold names of that hash (the dabtree descent, then the
 * siblings while their hashes go no higher).  fn's non-zero return stops
 * the walk and is returned. */
static int attr_walk(struct afork *f, attr_fn fn, void *opaque, int by_hash, uint32_t hash)
{
    struct xfs *x = f->x;
    struct xfs_ino *ip = f->ip;
    if (!ip->alen)
        return 0;
    if (ip->aformat == XFS_FMT_LOCAL)
        return sf_walk(f, fn, opaque);
    int r = xfs_fork_map(x, ip, 1, &f->m, &f->n);
    if (r < 0 || f->n == 0)
        return r;
    uint8_t *b = gk_malloc(x->bs);
    uint16_t leaf = x->v5 ? M_ALEAF_3 : M_ALEAF_2;
    uint64_t lblk = 0;
    struct xfs_blkset seen = {0};
    /* the leftmost leaf (or the one for hash), then along the siblings */
    r = xfs_da_descend(x, ip, f->m, f->n, 0, 1, by_hash ? hash : 0, leaf, b, &lblk, f->what);
    xfs_blkset_add(&seen, lblk);
    while (r == 0) {
        r = leaf_walk(f, b, fn, opaque);
        uint32_t forw = gk_be32(b);
        unsigned cnt = gk_be16(b + (x->v5 ? 56 : 12)), hdr = x->v5 ? 80 : 32;
        if (r || forw == 0 || (by_hash && cnt && gk_be32(b + hdr + 8 * (cnt - 1)) > hash))
            break;
        if (!xfs_blkset_add(&seen, forw)) {
            r = xfs_corrupt("%s: leaf sibling loop", f->what);
            break;
        }
        lblk = forw;
        int mg = xfs_da_read(x, ip, f->m, f->n, lblk, 1, b, f->what);
        if (mg >= 0 && mg != leaf)
            mg = xfs_corrupt("%s: leaf sibling is not a leaf", f->what);
        r = mg < 0 ? mg : 0;
    }
    xfs_blkset_free(&seen);
    free(b);
    return r;
}

/* A remote value into out (vlen bytes). */
static int remote_value(struct afork *f, uint32_t rblk, uint32_t vlen, uint8_t *out)
{
    struct xfs *x = f->x;
    unsigned hdr = x->v5 ? 56 : 0, per = x->bs - hdr;
    uint8_t *b = gk_malloc(x->bs);
    uint32_t got = 0;
    int r = 0;
    for (uint64_t lb = rblk; got < vlen && r == 0; lb++) {
        uint64_t daddr;
        uint32_t want = vlen - got < per ? vlen - got : per;
        if ((r = xfs_read_fork(x, f->m, f->n, lb, 1, b, &daddr, f->what)) < 0)
            break;
        if (x->v5) {
            if (gk_be32(b) != 0x5841524du || gk_be32(b + 4) != got || gk_be32(b + 8) != want) {
                r = xfs_corrupt("%s: remote value block %llu: bad header", f->what,
                                (unsigned long long)lb);
                break;
            }
            r = xfs_check_v5(x, b, x->bs, 12, 16, 32, f->ip->ino, 40, daddr, f->what);
        }
        memcpy(out + got, b + hdr, want);
        got += want;
    }
    free(b);
    return r;
}

/* ------------------------------------------------------------------ */
/* listxattr                                                           */

struct names {
    char *s;
    size_t len, cap;
};

static void add_name(struct names *l, const char *prefix, const uint8_t *name, size_t n)
{
    size_t pl = strlen(prefix);
    if (l->len + pl + n + 1 > l->cap) {
        l->cap = (l->len + pl + n + 1) * 2;
        l->s = gk_realloc(l->s, l->cap);
    }
    memcpy(l->s + l->len, prefix, pl);
    memcpy(l->s + l->len + pl, name, n);
    l->len += pl + n;
    l->s[l->len++] = 0;
}

static int is_acl_name(const struct attr *a, const char *n)
{
    return (a->flags & A_NS) == A_ROOT && a->nlen == strlen(n) && !memcmp(a->name, n, a->nlen);
}

/* What listxattr(2) can return at most (XATTR_LIST_MAX). */
#define LIST_MAX 65536

static int list_fn(void *opaque, const struct attr *a)
{
    struct names *l = opaque;
    if (a->flags & (A_INCOMPLETE | A_PARENT))
        return 0;
    if (l->len > LIST_MAX) {
        gk_error("more attribute names than listxattr can return");
        return -E2BIG;
    }
    if (is_acl_name(a, "SGI_ACL_FILE"))
        add_name(l, "system.", (const uint8_t *)"posix_acl_access", 16);
    else if (is_acl_name(a, "SGI_ACL_DEFAULT"))
        add_name(l, "system.", (const uint8_t *)"posix_acl_default", 17);
    const char *prefix = (a->flags & A_ROOT) ? "trusted." : (a->flags & A_SECURE) ? "security." : "user.";
    add_name(l, prefix, a->name, a->nlen);
    return 0;
}

static int afork_open(struct xfs *x, uint64_t ino, struct afork *f, struct xfs_ino *ip)
{
    memset(f, 0, sizeof *f);
    f->x = x;
    f->ip = ip;
    snprintf(f->what, sizeof f->what, "inode %llu: attributes", (unsigned long long)ino);
    return xfs_iget(x, ino, ip);
}

ssize_t xfs_listxattr(gk_fs *fs, uint64_t ino, char *buf, size_t bufsz)
{
    struct afork f;
    struct xfs_ino ip;
    struct names l = {0};
    int r = afork_open(fs->priv, ino, &f, &ip);
    if (r == 0)
        r = attr_walk(&f, list_fn, &l, 0, 0);
    free(f.m);
    if (r < 0) {
        free(l.s);
        return r;
    }
    if (l.len && l.len <= bufsz)
        memcpy(buf, l.s, l.len);
    free(l.s);
    return (ssize_t)l.len;
}

/* ------------------------------------------------------------------ */
/* getxattr                                                            */

struct want {
    unsigned ns;
    const uint8_t *name;
    unsigned nlen;
    int found;
    uint8_t *val;           /* a local value, copied */
    uint32_t vlen, rblk;
    int remote;
};

static int get_fn(void *opaque, const struct attr *a)
{
    struct want *w = opaque;
    if ((a->flags & (A_INCOMPLETE | A_NS)) != w->ns || a->nlen != w->nlen ||
        memcmp(a->name, w->name, a->nlen) != 0)
        return 0;
    w->found = 1;
    w->vlen = a->vlen;
    w->remote = a->remote;
    w->rblk = a->rblk;
    if (!a->remote) {
        w->val = gk_malloc(a->vlen + 1);
        memcpy(w->val, a->val, a->vlen);
    }
    return 1;
}

/* XFS's ACL format (count, then tag, id, perm entries, big-endian) to the
 * VFS one (version 2, then tag, perm, id entries, little-endian). */
static ssize_t acl_to_vfs(const uint8_t *v, size_t len, uint8_t **out, const char *what)
{
    if (len < 4)
        return xfs_corrupt("%s: ACL too short", what);
    uint32_t cnt = gk_be32(v);
    if (cnt > (XATTR_SIZE_MAX - 4) / 12 || len != 4 + (size_t)cnt * 12)
        return xfs_corrupt("%s: bad ACL size", what);
    uint8_t *o = gk_malloc(4 + (size_t)cnt * 8);
    gk_put_le32(o, 2);
    for (uint32_t i = 0; i < cnt; i++) {
        const uint8_t *e = v + 4 + 12 * i;
        uint32_t tag = gk_be32(e), id = gk_be32(e + 4);
        uint16_t perm = gk_be16(e + 8);
        if (tag != 1 && tag != 2 && tag != 4 && tag != 8 && tag != 0x10 && tag != 0x20) {
            free(o);
            return xfs_corrupt("%s: bad ACL entry", what);
        }
        if (tag != 2 && tag != 8)
            id = 0xffffffffu;
        uint8_t *p = o + 4 + 8 * i;
        gk_put_le16(p, (uint16_t)tag);
        gk_put_le16(p + 2, perm);
        gk_put_le32(p + 4, id);
    }
    *out = o;
    return (ssize_t)(4 + (size_t)cnt * 8);
}

ssize_t xfs_getxattr(gk_fs *fs, uint64_t ino, const char *name, void *buf, size_t bufsz)
{
    static const struct { const char *prefix; unsigned ns; const char *fixed; } map[] = {
        {"user.", 0, NULL},
        {"trusted.", A_ROOT, NULL},
        {"security.", A_SECURE, NULL},
        {"system.posix_acl_access", A_ROOT, "SGI_ACL_FILE"},
        {"system.posix_acl_default", A_ROOT, "SGI_ACL_DEFAULT"},
    };
    struct want w = {0};
    int acl = 0;
    for (size_t i = 0; i < sizeof map / sizeof map[0] && !w.name; i++) {
        size_t pl = strlen(map[i].prefix);
        if (map[i].fixed ? strcmp(name, map[i].prefix) != 0 : strncmp(name, map[i].prefix, pl) != 0)
            continue;
        const char *rest = map[i].fixed ? map[i].fixed : name + pl;
        w.ns = map[i].ns;
        w.name = (const uint8_t *)rest;
        w.nlen = (unsigned)strlen(rest);
        acl = map[i].fixed != NULL;
    }
    if (!w.name || w.nlen == 0 || w.nlen > 255)
        return -ENODATA;
    struct afork f;
    struct xfs_ino ip;
    int r = afork_open(fs->priv, ino, &f, &ip);
    if (r == 0)
        r = attr_walk(&f, get_fn, &w, 1, xfs_da_hashname(w.name, w.nlen));
    if (r >= 0 && w.found && w.remote) {
        if (w.vlen > XATTR_SIZE_MAX) {
            r = xfs_corrupt("%s: remote value too large", f.what);
        } else {
            w.val = gk_malloc(w.vlen + 1);
            r = remote_value(&f, w.rblk, w.vlen, w.val);
        }
    }
    free(f.m);
    ssize_t ret = r < 0 ? r : w.found ? (ssize_t)w.vlen : -ENODATA;
    uint8_t *val = w.val;
    if (ret >= 0 && acl) {
        uint8_t *conv = NULL;
        ret = acl_to_vfs(w.val, w.vlen, &conv, f.what);
        free(w.val);
        val = conv;
    }
    if (ret > 0 && (size_t)ret <= bufsz)
        memcpy(buf, val, (size_t)ret);
    free(val);
    return ret;
}
