#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make install: tools, man pages, libraries, headers and guestkit.pc; a
# program built only from what was installed (pkg-config) reads an image.
. "$(dirname "$0")/lib.sh"

B=$(dirname "$GK_BIN")
P=$T/prefix
ok "make install PREFIX=$P" make -s -C "$TOP" B="$B" install PREFIX="$P"
for t in gimg gfilesystems gcat gls gdf gcopy-out ginspect gfsh gmount gumount; do
    ok "$t installed with its man page" test -x "$P/bin/$t" -a -s "$P/share/man/man1/$t.1"
done
n=$(grep -c '^\.SS ' "$P/share/man/man1/gfsh.1")
is "$n" "$("$GK_BIN/gfsh" --man-commands | grep -c '^\.SS ')" "gfsh(1): one COMMANDS entry per command table entry ($n)"
ok "gfsh(1) documents list-filesystems" grep -q '^\.SS list\\-filesystems$' "$P/share/man/man1/gfsh.1"

cat >"$T/size.c" <<'C'
#include <stdio.h>
#include <guestkit/fs.h>
int main(int argc, char **argv)
{
    gk_dev *d = gk_open_image(argv[1], NULL);
    if (!d) { fprintf(stderr, "%s\n", gk_errmsg()); return 1; }
    printf("%llu\n", (unsigned long long)d->size);
    gk_dev_unref(d);
    return argc == 2 ? 0 : 1;
}
C
sed -i 's|#include <guestkit/fs.h>|#include <fs.h>|' "$T/size.c"
export PKG_CONFIG_PATH=$P/lib/pkgconfig
ok "a program builds against the installed library with pkg-config" \
    sh -c "cc -o '$T/size' '$T/size.c' \$(pkg-config --cflags guestkit) \$(pkg-config --static --libs guestkit)"
qemu-img create -q -f qcow2 "$T/x.qcow2" 3M
is "$("$T/size" "$T/x.qcow2" 2>&1)" "$(qemu-img info --output=json "$T/x.qcow2" | jq '."virtual-size"')" \
    "it reads the virtual size qemu-img reports"
done_testing
