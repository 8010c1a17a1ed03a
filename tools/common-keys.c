/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Keys for encrypted devices, given as libguestfs' tools take them:
 * --key ID:key:PASSPHRASE, --key ID:file:FILE (its first line), and when no
 * selector names a device, a prompt on /dev/tty (stdin with
 * --keys-from-stdin, one key per line), echo off unless --echo-keys.
 * Passphrases live in gk_secret_alloc memory and are wiped after use; they
 * are never printed (a --key on the command line is also wiped from argv,
 * so ps shows "ID:key:" followed by blanks). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "common.h"

void gk_cli_add_key(gk_cli *c, char *sel)
{
    char *a = strchr(sel, ':'), *b = a ? strchr(a + 1, ':') : NULL;
    if (!a || !b || a == sel)
        gk_die("invalid selector for --key: %.*s", a ? (int)(a - sel) : 0, sel);
    gk_cli_key k = {.id = gk_strndup(sel, (size_t)(a - sel))};
    size_t tl = (size_t)(b - a - 1);
    if (tl == 3 && strncmp(a + 1, "key", 3) == 0) {
        k.len = strlen(b + 1);
        k.secret = gk_secret_alloc(k.len + 1);
        memcpy(k.secret, b + 1, k.len);
        /* the passphrase stays out of /proc/PID/cmdline from now on */
        memset(b + 1, 0, k.len);
    } else if (tl == 4 && strncmp(a + 1, "file", 4) == 0) {
        k.file = gk_strdup(b + 1);
    } else {
        gk_die("invalid selector for --key: %s (ID:key:KEY_STRING or ID:file:FILENAME)", k.id);
    }
    c->keys = gk_realloc(c->keys, (size_t)(c->nkeys + 1) * sizeof *c->keys);
    c->keys[c->nkeys++] = k;
}

void gk_cli_keys_free(gk_cli *c)
{
    for (int i = 0; i < c->nkeys; i++) {
        free(c->keys[i].id);
        free(c->keys[i].file);
        gk_secret_free(c->keys[i].secret, c->keys[i].len + 1);
    }
    free(c->keys);
    c->keys = NULL;
    c->nkeys = 0;
    for (int i = 0; i < c->ndrives; i++) {
        gk_secret_free(c->drives[i].key, c->drives[i].keylen + 1);
        c->drives[i].key = NULL;
    }
}

/* One line of fp into secret memory, without its newline: 0, or -1 at EOF
 * or on error (errno). */
static int read_secret_line(FILE *fp, char **out, size_t *len)
{
    char *line = NULL;
    size_t cap = 0;
    errno = 0;
    ssize_t n = getline(&line, &cap, fp);
    if (n < 0) {
        if (line)
            memset(line, 0, cap);
        free(line);
        return -1;
    }
    if (n > 0 && line[n - 1] == '\n')
        n--;
    *out = gk_secret_alloc((size_t)n + 1);
    memcpy(*out, line, (size_t)n);
    *len = (size_t)n;
    memset(line, 0, cap);
    free(line);
    return 0;
}

/* libguestfs' read_key: stdin with --keys-from-stdin, else /dev/tty.
 * 1 when there is no terminal to ask (libguestfs would read stdin then;
 * we leave the device closed rather than take a script's input for a key). */
static FILE *key_tty;    /* /dev/tty, opened before the sandbox */
static int key_tty_tried; /* gk_cli_keys_prepare asked for it */

static int prompt_key(gk_cli *c, const char *dev, char **out, size_t *len)
{
    gk_twin_argv = NULL; /* what is read here cannot be read again */
    FILE *fp = NULL;
    if (!c->keys_from_stdin && (c->no_key_prompt || !(fp = key_tty ? key_tty : fopen("/dev/tty", "w+e"))))
        return 1;
    FILE *in = fp ? fp : stdin, *outfp = fp ? fp : stdout;
    int tty = isatty(fileno(in)), noecho = 0;
    struct termios old, quiet;
    if (tty) {
        fprintf(outfp, "Enter key or passphrase (\"%s\"): ", dev);
        fflush(outfp);
        if (!c->echo_keys && tcgetattr(fileno(in), &old) == 0) {
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            noecho = tcsetattr(fileno(in), TCSAFLUSH, &quiet) == 0;
        }
    }
    int r = read_secret_line(in, out, len) < 0 ? -1 : 0;
    if (noecho) {
        fprintf(outfp, "\n");
        tcsetattr(fileno(in), TCSAFLUSH, &old);
    }
    if (fp && fp != key_tty)
        fclose(fp);
    return r;
}

static int file_key(const char *path, char **out, size_t *len)
{
    FILE *fp = fopen(path, "re");
    if (!fp)
        gk_die("--key: %s: %s", path, strerror(errno));
    int r = read_secret_line(fp, out, len);
    fclose(fp);
    if (r < 0) { /* an empty file is an empty key */
        *out = gk_secret_alloc(1);
        *len = 0;
    }
    return 0;
}

void gk_cli_keys_prepare(gk_cli *c)
{
    for (int k = 0; k < c->nkeys; k++) {
        gk_cli_key *key = &c->keys[k];
        if (!key->file)
            continue;
        file_key(key->file, &key->secret, &key->len);
        free(key->file);
        key->file = NULL;
    }
    if (!c->keys_from_stdin && !c->no_key_prompt && !key_tty) {
        key_tty = fopen("/dev/tty", "w+e");
        key_tty_tried = 1;
    }
}

int gk_cli_keys_possible(const gk_cli *c)
{
    return c->nkeys > 0 || c->keys_from_stdin || key_tty != NULL;
}

void gk_cli_remember_key(gk_cli *c, const char *id, const char *secret, size_t len)
{
    gk_cli_key k = {.id = gk_strdup(id), .secret = gk_secret_alloc(len + 1), .len = len};
    memcpy(k.secret, secret, len);
    c->keys = gk_realloc(c->keys, (size_t)(c->nkeys + 1) * sizeof *c->keys);
    c->keys[c->nkeys++] = k;
}

int gk_cli_drive_key(gk_cli *c, const char *path, char **secret, size_t *len)
{
    for (int k = 0; k < c->nkeys; k++) {
        gk_cli_key *key = &c->keys[k];
        if (strcmp(key->id, path) != 0)
            continue;
        if (key->file)
            return file_key(key->file, secret, len), 1;
        *secret = gk_secret_alloc(key->len + 1);
        memcpy(*secret, key->secret, key->len);
        *len = key->len;
        return 1;
    }
    int pr = prompt_key(c, path, secret, len);
    if (pr < 0)
        gk_die("could not read key from user");
    if (pr == 0)
        gk_cli_remember_key(c, path, *secret, *len);
    return pr == 0;
}

static int is_opened(gk_devset *s, const char *name)
{
    for (int i = 0; i < s->nents; i++)
        if (s->ents[i].kind == GK_LUKS && s->ents[i].parent && strcmp(s->ents[i].parent, name) == 0)
            return 1;
    return 0;
}

/* Try every key meant for device index i: 1 opened, 0 none did, -1 no
 * key to try (no selector names it and nobody to ask). */
static int open_one(gk_cli *c, gk_devset *s, int i, int *tried)
{
    char *name = gk_strdup(s->ents[i].name);
    const char *uuid = gk_devent_probe(&s->ents[i])->uuid;
    char *mapname = uuid ? gk_asprintf("luks-%s", uuid) : NULL;
    if (!mapname) { /* no UUID: libguestfs' older "luksDEV" form */
        mapname = gk_malloc(strlen(name) + 5);
        char *w = mapname + 4;
        memcpy(mapname, "luks", 4);
        for (const char *p = name + (strncmp(name, "/dev/", 5) == 0 ? 5 : 0); *p; p++)
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))
                *w++ = *p;
        *w = 0;
    }
    int matched = 0, opened = 0;
    for (int k = 0; k < c->nkeys && !opened; k++) {
        gk_cli_key *key = &c->keys[k];
        if (strcmp(key->id, name) != 0 && !(uuid && strcmp(key->id, uuid) == 0))
            continue;
        matched = 1;
        char *sec = key->secret;
        size_t len = key->len;
        if (key->file)
            file_key(key->file, &sec, &len);
        (*tried)++;
        int r = gk_devset_luks_open(s, name, sec, len, mapname);
        if (key->file)
            gk_secret_free(sec, len + 1);
        if (r < 0)
            gk_die_err();
        opened = r == 0;
    }
    if (!matched) {
        char *sec;
        size_t len;
        int pr = prompt_key(c, name, &sec, &len);
        if (pr < 0)
            gk_die("could not read key from user");
        if (pr > 0) {
            gk_debug("%s: LUKS volume left closed: no --key for it and no terminal to ask", name);
            opened = -1;
            goto out;
        }
        (*tried)++;
        int r = gk_devset_luks_open(s, name, sec, len, mapname);
        if (r == 0)
            gk_cli_remember_key(c, name, sec, len);
        gk_secret_free(sec, len + 1);
        if (r < 0)
            gk_die_err();
        opened = r == 0;
    }
out:
    free(mapname);
    free(name);
    return opened;
}

/* Whether prompt_key could ask anyone. */
static int can_prompt(gk_cli *c)
{
    if (c->keys_from_stdin)
        return 1;
    if (c->no_key_prompt)
        return 0;
    if (key_tty || key_tty_tried) /* no second try: the sandbox would refuse it */
        return key_tty != NULL;
    FILE *fp = fopen("/dev/tty", "w+e");
    if (fp)
        fclose(fp);
    return fp != NULL;
}

void gk_cli_decrypt(gk_cli *c, gk_guest *g)
{
    gk_devset *s = g->devs;
    /* No key given and nobody to ask: no volume can be opened, and looking
     * for them would probe every LV (gcat -m needs one: issue 18). */
    if (c->nkeys == 0 && !can_prompt(c)) {
        gk_debug("LUKS: no --key and no terminal to ask: encrypted volumes stay closed");
        return;
    }
    /* each opening appends entries and rescans LVM (a LUKS volume inside an
     * LV shows up then): start over until nothing is left to open */
    char **skipped = NULL;
    int nskipped = 0;
    for (int again = 1; again;) {
        again = 0;
        for (int i = 0; i < s->nents; i++) {
            gk_devent *e = &s->ents[i];
            int skip = 0;
            for (int k = 0; k < nskipped; k++)
                skip |= strcmp(skipped[k], e->name) == 0;
            const char *t = !skip && e->dev && e->kind != GK_LUKS ? gk_devent_probe(e)->type : NULL;
            if (!t || strcmp(t, "crypto_LUKS") != 0 || is_opened(s, e->name))
                continue;
            int tried = 0;
            char *name = gk_strdup(e->name);
            int nslots = gk_luks_nslots(e->dev);
            int r = open_one(c, s, i, &tried);
            if (r < 0) {
                skipped = gk_realloc(skipped, (size_t)(nskipped + 1) * sizeof *skipped);
                skipped[nskipped++] = name;
                continue;
            }
            if (r == 0)
                gk_die("could not find key to open LUKS encrypted %s (%d key%s tried on %d "
                       "keyslot%s); try using --key on the command line", name, tried,
                       tried == 1 ? "" : "s", nslots, nslots == 1 ? "" : "s");
            free(name);
            again = 1;
            break;
        }
    }
    for (int k = 0; k < nskipped; k++)
        free(skipped[k]);
    free(skipped);
}
