/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The heap's new pages populated in one call as it grows.
 *
 * A short run (gcat of one file) touches a few hundred KiB of fresh heap:
 * cluster and L2 buffers that a read or an inflate then fills whole.  Each
 * first touch of a page is a page fault, and on a virtual machine a fault
 * is a trap to the hypervisor: ~10 us a page on the machines this is
 * measured on (bench/RESULTS.md), against ~1 us a page when the kernel
 * fills a range in one madvise(MADV_POPULATE_WRITE).  glibc's main arena
 * grows its top (brk) only when an allocation is about to use it, so what
 * it added is populated at once.  A large step (most likely one big buffer
 * that will be touched here and there) is left to fault page by page, and
 * blocks glibc mmaps on their own (128 KiB or more at first) are not
 * touched here. */
#include <errno.h>
#include <malloc.h> /* mallinfo2 */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "blk-int.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

#define HEAP_STEP_MAX (512u << 10) /* growth populated at once, at most */

static uintptr_t populated; /* heap pages below this are populated */
static int heap_off;        /* the kernel has no MADV_POPULATE_WRITE */

void gk_heap_grown(void)
{
    if (__atomic_load_n(&heap_off, __ATOMIC_RELAXED))
        return;
    uintptr_t top = (uintptr_t)sbrk(0) & ~(uintptr_t)4095;
    uintptr_t from = __atomic_load_n(&populated, __ATOMIC_RELAXED);
    if (top <= from)
        return;
    if (!__atomic_compare_exchange_n(&populated, &from, top, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        return; /* another thread does it */
    int e = errno;
    if (!from) {
        /* the first call: the heap as it is now, from its start */
        struct mallinfo2 mi = mallinfo2();
        from = mi.arena < top ? (top - mi.arena) & ~(uintptr_t)4095 : top;
    }
    if (top - from <= HEAP_STEP_MAX && madvise((void *)from, top - from, MADV_POPULATE_WRITE) < 0 &&
        (errno == EINVAL || errno == ENOSYS || errno == EPERM))
        __atomic_store_n(&heap_off, 1, __ATOMIC_RELAXED);
    errno = e;
}
