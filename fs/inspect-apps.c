/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Installed applications of an inspected OS (libguestfs' inspect-apps.c):
 * dpkg status, rpmdb.sqlite (headers decoded by fs/rpmhdr.c), apk's
 * installed db and pacman's local db.  The OS is mounted in a private
 * VFS (root, then its fstab mountpoints, shortest first); every file is
 * size-capped and every line length-capped.  Output sorted by name.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inspect-int.h"

typedef struct applist {
    gk_app *v;
    int n, cap;
} applist;

static gk_app *app_new(applist *l)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = gk_realloc(l->v, (size_t)l->cap * sizeof *l->v);
    }
    gk_app *a = &l->v[l->n++];
    memset(a, 0, sizeof *a);
    return a;
}

static void set_str(char **dst, const char *s)
{
    char *copy = s ? gk_strdup(s) : NULL;   /* s may be *dst itself */
    free(*dst);
    *dst = copy;
}

/* "[epoch:]rest": the epoch if all digits before the first ':'. */
static const char *split_epoch(const char *v, int *epoch)
{
    const char *c = strchr(v, ':');
    *epoch = 0;
    if (!c || c == v || strspn(v, "0123456789") != (size_t)(c - v))
        return v;
    long e = strtol(v, NULL, 10);
    *epoch = e > 0x7fffffff || e < 0 ? 0x7fffffff : (int)e;
    return c + 1;
}

/* ------------------------------------------------------------------ */
/* dpkg                                                                */

/* Debian policy: [epoch:]upstream[-revision], revision after the LAST
 * hyphen (libguestfs splits at the first, which misreads "1.2-3-4"). */
static void dpkg_version(gk_app *a, const char *v)
{
    const char *rest = split_epoch(v, &a->epoch);
    const char *dash = strrchr(rest, '-');
    if (dash) {
        a->version = gk_strndup(rest, (size_t)(dash - rest));
        a->release = gk_strdup(dash + 1);
    } else {
        a->version = gk_strdup(rest);
    }
}

/* One paragraph of the status file: [p, end). */
static void dpkg_paragraph(applist *l, char *p, const char *dev)
{
    char *cur = p, *line;
    char *pkg = NULL, *ver = NULL, *status = NULL, *arch = NULL, *url = NULL,
         *src = NULL, *summary = NULL;
    size_t dcap = 0, dlen = 0;
    char *desc = NULL;
    int in_desc = 0, trunc;
    while ((line = insp_next_line(&cur, &trunc))) {
        if (trunc)
            gk_warn("%s: /var/lib/dpkg/status: line longer than %u bytes truncated", dev, INSP_LINE_MAX);
        if (line[0] == ' ' || line[0] == '\t') {
            if (!in_desc)
                continue;
            const char *t = line + 1;
            if (!strcmp(t, "."))
                t = "";
            size_t n = strlen(t);
            if (dlen + n + 2 > dcap) {
                dcap = (dlen + n + 2) * 2;
                desc = gk_realloc(desc, dcap);
            }
            if (dlen)
                desc[dlen++] = '\n';
            memcpy(desc + dlen, t, n);
            dlen += n;
            desc[dlen] = 0;
            continue;
        }
        in_desc = 0;
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = 0;
        char *val = insp_trim(colon + 1);
        if (!strcmp(line, "Package")) pkg = val;
        else if (!strcmp(line, "Version")) ver = val;
        else if (!strcmp(line, "Status")) status = val;
        else if (!strcmp(line, "Architecture")) arch = val;
        else if (!strcmp(line, "Homepage")) url = val;
        else if (!strcmp(line, "Source")) src = val;
        else if (!strcmp(line, "Description")) {
            summary = val;
            in_desc = 1;
        }
    }
    /* "Status: want flag status" ("install ok installed").  libguestfs
     * takes any Status containing "installed" (its phony Debian guest has
     * "installed ok"); we take the word "installed" anywhere, which keeps
     * that and still leaves out "half-installed" and "not-installed" as
     * dpkg-query does. */
    int installed = 0;
    if (status) {
        char *copy = gk_strdup(status), *save = NULL;
        for (char *w = strtok_r(copy, " \t", &save); w && !installed; w = strtok_r(NULL, " \t", &save))
            installed = strcmp(w, "installed") == 0;
        free(copy);
    }
    if (pkg && *pkg && ver && installed) {
        gk_app *a = app_new(l);
        a->name = gk_strdup(pkg);
        dpkg_version(a, ver);
        set_str(&a->arch, arch);
        set_str(&a->url, url);
        if (src) {
            char *sp = strchr(src, ' ');   /* "glibc (2.36-9)" */
            a->source_package = sp ? gk_strndup(src, (size_t)(sp - src)) : gk_strdup(src);
        }
        set_str(&a->summary, summary);
        a->description = desc;
        desc = NULL;
    }
    free(desc);
}

static void apps_dpkg(gk_vfs *v, applist *l)
{
    char *buf;
    size_t len;
    if (insp_read(v, "/var/lib/dpkg/status", INSP_DB_MAX, &buf, &len) != 0)
        return;
    /* paragraphs are separated by blank lines; cut them in place */
    char *p = buf;
    while (*p) {
        char *end = strstr(p, "\n\n");
        char *next;
        if (end) {
            end[1] = 0;
            next = end + 2;
        } else {
            next = p + strlen(p);
        }
        dpkg_paragraph(l, p, insp_dev(v));
        p = next;
        while (*p == '\n')
            p++;
    }
    free(buf);
}

/* ------------------------------------------------------------------ */
/* rpm (sqlite)                                                        */

/* Copy a guest file to dst, a new host file (sqlite needs a real file).
 * With no_wal, a WAL-mode database is marked as a rollback-journal one. */
static int copy_out(gk_vfs *v, const char *path, uint64_t max, const char *dst, int no_wal)
{
    gk_node n;
    gk_stat st;
    if (gk_vfs_resolve(v, path, 1, &n) < 0 || gk_node_stat(&n, &st) < 0) {
        gk_warn("%s: %s", insp_dev(v), gk_errmsg());
        return -1;
    }
    if (!S_ISREG(st.mode)) {
        gk_warn("%s: %s: not a regular file", insp_dev(v), path);
        return -1;
    }
    if (st.size > max) {
        gk_warn("%s: %s: file too large (%llu bytes), applications not listed", insp_dev(v), path,
                (unsigned long long)st.size);
        return -1;
    }
    int fd = open(dst, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        gk_warn("temporary file %s: %s", dst, strerror(errno));
        return -1;
    }
    size_t bufsz = 1 << 20;
    char *buf = gk_malloc(bufsz);
    uint64_t off = 0;
    int rc = 0;
    while (off < st.size) {
        size_t want = st.size - off < bufsz ? (size_t)(st.size - off) : bufsz;
        ssize_t r = gk_node_read(&n, buf, want, off);
        if (r < 0) {
            gk_warn("%s: %s: %s", insp_dev(v), path, gk_errmsg());
            rc = -1;
            break;
        }
        if (r == 0)
            break;
        if (write(fd, buf, (size_t)r) != r) {
            gk_warn("temporary file %s: %s", dst, strerror(errno));
            rc = -1;
            break;
        }
        off += (uint64_t)r;
    }
    /* A WAL-mode database (bytes 18/19 == 2) cannot be opened read-only
     * without its -shm file; when there is no WAL to replay, our private
     * copy can say "rollback journal". */
    unsigned char hdr[20];
    if (rc == 0 && no_wal && pread(fd, hdr, sizeof hdr, 0) == (ssize_t)sizeof hdr &&
        !memcmp(hdr, "SQLite format 3", 16) && (hdr[18] == 2 || hdr[19] == 2)) {
        static const unsigned char one[2] = {1, 1};
        if (pwrite(fd, one, 2, 18) != 2)
            rc = -1;
    }
    free(buf);
    close(fd);
    if (rc < 0)
        unlink(dst);
    return rc;
}

/* The database is the guest's: it could make "Packages" a view over a
 * recursive query that never ends, or a schema calling functions.  Accept
 * only a real table, do not trust the schema, and give every statement a
 * budget of virtual-machine steps.  SQLITE_MISUSE: refused (warned). */
struct sq_budget {
    long steps;                  /* thousands of virtual-machine steps left */
    struct timespec deadline;    /* and a wall-clock limit */
};

/* The largest blob (an rpm header) we read: real headers are a few MiB
 * (a package of tens of thousands of files); a crafted one could make each
 * row cost hundreds of MiB. */
#define RPMDB_BLOB_MAX (64 << 20)
/* Seconds reading the rpm database may take in all. */
#define RPMDB_SECONDS 10

static int sqlite_budget(void *ud)
{
    struct sq_budget *b = ud;
    if (--b->steps < 0)
        return 1;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > b->deadline.tv_sec ||
           (now.tv_sec == b->deadline.tv_sec && now.tv_nsec > b->deadline.tv_nsec);
}

/* Packages must be a plain table: no hidden or generated column (a column
 * "blob AS (zeroblob(200000000))" costs half a second a row, and one
 * SQLite instruction can run that long between two budget checks). */
static int plain_columns(sqlite3 *sq, const char *db)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(sq, "SELECT name, hidden FROM pragma_table_xinfo('Packages')",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    int have_blob = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (sqlite3_column_int(st, 1) != 0) {
            gk_warn("%s: column \"%s\" of Packages is generated or hidden: applications not listed",
                    db, name ? name : "?");
            sqlite3_finalize(st);
            return SQLITE_MISUSE;
        }
        if (name && strcmp(name, "blob") == 0)
            have_blob = 1;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rc;
    if (!have_blob) {
        gk_warn("%s: Packages has no blob column: applications not listed", db);
        return SQLITE_MISUSE;
    }
    return SQLITE_OK;
}

static int sqlite_harden(sqlite3 *sq, const char *db, struct sq_budget *budget)
{
    sqlite3_db_config(sq, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
#ifdef SQLITE_DBCONFIG_TRUSTED_SCHEMA
    sqlite3_db_config(sq, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
#endif
    sqlite3_limit(sq, SQLITE_LIMIT_LENGTH, RPMDB_BLOB_MAX);
    /* 2e8 virtual-machine steps (about a second): a scan of a real
     * database with thousands of packages needs well under 1e7 */
    budget->steps = 200000;
    clock_gettime(CLOCK_MONOTONIC, &budget->deadline);
    budget->deadline.tv_sec += RPMDB_SECONDS;
    sqlite3_progress_handler(sq, 1000, sqlite_budget, budget);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(sq, "SELECT CASE WHEN type = 'table' AND sql LIKE 'CREATE TABLE%' THEN 'table' "
                                "WHEN type = 'table' THEN 'virtual table' ELSE type END "
                                "FROM sqlite_master WHERE name = 'Packages'",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    const char *type = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        sqlite3_finalize(st);
        return rc;
    }
    if (!type || strcmp(type, "table") != 0) {
        gk_warn("%s: \"Packages\" is %s%s, not a table: applications not listed", db,
                type ? "a " : "missing", type ? type : "");
        sqlite3_finalize(st);
        return SQLITE_MISUSE;
    }
    sqlite3_finalize(st);
    return plain_columns(sq, db);
}

static void apps_rpm(gk_vfs *v, applist *l)
{
    const char *db = "/var/lib/rpm/rpmdb.sqlite";
    if (!insp_is_file(v, db)) {
        if (insp_is_file(v, "/usr/lib/sysimage/rpm/rpmdb.sqlite"))
            db = "/usr/lib/sysimage/rpm/rpmdb.sqlite";
        else {
            if (insp_is_file(v, "/var/lib/rpm/Packages"))
                gk_warn("%s: /var/lib/rpm/Packages: the BerkeleyDB rpm database is not supported yet "
                        "(only rpmdb.sqlite): applications not listed", insp_dev(v));
            else if (insp_is_file(v, "/var/lib/rpm/Packages.db"))
                gk_warn("%s: /var/lib/rpm/Packages.db: the ndb rpm database is not supported yet "
                        "(only rpmdb.sqlite): applications not listed", insp_dev(v));
            return;
        }
    }
    /* warnings name the database as "DEVICE: PATH" */
    char *dbname = gk_asprintf("%s: %s", insp_dev(v), db);
    /* Transactions not yet checkpointed sit in rpmdb.sqlite-wal (an image
     * of a running VM): copy it too, and let sqlite replay it in our
     * private directory (which needs a read-write open of the copy). */
    char *walpath = gk_asprintf("%s-wal", db);
    gk_stat wst;
    int wal = gk_vfs_stat(v, walpath, &wst) == 0 && S_ISREG(wst.mode) && wst.size > 0;
    const char *tmpdir = getenv("TMPDIR");
    char *dir = gk_asprintf("%s/guestkit-rpmdb.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    char *copy = NULL, *copywal = NULL;
    if (!mkdtemp(dir)) {
        gk_warn("temporary directory %s: %s", dir, strerror(errno));
        free(dir);
        free(walpath);
        free(dbname);
        return;
    }
    copy = gk_asprintf("%s/rpmdb.sqlite", dir);
    copywal = gk_asprintf("%s-wal", copy);
    sqlite3 *sq = NULL;
    sqlite3_stmt *st = NULL;
    struct sq_budget budget = {0};
    int rc = SQLITE_CANTOPEN;
    if (copy_out(v, db, INSP_RPMDB_MAX, copy, !wal) < 0 ||
        (wal && copy_out(v, walpath, INSP_RPMDB_MAX, copywal, 0) < 0))
        goto out;
    db = dbname;
    rc = sqlite3_open_v2(copy, &sq, wal ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite_harden(sq, db, &budget);
    /* sqlite has the file open and has read the schema: without a WAL the
     * name can go now, so no copy of the guest's database outlives us */
    if (!wal)
        unlink(copy);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(sq, "SELECT blob FROM Packages", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        if (rc != SQLITE_MISUSE)
            gk_warn("%s: cannot read the rpm database: %s", db,
                    sq ? sqlite3_errmsg(sq) : "out of memory");
        goto out;
    }
    int bad = 0, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const void *b = sqlite3_column_blob(st, 0);
        int len = sqlite3_column_bytes(st, 0);
        gk_app tmp;
        if (++n > 1000000) {
            gk_warn("%s: more than a million packages: the rest is not listed", db);
            break;
        }
        if (!b || len <= 0 || gk_rpmhdr_parse(b, (size_t)len, &tmp) < 0) {
            if (bad++ < 5)
                gk_warn("%s: package %d: %s (skipped)", db, n,
                        b ? gk_errmsg() : "empty header");
            continue;
        }
        /* libguestfs asks librpm for "%{URL}" and so on, which gives
         * "(none)" for a tag the header does not have (the URL of most
         * packages, the arch of gpg-pubkey): virt-inspector prints that */
        char **tags[] = {&tmp.name, &tmp.version, &tmp.release, &tmp.arch, &tmp.url,
                         &tmp.summary, &tmp.description};
        for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
            if (!*tags[i])
                *tags[i] = gk_strdup("(none)");
        *app_new(l) = tmp;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        gk_warn("%s: reading the rpm database: %s (list incomplete)", db, sqlite3_errmsg(sq));
    if (bad > 5)
        gk_warn("%s: %d bad package headers in all", db, bad);
out:
    sqlite3_finalize(st);
    sqlite3_close(sq);
    static const char *const left[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof left / sizeof left[0]; i++) {
        char *f = gk_asprintf("%s%s", copy, left[i]);
        unlink(f);
        free(f);
    }
    rmdir(dir);
    free(copy);
    free(copywal);
    free(dir);
    free(walpath);
    free(dbname);
}

/* ------------------------------------------------------------------ */
/* apk                                                                 */

/* "[epoch:]ver-rREL" */
static void apk_version(gk_app *a, const char *v)
{
    const char *rest = split_epoch(v, &a->epoch);
    const char *r = NULL;
    for (const char *p = strstr(rest, "-r"); p; p = strstr(p + 1, "-r"))
        r = p;
    if (r) {
        a->version = gk_strndup(rest, (size_t)(r - rest));
        a->release = gk_strdup(r + 2);
    } else {
        a->version = gk_strdup(rest);
    }
}

static void apps_apk(gk_vfs *v, applist *l)
{
    char *buf;
    size_t len;
    if (insp_read(v, "/lib/apk/db/installed", INSP_DB_MAX, &buf, &len) != 0)
        return;
    char *cur = buf, *line;
    gk_app a = {0};
    int more = 1;
    while (more) {
        line = insp_next_line(&cur, NULL);
        if (!line || !*line) {
            if (a.name && *a.name)
                *app_new(l) = a;
            else
                gk_app_clear(&a);
            memset(&a, 0, sizeof a);
            more = line != NULL;
            continue;
        }
        if (line[1] != ':')
            continue;
        const char *val = line + 2;
        switch (line[0]) {
        case 'P': set_str(&a.name, val); break;
        case 'V': free(a.version); free(a.release); a.version = a.release = NULL;
                  apk_version(&a, val); break;
        case 'A': set_str(&a.arch, val); break;
        case 'T': set_str(&a.description, val); break;
        case 'U': set_str(&a.url, val); break;
        }
    }
    free(buf);
}

/* ------------------------------------------------------------------ */
/* pacman                                                              */

struct names { char **v; int n; };

static int collect_dir(void *opaque, const char *name, uint64_t ino, int d_type)
{
    (void)ino; (void)d_type;
    struct names *ns = opaque;
    if (ns->n >= 100000)
        return 1;
    ns->v = gk_realloc(ns->v, (size_t)(ns->n + 1) * sizeof *ns->v);
    ns->v[ns->n++] = gk_strdup(name);
    return 0;
}

static void pacman_desc(gk_vfs *v, const char *path, applist *l)
{
    char *buf;
    size_t len;
    if (insp_read(v, path, INSP_DESC_MAX, &buf, &len) != 0)
        return;
    gk_app a = {0};
    char *cur = buf, *line, *key = NULL;
    while ((line = insp_next_line(&cur, NULL))) {
        if (line[0] == '%') {
            key = line;
            continue;
        }
        if (!key)
            continue;
        if (!strcmp(key, "%NAME%")) set_str(&a.name, line);
        else if (!strcmp(key, "%VERSION%")) {
            /* [epoch:]ver-rel, the release is required */
            const char *rest = split_epoch(line, &a.epoch);
            const char *d = strrchr(rest, '-');
            free(a.version); free(a.release);
            a.version = d ? gk_strndup(rest, (size_t)(d - rest)) : gk_strdup(rest);
            a.release = d ? gk_strdup(d + 1) : NULL;
        }
        else if (!strcmp(key, "%DESC%")) set_str(&a.description, line);
        else if (!strcmp(key, "%URL%")) set_str(&a.url, line);
        else if (!strcmp(key, "%ARCH%")) set_str(&a.arch, line);
        key = NULL;     /* only the first line of each section */
    }
    free(buf);
    /* name, version (with its release) and arch are mandatory, as in
     * libguestfs: without them the desc file is damaged */
    if (a.name && *a.name && a.version && *a.version && a.release && *a.release && a.arch)
        *app_new(l) = a;
    else
        gk_app_clear(&a);
}

static void apps_pacman(gk_vfs *v, applist *l)
{
    struct names ns = {0};
    if (gk_vfs_readdir(v, "/var/lib/pacman/local", collect_dir, &ns) < 0) {
        if (errno != ENOENT)
            gk_warn("%s: /var/lib/pacman/local: %s", insp_dev(v), gk_errmsg());
        return;
    }
    for (int i = 0; i < ns.n; i++) {
        if (strchr(ns.v[i], '/') == NULL && strcmp(ns.v[i], "ALPM_DB_VERSION") != 0) {
            char *p = gk_asprintf("/var/lib/pacman/local/%s/desc", ns.v[i]);
            pacman_desc(v, p, l);
            free(p);
        }
        free(ns.v[i]);
    }
    free(ns.v);
}

/* ------------------------------------------------------------------ */

static int cmp_app(const void *a, const void *b)
{
    return strcmp(((const gk_app *)a)->name, ((const gk_app *)b)->name);
}

static int cmp_mp_len(const void *a, const void *b)
{
    const gk_mp *x = a, *y = b;
    size_t lx = strlen(x->mountpoint), ly = strlen(y->mountpoint);
    return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x->mountpoint, y->mountpoint);
}

static int mount_dev(gk_guest *g, gk_vfs *v, const char *dev, const char *mp)
{
    char *subvol;
    gk_devent *e = gk_devset_find_mountable(g->devs, dev, &subvol);
    free(subvol);
    const char *t = e && e->dev ? gk_devent_probe(e)->type : NULL;
    if (!t || !gk_fs_supported(t))
        return -1;
    gk_fs *fs = gk_guest_fs_open(g, dev, NULL, NULL, 0, NULL);
    if (!fs)
        return -1;
    if (gk_vfs_mount(v, fs, mp, dev) < 0) {
        gk_fs_close(fs);
        return -1;
    }
    return 0;
}

int gk_inspect_apps(gk_guest *g, gk_os *os)
{
    if (os->apps_done)
        return 0;
    gk_vfs *v = gk_vfs_new();
    if (mount_dev(g, v, os->root, "/") < 0) {
        gk_error_prefix("%s", os->root);
        gk_vfs_free(v);
        return -1;
    }
    gk_mp *mps = gk_calloc((size_t)os->nmps + 1, sizeof *mps);
    memcpy(mps, os->mps, (size_t)os->nmps * sizeof *mps);
    qsort(mps, (size_t)os->nmps, sizeof *mps, cmp_mp_len);
    for (int i = 0; i < os->nmps; i++)
        if (strcmp(mps[i].mountpoint, "/") != 0 && mount_dev(g, v, mps[i].dev, mps[i].mountpoint) < 0)
            gk_debug("inspect: %s on %s: not mounted for the application list",
                     mps[i].dev, mps[i].mountpoint);
    free(mps);

    applist l = {0};
    const char *f = os->package_format ? os->package_format : "";
    if (!strcmp(f, "deb"))
        apps_dpkg(v, &l);
    else if (!strcmp(f, "rpm"))
        apps_rpm(v, &l);
    else if (!strcmp(f, "apk"))
        apps_apk(v, &l);
    else if (!strcmp(f, "pacman"))
        apps_pacman(v, &l);
    else if (os->type && !strcmp(os->type, "windows"))
        l.n = l.cap = insp_windows_apps(v, os, &l.v);
    gk_vfs_free(v);
    if (l.n > 1)
        qsort(l.v, (size_t)l.n, sizeof *l.v, cmp_app);
    os->apps = l.v;
    os->napps = l.n;
    os->apps_done = 1;
    return 0;
}
