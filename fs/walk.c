/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The tree walker every tool uses (gls -R/-lR, gcopy-out, gfsh find, du,
 * copy-out, tar-out, checksums-out...): one depth rule, one cycle guard,
 * one path-length rule, each reported when it is hit.
 *
 * The walk is iterative: the state of each directory level (its sorted
 * entries and where we are in them) lives on the heap, so a legitimate
 * tree thousands of levels deep costs memory in proportion to what was
 * read, never stack.  Nothing is kept of a directory once it is done: the
 * output streams.
 *
 * Two orders:
 *  - by default, depth first with each directory's entries sorted by name
 *    (as GNU tar --sort=name and virt-ls -lR list);
 *  - GK_WALK_PATHORDER: the order of `find DIR | sort`, every path in
 *    strcmp order, as libguestfs' find sorts its whole output.  A
 *    directory's subtree is one contiguous run in that order, placed as if
 *    it were the string "name/", so sorting each directory's entries with
 *    the key "name" for the entry and "name/" for its subtree gives the
 *    global order without keeping more than the current directories.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs-int.h"

struct item {
    char *name;
    size_t namelen;
    gk_node node;
    gk_stat st;            /* PATHORDER: statted when the directory is read   */
    int st_err;            /* ... 0, or the errno of a failed stat           */
    char *st_msg;          /* ... and its message                            */
    int descend;           /* the "name/" key: the subtree of an entry      */
};

struct level {
    struct item *items;
    size_t n, next;
    size_t pathlen;        /* length of this directory's path in w->path     */
    gk_node node;
    gk_stat st;
};

struct gk_walk {
    gk_vfs *vfs;
    unsigned flags;
    struct level *lv;
    int depth, cap;        /* lv[depth-1] is the directory being listed      */
    char *path;
    size_t pathlen, pathcap;
    gk_nodemap *seen;      /* directories entered, against cycles            */
    gk_walk_ent ent;
    char *msg;             /* the message of the last ERROR event            */
    char spath[400];       /* a long path shortened for messages             */
    /* what the next call does */
    enum { W_TOP, W_RUN, W_ENTER, W_DONE } state;
    gk_node top;
    /* the directory returned last, to be entered unless pruned */
    gk_node pend_node;
    gk_stat pend_st;
    size_t pend_pathlen;
    int pend;
};

static void set_path(gk_walk *w, size_t len)
{
    w->pathlen = len;
    w->path[len] = 0;
}

/* Append "/" (unless the path ends with one) and name; 0, or -1 when the
 * result would exceed GK_PATH_MAX under GK_WALK_PATHLIMIT (the path is
 * left as it was). */
static int push_name(gk_walk *w, const char *name)
{
    size_t nl = strlen(name);
    int slash = !(w->pathlen && w->path[w->pathlen - 1] == '/');
    size_t len = w->pathlen + (size_t)slash + nl;
    if ((w->flags & GK_WALK_PATHLIMIT) && len > GK_PATH_MAX)
        return -1;
    if (len + 1 > w->pathcap) {
        while (len + 1 > w->pathcap)
            w->pathcap *= 2;
        w->path = gk_realloc(w->path, w->pathcap);
    }
    if (slash)
        w->path[w->pathlen] = '/';
    memcpy(w->path + w->pathlen + slash, name, nl + 1);
    w->pathlen = len;
    return 0;
}

/* The current path for a message: a path of thousands of bytes would push
 * the reason out of the message, so the middle of a long one is left out. */
static const char *mpath(gk_walk *w)
{
    if (w->pathlen < sizeof w->spath)
        return w->path;
    size_t half = (sizeof w->spath - 8) / 2;
    snprintf(w->spath, sizeof w->spath, "%.*s[...]%s", (int)half, w->path,
             w->path + w->pathlen - half);
    return w->spath;
}

gk_walk *gk_walk_new(gk_vfs *v, const gk_node *top, const char *toppath, unsigned flags)
{
    gk_walk *w = gk_calloc(1, sizeof *w);
    w->vfs = v;
    w->flags = flags;
    w->top = *top;
    w->pathcap = 256;
    w->path = gk_malloc(w->pathcap);
    size_t tl = strlen(toppath);
    while (tl + 1 > w->pathcap)
        w->pathcap *= 2;
    w->path = gk_realloc(w->path, w->pathcap);
    memcpy(w->path, toppath, tl + 1);
    w->pathlen = tl;
    w->seen = gk_nodemap_new();
    w->state = W_TOP;
    return w;
}

static void items_free(struct item *it, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!it[i].descend)
            free(it[i].name);
        free(it[i].st_msg);
    }
    free(it);
}

void gk_walk_free(gk_walk *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->depth; i++)
        items_free(w->lv[i].items, w->lv[i].n);
    free(w->lv);
    free(w->path);
    free(w->msg);
    gk_nodemap_free(w->seen, NULL);
    free(w);
}

void gk_walk_prune(gk_walk *w)
{
    w->pend = 0;
}

/* An ERROR event about the current path, the message from gk_error. */
static const gk_walk_ent *error_ent(gk_walk *w, int err, int depth)
{
    free(w->msg);
    w->msg = gk_strdup(gk_errmsg());
    memset(&w->ent, 0, sizeof w->ent);
    w->ent.kind = GK_WALK_ERROR;
    w->ent.err = err ? err : EIO;
    w->ent.depth = depth;
    w->ent.path = w->path;
    w->ent.pathlen = w->pathlen;
    w->ent.msg = w->msg;
    return &w->ent;
}

/* Key of an item: its name, with "/" after it for a subtree. */
static int key_at(const struct item *x, size_t i)
{
    if (i < x->namelen)
        return (unsigned char)x->name[i];
    return i == x->namelen && x->descend ? '/' : -1;
}

static int item_cmp(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    for (size_t i = 0;; i++) {
        int c = key_at(x, i), d = key_at(y, i);
        if (c != d || c < 0)
            return c - d;
    }
}

/* Would entering directory n at depth (its path in w->path) be allowed?
 * 0, or -1 with gk_error() and *err. */
static int may_enter(gk_walk *w, const gk_node *n, int depth, int *err)
{
    if (depth >= GK_WALK_MAXDEPTH) {
        gk_error("%s: directories nested more than %d levels deep (not descended)", mpath(w),
                 GK_WALK_MAXDEPTH);
        *err = ELOOP;
        return -1;
    }
    int isnew;
    gk_nodemap_slot(w->seen, n, &isnew);
    if (!isnew) {
        gk_error("%s: directory loop in the filesystem (not descended)", mpath(w));
        *err = ELOOP;
        return -1;
    }
    return 0;
}

/* An ENTRY event for node n with stat st at the current path. */
static const gk_walk_ent *entry_ent(gk_walk *w, const char *name, const gk_node *n,
                                    const gk_stat *st, int depth)
{
    memset(&w->ent, 0, sizeof w->ent);
    w->ent.kind = GK_WALK_ENTRY;
    w->ent.depth = depth;
    w->ent.path = w->path;
    w->ent.pathlen = w->pathlen;
    w->ent.name = name;
    w->ent.node = *n;
    w->ent.st = *st;
    return &w->ent;
}

/* Read directory (node, st) at the current path as a new level. */
static int open_level(gk_walk *w, const gk_node *node, const gk_stat *st)
{
    gk_dirent *ents = NULL;
    size_t cnt = 0;
    gk_node dn = *node;
    if (gk_node_list(&dn, &ents, &cnt) < 0)
        return -1;
    int pathorder = !!(w->flags & GK_WALK_PATHORDER);
    struct item *it = gk_calloc(cnt * (pathorder ? 2 : 1) + 1, sizeof *it);
    size_t n = 0;
    for (size_t i = 0; i < cnt; i++) {
        struct item *e = &it[n++];
        e->name = ents[i].name;     /* takes the name */
        e->namelen = strlen(e->name);
        e->node = (gk_node){node->mnt, ents[i].ino};
        gk_vfs_cross(w->vfs, &e->node);
        if (pathorder) {
            if (gk_node_stat(&e->node, &e->st) < 0) {
                e->st_err = errno ? errno : EIO;
                e->st_msg = gk_strdup(gk_errmsg());
            } else if (S_ISDIR(e->st.mode)) {
                struct item *d = &it[n++];
                *d = *e;
                d->st_msg = NULL;
                d->descend = 1;     /* shares e's name */
            }
        }
    }
    free(ents);                     /* the names moved into the items */
    if (pathorder && n > 1)
        qsort(it, n, sizeof *it, item_cmp);
    if (w->depth == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 16;
        w->lv = gk_realloc(w->lv, (size_t)w->cap * sizeof *w->lv);
    }
    struct level *l = &w->lv[w->depth++];
    memset(l, 0, sizeof *l);
    l->items = it;
    l->n = n;
    l->pathlen = w->pathlen;
    l->node = *node;
    l->st = *st;
    return 0;
}

const gk_walk_ent *gk_walk_next(gk_walk *w)
{
    for (;;) {
        switch (w->state) {
        case W_DONE:
            return NULL;
        case W_TOP: {
            w->state = W_DONE;
            gk_stat st;
            if (gk_node_stat(&w->top, &st) < 0)
                return error_ent(w, errno, 0);
            if (S_ISDIR(st.mode)) {
                int err;
                if (may_enter(w, &w->top, 0, &err) < 0)
                    return error_ent(w, err, 0);
                w->pend = 1;
                w->pend_node = w->top;
                w->pend_st = st;
                w->pend_pathlen = w->pathlen;
                w->state = W_ENTER;
            }
            return entry_ent(w, "", &w->top, &st, 0);
        }
        case W_ENTER:
            w->state = W_RUN;
            if (!w->pend)
                continue;
            w->pend = 0;
            set_path(w, w->pend_pathlen);
            if (open_level(w, &w->pend_node, &w->pend_st) < 0) {
                /* the directory is still "entered": its END follows */
                int err = errno ? errno : EIO;
                gk_error_prefix("%s", mpath(w));
                if (w->depth == w->cap) {
                    w->cap = w->cap ? w->cap * 2 : 16;
                    w->lv = gk_realloc(w->lv, (size_t)w->cap * sizeof *w->lv);
                }
                struct level *l = &w->lv[w->depth++];
                memset(l, 0, sizeof *l);
                l->pathlen = w->pathlen;
                l->node = w->pend_node;
                l->st = w->pend_st;
                return error_ent(w, err, w->depth);
            }
            continue;
        case W_RUN: {
            if (w->depth == 0) {
                w->state = W_DONE;
                return NULL;
            }
            struct level *l = &w->lv[w->depth - 1];
            set_path(w, l->pathlen);
            if (l->next == l->n) {
                /* this directory is done */
                gk_node node = l->node;
                gk_stat st = l->st;
                items_free(l->items, l->n);
                w->depth--;
                memset(&w->ent, 0, sizeof w->ent);
                w->ent.kind = GK_WALK_DIR_END;
                w->ent.depth = w->depth;
                w->ent.path = w->path;
                w->ent.pathlen = w->pathlen;
                w->ent.node = node;
                w->ent.st = st;
                return &w->ent;
            }
            struct item *it = &l->items[l->next++];
            int depth = w->depth;
            if (push_name(w, it->name) < 0) {
                if (it->descend)
                    continue;      /* its entry was reported already */
                gk_error("%s/%.64s%s: %s (paths are limited to %d bytes)", mpath(w), it->name,
                         it->namelen > 64 ? "[...]" : "", strerror(ENAMETOOLONG), GK_PATH_MAX);
                return error_ent(w, ENAMETOOLONG, depth);
            }
            if (w->flags & GK_WALK_PATHORDER) {
                if (it->descend) {
                    /* the subtree of an entry reported before */
                    int err;
                    if (may_enter(w, &it->node, depth, &err) < 0)
                        return error_ent(w, err, depth);
                    w->pend = 1;
                    w->pend_node = it->node;
                    w->pend_st = it->st;
                    w->pend_pathlen = w->pathlen;
                    w->state = W_ENTER;
                    continue;
                }
                if (it->st_err) {
                    gk_error("%s", it->st_msg);
                    gk_error_prefix("%s", mpath(w));
                    return error_ent(w, it->st_err, depth);
                }
                return entry_ent(w, it->name, &it->node, &it->st, depth);
            }
            gk_stat st;
            if (gk_node_stat(&it->node, &st) < 0) {
                int err = errno ? errno : EIO;
                gk_error_prefix("%s", mpath(w));
                return error_ent(w, err, depth);
            }
            if (S_ISDIR(st.mode)) {
                int err;
                if (may_enter(w, &it->node, depth, &err) < 0) {
                    /* the entry, then why it is not entered */
                    w->ent = *entry_ent(w, it->name, &it->node, &st, depth);
                    w->ent.noenter = 1;
                    free(w->msg);
                    w->msg = gk_strdup(gk_errmsg());
                    w->ent.msg = w->msg;
                    w->ent.err = err;
                    return &w->ent;
                }
                w->pend = 1;
                w->pend_node = it->node;
                w->pend_st = st;
                w->pend_pathlen = w->pathlen;
                w->state = W_ENTER;
            }
            return entry_ent(w, it->name, &it->node, &st, depth);
        }
        }
    }
}
