/* SPDX-License-Identifier: GPL-2.0-or-later */
/* JSON values printed like qemu's qobject_to_json_pretty().  qemu-img prints
 * its JSON from a QDict, whose key order is the order of its hash buckets;
 * we reproduce that order so that the output compares textually. */
#include <stdlib.h>
#include <string.h>

#include "gimg.h"

jv *jv_new(int type)
{
    jv *v = gk_calloc(1, sizeof *v);
    v->type = type;
    return v;
}

jv *jv_add(jv *parent, const char *key, jv *v)
{
    /* doubling: an array of 65536 snapshots is 17 reallocs, not 65536
     * (each a copy of the whole array under ASan, whose realloc never
     * grows in place: minutes for gimg info of such an image) */
    if (parent->n == parent->cap) {
        parent->cap = parent->cap ? 2 * parent->cap : 8;
        parent->kid = gk_realloc(parent->kid, (size_t)parent->cap * sizeof *parent->kid);
    }
    parent->kid[parent->n++] = v;
    if (key)
        v->key = gk_strdup(key);
    return v;
}

void jv_str(jv *o, const char *k, const char *s) { jv *v = jv_new(J_STR); v->s = gk_strdup(s); jv_add(o, k, v); }
void jv_int(jv *o, const char *k, long long i) { jv *v = jv_new(J_INT); v->i = i; jv_add(o, k, v); }
void jv_bool(jv *o, const char *k, int b) { jv *v = jv_new(J_BOOL); v->i = !!b; jv_add(o, k, v); }

void jv_free(jv *v)
{
    if (!v)
        return;
    for (int i = 0; i < v->n; i++)
        jv_free(v->kid[i]);
    free(v->kid);
    free(v->key);
    free(v->s);
    free(v);
}

/* qemu's QDict: 512 buckets chosen by tdb_hash(), new keys inserted at
 * the head of their bucket, iteration bucket by bucket. */
static unsigned qdict_bucket(const char *name)
{
    unsigned value = 0x238F13AFu * (unsigned)strlen(name);
    for (unsigned i = 0; name[i]; i++)
        value = value + ((unsigned)(unsigned char)name[i] << (i * 5 % 24));
    return (1103515243u * value + 12345u) % 512;
}

struct jorder { unsigned bucket; int ins; jv *v; };

static int jorder_cmp(const void *a, const void *b)
{
    const struct jorder *x = a, *y = b;
    if (x->bucket != y->bucket)
        return x->bucket < y->bucket ? -1 : 1;
    return y->ins - x->ins; /* later insertion first */
}

static void json_string(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    while (*p) {
        unsigned c = *p, cp;
        int len;
        if (c < 0x80) { cp = c; len = 1; }
        else if ((c & 0xe0) == 0xc0) { cp = c & 0x1f; len = 2; }
        else if ((c & 0xf0) == 0xe0) { cp = c & 0x0f; len = 3; }
        else if ((c & 0xf8) == 0xf0) { cp = c & 0x07; len = 4; }
        else { cp = 0xfffd; len = -1; }
        int ok = len > 0;
        for (int k = 1; ok && k < len; k++) {
            if ((p[k] & 0xc0) != 0x80)
                ok = 0;
            else
                cp = cp << 6 | (p[k] & 0x3f);
        }
        if (!ok) { cp = 0xfffd; len = 1; }
        p += len;
        switch (cp) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (cp >= 0x20 && cp < 0x7f)
                fputc((int)cp, f);
            else if (cp < 0x10000)
                fprintf(f, "\\u%04X", cp);
            else {
                cp -= 0x10000;
                fprintf(f, "\\u%04X\\u%04X", 0xd800 | (cp >> 10), 0xdc00 | (cp & 0x3ff));
            }
        }
    }
    fputc('"', f);
}

/* Between members: a newline and the indent, or with indent < 0 (compact,
 * qobject_to_json()) a space. */
static void json_nl(FILE *f, int indent)
{
    if (indent < 0) {
        fputc(' ', f);
        return;
    }
    fputc('\n', f);
    for (int i = 0; i < indent; i++)
        fputs("    ", f);
}

/* The members of an object in qemu's iteration order. */
static struct jorder *jv_ordered(const jv *v)
{
    struct jorder *o = gk_calloc((size_t)v->n + 1, sizeof *o);
    for (int i = 0; i < v->n; i++)
        o[i] = (struct jorder){qdict_bucket(v->kid[i]->key), i, v->kid[i]};
    qsort(o, (size_t)v->n, sizeof *o, jorder_cmp);
    return o;
}

void json_print(FILE *f, const jv *v, int indent)
{
    switch (v->type) {
    case J_STR: json_string(f, v->s); break;
    case J_INT: fprintf(f, "%lld", v->i); break;
    case J_BOOL: fputs(v->i ? "true" : "false", f); break;
    case J_ARR:
        fputc('[', f);
        for (int i = 0; i < v->n; i++) {
            if (i)
                fputc(',', f);
            if (i || indent >= 0)
                json_nl(f, indent < 0 ? indent : indent + 1);
            json_print(f, v->kid[i], indent < 0 ? indent : indent + 1);
        }
        if (indent >= 0)
            json_nl(f, indent);
        fputc(']', f);
        break;
    case J_OBJ: {
        struct jorder *o = jv_ordered(v);
        fputc('{', f);
        for (int i = 0; i < v->n; i++) {
            if (i)
                fputc(',', f);
            if (i || indent >= 0)
                json_nl(f, indent < 0 ? indent : indent + 1);
            json_string(f, o[i].v->key);
            fputs(": ", f);
            json_print(f, o[i].v, indent < 0 ? indent : indent + 1);
        }
        if (indent >= 0)
            json_nl(f, indent);
        fputc('}', f);
        free(o);
        break;
    }
    }
}

/* qemu's dump_qobject() for "Format specific information". */
void human_dump(const jv *v, int indent)
{
    struct jorder *o = jv_ordered(v);
    for (int i = 0; i < v->n; i++) {
        const jv *k = o[i].v;
        char *key = gk_strdup(k->key);
        for (char *p = key; *p; p++)
            if (*p == '-')
                *p = ' ';
        printf("%*s%s:", indent * 4, "", key);
        free(key);
        switch (k->type) {
        case J_STR: printf(" %s\n", k->s); break;
        case J_INT: printf(" %lld\n", k->i); break;
        case J_BOOL: printf(" %s\n", k->i ? "true" : "false"); break;
        case J_OBJ: putchar('\n'); human_dump(k, indent + 1); break;
        case J_ARR:
            putchar('\n');
            for (int j = 0; j < k->n; j++) {
                printf("%*s[%d]:\n", (indent + 1) * 4, "", j);
                if (k->kid[j]->type == J_OBJ)
                    human_dump(k->kid[j], indent + 2);
            }
            break;
        }
    }
    free(o);
}
