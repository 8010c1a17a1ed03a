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

# libblkid's reads are answered from the device (lib/probe.c's __wrap_read)
# only in programs linked with -Wl,--wrap=read,--wrap=lseek, as the tools
# are; a program linked without them probes through the copied windows.
# Both must find what blkid -p finds (the oracle).
cat >"$T/probe.c" <<'C'
#include <stdio.h>
#include <fs.h>
int main(int argc, char **argv)
{
    gk_devset *s = gk_devset_new();
    gk_dev *d = gk_open_image(argv[1], NULL);
    if (!d || gk_devset_add_disk(s, d) < 0 || gk_devset_scan(s) < 0) {
        fprintf(stderr, "%s\n", gk_errmsg());
        return 1;
    }
    for (int i = 0; i < s->nents; i++) {
        const gk_probe *p = gk_devent_probe(&s->ents[i]);
        printf("%s %s %s\n", s->ents[i].name, p && p->type ? p->type : "-", p && p->uuid ? p->uuid : "-");
    }
    gk_devset_free(s);
    return argc == 2 ? 0 : 1;
}
C
sed -i 's|#include <guestkit/fs.h>|#include <fs.h>|' "$T/probe.c"
ok "a program that probes builds against the installed library" \
    sh -c "cc -o '$T/probe' '$T/probe.c' \$(pkg-config --cflags guestkit) \$(pkg-config --static --libs guestkit)"
truncate -s 8M "$T/fs.raw"
mkfs.ext4 -q -U 5e1f0000-0000-4000-8000-000000000005 "$T/fs.raw"
truncate -s 8M "$T/swap.raw"
mkswap -q -U 5e1f0000-0000-4000-8000-00000000000a "$T/swap.raw"
for f in fs swap; do
    want="/dev/sda $(blkid -p -s TYPE -o value "$T/$f.raw") $(blkid -p -s UUID -o value "$T/$f.raw")"
    is "$("$T/probe" "$T/$f.raw" 2>&1)" "$want" "$f: probed through the copied windows as blkid -p"
    is "$("$GK_BIN/gfilesystems" -a "$T/$f.raw" --all --long --uuid --no-title --csv | grep ",filesystem," | cut -d, -f1,3,8 | tr , ' ')" \
       "$want" "$f: gfilesystems (reads from the device) as blkid -p"
done
done_testing
