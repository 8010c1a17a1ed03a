/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The XFS driver against real tools, on the images of test-images/xfs.sh:
 *   v5, v5-1k   node by node against the kernel (the image mounted
 *               read-only: see fscheck.h), statvfs against statfs(2)
 *   v4          against the protofile mkfs.xfs read (types, modes,
 *               owners, contents, link targets, device numbers) and
 *               xfs_db (ls: inode numbers and name hashes; attributes)
 *   ci          ASCII case-insensitive lookups against xfs_db's ls
 *   dirty       the log verdict against xfs_repair -n, the entries
 *               against xfs_db (which reads without replaying either)
 * The formats the images reach are checked with xfs_db's words too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#include "blk.h"
#include "fs-int.h"
#include "fscheck.h"
#include "sh.h"
#include "tap.h"
#include "xfs-int.h"

static char dir[1024], mnt[256];

static char *slurp(const char *name)
{
    char p[2048];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "rb");
    if (!f)
        return gk_strdup("");
    size_t n = 0, cap = 1 << 16, r;
    char *s = gk_malloc(cap);
    while ((r = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n < 2)
            s = gk_realloc(s, cap *= 2);
    }
    s[n] = 0;
    fclose(f);
    return s;
}

static gk_fs *open_img(const char *name, gk_dev **devp)
{
    char p[2048];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    gk_open_opts o = {.format = "raw"};
    gk_dev *d = gk_open_image(p, &o);
    if (!d)
        return NULL;
    gk_fs *fs = gk_fs_open(d, NULL, 0);
    gk_dev_unref(d);
    *devp = NULL;
    return fs;
}

/* Path lookup through the driver alone. */
static int walk_path(gk_fs *fs, const char *path, uint64_t *ino)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    uint64_t cur = fs->root_ino;
    for (char *save = NULL, *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        int r = fs->ops->lookup(fs, cur, c, &cur);
        if (r < 0)
            return r;
    }
    *ino = cur;
    return 0;
}

/* ---- v5 against the kernel ---- */

/* file and adir: a regular file and a directory of the image, for the
 * error checks; min: nodes the image has at least */
static void test_kernel(const char *name, const char *file, const char *adir, int min)
{
    gk_dev *d;
    gk_fs *fs = open_img(name, &d);
    if (!ok(fs != NULL, "%s: opens: %s", name, fs ? "" : gk_errmsg()))
        return;
    char img[2048];
    snprintf(img, sizeof img, "%s/%s", dir, name);
    if (run("mount -o ro,loop,nouuid '%s' '%s' 2>/dev/null", img, mnt) != 0) {
        ok(1, "# SKIP %s: cannot mount", name);
        gk_fs_close(fs);
        return;
    }
    /* work inside the mount, detached at once: whatever happens to this
     * process (a sanitizer stop included), no mount is left behind */
    int here = open(".", O_RDONLY | O_DIRECTORY);
    int in = chdir(mnt) == 0;
    run("umount -l '%s'", mnt);
    if (!in) {
        ok(0, "%s: cannot enter the mount", name);
        gk_fs_close(fs);
        close(here);
        return;
    }
    struct fscheck s;
    fscheck_tree(fs, ".", &s);
    ok(s.checked >= min && fscheck_bad(&s) == 0,
       "%s: %d nodes as the kernel shows them (attrs %d, data %d, dirs %d, links %d, xattrs %d, "
       "lookups %d, fmap %d differ)", name, s.checked, s.bad_attr, s.bad_data, s.bad_dir,
       s.bad_link, s.bad_xattr, s.bad_lookup, s.bad_fmap);
    struct statfs k;
    gk_statvfs v;
    int r = fs->ops->statvfs(fs, &v);
    if (statfs(".", &k) == 0 && r == 0)
        ok(v.bsize == (uint64_t)k.f_bsize && v.blocks == k.f_blocks && v.bfree == k.f_bfree &&
           v.bavail == k.f_bavail && v.files == k.f_files && v.ffree == k.f_ffree &&
           v.namemax == (uint64_t)k.f_namelen,
           "%s: statvfs as statfs(2): blocks %llu/%llu free %llu/%llu avail %llu/%llu files "
           "%llu/%llu ffree %llu/%llu", name, (unsigned long long)v.blocks,
           (unsigned long long)k.f_blocks, (unsigned long long)v.bfree,
           (unsigned long long)k.f_bfree, (unsigned long long)v.bavail,
           (unsigned long long)k.f_bavail, (unsigned long long)v.files,
           (unsigned long long)k.f_files, (unsigned long long)v.ffree,
           (unsigned long long)k.f_ffree);
    else
        ok(0, "%s: statvfs: %s", name, gk_errmsg());
    if (fchdir(here) != 0)
        abort();
    close(here);
    /* errors as the kernel gives them */
    uint64_t f, dd, x;
    char b[16];
    ok(walk_path(fs, file, &f) == 0 && walk_path(fs, adir, &dd) == 0 &&
       fs->ops->lookup(fs, f, "x", &x) == -ENOTDIR && fs->ops->read(fs, dd, b, 1, 0) == -EISDIR &&
       fs->ops->readlink(fs, f, b, sizeof b) == -EINVAL &&
       fs->ops->lookup(fs, dd, "", &x) == -ENOENT,
       "%s: ENOTDIR, EISDIR, EINVAL, ENOENT where the kernel says so", name);
    gk_fs_close(fs);
}

static void test_formats(void)
{
    char *f = slurp("v5-formats.txt");
    static const char *const want[] = {
        "/dirs/sf core.format = 1 (local)", "/dirs/block core.format = 2 (extents)",
        "/dirs/node core.format = 3 (btree)", "/dirs/btree core.format = 3 (btree)",
        "/data/ext300.bin core.format = 3 (btree)", "/data/ext6000.bin core.format = 3 (btree)",
        "/xattr/sf.txt core.format = 2 (extents) core.aformat = 1 (local)",
        "/xattr/leaf.txt core.format = 2 (extents) core.aformat = 2 (extents)",
        "/links/short core.format = 1 (local)", "/links/long400 core.format = 2 (extents)",
        "/dirs/leaf *lhdr.info.hdr.magic = 0x3df1", "/dirs/node *nhdr.info.hdr.magic = 0x3ebe",
        "/xattr/leaf.txt hdr.info.hdr.magic = 0x3bee", "/xattr/node.txt hdr.info.hdr.magic = 0x3ebe",
    };
    int all = 1;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        /* a line of that PATH saying TEXT */
        const char *sp = strchr(want[i], ' ');
        size_t pl = (size_t)(sp - want[i]) + 1;
        const char *text = sp + 1 + (sp[1] == '*');
        int hit = 0;
        for (const char *l = f; l && *l && !hit; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
            const char *eol = strchr(l, '\n'), *t;
            hit = !strncmp(l, want[i], pl) && (t = strstr(l, text)) && (!eol || t < eol);
        }
        if (!hit) {
            printf("# xfs_db does not say: %s\n", want[i]);
            all = 0;
        }
    }
    ok(all, "the v5 image has every directory, attribute, symlink and extent-map form (xfs_db)");
    free(f);
    /* a two-level bmap btree: the root in the inode above level-1 nodes */
    char img[2048];
    snprintf(img, sizeof img, "%s/v5.img", dir);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "xfs_db -r -c 'path /data/ext6000.bin' -c 'print u3.bmbt.level' '%s'", img);
    FILE *p = popen(cmd, "r");
    char line[256] = "";
    if (p) {
        if (!fgets(line, sizeof line, p))
            line[0] = 0;
        pclose(p);
    }
    ok(strstr(line, "level = 2") != NULL, "ext6000.bin's bmap btree has two levels: %s", line);
}

/* ---- v4 against the protofile and xfs_db ---- */

static void test_proto(const char *name)
{
    gk_dev *d;
    gk_fs *fs = open_img(name, &d);
    if (!ok(fs != NULL, "%s: opens: %s", name, fs ? "" : gk_errmsg()))
        return;
    char *proto = slurp("v4.proto");
    char *stack[16];
    int depth = 0, checked = 0, bad = 0;
    char path[4096] = "";
    int lineno = 0;
    for (char *save = NULL, *l = strtok_r(proto, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (++lineno <= 3)
            continue;
        while (*l == ' ')
            l++;
        if (!strcmp(l, "$")) {
            if (depth > 0)
                free(stack[--depth]);
            continue;
        }
        char nm[512], mode[16], arg1[1024] = "", arg2[64] = "";
        unsigned uid, gid;
        if (sscanf(l, "%511s %15s %u %u %1023s %63s", nm, mode, &uid, &gid, arg1, arg2) < 4)
            continue;
        path[0] = 0;
        for (int i = 0; i < depth; i++)
            snprintf(path + strlen(path), sizeof path - strlen(path), "/%s", stack[i]);
        snprintf(path + strlen(path), sizeof path - strlen(path), "/%s", nm);
        unsigned perm = (unsigned)strtoul(mode + 3, NULL, 8) | (mode[1] == 'u' ? 04000 : 0) |
                        (mode[2] == 'g' ? 02000 : 0);
        unsigned type = mode[0] == 'd' ? S_IFDIR : mode[0] == 'l' ? S_IFLNK : mode[0] == 'c' ? S_IFCHR
                      : mode[0] == 'b' ? S_IFBLK : mode[0] == 'p' ? S_IFIFO : S_IFREG;
        uint64_t ino;
        gk_stat st;
        checked++;
        if (walk_path(fs, path, &ino) < 0 || fs->ops->getattr(fs, ino, &st) < 0) {
            printf("# %s: %s\n", path, gk_errmsg());
            bad++;
            continue;
        }
        int b = st.mode != (type | perm) || st.uid != uid || st.gid != gid;
        if (type == S_IFREG) {
            char sp[2048];
            snprintf(sp, sizeof sp, "%s", arg1);
            FILE *f = fopen(sp, "rb");
            uint8_t *want = gk_malloc(st.size + 1), *got = gk_malloc(st.size + 1);
            size_t wn = f ? fread(want, 1, st.size + 1, f) : 0;
            if (f)
                fclose(f);
            ssize_t gn = fs->ops->read(fs, ino, got, st.size + 1, 0);
            b |= wn != st.size || gn != (ssize_t)st.size || memcmp(want, got, wn) != 0;
            free(want);
            free(got);
        } else if (type == S_IFLNK) {
            char t[2048];
            ssize_t n = fs->ops->readlink(fs, ino, t, sizeof t);
            b |= n != (ssize_t)strlen(arg1) || memcmp(t, arg1, (size_t)(n > 0 ? n : 0)) != 0;
        } else if (type == S_IFCHR || type == S_IFBLK) {
            b |= st.rdev != makedev(strtoul(arg1, NULL, 10), strtoul(arg2, NULL, 10));
        } else if (type == S_IFDIR && depth < 15) {
            stack[depth++] = gk_strdup(nm);
        }
        if (b) {
            printf("# %s: differs from the protofile (mode %o)\n", path, st.mode);
            bad++;
        }
    }
    while (depth > 0)
        free(stack[--depth]);
    free(proto);
    ok(checked > 5000 && bad == 0, "%s: %d files as the protofile made them (%d differ)", name,
       checked, bad);

    /* xfs_db's ls: inode numbers, types and name hashes */
    char lsn[256];
    snprintf(lsn, sizeof lsn, "%.*s-ls.txt", (int)(strlen(name) - 4), name);
    char *ls = slurp(lsn);
    int entries = 0, lbad = 0;
    uint64_t cur = 0;
    int noftype = strstr(name, "noftype") != NULL;
    for (char *save = NULL, *l = strtok_r(ls, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        size_t n = strlen(l);
        if (n && l[n - 1] == ':') {
            l[n - 1] = 0;
            if (walk_path(fs, l, &cur) < 0)
                lbad++;
            continue;
        }
        unsigned long long cookie, ino;
        char type[32], nm[512];
        unsigned hash, nlen;
        if (sscanf(l, "%llu %llu %31s %x %u %511s", &cookie, &ino, type, &hash, &nlen, nm) != 6)
            continue;
        entries++;
        uint64_t got = 0;
        if (xfs_da_hashname((const uint8_t *)nm, strlen(nm)) != hash ||
            fs->ops->lookup(fs, cur, nm, &got) < 0 || got != ino) {
            printf("# %s: hash or lookup differs from xfs_db (%s)\n", nm, gk_errmsg());
            lbad++;
        }
    }
    free(ls);
    /* d_type: the file type where the filesystem records one, else unknown */
    uint64_t blk;
    struct fsc_names ns = {0};
    int dt_ok = walk_path(fs, "/block", &blk) == 0 &&
                fs->ops->readdir(fs, blk, fsc_collect, &ns) == 0 && ns.n == 40;
    for (size_t i = 0; i < ns.n; i++)
        dt_ok &= ns.v[i].dt == (noftype ? DT_UNKNOWN : DT_REG);
    fsc_names_free(&ns);
    ok(entries > 5000 && lbad == 0 && dt_ok,
       "%s: %d entries with xfs_db's inode numbers and name hashes (%d differ), d_type %s", name,
       entries, lbad, noftype ? "unknown" : "from ftype");

    /* attributes xfs_db set: values of 'v' as long as it printed */
    struct { const char *file, *attr; size_t len; } at[] = {
        {"/attrs/sf", "user.a", 5}, {"/attrs/sf", "trusted.rootattr", 3},
        {"/attrs/leaf", "user.leafattr17", 40}, {"/attrs/node", "user.nodeattr399", 20},
        {"/attrs/remote", "user.big", 20000}, {"/attrs/remote", "security.secattr", 7},
    };
    char *dbout = slurp("v4-attrs.txt");
    int abad = !strstr(dbout, "a.sfattr.list[0].value = \"vvvvv\"") ||
               !strstr(dbout, "valuelen = 20000");
    free(dbout);
    static uint8_t v[65536];
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        uint64_t ino;
        ssize_t n = walk_path(fs, at[i].file, &ino) == 0
                        ? fs->ops->getxattr(fs, ino, at[i].attr, v, sizeof v) : -1;
        int good = n == (ssize_t)at[i].len;
        for (ssize_t k = 0; good && k < n; k++)
            good = v[k] == 'v';
        if (!good) {
            printf("# %s %s: %zd bytes: %s\n", at[i].file, at[i].attr, n, gk_errmsg());
            abad++;
        }
    }
    uint64_t ino;
    char names[65536];
    ssize_t ln = walk_path(fs, "/attrs/node", &ino) == 0
                     ? fs->ops->listxattr(fs, ino, names, sizeof names) : -1;
    int count = 0;
    for (ssize_t k = 0; k < ln; k += (ssize_t)strlen(names + k) + 1)
        count++;
    ok(abad == 0 && count == 400, "%s: attributes set by xfs_db (shortform, leaf, node, remote; "
       "user, trusted, security): %d listed on the node-form file", name, count);
    gk_fs_close(fs);
}

/* ---- ASCII case-insensitive names ---- */

static void test_ci(void)
{
    gk_dev *d;
    gk_fs *fs = open_img("ci.img", &d);
    if (!ok(fs != NULL, "ci: opens: %s", fs ? "" : gk_errmsg()))
        return;
    char *ls = slurp("ci-ls.txt");
    uint64_t readme = 0, name1999 = 0, exact = 0;
    int entries = 0;
    for (char *save = NULL, *l = strtok_r(ls, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        unsigned long long c, ino;
        char type[32], nm[512];
        unsigned h, n;
        if (sscanf(l, "%llu %llu %31s %x %u %511s", &c, &ino, type, &h, &n, nm) != 6)
            continue;
        entries++;
        if (!strcmp(nm, "ReadMe.TXT")) readme = ino;
        if (!strcmp(nm, "Name1999")) name1999 = ino;
        if (!strcmp(nm, "ExactCase")) exact = ino;
    }
    free(ls);
    uint64_t a = 1, b = 2, c = 3, e = 4, f = 5;
    walk_path(fs, "/mixed/readme.txt", &a);
    walk_path(fs, "/MIXED/README.TXT", &b);
    walk_path(fs, "/Mixed/big/NAME1999", &c);
    walk_path(fs, "/mixed/BIG/exactcase", &e);
    walk_path(fs, "/Mixed/Big/ExactCase", &f);
    ok(entries > 2000 && readme && a == readme && b == readme && c == name1999 && e == exact &&
       f == exact, "ci: lookups in any case find xfs_db's inodes");
    gk_fs_close(fs);
}

/* ---- the log ---- */

static void test_dirty(void)
{
    char *want = slurp("dirty-log.txt"), *clean = slurp("v5-log.txt");
    gk_dev *d;
    gk_fs *fs = open_img("dirty.img", &d);
    gk_fs *fs5 = open_img("v5.img", &d);
    ok(fs && fs5 && ((struct xfs *)fs->priv)->log_dirty == !strncmp(want, "dirty", 5) &&
       ((struct xfs *)fs5->priv)->log_dirty == !strncmp(clean, "dirty", 5) &&
       !strncmp(want, "dirty", 5), "the log needs recovery where xfs_repair -n says so (%.5s, %.5s)",
       want, clean);
    char *ls = slurp("dirty-ls.txt");
    int bad = 0, n = 0;
    for (char *save = NULL, *l = strtok_r(ls, "\n", &save); fs && l; l = strtok_r(NULL, "\n", &save)) {
        unsigned long long c, ino;
        char type[32], nm[512];
        unsigned h, nl;
        if (sscanf(l, "%llu %llu %31s %x %u %511s", &c, &ino, type, &h, &nl, nm) != 6)
            continue;
        uint64_t got;
        n++;
        bad += fs->ops->lookup(fs, fs->root_ino, nm, &got) < 0 || got != ino;
    }
    struct fsc_names ns = {0};
    if (fs)
        fs->ops->readdir(fs, fs->root_ino, fsc_collect, &ns);
    ok(fs && n >= 2 && bad == 0 && ns.n + 2 == (size_t)n,
       "dirty: the root as xfs_db reads it, unreplayed (%d entries)", n);
    fsc_names_free(&ns);
    free(ls);
    /* statvfs of a log needing recovery: the counters summed from the AG
     * headers, as the kernel does before trusting lazy counters (xfs_db
     * prints the AGF and AGI fields), less the 8 blocks per AG it holds back
     * and the free-space btree blocks */
    char img[2048], cmd[8192];
    snprintf(img, sizeof img, "%s/dirty.img", dir);
    snprintf(cmd, sizeof cmd, "for a in $(seq 0 $(( $(xfs_db -r -c 'sb 0' -c 'print agcount' '%s' |"
             " sed 's/.* = //') - 1))); do xfs_db -r -c \"agf $a\" -c 'print freeblks flcount' "
             "-c \"agi $a\" -c 'print count freecount' '%s'; done", img, img);
    FILE *p = popen(cmd, "r");
    unsigned long long fb = 0, fl = 0, cnt = 0, fc = 0, v, ags = 0;
    char key[64];
    while (p && fscanf(p, "%63s = %llu", key, &v) == 2) {
        if (!strcmp(key, "freeblks")) { fb += v; ags++; }
        if (!strcmp(key, "flcount")) fl += v;
        if (!strcmp(key, "count")) cnt += v;
        if (!strcmp(key, "freecount")) fc += v;
    }
    if (p)
        pclose(p);
    gk_statvfs sv;
    ok(fs && ags > 0 && fs->ops->statvfs(fs, &sv) == 0 && sv.bfree == fb + fl - 8 * ags &&
       sv.files - sv.ffree == cnt - fc,
       "dirty: statvfs from the AG headers (xfs_db): %llu free, %llu inodes in use", fb + fl - 8 * ags,
       cnt - fc);
    free(want);
    free(clean);
    gk_fs_close(fs);
    gk_fs_close(fs5);
}

int main(void)
{
    if (getuid() != 0 || run("command -v mkfs.xfs >/dev/null && command -v xfs_db >/dev/null") != 0) {
        printf("1..0 # SKIP needs root and xfsprogs\n");
        return 0;
    }
    const char *images = getenv("GK_IMAGES") ? getenv("GK_IMAGES") : "build/images";
    /* build-all.sh takes the fixture's lock itself (a second flock of
     * the same file around it would wait for ever) */
    if (run("mkdir -p '%s' && test-images/build-all.sh '%s' xfs >/dev/null 2>&1", images, images) != 0) {
        printf("1..0 # SKIP fixture xfs failed (see %s/xfs.log)\n", images);
        return 0;
    }
    snprintf(dir, sizeof dir, "%s/xfs", images);
    snprintf(mnt, sizeof mnt, "/tmp/gkxfs.XXXXXX");
    if (!mkdtemp(mnt))
        return 1;
    gk_progname = "unit-xfs";
    test_formats();
    /* under the sanitizers (make check's second pass) the smaller image
     * only: the driver code is the same */
    if (!getenv("GK_SAN") || strcmp(getenv("GK_SAN"), "1") != 0)
        test_kernel("v5.img", "/hello.txt", "/dirs", 16000);
    test_kernel("v5-1k.img", "/hello.txt", "/dirs", 7000);
    char *i8 = slurp("big-i8.txt");
    ok(strstr(i8, "i8count = ") && !strstr(i8, "i8count = 0"),
       "big.img: its root holds 8-byte inode numbers (xfs_db's i8count)");
    free(i8);
    test_kernel("big.img", "/ag8/file", "/ag8/sub", 33);
    test_proto("v4.img");
    test_proto("v4-noftype.img");
    test_ci();
    test_dirty();
    rmdir(mnt);
    return done_testing();
}
