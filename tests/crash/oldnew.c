/* SPDX-License-Identifier: GPL-2.0-or-later */
/* For the crash tests: is every 512-byte sector of NOW the same as OLD's
 * (OLD read as zeros past its end) or NEW's?  Prints the first sector that
 * is neither and exits 1; exits 0 when all are.  A python3 per kill point
 * cost more than the rest of a crash test's checks.
 *
 *   oldnew NOW OLD NEW
 *
 * Built by the test scripts with cc (tests/lib-gimg.sh; not part of
 * guestkit). */
#include <stdio.h>
#include <string.h>

static size_t sector(FILE *f, unsigned char *b)
{
    size_t n = f ? fread(b, 1, 512, f) : 0;
    memset(b + n, 0, 512 - n);
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: oldnew NOW OLD NEW\n");
        return 2;
    }
    FILE *now = fopen(argv[1], "rb"), *old = fopen(argv[2], "rb"), *new = fopen(argv[3], "rb");
    if (!now || !old || !new) {
        perror("oldnew");
        return 2;
    }
    unsigned char a[512], b[512], c[512];
    for (unsigned long i = 0;; i++) {
        size_t n = sector(now, a);
        if (n == 0)
            return 0;
        sector(old, b);
        size_t m = sector(new, c);
        /* NEW matches only with as many bytes there as NOW has */
        if (memcmp(a, b, n) != 0 && (m != n || memcmp(a, c, n) != 0)) {
            printf("sector %lu is neither old nor new", i);
            return 1;
        }
    }
}
