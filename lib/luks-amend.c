/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* LUKS1 keyslot changes, as qemu 7.2's amend makes them (crypto/block-luks.c,
 * reached through qemu-img amend -o encrypt.state=... of a qcow2 image):
 *
 * - state=active adds the passphrase of new-secret in keyslot (default the
 *   first inactive one), the volume key found with the passphrase the image
 *   was opened with, PBKDF2 timed for iter-time ms (default 2000);
 * - state=inactive erases keyslot, or every keyslot old-secret opens.
 *
 * Refusals, their order and their words are qemu's (the options' own
 * parsing included); --force lets an active keyslot be overwritten, an
 * inactive one be erased again and the last active one be erased.
 *
 * Write order, as qemu's: a keyslot is added by writing its key material,
 * then the header that marks it active; it is erased by writing the header
 * that marks it inactive, then random bytes over its material.  Each header
 * write is one write of the 592-byte header, so a kill at any moment leaves
 * a header whose active keyslots all open (the old passphrase, or the new
 * one once its header is written).  A flush follows each step. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "luks.h"
#include "ossl.h"

#define HDR_BYTES 592
#define NSLOTS 8
#define SLOT_ACTIVE 0x00AC71F3u
#define SLOT_INACTIVE 0x0000DEADu
#define MIN_ITER 1000u
#define DEFAULT_ITER_MS 2000u
#define ALIGN_SECTORS 8 /* areas counted in whole 4 KiB, as qemu counts them */

static uint8_t *slot_rec(uint8_t *h, int i)
{
    return h + 208 + 48 * i;
}

static int slot_active(const uint8_t *h, int i)
{
    return gk_be32(h + 208 + 48 * i) == SLOT_ACTIVE;
}

static int count_active(const uint8_t *h)
{
    int n = 0;
    for (int i = 0; i < NSLOTS; i++)
        n += slot_active(h, i);
    return n;
}

/* qemu's keyslot area length (sectors): the split key rounded up to
 * sectors, then to 4 KiB */
static uint64_t area_sectors(uint64_t keylen, uint32_t stripes)
{
    uint64_t s = (keylen * stripes + 511) / 512;
    return (s + ALIGN_SECTORS - 1) / ALIGN_SECTORS * ALIGN_SECTORS;
}

/* The key material of keyslot i lies past the header, before the payload,
 * inside the device, and overlaps no other keyslot's (qemu's header check,
 * done again here for the inactive keyslots the reader skips). */
static int check_area(gk_dev *d, const uint8_t *h, const gk_luks *l, int i)
{
    const uint8_t *k = h + 208 + 48 * i;
    uint64_t start = gk_be32(k + 40), stripes = gk_be32(k + 44);
    uint64_t len = area_sectors(l->keylen, (uint32_t)stripes);
    if (stripes == 0 || stripes > GK_AF_MAX_STRIPES)
        return gk_fail(EINVAL, "%s: keyslot %d: %llu stripes", d->name, i, (unsigned long long)stripes);
    if (start < ALIGN_SECTORS || (start + len) * 512 > l->data_off ||
        !gk_range_ok(start * 512, l->keylen * stripes, d->size))
        return gk_fail(EINVAL, "%s: Keyslot %d is overlapping with the encrypted payload", d->name, i);
    for (int j = 0; j < NSLOTS; j++) {
        const uint8_t *o = h + 208 + 48 * j;
        uint64_t s2 = gk_be32(o + 40), l2 = area_sectors(l->keylen, gk_be32(o + 44));
        if (j != i && start + len > s2 && s2 + l2 > start)
            return gk_fail(EINVAL, "%s: Keyslots %d and %d are overlapping in the header", d->name,
                           i < j ? i : j, i < j ? j : i);
    }
    return 0;
}

static int write_header(gk_dev *d, const uint8_t *h)
{
    if (gk_pwrite(d, h, HDR_BYTES, 0) < 0 || gk_flush(d) < 0)
        return -EIO;
    return 0;
}

/* 1 if pass opens keyslot i (its volume key into key), 0 if not or the
 * keyslot is inactive, -1 with gk_error. */
static int load_key(gk_dev *d, const gk_luks *l, int i, const void *pass, size_t passlen, uint8_t *key)
{
    for (int k = 0; k < l->nslots; k++) {
        if (l->slots[k].id != i)
            continue;
        gk_luks *one = gk_malloc(sizeof *one);
        *one = *l;
        one->slots[0] = l->slots[k];
        one->nslots = 1;
        int slot, r = gk_luks_unlock(d, one, pass, passlen, key, &slot);
        free(one);
        return r == 0 ? 1 : r > 0 ? 0 : -1;
    }
    return 0;
}

/* qemu's error hint, on a line after the message */
static void hint(const char *what, int slot)
{
    char *m = gk_strdup(gk_errmsg());
    gk_error("%s\n%s %d", m, what, slot);
    free(m);
}

static const void *secret(const char *id, size_t *len)
{
    return gk_secret_find(id, len);
}

/* qemu's store_key: new salt and iterations, the material, then the
 * header (the keyslot active). */
static int store_key(gk_dev *d, uint8_t *h, const gk_luks *l, int i, const void *pass, size_t passlen,
                     const uint8_t *vkey, uint64_t iter_ms)
{
    uint8_t *k = slot_rec(h, i);
    uint32_t stripes = gk_be32(k + 44);
    size_t split = l->keylen * stripes, pad = (split + 511) / 512 * 512;
    uint8_t salt[32], *slotkey = gk_secret_alloc(l->keylen), *km = gk_secret_alloc(pad);
    gk_cipher *c = NULL;
    uint64_t rate;
    int r = -EIO;
    if (RAND_bytes(salt, sizeof salt) != 1) {
        gk_error("%s: no random bytes for the keyslot salt", d->name);
        goto out;
    }
    if (gk_pbkdf2_rate(l->dg_hash, l->keylen, &rate) < 0)
        goto out;
    /* qemu's rule (iters * iter-time must fit 64 bits, the result 32) with
     * its messages; then at most guestkit's own reading bound */
    if (iter_ms && rate > UINT64_MAX / iter_ms) {
        r = gk_fail(ERANGE, "PBKDF iterations %llu too large to scale: %s", (unsigned long long)rate,
                    strerror(ERANGE));
        goto out;
    }
    uint64_t iters = rate * iter_ms / 1000;
    if (iters > UINT32_MAX) {
        r = gk_fail(ERANGE, "PBKDF iterations %llu larger than %u: %s", (unsigned long long)iters, UINT32_MAX,
                    strerror(ERANGE));
        goto out;
    }
    if (iters > GK_KDF_PBKDF2_MAX_ITER)
        iters = GK_KDF_PBKDF2_MAX_ITER;
    if (iters < MIN_ITER)
        iters = MIN_ITER;
    if (gk_pbkdf2(l->dg_hash, pass, passlen, salt, sizeof salt, (uint32_t)iters, slotkey, l->keylen) < 0 ||
        gk_af_split(vkey, l->keylen, stripes, l->dg_hash, km) < 0)
        goto out;
    memset(km + split, 0, pad - split);
    c = gk_cipher_new(l->cipher, l->mode, slotkey, l->keylen, 512, 0);
    if (!c || gk_cipher_encrypt(c, km, pad, 0) < 0)
        goto out;
    if (gk_pwrite(d, km, split, (uint64_t)gk_be32(k + 40) * 512) < 0 || gk_flush(d) < 0)
        goto out;
    gk_put_be32(k, SLOT_ACTIVE);
    gk_put_be32(k + 4, (uint32_t)iters);
    memcpy(k + 8, salt, sizeof salt);
    r = write_header(d, h);
out:
    gk_cipher_free(c);
    gk_secret_free(km, pad);
    gk_secret_free(slotkey, l->keylen);
    return r;
}

/* qemu's erase_key: the header first (inactive, no salt, no iterations),
 * then random bytes over the material. */
static int erase_key(gk_dev *d, uint8_t *h, const gk_luks *l, int i)
{
    uint8_t *k = slot_rec(h, i);
    size_t split = l->keylen * gk_be32(k + 44);
    gk_put_be32(k, SLOT_INACTIVE);
    gk_put_be32(k + 4, 0);
    memset(k + 8, 0, 32);
    int r = write_header(d, h);
    if (r < 0)
        return r;
    uint8_t *junk = gk_malloc(split);
    if (RAND_bytes(junk, (int)split) != 1)
        memset(junk, 0, split); /* qemu too writes zeros then */
    if (gk_pwrite(d, junk, split, (uint64_t)gk_be32(k + 40) * 512) < 0 || gk_flush(d) < 0)
        r = -EIO;
    free(junk);
    return r;
}

static int add_keyslot(gk_dev *d, uint8_t *h, const gk_luks *l, const gk_luks_amend *o, const void *pass,
                       size_t passlen)
{
    if (!o->new_secret)
        return gk_fail(EINVAL, "'new-secret' is required to activate a keyslot");
    if (o->old_secret)
        return gk_fail(EINVAL, "'old-secret' must not be given when activating keyslots");
    int slot = -1;
    if (o->has_keyslot) {
        slot = o->keyslot;
        if (slot < 0 || slot >= NSLOTS)
            return gk_fail(EINVAL, "Invalid keyslot %u specified, must be between 0 and %u", (unsigned)slot,
                           NSLOTS - 1);
    } else {
        for (int i = 0; i < NSLOTS && slot < 0; i++)
            if (!slot_active(h, i))
                slot = i;
        if (slot < 0)
            return gk_fail(EINVAL, "Can't add a keyslot - all keyslots are in use");
    }
    if (!o->force && slot_active(h, slot))
        return gk_fail(EINVAL, "Refusing to overwrite active keyslot %d - please erase it first", slot);
    uint8_t *vkey = gk_secret_alloc(GK_KEY_MAX);
    int r = -EINVAL, found = 0;
    for (int i = 0; i < NSLOTS && !found; i++)
        if ((found = load_key(d, l, i, pass, passlen, vkey)) < 0)
            goto out;
    if (!found) {
        gk_error("Invalid password, cannot unlock any keyslot\nFailed to retrieve the master key");
        goto out;
    }
    size_t nlen;
    const void *npass = secret(o->new_secret, &nlen);
    if (!npass)
        goto out;
    if ((r = check_area(d, h, l, slot)) < 0 ||
        (r = store_key(d, h, l, slot, npass, nlen, vkey,
                       o->has_iter_time ? o->iter_time : DEFAULT_ITER_MS)) < 0)
        hint("Failed to write to keyslot", slot);
out:
    gk_secret_free(vkey, GK_KEY_MAX);
    return r;
}

static int erase_keyslots(gk_dev *d, uint8_t *h, const gk_luks *l, const gk_luks_amend *o)
{
    if (o->new_secret)
        return gk_fail(EINVAL, "'new-secret' must not be given when erasing keyslots");
    if (o->has_iter_time)
        return gk_fail(EINVAL, "'iter-time' must not be given when erasing keyslots");
    const void *opass = NULL;
    size_t olen = 0;
    if (o->old_secret && !(opass = secret(o->old_secret, &olen)))
        return -EINVAL;
    uint8_t *tmp = gk_secret_alloc(GK_KEY_MAX);
    int r = -EINVAL, erase[NSLOTS] = {0}, n = 0;
    if (o->has_keyslot) {
        int slot = o->keyslot;
        if (slot < 0 || slot >= NSLOTS) {
            gk_error("Invalid keyslot %d specified, must be between 0 and %d", slot, NSLOTS - 1);
            goto out;
        }
        if (opass) {
            int m = load_key(d, l, slot, opass, olen, tmp);
            if (m < 0)
                goto out;
            if (!m) {
                gk_error("Given keyslot %d doesn't contain the given old password for erase operation", slot);
                goto out;
            }
        }
        if (!o->force && !slot_active(h, slot)) {
            gk_error("Given keyslot %d is already erased (inactive) ", slot);
            goto out;
        }
        if (!o->force && count_active(h) == 1) {
            gk_error("Attempt to erase the only active keyslot %d which will erase all the data in the image "
                     "irreversibly - refusing operation",
                     slot);
            goto out;
        }
        erase[slot] = 1;
        n = 1;
    } else if (opass) {
        for (int i = 0; i < NSLOTS; i++) {
            int m = load_key(d, l, i, opass, olen, tmp);
            if (m < 0)
                goto out;
            erase[i] = m;
            n += m;
        }
        if (n == 0) {
            gk_error("No keyslots match given (old) password for erase operation");
            goto out;
        }
        if (!o->force && n == count_active(h)) {
            gk_error("All the active keyslots match the (old) password that was given and erasing them will "
                     "erase all the data in the image irreversibly - refusing operation");
            goto out;
        }
    } else {
        gk_error("To erase keyslot(s), either explicit keyslot index or the password currently contained in "
                 "them must be given");
        goto out;
    }
    /* every keyslot checked before the first is erased */
    for (int i = 0; i < NSLOTS; i++)
        if (erase[i] && (r = check_area(d, h, l, i)) < 0)
            goto out;
    r = 0;
    for (int i = 0; i < NSLOTS && r == 0; i++)
        if (erase[i] && (r = erase_key(d, h, l, i)) < 0)
            hint("Failed to erase keyslot", i);
out:
    gk_secret_free(tmp, GK_KEY_MAX);
    return r;
}

int gk_luks1_amend(gk_dev *d, const gk_luks_amend *o, const void *pass, size_t passlen)
{
    gk_luks *l = gk_calloc(1, sizeof *l);
    uint8_t h[HDR_BYTES];
    /* the header read and checked as an open reads it (no key: the
     * keyslots are tried below, one by one) */
    int r = gk_luks_open_key(d, d->name, NULL, 1, l, NULL, 0, NULL);
    if (r < 0)
        goto out;
    if (d->size < sizeof h || gk_pread(d, h, sizeof h, 0) < 0) {
        r = gk_fail(EIO, "%s: reading the LUKS header: %s", d->name, gk_errmsg());
        goto out;
    }
    if (gk_ossl_load() < 0) {
        r = -EIO;
        goto out;
    }
    r = o->state ? add_keyslot(d, h, l, o, pass, passlen) : erase_keyslots(d, h, l, o);
out:
    free(l);
    return r;
}

/* ---- the options, parsed as qemu parses them ---- */

/* qemu's QemuOpts number (qemu_strtou64, base 0, a minus sign wraps):
 * what qemu-img checks of -o before the image is touched. */
int gk_luks_amend_number(const char *name, const char *v)
{
    char *end;
    errno = 0;
    (void)strtoull(v, &end, 0);
    if (errno == ERANGE)
        return gk_fail(EINVAL, "Value '%s' is too large for parameter '%s'", v, name);
    if (end == v || *end)
        return gk_fail(EINVAL, "Parameter '%s' expects a number", name);
    return 0;
}

int gk_luks_amend_name(const char *name, const char *value, const char *prefix)
{
    static const char *const opts[] = {"state", "keyslot", "old-secret", "new-secret", "iter-time"};
    size_t pl = strlen(prefix);
    if (strncmp(name, prefix, pl) != 0)
        return 0;
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        if (strcmp(name + pl, opts[i]) != 0)
            continue;
        if ((i == 1 || i == 4) && gk_luks_amend_number(name, value) < 0)
            return -EINVAL;
        return 1;
    }
    return 0;
}

int gk_luks_amend_opts(gk_dev *d, int n, const char **names, const char **values, const char *prefix,
                       int force, const void *pass, size_t passlen)
{
    gk_luks_amend o;
    int r = gk_luks_amend_parse(n, names, values, prefix, &o);
    if (r < 0)
        return r;
    o.force = !!force;
    if (!pass)
        return gk_fail(ENOKEY, "%s: the image was opened without its key", d->name);
    return gk_luks1_amend(d, &o, pass, passlen);
}

/* qemu's QAPI integer (qemu_strtoi64, base 0) */
static int qapi_int(const char *name, const char *v, int64_t *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 0);
    if (errno || end == v || *end)
        return gk_fail(EINVAL, "Parameter '%s' expects integer", name);
    *out = x;
    return 0;
}

int gk_luks_amend_parse(int n, const char **names, const char **values, const char *prefix, gk_luks_amend *o)
{
    size_t pl = strlen(prefix);
    const char *state = NULL, *slot = NULL, *iter = NULL;
    memset(o, 0, sizeof *o);
    /* the last of each wins, as in qemu */
    for (int i = 0; i < n; i++) {
        if (strncmp(names[i], prefix, pl) != 0)
            continue;
        const char *k = names[i] + pl;
        if (strcmp(k, "state") == 0)
            state = values[i];
        else if (strcmp(k, "new-secret") == 0)
            o->new_secret = values[i];
        else if (strcmp(k, "old-secret") == 0)
            o->old_secret = values[i];
        else if (strcmp(k, "keyslot") == 0)
            slot = values[i];
        else if (strcmp(k, "iter-time") == 0)
            iter = values[i];
    }
    /* in the order of qemu's QCryptoBlockAmendOptionsLUKS */
    if (!state)
        return gk_fail(EINVAL, "Parameter 'state' is missing");
    if (strcmp(state, "active") == 0)
        o->state = 1;
    else if (strcmp(state, "inactive") == 0)
        o->state = 0;
    else
        return gk_fail(EINVAL, "Parameter 'state' does not accept value '%s'", state);
    int64_t x;
    if (slot) {
        if (qapi_int("keyslot", slot, &x) < 0)
            return -EINVAL;
        o->has_keyslot = 1;
        o->keyslot = (int)(uint32_t)(uint64_t)x; /* qemu stores it in an int */
    }
    if (iter) {
        if (qapi_int("iter-time", iter, &x) < 0)
            return -EINVAL;
        o->has_iter_time = 1;
        o->iter_time = (uint64_t)x;
    }
    return 0;
}
