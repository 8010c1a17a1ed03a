/* STUB until the qcow2 driver lands. */
#include "blk.h"
gk_dev *gk_qcow2_open(const char *path, const gk_open_opts *opts)
{
    (void)opts;
    gk_error("%s: qcow2 is not supported yet", path);
    return NULL;
}
