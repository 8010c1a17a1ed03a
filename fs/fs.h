/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* guestkit filesystem layer, all of its public API: filesystems and the
 * guest VFS (vfs.h), the guest session (guest.h) and OS inspection
 * (inspect.h).  Tools include this; the driver interface is private
 * (fs/fs-int.h). */
#ifndef GK_FS_H
#define GK_FS_H

#include "vfs.h"
#include "guest.h"
#include "inspect.h"

#endif
