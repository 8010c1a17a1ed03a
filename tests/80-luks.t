#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# LUKS1 and LUKS2 volumes (test-images/luks.sh): headers as cryptsetup
# luksDump reads them, the volume key every keyslot gives as cryptsetup
# --dump-volume-key decrypts it, the data as qemu's driver=luks decrypts it
# (LUKS1; the LUKS2 volumes hold the same ciphertext or plaintext by
# construction, see the fixture), wrong passphrases refused.
. "$(dirname "$0")/lib.sh"
D=$(fixture luks) || skip_all "fixture luks failed"
U=${GK_UNIT:-$TOP/build/tests}/unit-luks

# luksDump (either version) in the form of `unit-luks dump`
dumpnorm() {
    python3 - "$1" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
def f(name):
    m = re.search(r"^\s*" + re.escape(name) + r":\s*(.*)$", t, re.M)
    return m.group(1).strip() if m else None
if f("Version") == "1":
    print("version 1\nuuid %s\ncipher %s-%s\nkey_bits %s\noffset %d\nsector 512" %
          (f("UUID"), f("Cipher name"), f("Cipher mode"), f("MK bits"), int(f("Payload offset")) * 512))
    for m in re.finditer(r"^Key Slot (\d+): ENABLED\n\tIterations:\s*(\d+)\n(?:.*\n)*?\tKey material offset:\s*(\d+)\n\tAF stripes:\s*(\d+)", t, re.M):
        print("slot %s pbkdf2 %s %s %s %s %d" % (m.group(1), f("Hash spec"), m.group(2), m.group(4), f("Hash spec"), int(m.group(3)) * 512))
else:
    seg = t[t.index("Data segments:"):t.index("Keyslots:")]
    g = lambda k, s=seg: re.search(r"^\s*" + k + r":\s*(\S+)", s, re.M).group(1)
    print("version 2\nuuid %s\ncipher %s\nkey_bits %s\noffset %s\nsector %s" %
          (f("UUID"), g("cipher"), re.search(r"Key:\s*(\d+) bits", t).group(1), g("offset"), g("sector")))
    ks = t[t.index("Keyslots:"):t.index("Tokens:")]
    for m in re.finditer(r"^  (\d+): luks2\n((?:\t.*\n|\s{10,}.*\n)*)", ks, re.M):
        b = m.group(2)
        h = lambda k: re.search(r"^\t" + k + r":\s*(\S+)", b, re.M).group(1)
        kdf = h("PBKDF")
        params = "%s %s" % (h("Hash"), h("Iterations")) if kdf == "pbkdf2" else "%s %s %s" % (h("Time cost"), h("Memory"), h("Threads"))
        print("slot %s %s %s %s %s %s" % (m.group(1), kdf, params, h("AF stripes"), h("AF hash"), h("Area offset")))
EOF
}

for v in l1-xts l1-essiv l2-512 l2-4k l2-pbkdf2; do
    is "$("$U" dump "$D/$v.img" 2>&1)" "$(dumpnorm "$D/$v.dump")" "$v: header as luksDump reads it"
done
for v in l1-xts l1-essiv l2-512 l2-4k; do
    is "$("$U" key "$D/$v.img" "$D/secret1.txt" 2>&1 | tail -n 1)" "$(cat "$D/$v.vk")" \
        "$v: the volume key cryptsetup dumps"
    "$U" cat "$D/$v.img" "$D/secret1.txt" >"$T/out" 2>"$T/err"
    same_file "$T/out" "$D/$v.plain" "$v: decrypted data as qemu decrypts it"
done
is "$("$U" key "$D/l2-pbkdf2.img" "$D/second.txt" 2>&1 | tail -n 1)" "$(cat "$D/l2-pbkdf2.vk")" \
    "l2-pbkdf2: the volume key cryptsetup dumps"
is "$("$U" key "$D/l1-xts.img" "$D/second.txt" 2>&1)" "slot 3
$(cat "$D/l1-xts.vk")" "l1-xts: the second passphrase opens keyslot 3"
rc=0; "$U" key "$D/l2-512.img" "$D/second.txt" >"$T/out" 2>"$T/err" || rc=$?
is "$rc:$(cat "$T/out")" "2:" "l2-512: a wrong passphrase opens nothing and prints no key"

done_testing
