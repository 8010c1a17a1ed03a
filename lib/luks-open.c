/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Opening a LUKS volume of the guest's device set with a passphrase, the
 * way libguestfs' cryptsetup-open does: the decrypted volume becomes
 * /dev/mapper/NAME, and LVM is scanned again for what it holds. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blk.h"
#include "luks.h"

int gk_luks_nslots(gk_dev *d)
{
    gk_luks l;
    return d && gk_luks_read(d, &l) == 0 ? l.nslots : 0;
}

int gk_devset_luks_open(gk_devset *s, const char *name, const void *pass, size_t passlen,
                        const char *mapname)
{
    gk_devent *e = gk_devset_find(s, name);
    if (!e)
        return -1;
    if (!e->dev) {
        gk_error("%s: %s", e->name, e->open_error ? e->open_error : "cannot be opened");
        return -1;
    }
    char *mname = gk_asprintf("/dev/mapper/%s", mapname);
    char *ename = gk_strdup(e->name);
    gk_dev *d = e->dev;
    gk_dev_ref(d);
    gk_luks l;
    uint8_t *key = NULL;
    int r = -1;
    if (!*mapname || strchr(mapname, '/')) {
        gk_error("%s: invalid mapper name \"%s\"", ename, mapname);
        goto out;
    }
    for (int i = 0; i < s->nents; i++)
        if (strcmp(s->ents[i].name, mname) == 0) {
            gk_error("%s: %s already exists", ename, mname);
            goto out;
        }
    key = gk_secret_alloc(GK_KEY_MAX);
    int ur = gk_luks_open_key(d, ename, NULL, 0, &l, pass ? pass : "", passlen, key);
    if (ur == -EKEYREJECTED && l.nslots == 0)
        gk_error("%s: the LUKS header has no usable keyslot", ename);
    else if (ur == -EKEYREJECTED)
        r = 1;
    if (ur < 0)
        goto out;
    gk_dev *nd = gk_luks_dev_new(d, &l, key, mname);
    if (!nd)
        goto out;
    gk_devent *ne = gk_devset_append(s, mname, GK_LUKS); /* e is stale now */
    ne->dev = nd;
    ne->parent = gk_strdup(ename);
    gk_devent_probe(ne); /* LVM's rescan asks whether it is an md member */
    gk_devset_rescan_lvm(s);
    r = 0;
out:
    gk_secret_free(key, GK_KEY_MAX);
    gk_dev_unref(d);
    free(mname);
    free(ename);
    return r;
}
