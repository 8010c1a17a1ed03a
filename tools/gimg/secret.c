/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gimg's share of qemu-img's option syntax for encrypted images:
 * --object secret,id=ID,data=STRING|file=PATH[,format=raw|base64] defines
 * a secret, and --image-opts makes the image argument an option list
 * (driver=qcow2,file.filename=PATH,encrypt.key-secret=ID) that names the
 * secret.  Secrets live in gk_secret_alloc memory until exit; data= is
 * wiped from argv as soon as it is read (ps shows blanks). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "gimg.h"

#define MAX_SECRET (64u << 10)   /* qemu reads secret files whole; keys are small */

struct secret {
    char *id;
    uint8_t *data;               /* gk_secret_alloc'd, len + 1 bytes */
    size_t len;
};
static struct secret *secrets;
static int nsecrets;
static char **formats;           /* driver= values of --image-opts */
static int nformats;

/* One "key=value" of a qemu option list starting at *p, commas doubled
 * inside values; *p moves past it.  The value is copied (the caller frees
 * it; secret = 1 puts it in secret memory, and wipes the source of a
 * data= value). */
static char *opt_next(char **p, char **val, size_t *vlen, int secret)
{
    char *s = *p, *eq = s;
    while (*eq && *eq != '=' && *eq != ',')
        eq++;
    char *key = gk_strndup(s, (size_t)(eq - s));
    size_t n = 0;
    char *v = eq;
    if (*eq == '=') {
        v = eq + 1;
        for (char *q = v; *q; q++) {
            if (*q == ',' && q[1] != ',')
                break;
            if (*q == ',')
                q++;
            n++;
        }
    }
    char *out = secret ? gk_secret_alloc(n + 1) : gk_malloc(n + 1);
    size_t i = 0;
    char *q = v;
    if (*eq == '=') {
        for (; *q; q++) {
            if (*q == ',' && q[1] != ',')
                break;
            if (*q == ',')
                q++;
            out[i++] = *q;
        }
        if (secret && strcmp(key, "data") == 0)
            memset(v, ' ', (size_t)(q - v));
    }
    out[i] = 0;
    *val = out;
    *vlen = n;
    *p = *q == ',' ? q + 1 : q;
    return key;
}

static uint8_t *read_secret_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "re");
    if (!f)
        gk_die("Unable to read %s: %s", path, strerror(errno));
    uint8_t *buf = gk_secret_alloc(MAX_SECRET + 1);
    size_t n = fread(buf, 1, MAX_SECRET + 1, f);
    int err = ferror(f);
    fclose(f);
    if (err)
        gk_die("Unable to read %s: %s", path, strerror(EIO));
    if (n > MAX_SECRET)
        gk_die("%s: secret file larger than %u bytes", path, MAX_SECRET);
    uint8_t *out = gk_secret_alloc(n + 1);
    memcpy(out, buf, n);
    gk_secret_free(buf, MAX_SECRET + 1);
    *len = n;
    return out;
}

void gimg_add_object(char *arg)
{
    char *p = arg, *val;
    size_t vlen;
    char *type = opt_next(&p, &val, &vlen, 0);
    if (*val) { /* "qom-type=secret" spelled out */
        if (strcmp(type, "qom-type") != 0)
            gk_die("--object: expected the object type first: %s", type);
        free(type);
        type = val;
    } else {
        free(val);
    }
    if (strcmp(type, "secret") != 0)
        gk_die("--object %s: only secret objects are supported", type);
    free(type);
    struct secret s = {0};
    char *file = NULL, *format = NULL;
    while (*p) {
        char *key = opt_next(&p, &val, &vlen, 1);
        if (strcmp(key, "id") == 0 && !s.id) {
            s.id = gk_strdup(val);
            gk_secret_free(val, vlen + 1);
        } else if (strcmp(key, "data") == 0 && !s.data && !file) {
            s.data = (uint8_t *)val;
            s.len = vlen;
        } else if (strcmp(key, "file") == 0 && !s.data && !file) {
            file = gk_strdup(val);
            gk_secret_free(val, vlen + 1);
        } else if (strcmp(key, "format") == 0 && !format) {
            format = gk_strdup(val);
            gk_secret_free(val, vlen + 1);
        } else {
            gk_secret_free(val, vlen + 1);
            if (strcmp(key, "keyid") == 0 || strcmp(key, "iv") == 0)
                gk_die("--object secret: encrypted secrets (keyid=, iv=) are not supported");
            gk_die("--object secret: Property '%s' not found or given twice", key);
        }
        free(key);
    }
    if (!s.id)
        gk_die("--object secret: Parameter 'id' is missing");
    if (!s.data && !file)
        gk_die("--object secret %s: Either 'data' or 'file' must be provided", s.id);
    if (file) {
        s.data = read_secret_file(file, &s.len);
        free(file);
    }
    if (format && strcmp(format, "base64") == 0) {
        /* EVP_DecodeBlock counts '=' padding as zero bytes: take them off */
        uint8_t *raw = gk_secret_alloc(s.len / 4 * 3 + 4);
        int n = s.len % 4 ? -1 : EVP_DecodeBlock(raw, s.data, (int)s.len);
        if (n < 0)
            gk_die("--object secret %s: invalid base64 data", s.id);
        for (size_t i = s.len; i > 0 && s.data[i - 1] == '=' && n > 0; i--)
            n--;
        gk_secret_free(s.data, s.len + 1);
        s.data = raw;
        s.len = (size_t)n;
    } else if (format && strcmp(format, "raw") != 0) {
        gk_die("--object secret %s: Invalid parameter 'format': %s (raw or base64)", s.id, format);
    }
    free(format);
    for (int i = 0; i < nsecrets; i++)
        if (strcmp(secrets[i].id, s.id) == 0)
            gk_die("--object secret: attempt to add duplicate property '%s'", s.id);
    secrets = gk_realloc(secrets, (size_t)(nsecrets + 1) * sizeof *secrets);
    secrets[nsecrets++] = s;
    /* creation options (encrypt.key-secret=ID) find it in the library */
    if (gk_secret_define(s.id, s.data, s.len) < 0)
        gk_die("--object secret: %s", gk_errmsg());
}

static const struct secret *find_secret(const char *id)
{
    for (int i = 0; i < nsecrets; i++)
        if (strcmp(secrets[i].id, id) == 0)
            return &secrets[i];
    return NULL;
}

/* An option of the last list that the image's format leaves unused,
 * which qemu refuses once the image is open (gimg_image_opts_unused). */
static const char *unused;
/* The key secret the last list names when --object defined none: qemu
 * looks it up only when the image needs its key (gimg_image_opts_nokey),
 * so info, and any command on an image that is not encrypted, go on. */
static char missing[256];

/* driver=file: qemu's file protocol driver opened as the image, with its
 * own option filename= (the options of a format are not its own).  The
 * file name (allocated), or NULL with err set in qemu's words. */
static char *file_driver_opts(const char *spec, gk_open_opts *o, char *err, size_t errsz)
{
    char *copy = gk_strdup(spec), *p = copy, *val, *filename = NULL, *bad = NULL;
    size_t vlen;
    while (*p) {
        char *key = opt_next(&p, &val, &vlen, 0);
        if (strcmp(key, "filename") == 0) {
            free(filename);
            filename = val;
            val = NULL;
        } else if (!bad && strcmp(key, "driver") != 0 && strcmp(key, "force-share") != 0 &&
                   strcmp(key, "read-only") != 0) {
            bad = gk_strdup(key);
        }
        free(key);
        free(val);
    }
    free(copy);
    if (!filename)
        snprintf(err, errsz, "The 'file' block driver requires a file name");
    else if (bad)
        snprintf(err, errsz, "Block protocol 'file' doesn't support the option '%s'", bad);
    free(bad);
    if (*err) {
        free(filename);
        return NULL;
    }
    o->format = "file";
    return filename;
}

/* The value of the last driver= of an option list, or NULL (allocated). */
static char *list_driver(const char *spec)
{
    char *copy = gk_strdup(spec), *p = copy, *val, *driver = NULL;
    size_t vlen;
    while (*p) {
        char *key = opt_next(&p, &val, &vlen, 0);
        if (strcmp(key, "driver") == 0) {
            free(driver);
            driver = val;
            val = NULL;
        }
        free(key);
        free(val);
    }
    free(copy);
    return driver;
}

/* Whether qemu-img's command opens the backing file of its image: info
 * and rebase -u do not, so an option for it is left unused. */
static int opens_backing(const gimg_args *a, const gk_open_opts *o)
{
    const char *c = a->cmd ? a->cmd->name : "";
    return strcmp(c, "info") != 0 && !(strcmp(c, "rebase") == 0 && (o->flags & GK_OPEN_NO_BACKING));
}

/* The option list is parsed whole; on a bad one what it allocated is
 * freed before gimg dies (LeakSanitizer checks that exit too). */
const char *gimg_image_opts(const gimg_args *a, const char *spec, gk_open_opts *o)
{
    unused = NULL;
    missing[0] = 0;
    if (!a->image_opts)
        return spec;
    if (a->fmt) /* before the list is read, as qemu-img */
        gk_die("--image-opts and --format are mutually exclusive");
    char err[4096] = "";
    char *drv = list_driver(spec);
    int file_driver_only = drv && strcmp(drv, "file") == 0;
    free(drv);
    if (file_driver_only) {
        char *name = file_driver_opts(spec, o, err, sizeof err);
        if (!name)
            gk_die("%s", err);
        return name;
    }
    char *copy = gk_strdup(spec), *p = copy, *val, *filename = NULL, *backing = NULL;
    int luks_key = 0, driver = 0, file_driver = 0, top_filename = 0;
    size_t vlen;
    while (*p && !*err) {
        char *key = opt_next(&p, &val, &vlen, 0);
        const struct secret *sec;
        if (!*val && !strchr(key, '=')) {
            snprintf(err, sizeof err,
                     "--image-opts: '%s' is not an option list (driver=qcow2,file.filename=FILE,...)", key);
        } else if (strcmp(key, "driver") == 0) {
            if (gk_format_check(val) < 0) {
                snprintf(err, sizeof err, "Unknown driver '%s'", val);
            } else {
                driver = 1;
                /* the open options point at it until exit */
                formats = gk_realloc(formats, (size_t)(nformats + 1) * sizeof *formats);
                o->format = formats[nformats++] = gk_strdup(val);
            }
        } else if (strcmp(key, "file.filename") == 0) {
            free(filename);
            filename = gk_strdup(val);
        } else if (strcmp(key, "filename") == 0) {
            /* the file protocol's own option, not a format's: refused below */
            top_filename = 1;
        } else if (strcmp(key, "file.driver") == 0) {
            file_driver = 1;
            if (strcmp(val, "file") != 0)
                snprintf(err, sizeof err, "--image-opts: file.driver=%s is not supported (file only)", val);
        } else if (strcmp(key, "encrypt.key-secret") == 0 || strcmp(key, "key-secret") == 0) {
            /* qcow2's encryption; key-secret is driver=luks's passphrase */
            if (key[0] == 'k')
                luks_key = 1;
            if (!(sec = find_secret(val))) {
                snprintf(missing, sizeof missing, "%s", val);
                o->key = NULL;
            } else {
                missing[0] = 0;
                o->key = (const char *)sec->data;
                o->keylen = sec->len;
            }
        } else if (strcmp(key, "backing.encrypt.key-secret") == 0) {
            /* the backing chain is opened with the top image's key */
            free(backing);
            backing = gk_strdup(val);
        } else if (strcmp(key, "encrypt.format") == 0) {
            if (strcmp(val, "luks") != 0 && strcmp(val, "aes") != 0)
                snprintf(err, sizeof err, "--image-opts: invalid encrypt.format '%s' (luks or aes)", val);
        } else if (strcmp(key, "force-share") == 0 || strcmp(key, "read-only") == 0) {
            /* gimg reads only, and -U is its own option */
        } else {
            snprintf(err, sizeof err, "--image-opts: option '%s' is not supported", key);
        }
        free(key);
        free(val);
    }
    free(copy);
    /* no file to open: qemu's words for each way of saying so */
    if (!*err && !filename)
        snprintf(err, sizeof err, "%s", file_driver ? "The 'file' block driver requires a file name"
                                        : driver    ? "A block device must be specified for \"file\""
                                                    : "Must specify either driver or file");
    int backing_unused = backing && !opens_backing(a, o);
    if (!*err && (top_filename || backing_unused))
        unused = top_filename ? "filename" : "backing.encrypt.key-secret";
    if (!*err && backing && !backing_unused) {
        const struct secret *sec = find_secret(backing);
        if (!sec) {
            snprintf(err, sizeof err, "No secret with id '%s'", backing);
        } else if (o->key && (sec->len != o->keylen || memcmp(sec->data, o->key, sec->len) != 0)) {
            snprintf(err, sizeof err, "--image-opts: a backing file key other than the image's is not supported");
        } else {
            o->key = (const char *)sec->data;
            o->keylen = sec->len;
        }
    }
    free(backing);
    if (!*err && luks_key && (!o->format || strcmp(o->format, "luks") != 0))
        snprintf(err, sizeof err, "Block format '%s' does not support the option 'key-secret'",
                 o->format ? o->format : "raw");
    if (*err) {
        free(filename);
        gk_die("%s", err);
    }
    return filename; /* the caller's (gimg.h) */
}

void gimg_image_opts_nokey(int status)
{
    if (missing[0])
        gk_die_status(status, "No secret with id '%s'", missing);
}

void gimg_image_opts_unused(gk_dev *d, int status)
{
    if (!unused)
        return;
    const char *fmt = gk_dev_format(d);
    char msg[128];
    snprintf(msg, sizeof msg, "Block format '%s' does not support the option '%s'", fmt ? fmt : "raw",
             unused);
    gk_dev_unref(d);
    gk_die_status(status, "%s", msg);
}

/* qemu names an image opened from options by its file name unless an
 * option changes what the name stands for: then by the options that
 * matter, as JSON (bdrv_refresh_filename; for qcow2 and luks only the key
 * secret is such an option: encrypt.key-secret, key-secret). */
char *gimg_image_name(const gimg_args *a, const char *spec, const char *fmt)
{
    if (!a->image_opts)
        return gk_strdup(spec);
    char *drv = list_driver(spec);
    /* driver=file: the file's own option names it */
    const char *name_key = drv && strcmp(drv, "file") == 0 ? "filename" : "file.filename";
    free(drv);
    char *copy = gk_strdup(spec), *p = copy, *val, *filename = NULL, *secret = NULL;
    const char *secret_key = NULL;
    size_t vlen;
    while (*p) {
        char *key = opt_next(&p, &val, &vlen, 0);
        if (strcmp(key, name_key) == 0) {
            free(filename);
            filename = val;
        } else if (strcmp(key, "encrypt.key-secret") == 0 || strcmp(key, "key-secret") == 0) {
            free(secret);
            secret = val;
            secret_key = key[0] == 'k' ? "key-secret" : "encrypt.key-secret";
        } else {
            free(val);
        }
        free(key);
    }
    free(copy);
    if (!secret)
        return filename ? filename : gk_strdup(spec);
    jv *o = jv_new(J_OBJ);
    jv_str(o, secret_key, secret);
    jv_str(o, "driver", fmt);
    jv *file = jv_add(o, "file", jv_new(J_OBJ));
    jv_str(file, "driver", "file");
    jv_str(file, "filename", filename ? filename : "");
    char *name = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&name, &len);
    if (!f)
        gk_die("out of memory");
    fputs("json:", f);
    json_print(f, o, -1);
    fclose(f);
    jv_free(o);
    free(filename);
    free(secret);
    return name;
}
