/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gimg info: what an image's header says (qemu-img info).  Like qemu-img,
 * info does not open the files an image names (GK_OPEN_INFO): a missing
 * backing file or data file does not keep it from describing the image;
 * --backing-chain opens the chain, header by header. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gimg.h"

/* QCryptoBlockInfo, members in QAPI order; without "format" the LUKS
 * members alone (a luks image's format-specific data). */
static jv *encrypt_json(const gk_encrypt_info *e, int with_format)
{
    jv *o = jv_new(J_OBJ);
    if (with_format)
        jv_str(o, "format", e->format);
    if (!e->luks_read)
        return o;
    jv_str(o, "cipher-alg", e->cipher_alg);
    jv_str(o, "cipher-mode", e->cipher_mode);
    jv_str(o, "ivgen-alg", e->ivgen_alg);
    if (e->ivgen_hash_alg[0])
        jv_str(o, "ivgen-hash-alg", e->ivgen_hash_alg);
    jv_str(o, "hash-alg", e->hash_alg);
    jv_int(o, "payload-offset", (long long)e->payload_offset);
    jv_int(o, "master-key-iters", e->master_key_iters);
    jv_str(o, "uuid", e->uuid);
    jv *a = jv_add(o, "slots", jv_new(J_ARR));
    for (int i = 0; i < e->nslots; i++) {
        jv *s = jv_add(a, NULL, jv_new(J_OBJ));
        jv_bool(s, "active", e->slots[i].active);
        if (e->slots[i].active) {
            jv_int(s, "iters", e->slots[i].iters);
            jv_int(s, "stripes", e->slots[i].stripes);
        }
        jv_int(s, "key-offset", (long long)e->slots[i].key_offset);
    }
    return o;
}

/* ImageInfo of one level, members inserted in qemu's QAPI order. */
static jv *info_json(const gk_image_info *in, const char *filename, const char *full_backing)
{
    jv *o = jv_new(J_OBJ);
    jv_str(o, "filename", filename);
    jv_str(o, "format", in->format);
    jv_bool(o, "dirty-flag", in->dirty);
    if (in->actual_size != GK_SIZE_UNAVAILABLE)
        jv_int(o, "actual-size", (long long)in->actual_size);
    jv_int(o, "virtual-size", (long long)in->virtual_size);
    if (in->cluster_size)
        jv_int(o, "cluster-size", in->cluster_size);
    if (in->encrypted)
        jv_bool(o, "encrypted", 1);
    if (in->backing_file) {
        jv_str(o, "backing-filename", in->backing_file);
        jv_str(o, "full-backing-filename", full_backing);
        if (in->backing_format)
            jv_str(o, "backing-filename-format", in->backing_format);
    }
    if (in->nb_snapshots > 0) {
        jv *a = jv_add(o, "snapshots", jv_new(J_ARR));
        for (int i = 0; i < in->nb_snapshots; i++)
            jv_add(a, NULL, snapshot_json(&in->snapshots[i]));
    }
    if (strcmp(in->format, "qcow2") == 0) {
        jv *fs = jv_add(o, "format-specific", jv_new(J_OBJ));
        jv_str(fs, "type", "qcow2");
        jv *d = jv_add(fs, "data", jv_new(J_OBJ));
        if (in->version <= 2) {
            jv_str(d, "compat", "0.10");
        } else {
            jv_str(d, "compat", "1.1");
            /* the raw bit with the data-file bit, even without a name */
            if (in->data_file)
                jv_str(d, "data-file", in->data_file);
            if (in->data_file_raw >= 0)
                jv_bool(d, "data-file-raw", in->data_file_raw);
            jv_bool(d, "extended-l2", in->extended_l2);
            jv_bool(d, "lazy-refcounts", in->lazy_refcounts);
            jv_bool(d, "corrupt", in->corrupt);
        }
        jv_int(d, "refcount-bits", in->refcount_bits);
        if (in->encrypt.format)
            jv_add(d, "encrypt", encrypt_json(&in->encrypt, 1));
        jv_str(d, "compression-type", in->compression_type ? in->compression_type : "zlib");
    }
    if (in->luks) {
        jv *fs = jv_add(o, "format-specific", jv_new(J_OBJ));
        jv_str(fs, "type", "luks");
        jv_add(fs, "data", encrypt_json(&in->encrypt, 0));
    }
    if (in->vmdk) { /* ImageInfoSpecificVmdk; each extent an ImageInfo of its own */
        jv *fs = jv_add(o, "format-specific", jv_new(J_OBJ));
        jv_str(fs, "type", "vmdk");
        jv *d = jv_add(fs, "data", jv_new(J_OBJ));
        jv_str(d, "create-type", in->vmdk_create_type);
        jv_int(d, "cid", in->vmdk_cid);
        jv_int(d, "parent-cid", in->vmdk_parent_cid);
        jv *a = jv_add(d, "extents", jv_new(J_ARR));
        for (int i = 0; i < in->vmdk_nextents; i++) {
            const gk_vmdk_extent_info *x = &in->vmdk_extents[i];
            jv *e = jv_add(a, NULL, jv_new(J_OBJ));
            jv_str(e, "filename", x->filename);
            jv_str(e, "format", x->type);
            jv_int(e, "virtual-size", (long long)x->virtual_size);
            if (x->cluster_size)
                jv_int(e, "cluster-size", x->cluster_size);
            if (x->compressed)
                jv_bool(e, "compressed", 1);
        }
    }
    return o;
}

static void info_human(const gk_image_info *in, const char *filename, const char *full_backing, const jv *j)
{
    char vs[64], ds[64];
    gk_human_size_qemu(in->virtual_size, vs, sizeof vs);
    if (in->actual_size == GK_SIZE_UNAVAILABLE)
        snprintf(ds, sizeof ds, "unavailable");
    else
        gk_human_size_qemu(in->actual_size, ds, sizeof ds);
    printf("image: %s\nfile format: %s\nvirtual size: %s (%" PRIu64 " bytes)\ndisk size: %s\n", filename,
           in->format, vs, in->virtual_size, ds);
    if (in->encrypted)
        printf("encrypted: yes\n");
    if (in->cluster_size)
        printf("cluster_size: %u\n", in->cluster_size);
    if (in->dirty)
        printf("cleanly shut down: no\n");
    if (in->backing_file) {
        printf("backing file: %s", in->backing_file);
        if (strcmp(in->backing_file, full_backing) != 0)
            printf(" (actual path: %s)", full_backing);
        printf("\n");
        if (in->backing_format)
            printf("backing file format: %s\n", in->backing_format);
    }
    if (in->nb_snapshots > 0) {
        printf("Snapshot list:\n");
        snapshot_header();
        printf("\n");
        for (int i = 0; i < in->nb_snapshots; i++) {
            snapshot_line(&in->snapshots[i]);
            printf("\n");
        }
    }
    for (int i = 0; i < j->n; i++) {
        if (strcmp(j->kid[i]->key, "format-specific") == 0) {
            printf("Format specific information:\n");
            const jv *fs = j->kid[i];
            for (int k = 0; k < fs->n; k++)
                if (strcmp(fs->kid[k]->key, "data") == 0)
                    human_dump(fs->kid[k], 1);
        }
    }
}

int cmd_info(gimg_args *a)
{
    int chain = 0;
    for (int i = 0; i < a->nopts; i++)
        chain |= a->opts[i].opt == ('b' | 0x1000);
    if (a->nargs != 1)
        gimg_usage_error(a, "Expecting one image file name");
    const char *path = a->args[0];
    gk_dev *top = gimg_open(a, path, a->fmt, GK_OPEN_INFO | (chain ? 0 : GK_OPEN_NO_BACKING), 1);
    gimg_sandbox(a, 1, 0, 0);

    jv *arr = jv_new(J_ARR);
    int first = 1;
    for (gk_dev *d = top; d; d = chain ? gk_image_backing(d) : NULL) {
        gk_image_info in;
        if (gk_image_info_get(d, &in) < 0)
            gk_die_status(1, "%s", gk_errmsg());
        char *topname = d == top ? gimg_image_name(a, path, in.format) : NULL;
        const char *name = topname ? topname : d->name;
        const char *full = in.full_backing_file ? in.full_backing_file : in.backing_file;
        jv *j = info_json(&in, name, full);
        if (a->output == OUT_HUMAN) {
            if (!first)
                printf("\n");
            info_human(&in, name, full, j);
        }
        first = 0;
        jv_add(arr, NULL, j);
        gk_image_info_free(&in);
        free(topname);
    }
    if (a->output == OUT_JSON) {
        json_print(stdout, chain ? arr : arr->kid[0], 0);
        printf("\n");
    }
    jv_free(arr);
    gk_dev_unref(top);
    return 0;
}
