/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The "luks" image format: a file that is one LUKS1 volume (what
 * `cryptsetup luksFormat FILE` or `qemu-img create -f luks` makes), read as
 * qemu's driver=luks reads it.  qemu 7.2 probes LUKS version 1 only, so a
 * LUKS2 file stays raw to both.  The disk is the decrypted payload: its size
 * the file's past the payload offset.  Opening it for data needs the
 * passphrase (gk_open_opts.key: qemu's key-secret); info reads the header
 * alone.  Writes go through the cipher into the payload, sector by sector
 * in place, as qemu writes them (lib/luks.c): the header is never written,
 * and a kill leaves each sector old or new, as in a raw image.  A file no
 * longer than its payload offset is an empty disk, as qemu opens it.
 * Resizing moves the end of the file (gimg resize, qemu-img's); amend
 * changes its keyslots (lib/luks-amend.c, as for qcow2's encryption). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "luks.h"

struct luksimg {
    gk_dev *data;          /* the decrypted payload, NULL for an info open */
    uint8_t *pass;         /* the passphrase it opened with (read-write:
                            * amend finds the volume key with it), or NULL */
    size_t passlen;
};

static int luksimg_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    struct luksimg *m = d->priv;
    if (!m->data)
        return gk_fail(EIO, "%s: opened for its header only", d->name);
    return gk_pread(m->data, buf, n, off) < 0 ? -errno : 0;
}

static int luksimg_pwrite(gk_dev *d, const void *buf, size_t n, uint64_t off)
{
    struct luksimg *m = d->priv;
    return gk_pwrite(m->data, buf, n, off) < 0 ? -errno : 0;
}

static int luksimg_truncate(gk_dev *d, uint64_t size, enum gk_prealloc prealloc)
{
    struct luksimg *m = d->priv;
    if (gk_truncate(m->data, size, prealloc) < 0)
        return -errno;
    d->size = m->data->size;
    return 0;
}

static void luksimg_close(gk_dev *d)
{
    struct luksimg *m = d->priv;
    if (!m)
        return;
    gk_dev_unref(m->data);
    if (m->pass)
        gk_secret_free(m->pass, m->passlen + 1);
    free(m);
}

/* block_status NULL: all data, as qemu answers for driver=luks */
static const struct gk_dev_ops luksimg_ops = {
    .name = "luks",
    .pread = luksimg_pread,
    .pwrite = luksimg_pwrite,
    .truncate = luksimg_truncate,
    .close = luksimg_close,
};

/* qemu's probe (block/crypto.c): the magic and version 1. */
static int luksimg_probe(const uint8_t *b, size_t len, const char *name)
{
    (void)name;
    return len >= 8 && gk_luks_magic(b, len) && b[6] == 0 && b[7] == 1 ? 100 : 0;
}

static gk_dev *luksimg_open(gk_dev *file, gk_open_ctx *ctx)
{
    if (ctx->snapshot || ctx->snapshot_id || ctx->snapshot_name) {
        gk_error("%s: luks images have no internal snapshots", file->name);
        errno = ENOTSUP;
        return NULL;
    }
    gk_luks *l = gk_calloc(1, sizeof *l);
    gk_dev *d = NULL, *data = NULL;
    const void *pass = ctx->flags & GK_OPEN_INFO ? NULL : ctx->key;
    uint8_t *key = pass ? gk_secret_alloc(GK_KEY_MAX) : NULL;
    int r = gk_luks_open_key(file, file->name, NULL, 1, l, pass, ctx->keylen, key), e = EINVAL;
    if (r < 0) {
        e = -r;
        goto out;
    }
    if (!(ctx->flags & GK_OPEN_INFO)) {
        if (!ctx->key) {
            gk_error("%s: the image is encrypted (luks) and no key was given", file->name);
            e = ENOKEY;
            goto out;
        }
        if (!(data = gk_luks_image_dev_new(file, l, key, file->name))) {
            e = EINVAL;
            goto out;
        }
        if (ctx->readwrite)
            data->readonly = 0;
    } else if (l->data_off > file->size) {
        gk_error("%s: the payload offset %llu is past the end of the file", file->name,
                 (unsigned long long)l->data_off);
        goto out;
    }
    struct luksimg *m = gk_calloc(1, sizeof *m);
    m->data = data;
    if (data && ctx->readwrite) {
        m->pass = gk_secret_alloc(ctx->keylen + 1);
        memcpy(m->pass, ctx->key, ctx->keylen);
        m->passlen = ctx->keylen;
    }
    d = gk_dev_new(&luksimg_ops, file->name, data ? data->size : file->size - l->data_off, m);
    d->readonly = !ctx->readwrite;
    d->file = file;
out:
    gk_secret_free(key, GK_KEY_MAX);
    free(l);
    if (!d)
        errno = e;
    return d;
}

/* qemu's names: "aes-256" for the cipher and its key (XTS keys are two
 * cipher keys), "xts" and "plain64" from "xts-plain64", "essiv" and its
 * hash from "cbc-essiv:sha256". */
static void name_luks(gk_encrypt_info *e, const char *cipher, const char *mode, size_t keylen)
{
    char m[48];
    snprintf(m, sizeof m, "%s", mode);
    char *iv = strchr(m, '-'), *ivh = NULL;
    if (iv) {
        *iv++ = 0;
        if ((ivh = strchr(iv, ':')))
            *ivh++ = 0;
    }
    size_t bits = keylen * 8 / (strcmp(m, "xts") == 0 ? 2 : 1);
    snprintf(e->cipher_alg, sizeof e->cipher_alg, "%s-%zu", cipher, bits);
    snprintf(e->cipher_mode, sizeof e->cipher_mode, "%s", m);
    snprintf(e->ivgen_alg, sizeof e->ivgen_alg, "%s", iv ? iv : "");
    snprintf(e->ivgen_hash_alg, sizeof e->ivgen_hash_alg, "%s", ivh ? ivh : "");
}

int gk_luks1_info(gk_dev *d, gk_encrypt_info *e)
{
    /* the header checked as a read would check it, then the slot table
     * (inactive slots too) from its fixed LUKS1 layout */
    gk_luks *l = gk_calloc(1, sizeof *l);
    uint8_t b[592];
    int r = gk_luks_read(d, l);
    if (r != 0 || l->version != 1 || d->size < sizeof b || gk_pread(d, b, sizeof b, 0) < 0) {
        if (r >= 0)
            gk_error("%s: not a LUKS1 header", d->name);
        free(l);
        return -1;
    }
    e->luks_read = 1;
    name_luks(e, l->cipher, l->mode, l->keylen);
    snprintf(e->hash_alg, sizeof e->hash_alg, "%.*s", 32, (const char *)b + 72);
    snprintf(e->uuid, sizeof e->uuid, "%s", l->uuid);
    e->payload_offset = l->data_off;
    e->master_key_iters = gk_be32(b + 164);
    e->nslots = 8;
    for (int i = 0; i < 8; i++) {
        const uint8_t *s = b + 208 + 48 * i;
        e->slots[i].active = gk_be32(s) == 0x00AC71F3u;
        e->slots[i].iters = gk_be32(s + 4);
        e->slots[i].key_offset = (uint64_t)gk_be32(s + 40) * 512;
        e->slots[i].stripes = gk_be32(s + 44);
    }
    free(l);
    return 0;
}

static int luksimg_info(gk_dev *d, gk_image_info *info)
{
    info->format = "luks";
    info->filename = gk_strdup(d->name);
    info->virtual_size = d->size;
    if (d->file->ops->get_allocated)
        d->file->ops->get_allocated(d->file, &info->actual_size);
    info->encrypted = 1;
    info->luks = 1;
    if (gk_luks1_info(d->file, &info->encrypt) < 0)
        return gk_fail(EINVAL, "%s", gk_errmsg());
    info->encrypt.format = "luks";
    return 0;
}

/* qemu-img amend of a luks image: the keyslot options of qcow2's
 * encrypt.* without the prefix (lib/luks-amend.c does the work for both),
 * checked first as qemu-img checks -o; qemu's create options of the luks
 * driver are refused as such. */
static int luksimg_amend(gk_dev *d, int n, const char **names, const char **values, unsigned flags,
                         gk_amend_progress cb, void *opaque)
{
    static const char *const create_only[] = {"cipher-alg", "cipher-mode", "hash-alg", "ivgen-alg",
                                              "ivgen-hash-alg", "key-secret", "size"};
    struct luksimg *m = d->priv;
    (void)cb, (void)opaque; /* qemu's luks amend reports no progress */
    for (int i = 0; i < n; i++) {
        int r = gk_luks_amend_name(names[i], values[i], "");
        if (r < 0)
            return r;
        if (r)
            continue;
        const char *why = "";
        for (size_t k = 0; k < sizeof create_only / sizeof create_only[0]; k++)
            if (strcmp(names[i], create_only[k]) == 0)
                why = "\nThis option is only supported for image creation";
        return gk_fail(EINVAL, "Invalid parameter '%s'%s", names[i], why);
    }
    return gk_luks_amend_opts(d->file, n, names, values, "", flags & GK_AMEND_FORCE, m->pass, m->passlen);
}

const struct gk_format gk_luks_format = {
    .name = "luks",
    .probe = luksimg_probe,
    .open = luksimg_open,
    .info = luksimg_info,
    .amend = luksimg_amend,
    .amend_help = "  iter-time=<num>        - Time to spend in PBKDF in milliseconds\n"
                  "  keyslot=<num>          - Select a single keyslot to modify explicitly\n"
                  "  new-secret=<str>       - New secret to set in the matching keyslots. Empty string to "
                  "erase\n"
                  "  old-secret=<str>       - Select all keyslots that match this password\n"
                  "  state=<str>            - Select new state of affected keyslots (active/inactive)\n",
};
