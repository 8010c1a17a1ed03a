/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The RPM header parser (fs/rpmhdr.c): real headers from an rpmdb.sqlite
 * made by rpm itself (oracle: rpm -qa --qf on the same database), then
 * every truncation, byte overwrites of the index and seeded random
 * mutations (the parser must refuse or succeed within bounds: run under
 * ASan too), and hand-made headers with lying fields. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"
#include "tap.h"

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

/* A header with NAME="pkg", VERSION="1.2", EPOCH=7, SUMMARY (i18n) */
static size_t make_header(unsigned char *b)
{
    static const char store[] = "pkg\0" "1.2\0" "\0\0\0\7" "Sum\0";
    uint32_t dl = sizeof store - 1;
    put32(b, 4);
    put32(b + 4, dl);
    unsigned char *e = b + 8;
    uint32_t ents[4][4] = {{1000, 6, 0, 1}, {1001, 6, 4, 1}, {1003, 4, 8, 1}, {1004, 9, 12, 1}};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            put32(e + i * 16 + j * 4, ents[i][j]);
    memcpy(b + 8 + 64, store, dl);
    return 8 + 64 + dl;
}

static void check_handmade(void)
{
    unsigned char b[256];
    gk_app a;
    size_t n = make_header(b);
    ok(gk_rpmhdr_parse(b, n, &a) == 0, "hand-made header parses");
    is_str(a.name, "pkg", "name");
    is_str(a.version, "1.2", "version");
    is_int(a.epoch, 7, "epoch");
    is_str(a.summary, "Sum", "i18n summary (first locale)");
    ok(a.release == NULL && a.url == NULL, "absent tags stay NULL");
    gk_app_clear(&a);

    unsigned char m[256];
    memcpy(m, "\x8e\xad\xe8\x01\0\0\0\0", 8);
    memcpy(m + 8, b, n);
    ok(gk_rpmhdr_parse(m, n + 8, &a) == 0 && strcmp(a.name, "pkg") == 0, "header with the magic of a .rpm file");
    gk_app_clear(&a);

    memcpy(m, b, n);
    put32(m + 8 + 8, 3);                  /* NAME offset in the middle of "1.2" */
    ok(gk_rpmhdr_parse(m, n, &a) < 0, "NAME pointing at an empty string is refused");
    memcpy(m, b, n);
    put32(m + 8 + 2 * 16 + 8, 14);        /* EPOCH 4 bytes at 14 of 16: past the end */
    ok(gk_rpmhdr_parse(m, n, &a) < 0, "EPOCH running past the data store is refused");
    memcpy(m, b, n);
    m[n - 1] = 'x';                       /* SUMMARY no longer NUL-terminated */
    ok(gk_rpmhdr_parse(m, n, &a) < 0, "unterminated last string is refused");
    memcpy(m, b, n);
    put32(m + 8 + 4, 7);                  /* NAME as BIN */
    ok(gk_rpmhdr_parse(m, n, &a) < 0, "NAME of a non-string type is refused");
    memcpy(m, b, n);
    put32(m, 0x10000);
    ok(gk_rpmhdr_parse(m, n, &a) < 0, "more index entries than rpm allows is refused");
    memcpy(m, b, n);
    put32(m + 4, 0xffffffff);
    ok(gk_rpmhdr_parse(m, n, &a) < 0, "data store size beyond rpm's limit is refused");
    put32(m + 4, 0xfffffff);
    ok(gk_rpmhdr_parse(m, n, &a) < 0, "data store larger than the blob is refused");
    ok(gk_rpmhdr_parse(b, 0, &a) < 0 && gk_rpmhdr_parse(b, 7, &a) < 0, "blobs shorter than 8 bytes refused");
}

/* Mutate one real blob every which way; nothing may crash and a success
 * must give a name. */
static void mutate(const unsigned char *blob, size_t len, const char *name)
{
    unsigned char *m = malloc(len);
    gk_app a;
    int bad = 0, refused = 0;
    for (size_t l = 0; l < len; l++) {
        /* exact-size copies so ASan sees any read past the end */
        unsigned char *t = malloc(l ? l : 1);
        memcpy(t, blob, l);
        if (gk_rpmhdr_parse(t, l, &a) == 0) {
            bad++;
            gk_app_clear(&a);
        } else {
            refused++;
        }
        free(t);
    }
    is_int(bad, 0, "%s: every truncation (%zu) refused", name, len);
    uint32_t il = gk_be32(blob);
    size_t idx_end = 8 + (size_t)il * 16;
    int ok_runs = 0;
    for (size_t i = 0; i < idx_end && i < len; i++)
        for (int v = 0; v < 3; v++) {
            memcpy(m, blob, len);
            m[i] = v == 0 ? 0xff : v == 1 ? 0x00 : (unsigned char)(m[i] ^ 0x80);
            if (gk_rpmhdr_parse(m, len, &a) == 0) {
                if (!a.name || !*a.name)
                    bad++;
                ok_runs++;
                gk_app_clear(&a);
            }
        }
    is_int(bad, 0, "%s: index byte overwrites never give a nameless package (%d parsed)", name, ok_runs);
    unsigned seed = 12345;
    for (int it = 0; it < 20000; it++) {
        memcpy(m, blob, len);
        int nflip = 1 + (int)(rand_r(&seed) % 4);
        for (int k = 0; k < nflip; k++) {
            size_t pos = (size_t)rand_r(&seed) % (idx_end < len ? idx_end : len);
            m[pos] = (unsigned char)rand_r(&seed);
        }
        if (gk_rpmhdr_parse(m, len, &a) == 0)
            gk_app_clear(&a);
    }
    ok(1, "%s: 20000 random index mutations survived", name);
    free(m);
}

static char *run(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *out = malloc(cap);
    size_t r;
    while ((r = fread(out + n, 1, cap - n - 1, p)) > 0) {
        n += r;
        if (n + 1 >= cap)
            out = realloc(out, cap *= 2);
    }
    out[n] = 0;
    if (pclose(p) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

static void check_real(void)
{
    char dir[] = "/tmp/gkrpmhdr.XXXXXX";
    if (!mkdtemp(dir) || system("command -v rpmbuild >/dev/null && command -v rpm >/dev/null") != 0) {
        ok(1, "# SKIP rpm/rpmbuild not installed");
        return;
    }
    char *cmd = gk_asprintf(
        "set -e; cd %s; mkdir -p top/SPECS db\n"
        "mk() { printf 'Name: %%s\\n%%bVersion: %%s\\nRelease: %%s\\nLicense: MIT\\nURL: https://example.org/%%s\\n"
        "Summary: the %%s package\\n%%%%description\\nLong text of %%s.\\nLine two.\\n%%%%files\\n' "
        "\"$1\" \"$2\" \"$3\" \"$4\" \"$1\" \"$1\" \"$1\" > top/SPECS/$1.spec\n"
        "  rpmbuild -bb --quiet --define \"_topdir $PWD/top\" top/SPECS/$1.spec >/dev/null 2>&1; }\n"
        "mk one '' 1.0 1.fc39; mk two 'Epoch: 3\\n' 2.5.1 0.rc1.el9; mk three '' 10 7\n"
        "rpm --define '_db_backend sqlite' --dbpath $PWD/db --initdb\n"
        "rpm --define '_db_backend sqlite' --dbpath $PWD/db -i --justdb --nodeps --noscripts "
        "--ignorearch top/RPMS/*/*.rpm >/dev/null 2>&1\n"
        "rpm -qa --dbpath $PWD/db --qf '%%{NAME}|%%{EPOCH}|%%{VERSION}|%%{RELEASE}|%%{ARCH}|%%{URL}|%%{SUMMARY}\\n' | sort\n",
        dir);
    char *want = run(cmd);
    free(cmd);
    ok(want != NULL, "rpm made a sqlite database");
    if (!want)
        return;
    char *db = gk_asprintf("%s/db/rpmdb.sqlite", dir);
    sqlite3 *sq;
    sqlite3_stmt *st;
    ok(sqlite3_open_v2(db, &sq, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
       sqlite3_prepare_v2(sq, "SELECT blob FROM Packages", -1, &st, NULL) == SQLITE_OK,
       "open the database with sqlite3");
    char *lines[16];
    int n = 0;
    unsigned char *blobs[16];
    size_t lens[16];
    while (sqlite3_step(st) == SQLITE_ROW && n < 16) {
        const void *b = sqlite3_column_blob(st, 0);
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        blobs[n] = malloc(len);
        memcpy(blobs[n], b, len);
        lens[n] = len;
        gk_app a;
        if (gk_rpmhdr_parse(b, len, &a) == 0) {
            char ep[16] = "(none)";
            if (a.epoch)
                snprintf(ep, sizeof ep, "%d", a.epoch);
            lines[n] = gk_asprintf("%s|%s|%s|%s|%s|%s|%s", a.name, ep, a.version, a.release,
                                   a.arch, a.url ? a.url : "(none)", a.summary);
            gk_app_clear(&a);
        } else {
            lines[n] = gk_asprintf("parse error: %s", gk_errmsg());
        }
        n++;
    }
    sqlite3_finalize(st);
    sqlite3_close(sq);
    /* sort like sort(1) in the C locale */
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (strcmp(lines[i], lines[j]) > 0) {
                char *t = lines[i]; lines[i] = lines[j]; lines[j] = t;
            }
    size_t total = 1;
    for (int i = 0; i < n; i++)
        total += strlen(lines[i]) + 1;
    char *got = calloc(1, total);
    for (int i = 0; i < n; i++) {
        strcat(got, lines[i]);
        strcat(got, "\n");
        free(lines[i]);
    }
    is_int(n, 3, "three headers in the database");
    is_str(got, want, "parsed fields = rpm -qa --qf on the same database");
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "real header %d", i + 1);
        mutate(blobs[i], lens[i], name);
        free(blobs[i]);
    }
    free(got);
    free(want);
    free(db);
    char *rm = gk_asprintf("rm -rf %s", dir);
    if (system(rm) != 0) {
    }
    free(rm);
}

int main(void)
{
    check_handmade();
    check_real();
    return done_testing();
}
