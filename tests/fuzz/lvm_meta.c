/* libFuzzer target: the LVM2 metadata text parser and its lookups. */
#include <stdint.h>
#include <stdlib.h>

#include "blk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gk_lvm_node *t = gk_lvm_meta_parse((const char *)data, size);
    if (!t)
        return 0;
    /* Walk what a VG reader walks. */
    for (const gk_lvm_node *vg = t->child; vg; vg = vg->next) {
        int64_t v;
        (void)gk_lvm_meta_int(vg, "extent_size", &v);
        (void)gk_lvm_meta_str(vg, "id");
        (void)gk_lvm_meta_has_flag(vg, "status", "VISIBLE");
        const gk_lvm_node *lvs = gk_lvm_meta_get(vg, "logical_volumes");
        for (const gk_lvm_node *lv = lvs ? lvs->child : NULL; lv; lv = lv->next)
            (void)gk_lvm_meta_get(lv, "segment1");
    }
    gk_lvm_meta_free(t);
    return 0;
}
