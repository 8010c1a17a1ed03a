/* Filesystem driver dispatch: gk_fs_open picks the driver for a device. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ext-int.h"
#include "fs.h"

static const char *const ext_types[] = {"ext2", "ext3", "ext4", "ext4dev", NULL};

int gk_fs_supported(const char *fstype)
{
    if (!fstype)
        return 0;
    for (int i = 0; ext_types[i]; i++)
        if (strcmp(fstype, ext_types[i]) == 0)
            return 1;
    return 0;
}

/* The ext superblock magic at byte 1080. */
static int looks_ext(gk_dev *dev)
{
    uint8_t m[2];
    return dev->size >= 2048 && gk_pread(dev, m, 2, 1024 + 56) == 0 && gk_le16(m) == 0xef53;
}

gk_fs *gk_fs_open(gk_dev *dev, const char *fstype, int rw)
{
    /* No driver writes yet: every filesystem is opened read-only and
     * fs->readonly says so, whatever rw asked for. */
    (void)rw;
    if (fstype && !gk_fs_supported(fstype)) {
        gk_error("unsupported filesystem type %s", fstype);
        errno = ENOTSUP;
        return NULL;
    }
    if (!fstype && !looks_ext(dev)) {
        gk_error("unknown filesystem type");
        errno = EINVAL;
        return NULL;
    }
    return gk_ext_open(dev, fstype);
}

void gk_fs_close(gk_fs *fs)
{
    if (!fs)
        return;
    if (fs->ops && fs->ops->close)
        fs->ops->close(fs);
    gk_dev_unref(fs->dev);
    free(fs->type);
    free(fs);
}
