/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ginspect --each --sqlite FILE: the fleet's reports as SQLite tables, one
 * per kind of thing (ginspect(1), "SQLITE OUTPUT", documents them).  Rows
 * are filled from the report ginspect --json writes (the members of each
 * object by name), so this file knows column names, never how inspection
 * finds them. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "each.h"

struct gk_each_db {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *img, *os, *mp, *fs, *drv, *app;
};

/* One table per kind: its name, its JSON list in an operating system (NULL
 * for the operating systems themselves) and its columns, which are the
 * JSON members of the same names. */
typedef struct table {
    const char *name, *list;
    const char *cols[16];
} table;

static const table T_OS = {"operating_systems", NULL,
    {"root", "name", "arch", "distro", "product_name", "product_variant", "major_version",
     "minor_version", "package_format", "package_management", "windows_systemroot",
     "windows_current_control_set", "hostname", "build_id", "osinfo"}};
static const table T_MP = {"mountpoints", "mountpoints", {"dev", "mountpoint"}};
static const table T_FS = {"filesystems", "filesystems", {"dev", "type", "label", "uuid"}};
static const table T_DRV = {"drive_mappings", "drive_mappings", {"name", "dev"}};
static const table T_APP = {"applications", "applications",
    {"name", "display_name", "epoch", "version", "release", "arch", "install_path", "publisher",
     "url", "source_package", "summary", "description"}};

static const char SCHEMA[] =
    "CREATE TABLE images (\n"
    "  image_id INTEGER PRIMARY KEY,  -- in the order the images finished\n"
    "  position INTEGER NOT NULL,     -- 1-based place in the input (-a, then --from)\n"
    "  image TEXT NOT NULL,           -- as given\n"
    "  status TEXT NOT NULL,          -- 'ok' or 'error'\n"
    "  error TEXT,                    -- why, for an error\n"
    "  warnings TEXT                  -- the warnings, one per line, or NULL\n"
    ");\n"
    "CREATE TABLE operating_systems (\n"
    "  os_id INTEGER PRIMARY KEY,\n"
    "  image_id INTEGER NOT NULL REFERENCES images,\n"
    "  root TEXT, name TEXT, arch TEXT, distro TEXT, product_name TEXT,\n"
    "  product_variant TEXT, major_version INTEGER, minor_version INTEGER,\n"
    "  package_format TEXT, package_management TEXT, windows_systemroot TEXT,\n"
    "  windows_current_control_set TEXT, hostname TEXT, build_id TEXT, osinfo TEXT\n"
    ");\n"
    "CREATE TABLE mountpoints (\n"
    "  os_id INTEGER NOT NULL REFERENCES operating_systems,\n"
    "  image_id INTEGER NOT NULL REFERENCES images,\n"
    "  dev TEXT, mountpoint TEXT\n"
    ");\n"
    "CREATE TABLE filesystems (\n"
    "  os_id INTEGER NOT NULL REFERENCES operating_systems,\n"
    "  image_id INTEGER NOT NULL REFERENCES images,\n"
    "  dev TEXT, type TEXT, label TEXT, uuid TEXT\n"
    ");\n"
    "CREATE TABLE drive_mappings (\n"
    "  os_id INTEGER NOT NULL REFERENCES operating_systems,\n"
    "  image_id INTEGER NOT NULL REFERENCES images,\n"
    "  name TEXT, dev TEXT\n"
    ");\n"
    "CREATE TABLE applications (\n"
    "  os_id INTEGER NOT NULL REFERENCES operating_systems,\n"
    "  image_id INTEGER NOT NULL REFERENCES images,\n"
    "  name TEXT, display_name TEXT, epoch INTEGER, version TEXT, release TEXT,\n"
    "  arch TEXT, install_path TEXT, publisher TEXT, url TEXT, source_package TEXT,\n"
    "  summary TEXT, description TEXT\n"
    ");\n"
    "CREATE INDEX applications_name ON applications(name);\n"
    "CREATE INDEX operating_systems_image ON operating_systems(image_id);\n";

/* The database file this process made: removed at exit unless it was
 * closed whole, so that a run that fails leaves no database behind, as a
 * failed write leaves no file; with it SQLite's companions of it that did
 * not exist before.  Only by the process that made it: a worker, forked
 * from it, exits on its own. */
static const char *const companions[] = {"", "-wal", "-shm", "-journal"};
static struct {
    char *path;
    pid_t pid;
    unsigned made;                 /* bit i: companions[i] is ours */
} made_db;

static void remove_made_db(void)
{
    if (!made_db.path || getpid() != made_db.pid)
        return;
    for (size_t i = 0; i < sizeof companions / sizeof *companions; i++)
        if (made_db.made >> i & 1) {
            char *p = gk_asprintf("%s%s", made_db.path, companions[i]);
            unlink(p);
            free(p);
        }
}

/* Finalizes the statements (their slots left NULL). */
static void db_finalize(gk_each_db *d)
{
    sqlite3_stmt **v[] = {&d->img, &d->os, &d->mp, &d->fs, &d->drv, &d->app};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        sqlite3_finalize(*v[i]);
        *v[i] = NULL;
    }
}

/* Closes the connection and frees d: sqlite3_close's result. */
static int db_free(gk_each_db *d)
{
    db_finalize(d);
    int rc = sqlite3_close(d->db);
    free(d->path);
    free(d);
    return rc;
}

/* Dies with SQLite's message, having freed what d holds (LeakSanitizer
 * checks this exit too). */
static void __attribute__((noreturn)) db_die(gk_each_db *d, const char *what)
{
    char msg[GK_PATH_MAX + 512];
    snprintf(msg, sizeof msg, "--sqlite %s: %s: %s", d->path, what, sqlite3_errmsg(d->db));
    db_free(d);
    gk_die("%s", msg);
}

/* INSERT INTO name (os_id, image_id, cols...) VALUES (?, ...) */
static sqlite3_stmt *prepare(gk_each_db *d, const table *t)
{
    size_t ncols = 0;
    while (ncols < 16 && t->cols[ncols])
        ncols++;
    char sql[1024];
    int n = snprintf(sql, sizeof sql, "INSERT INTO %s (%s image_id", t->name,
                     t->list ? "os_id," : "");
    for (size_t i = 0; i < ncols; i++)
        n += snprintf(sql + n, sizeof sql - (size_t)n, ", %s", t->cols[i]);
    n += snprintf(sql + n, sizeof sql - (size_t)n, ") VALUES (%s?", t->list ? "?, " : "");
    for (size_t i = 0; i < ncols; i++)
        n += snprintf(sql + n, sizeof sql - (size_t)n, ", ?");
    snprintf(sql + n, sizeof sql - (size_t)n, ")");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK)
        db_die(d, "preparing an insert");
    return st;
}

gk_each_db *gk_each_db_create(const char *path)
{
    /* never mixed into an older database: a new file */
    unsigned made = 1;
    for (size_t i = 1; i < sizeof companions / sizeof *companions; i++) {
        char *p = gk_asprintf("%s%s", path, companions[i]);
        struct stat st;
        if (lstat(p, &st) < 0 && errno == ENOENT)
            made |= 1u << i;
        free(p);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        gk_die("--sqlite %s: %s%s", path, strerror(errno),
               errno == EEXIST ? " (a new file is made: remove it first)" : "");
    close(fd);
    if (!made_db.path)
        atexit(remove_made_db);
    free(made_db.path);
    made_db.path = gk_strdup(path);
    made_db.pid = getpid();
    made_db.made = made;
    gk_each_db *d = gk_calloc(1, sizeof *d);
    d->path = gk_strdup(path);
    if (sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        db_die(d, "opening");
    /* one transaction per image: with a write-ahead log and NORMAL sync
     * a commit costs no fsync, and a crash still leaves whole images */
    if (sqlite3_exec(d->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", NULL, NULL,
                     NULL) != SQLITE_OK)
        db_die(d, "setting the journal mode");
    if (sqlite3_exec(d->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK)
        db_die(d, "creating the tables");
    d->img = NULL;
    if (sqlite3_prepare_v2(d->db,
            "INSERT INTO images (position, image, status, error, warnings) VALUES (?, ?, ?, ?, ?)",
            -1, &d->img, NULL) != SQLITE_OK)
        db_die(d, "preparing an insert");
    d->os = prepare(d, &T_OS);
    d->mp = prepare(d, &T_MP);
    d->fs = prepare(d, &T_FS);
    d->drv = prepare(d, &T_DRV);
    d->app = prepare(d, &T_APP);
    return d;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (!s) {
        sqlite3_bind_null(st, i);
        return;
    }
    char *c = gk_utf8_clean(s);
    sqlite3_bind_text(st, i, c, -1, free);
}

/* Bind the members of o named by t's columns from parameter first on. */
static void bind_obj(sqlite3_stmt *st, int first, const table *t, json_object *o)
{
    for (int i = 0; i < 16 && t->cols[i]; i++) {
        json_object *v;
        int p = first + i;
        if (!json_object_object_get_ex(o, t->cols[i], &v) || !v)
            sqlite3_bind_null(st, p);
        else if (json_object_is_type(v, json_type_int))
            sqlite3_bind_int64(st, p, json_object_get_int64(v));
        else if (json_object_is_type(v, json_type_string))
            bind_text(st, p, json_object_get_string(v));
        else
            sqlite3_bind_null(st, p);
    }
}

static int step(gk_each_db *d, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        gk_error("--sqlite %s: %s", d->path, sqlite3_errmsg(d->db));
        return -1;
    }
    return 0;
}

static int add_list(gk_each_db *d, sqlite3_stmt *st, const table *t, json_object *os,
                    sqlite3_int64 os_id, sqlite3_int64 img_id)
{
    json_object *arr;
    if (!json_object_object_get_ex(os, t->list, &arr) || !json_object_is_type(arr, json_type_array))
        return 0;
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(o, json_type_object))
            continue;
        sqlite3_bind_int64(st, 1, os_id);
        sqlite3_bind_int64(st, 2, img_id);
        bind_obj(st, 3, t, o);
        if (step(d, st) < 0)
            return -1;
    }
    return 0;
}

int gk_each_db_add(gk_each_db *d, const gk_each_result *r, const char *status,
                   const char *error, void *inspection)
{
    if (sqlite3_exec(d->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_int(d->img, 1, r->index);
    bind_text(d->img, 2, r->image);
    bind_text(d->img, 3, status);
    bind_text(d->img, 4, error);
    if (r->nwarnings) {
        size_t len = 1;
        for (int i = 0; i < r->nwarnings; i++)
            len += strlen(r->warnings[i]) + 1;
        char *w = gk_malloc(len), *p = w;
        for (int i = 0; i < r->nwarnings; i++)
            p += sprintf(p, "%s%s", i ? "\n" : "", r->warnings[i]);
        bind_text(d->img, 5, w);
        free(w);
    }
    if (step(d, d->img) < 0)
        goto rollback;
    sqlite3_int64 img_id = sqlite3_last_insert_rowid(d->db);
    json_object *oses;
    if (inspection && json_object_object_get_ex(inspection, "operatingsystems", &oses) &&
        json_object_is_type(oses, json_type_array)) {
        size_t n = json_object_array_length(oses);
        for (size_t i = 0; i < n; i++) {
            json_object *os = json_object_array_get_idx(oses, i);
            if (!json_object_is_type(os, json_type_object))
                continue;
            sqlite3_bind_int64(d->os, 1, img_id);
            bind_obj(d->os, 2, &T_OS, os);
            if (step(d, d->os) < 0)
                goto rollback;
            sqlite3_int64 os_id = sqlite3_last_insert_rowid(d->db);
            if (add_list(d, d->mp, &T_MP, os, os_id, img_id) < 0 ||
                add_list(d, d->fs, &T_FS, os, os_id, img_id) < 0 ||
                add_list(d, d->drv, &T_DRV, os, os_id, img_id) < 0 ||
                add_list(d, d->app, &T_APP, os, os_id, img_id) < 0)
                goto rollback;
        }
    }
    if (sqlite3_exec(d->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    return 0;
rollback:
    sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
fail:
    gk_error("--sqlite %s: %s", d->path, sqlite3_errmsg(d->db));
    return -1;
}

/* The front end's connection, left alone in a worker: the worker closed
 * its file descriptors (closing it would close whatever reuses their
 * numbers), so it stays, reachable (volatile: a store never read is not
 * dropped), until the worker exits. */
static sqlite3 *volatile forgotten;

void gk_each_db_forget(gk_each_db *d)
{
    if (!d)
        return;
    forgotten = d->db;
    free(d->path);
    free(d);
}

int gk_each_db_close(gk_each_db *d)
{
    db_finalize(d);
    /* back to one self-contained file (the log checkpointed into it) */
    if (sqlite3_exec(d->db, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
        gk_error("--sqlite %s: closing: %s", d->path, sqlite3_errmsg(d->db));
        db_free(d);
        return -1;
    }
    char *path = gk_strdup(d->path);
    int rc = db_free(d);
    if (rc != SQLITE_OK) {
        gk_error("--sqlite %s: closing: %s", path, sqlite3_errstr(rc));
    } else if (made_db.path && strcmp(made_db.path, path) == 0) {
        free(made_db.path); /* whole: kept */
        made_db.path = NULL;
    }
    free(path);
    return rc == SQLITE_OK ? 0 : -1;
}
