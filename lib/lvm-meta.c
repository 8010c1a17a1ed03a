/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A parser for LVM2's text metadata (the format of /etc/lvm/backup files and
 * of the metadata areas on PVs):
 *
 *   vg0 {                          # a section
 *       id = "4cODO5-..."          # key = string ("\" escapes the next char)
 *       extent_size = 8192         # key = integer
 *       status = ["READ", "WRITE"] # key = list of strings/integers
 *       physical_volumes { pv0 { ... } }
 *   }
 *   contents = "Text Format Volume Group"
 *
 * The text comes from a disk image and is not trusted: its size, the
 * nesting depth and the number of nodes are bounded, numbers are checked
 * for overflow, and every error names the line. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk-int.h"

typedef struct parser {
    const char *p, *end;
    int line;
    int nodes;
    const char *err;   /* set once: the first error wins */
} parser;

static int fail(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(parser *ps, const char *fmt, ...)
{
    if (!ps->err) {
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        gk_error("LVM metadata line %d: %s", ps->line, msg);
        ps->err = "x";
    }
    return -1;
}

/* Skip blanks, newlines and "#" comments. */
static void skip_space(parser *ps)
{
    while (ps->p < ps->end) {
        char c = *ps->p;
        if (c == '\n') {
            ps->line++;
            ps->p++;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            ps->p++;
        } else if (c == '#') {
            while (ps->p < ps->end && *ps->p != '\n')
                ps->p++;
        } else {
            break;
        }
    }
}

static int is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '+' || c == '-' || c == '/' || c == ':' || c == '@';
}

static gk_lvm_node *new_node(parser *ps, enum gk_lvm_type type)
{
    if (ps->nodes >= GK_LVM_META_MAX_NODES) {
        fail(ps, "more than %d values", GK_LVM_META_MAX_NODES);
        return NULL;
    }
    ps->nodes++;
    gk_lvm_node *n = gk_calloc(1, sizeof *n);
    n->type = type;
    return n;
}

static char *parse_string(parser *ps)
{
    char quote = *ps->p++;
    int start_line = ps->line;
    size_t cap = 32, len = 0;
    char *s = gk_malloc(cap);
    for (;;) {
        if (ps->p >= ps->end) {
            free(s);
            ps->line = start_line;
            fail(ps, "unterminated string");
            return NULL;
        }
        char c = *ps->p++;
        if (c == quote)
            break;
        if (c == '\\') {
            if (ps->p >= ps->end)
                continue; /* reported as unterminated above */
            c = *ps->p++;
        }
        if (c == '\n')
            ps->line++;
        if (len + 2 > cap) {
            cap *= 2;
            s = gk_realloc(s, cap);
        }
        s[len++] = c;
    }
    s[len] = '\0';
    return s;
}

/* An integer (decimal or 0x hex, optional sign) or a float. */
static gk_lvm_node *parse_number(parser *ps)
{
    const char *q = ps->p;
    while (q < ps->end && (is_key_char(*q)))
        q++;
    size_t len = (size_t)(q - ps->p);
    if (len > 64) {
        fail(ps, "number too long");
        return NULL;
    }
    char buf[72];
    memcpy(buf, ps->p, len);
    buf[len] = '\0';
    char *e;
    gk_lvm_node *n;
    errno = 0;
    if (strpbrk(buf, ".eE") && !strpbrk(buf, "xX")) {
        double f = strtod(buf, &e);
        if (*e || e == buf || errno) {
            fail(ps, "bad number \"%s\"", buf);
            return NULL;
        }
        if (!(n = new_node(ps, GK_LVM_FLOAT)))
            return NULL;
        n->f = f;
    } else {
        long long v = strtoll(buf, &e, buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X') ? 16 : 10);
        if (e == buf || *e) {
            fail(ps, "bad number \"%s\"", buf);
            return NULL;
        }
        if (errno == ERANGE) {
            fail(ps, "number %s is too large", buf);
            return NULL;
        }
        if (!(n = new_node(ps, GK_LVM_INT)))
            return NULL;
        n->i = v;
    }
    ps->p = q;
    return n;
}

/* A scalar: string or number. */
static gk_lvm_node *parse_scalar(parser *ps)
{
    if (ps->p >= ps->end) {
        fail(ps, "value expected at end of text");
        return NULL;
    }
    char c = *ps->p;
    if (c == '"' || c == '\'') {
        char *s = parse_string(ps);
        if (!s)
            return NULL;
        gk_lvm_node *n = new_node(ps, GK_LVM_STR);
        if (!n) {
            free(s);
            return NULL;
        }
        n->s = s;
        return n;
    }
    if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.')
        return parse_number(ps);
    if (c == '[')
        fail(ps, "nested list");
    else
        fail(ps, "unexpected character '%c' where a value was expected", c);
    return NULL;
}

static void append(gk_lvm_node *parent, gk_lvm_node **tail, gk_lvm_node *n)
{
    if (*tail)
        (*tail)->next = n;
    else
        parent->child = n;
    *tail = n;
    parent->nchildren++;
}

static gk_lvm_node *parse_list(parser *ps, int depth)
{
    if (depth > GK_LVM_META_MAX_DEPTH) {
        fail(ps, "nested more than %d levels deep", GK_LVM_META_MAX_DEPTH);
        return NULL;
    }
    gk_lvm_node *list = new_node(ps, GK_LVM_LIST), *tail = NULL;
    if (!list)
        return NULL;
    ps->p++; /* '[' */
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        return list;
    }
    for (;;) {
        skip_space(ps);
        gk_lvm_node *v = parse_scalar(ps);
        if (!v)
            goto bad;
        append(list, &tail, v);
        skip_space(ps);
        if (ps->p >= ps->end) {
            fail(ps, "unterminated list");
            goto bad;
        }
        if (*ps->p == ']') {
            ps->p++;
            return list;
        }
        if (*ps->p != ',') {
            fail(ps, "expected ',' or ']' in a list");
            goto bad;
        }
        ps->p++;
    }
bad:
    gk_lvm_meta_free(list);
    return NULL;
}

/* Members of a section up to '}' (or the end of the text at depth 0). */
static int parse_members(parser *ps, gk_lvm_node *sec, int depth)
{
    gk_lvm_node *tail = NULL;
    for (;;) {
        skip_space(ps);
        if (ps->p >= ps->end) {
            if (depth == 0)
                return 0;
            return fail(ps, "unexpected end of text: missing '}'");
        }
        if (*ps->p == '}') {
            if (depth == 0)
                return fail(ps, "unmatched '}'");
            ps->p++;
            return 0;
        }
        const char *k = ps->p;
        while (ps->p < ps->end && is_key_char(*ps->p))
            ps->p++;
        if (ps->p == k)
            return fail(ps, "unexpected character '%c' where a name was expected", *k);
        if (ps->p - k > 256)
            return fail(ps, "name too long");
        char *key = gk_strndup(k, (size_t)(ps->p - k));
        skip_space(ps);
        gk_lvm_node *n = NULL;
        if (ps->p < ps->end && *ps->p == '{') {
            if (depth + 1 > GK_LVM_META_MAX_DEPTH) {
                free(key);
                return fail(ps, "sections nested more than %d levels deep", GK_LVM_META_MAX_DEPTH);
            }
            ps->p++;
            n = new_node(ps, GK_LVM_SECTION);
            if (n) {
                n->key = key;
                key = NULL;
                append(sec, &tail, n);
                if (parse_members(ps, n, depth + 1) < 0)
                    return -1;
                continue;
            }
        } else if (ps->p < ps->end && *ps->p == '=') {
            ps->p++;
            skip_space(ps);
            if (ps->p < ps->end && *ps->p == '[')
                n = parse_list(ps, depth + 1);
            else
                n = parse_scalar(ps);
        } else {
            fail(ps, "expected '=' or '{' after \"%s\"", key);
        }
        if (!n) {
            free(key);
            return -1;
        }
        n->key = key;
        append(sec, &tail, n);
    }
}

gk_lvm_node *gk_lvm_meta_parse(const char *text, size_t n)
{
    const char *nul = memchr(text, '\0', n);
    if (nul)
        n = (size_t)(nul - text);
    if (n > GK_LVM_META_MAX_SIZE) {
        gk_error("LVM metadata is too large (%zu bytes, limit %u)", n, GK_LVM_META_MAX_SIZE);
        return NULL;
    }
    parser ps = { .p = text, .end = text + n, .line = 1 };
    gk_lvm_node *top = new_node(&ps, GK_LVM_SECTION);
    if (parse_members(&ps, top, 0) < 0) {
        gk_lvm_meta_free(top);
        return NULL;
    }
    return top;
}

void gk_lvm_meta_free(gk_lvm_node *n)
{
    /* Depth is bounded by the parser, so recursion on children is safe;
     * siblings are walked iteratively. */
    while (n) {
        gk_lvm_node *next = n->next;
        gk_lvm_meta_free(n->child);
        free(n->key);
        free(n->s);
        free(n);
        n = next;
    }
}

const gk_lvm_node *gk_lvm_meta_get(const gk_lvm_node *sec, const char *key)
{
    if (!sec || sec->type != GK_LVM_SECTION)
        return NULL;
    for (const gk_lvm_node *c = sec->child; c; c = c->next)
        if (c->key && strcmp(c->key, key) == 0)
            return c;
    return NULL;
}

int gk_lvm_meta_int(const gk_lvm_node *sec, const char *key, int64_t *out)
{
    const gk_lvm_node *n = gk_lvm_meta_get(sec, key);
    if (!n || n->type != GK_LVM_INT)
        return -1;
    *out = n->i;
    return 0;
}

const char *gk_lvm_meta_str(const gk_lvm_node *sec, const char *key)
{
    const gk_lvm_node *n = gk_lvm_meta_get(sec, key);
    return n && n->type == GK_LVM_STR ? n->s : NULL;
}

int gk_lvm_meta_has_flag(const gk_lvm_node *sec, const char *key, const char *s)
{
    const gk_lvm_node *n = gk_lvm_meta_get(sec, key);
    if (!n || n->type != GK_LVM_LIST)
        return 0;
    for (const gk_lvm_node *c = n->child; c; c = c->next)
        if (c->type == GK_LVM_STR && strcmp(c->s, s) == 0)
            return 1;
    return 0;
}
