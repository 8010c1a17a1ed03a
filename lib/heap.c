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
 * touched here.
 *
 * Populated pages still cost: the first touch of each from user space is
 * ~11 us more here (what a fresh 4 KiB page costs in all: ~17 us, against
 * ~85 us for a whole 2 MiB transparent huge page).  So a tool that opens
 * images calls gk_heap_huge() first, and the heap it then grows lives on
 * huge pages (populating stops there: a populated huge page is one the
 * run may never touch). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h> /* mallinfo2 */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "blk-int.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

#define HEAP_STEP_MAX (512u << 10) /* growth populated at once, at most */
#define HUGE ((uintptr_t)2 << 20)      /* a transparent huge page (x86-64, arm64 4K) */

static uintptr_t populated; /* heap pages below this are populated */
static int heap_off;        /* the kernel has no MADV_POPULATE_WRITE */
static uintptr_t huge_from; /* the heap from here on is on huge pages */

/* Whether the kernel gives huge pages to a range that asks for them
 * ("always" or "madvise" in sysfs; "never", or no such file: no). */
static int thp_usable(void)
{
    char b[64];
    int fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, b, sizeof b - 1);
    close(fd);
    if (n <= 0)
        return 0;
    b[n] = 0;
    return !strstr(b, "[never]");
}

void gk_heap_huge(void)
{
    static int done;
    if (__atomic_exchange_n(&done, 1, __ATOMIC_RELAXED) || sizeof(void *) != 8 ||
        getenv("GK_NO_HUGE_HEAP") || !thp_usable())
        return;
    int e = errno;
    /* glibc's main arena is one run of brk memory: allocations come from
     * the start of its top chunk, which grows (sbrk) at the end.  A chunk
     * is taken from the top so that the top then starts one page below a
     * 2 MiB boundary B (glibc writes the top's header there: that page is
     * an ordinary one) and the arena grows in 4 MiB steps, so that
     * [B, B + 4 MiB) is brk memory nobody has touched when it is marked
     * MADV_HUGEPAGE: its first touch then maps a whole huge page.  The
     * chunk is never freed: it is address space, never touched but for
     * its header (and the part of the old top it takes: less than the
     * 128 KiB glibc first takes).  mmap'd blocks (128 KiB or more) stay as they are. */
    void *volatile first = malloc(1); /* volatile: not a pair the compiler drops */
    free(first);                       /* the arena exists (before the 4 MiB pad) */
    mallopt(M_TOP_PAD, 4 << 20);
    mallopt(M_TRIM_THRESHOLD, 8 << 20);
    mallopt(M_MMAP_THRESHOLD, 32 << 20); /* the chunk below: 2 MiB and the top */
    struct mallinfo2 mi = mallinfo2();
    uintptr_t end = (uintptr_t)sbrk(0);
    uintptr_t top = end - mi.keepcost; /* start of the top chunk */
    uintptr_t b = (end + 4096 + HUGE - 1) & ~(HUGE - 1); /* past the end: the arena grows */
    uintptr_t want = b - 4096; /* where the top should start */
    void *p = mi.keepcost && end > mi.keepcost ? malloc(want - top - sizeof(size_t)) : NULL;
    mallopt(M_MMAP_THRESHOLD, 128 << 10); /* glibc's first value (fixed now, not dynamic) */
    mi = mallinfo2();
    end = (uintptr_t)sbrk(0);
    if (!p || (uintptr_t)p != top + 2 * sizeof(size_t) || end - mi.keepcost != want ||
        end < b + HUGE) {
        /* not where it was meant to go (a free chunk served it): glibc's
         * default pad and trim threshold again (its mmap threshold no
         * longer moves: any mallopt fixes it) */
        free(p);
        mallopt(M_TOP_PAD, 128 << 10);
        mallopt(M_TRIM_THRESHOLD, 128 << 10);
        errno = e;
        return;
    }
    uintptr_t hend = end & ~(HUGE - 1);
    if (madvise((void *)b, hend - b, MADV_HUGEPAGE) == 0) {
        __atomic_store_n(&huge_from, b, __ATOMIC_RELAXED);
        __atomic_store_n(&populated, hend, __ATOMIC_RELAXED);
    }
    errno = e;
}

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
    if (__atomic_load_n(&huge_from, __ATOMIC_RELAXED)) {
        /* the arena grew past its huge pages: the new whole ones too
         * (a new brk range is a new mapping, without the mark) */
        uintptr_t a = (from + HUGE - 1) & ~(HUGE - 1), z = top & ~(HUGE - 1);
        if (z > a)
            madvise((void *)a, z - a, MADV_HUGEPAGE);
        errno = e;
        return;
    }
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
