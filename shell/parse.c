/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gfsh's line syntax, as guestfish has it: one command per line, words
 * split on whitespace, '...' taken literally, "..." with C escapes, a
 * leading '-' lets the command fail, '!' and '<!' run host commands, a word
 * starting with '|' pipes the output to a host command, and '~' at the
 * start of an unquoted word is a host home directory. */
#include <ctype.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "gfsh.h"

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Parse a "..." string starting after the opening quote; *pp is left after
 * the closing quote.  The result is malloc'd. */
static char *parse_dquoted(const char **pp)
{
    const char *p = *pp;
    size_t cap = 64, n = 0;
    char *s = gk_malloc(cap);

    for (;;) {
        char c = *p;
        if (c == 0) {
            gk_error("unterminated double quote");
            free(s);
            return NULL;
        }
        p++;
        if (c == '"')
            break;
        if (c == '\\') {
            char e = *p++;
            switch (e) {
            case 'a': c = '\a'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'v': c = '\v'; break;
            case '"': c = '"'; break;
            case '\\': c = '\\'; break;
            case '0': case '1': case '2': case '3': {
                /* exactly three octal digits */
                if (p[0] < '0' || p[0] > '7' || p[1] < '0' || p[1] > '7') {
                    gk_error("invalid octal escape in string (\\ooo needs three digits)");
                    free(s);
                    return NULL;
                }
                int v = (e - '0') * 64 + (p[0] - '0') * 8 + (p[1] - '0');
                p += 2;
                if (v == 0) {
                    gk_error("\\000 is not allowed in a string (no NUL characters)");
                    free(s);
                    return NULL;
                }
                c = (char)v;
                break;
            }
            case 'x': {
                int h1 = hexval(p[0]), h2 = h1 < 0 ? -1 : hexval(p[1]);
                if (h1 < 0 || h2 < 0) {
                    gk_error("invalid hex escape in string (\\xhh needs two digits)");
                    free(s);
                    return NULL;
                }
                p += 2;
                if (h1 == 0 && h2 == 0) {
                    gk_error("\\x00 is not allowed in a string (no NUL characters)");
                    free(s);
                    return NULL;
                }
                c = (char)(h1 * 16 + h2);
                break;
            }
            case 0:
                gk_error("unterminated double quote");
                free(s);
                return NULL;
            default:
                gk_error("invalid escape sequence \\%c in string", e);
                free(s);
                return NULL;
            }
        }
        if (n + 2 > cap)
            s = gk_realloc(s, cap *= 2);
        s[n++] = c;
    }
    s[n] = 0;
    *pp = p;
    return s;
}

/* ~ and ~user at the start of an unquoted word: the host's home dirs. */
static char *expand_tilde(const char *w)
{
    const char *rest = w + 1 + strcspn(w + 1, "/");
    const char *home = NULL;
    if (rest == w + 1) {
        home = getenv("HOME");
        if (!home || !*home) {
            struct passwd *pw = getpwuid(getuid());
            home = pw ? pw->pw_dir : NULL;
        }
    } else {
        char *user = gk_strndup(w + 1, (size_t)(rest - w - 1));
        struct passwd *pw = getpwnam(user);
        free(user);
        home = pw ? pw->pw_dir : NULL;
    }
    if (!home)
        return gk_strdup(w);
    return gk_asprintf("%s%s", home, rest);
}

static void add_word(gfsh_line *l, char *w)
{
    l->words = gk_realloc(l->words, (size_t)(l->nwords + 2) * sizeof *l->words);
    l->words[l->nwords++] = w;
    l->words[l->nwords] = NULL;
}

int gfsh_parse_line(const char *line, gfsh_line *out)
{
    memset(out, 0, sizeof *out);
    out->kind = GL_EMPTY;
    const char *p = line;
    while (is_ws(*p))
        p++;
    if (*p == 0 || *p == '#')
        return 0;
    if (*p == '!') {
        out->kind = GL_HOST;
        out->host = gk_strdup(p + 1);
        return 0;
    }
    if (p[0] == '<' && p[1] == '!') {
        out->kind = GL_HOSTCMDS;
        out->host = gk_strdup(p + 2);
        return 0;
    }
    if (*p == '-') {
        out->may_fail = 1;
        p++;
        while (is_ws(*p))
            p++;
    }
    out->kind = GL_CMD;
    for (;;) {
        while (is_ws(*p))
            p++;
        if (*p == 0)
            break;
        char *w;
        if (*p == '|' && out->nwords > 0) {
            p++;
            while (is_ws(*p))
                p++;
            if (*p == 0) {
                gk_error("missing host command after '|'");
                goto fail;
            }
            out->pipe = gk_strdup(p);
            break;
        }
        if (*p == '"') {
            p++;
            if (!(w = parse_dquoted(&p)))
                goto fail;
        } else if (*p == '\'') {
            const char *end = strchr(p + 1, '\'');
            if (!end) {
                gk_error("unterminated single quote");
                goto fail;
            }
            w = gk_strndup(p + 1, (size_t)(end - p - 1));
            p = end + 1;
        } else {
            const char *start = p;
            while (*p && !is_ws(*p))
                p++;
            w = gk_strndup(start, (size_t)(p - start));
            if (w[0] == '~') {
                char *e = expand_tilde(w);
                free(w);
                w = e;
            }
            add_word(out, w);
            continue;
        }
        add_word(out, w);
        if (*p && !is_ws(*p)) {
            gk_error("command arguments not separated by whitespace");
            goto fail;
        }
    }
    if (out->nwords == 0) {
        if (out->may_fail) {
            gk_error("missing command after '-'");
            goto fail;
        }
        out->kind = GL_EMPTY;
    }
    return 0;
fail:
    gfsh_line_free(out);
    return -1;
}

void gfsh_line_free(gfsh_line *l)
{
    for (int i = 0; i < l->nwords; i++)
        free(l->words[i]);
    free(l->words);
    free(l->pipe);
    free(l->host);
    memset(l, 0, sizeof *l);
}
