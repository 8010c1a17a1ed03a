/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: gfsh's line parser (shell/parse.c) on arbitrary bytes.
 * The parser is included directly: the fuzz build links only the
 * libraries, not the shell's objects. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../shell/parse.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    if (!line)
        return 0;
    memcpy(line, data, size);
    line[size] = 0; /* lines never hold NUL: the reader refuses them */
    gfsh_line l;
    if (gfsh_parse_line(line, &l) == 0) {
        /* every word is a string, and the list is NULL-terminated */
        for (int i = 0; i < l.nwords; i++)
            if (!l.words[i])
                abort();
        if (l.nwords && l.words[l.nwords])
            abort();
        gfsh_line_free(&l);
    }
    free(line);
    return 0;
}
