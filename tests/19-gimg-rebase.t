#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg rebase against qemu-img rebase (the oracle): the same chains (qemu
# made them) rebased by each tool in its own directory give the same
# output and exit status, images that read the same (qemu-img compare) as
# before the rebase, the same backing file lines in qemu-img info, the same
# allocation (qemu-img map), and qemu-img check clean.  -u changes the
# header only (byte-identical to qemu-img's).  Then rebase killed before
# each of its writes: the image reads as before, its backing file is the
# old or the new one, qemu-img check finds no corruption.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lib-gimg.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || skip_all "needs qemu-img and qemu-io"

chain() { # NAME DIR
    local d=$2
    mkdir -p "$d"
    rm -f "$d"/*
    (
        cd "$d" || exit 1
        qemu-img create -q -f raw old 4M
        qemu-io -f raw -c 'write -P 0x11 0 3M' old >/dev/null
        qemu-img create -q -f raw new 4M
        qemu-io -f raw -c 'write -P 0x11 0 1M' -c 'write -P 0x12 2M 100k' new >/dev/null
        case $1 in
            raw) qemu-img create -q -f qcow2 -b old -F raw top ;;
            c512) qemu-img create -q -f qcow2 -o cluster_size=512 -b old -F raw top ;;
            extl2) qemu-img create -q -f qcow2 -o extended_l2=on -b old -F raw top ;;
            small) qemu-img create -q -f raw new 1M
                   qemu-io -f raw -c 'write -P 0x11 0 1M' new >/dev/null
                   qemu-img create -q -f qcow2 -b old -F raw top ;;
            prefix) # new is below old: only what old holds above it is compared
                   qemu-img create -q -f qcow2 -o cluster_size=16k -b new -F raw mid
                   qemu-io -c 'write -P 0x13 1M 1M' mid >/dev/null
                   qemu-img create -q -f qcow2 -b mid -F qcow2 top
                   rm old; mv mid old
                   qemu-img rebase -q -u -b old -F qcow2 top ;;
            v2) qemu-img create -q -f qcow2 -o compat=0.10 -b old -F raw top ;;
        esac
        qemu-io -c 'write -P 0x21 100k 50k' -c 'write -P 0x22 2100k 4k' top >/dev/null
    )
}

backing_lines() { qemu-img info "$1" | grep '^backing' | sed 's/ (actual path: .*)$//'; }
# qemu-img map as runs of guest bytes per file (adjacent runs merged: where
# in the file they are depends on each writer's allocator)
runs() {
    local off len _m f o=-1 l=0 lf="" first=1
    while read -r off len _m f; do
        [ $first = 1 ] && { first=0; continue; }
        if [ "$f" = "$lf" ] && [ $((o + l)) = $((off)) ]; then
            l=$((l + len)); continue
        fi
        [ "$o" = -1 ] || printf '0x%x 0x%x %s\n' "$o" "$l" "$lf"
        o=$((off)) l=$((len)) lf=$f
    done
    [ "$o" = -1 ] || printf '0x%x 0x%x %s\n' "$o" "$l" "$lf"
}

# FILE.1 .. FILE.COUNT: copies of FILE with its holes where FILE has them
# and nowhere else (cp would make holes of the zeros qemu wrote)
copies() { # FILE COUNT
    python3 - "$1" "$2" <<'EOF'
import os, sys
src, n = sys.argv[1], int(sys.argv[2])
fd = os.open(src, os.O_RDONLY)
size, segs, off = os.fstat(fd).st_size, [], 0
while off < size:
    try:
        d = os.lseek(fd, off, os.SEEK_DATA)
    except OSError:
        break
    off = os.lseek(fd, d, os.SEEK_HOLE)
    segs.append((d, os.pread(fd, off - d, d)))
for i in range(1, n + 1):
    with open('%s.%d' % (src, i), 'wb') as f:
        f.truncate(size)
        for d, b in segs:
            f.seek(d)
            f.write(b)
EOF
}

# Each chain is made once (twice: for gimg and for qemu-img, pair_of): a
# rebase writes the top image only (its backing files are opened
# read-only), so each rebase starts from a copy of the top qemu made, not
# a chain made again (~10 qemu runs a pair: a third of this test's CPU).
for n in raw c512 extl2 small prefix v2; do
    pair_of chain $n
    copies "$T/g/top" 4 && copies "$T/q/top" 4
    qemu-img convert -O raw "$T/q/top" "$T/view.raw"
    c=0
    for args in "-b new -F raw" "-b new -F raw -u" "-b ''" "-u"; do
        c=$((c + 1))
        mv "$T/g/top.$c" "$T/g/top" && mv "$T/q/top.$c" "$T/q/top"
        go=$(cd "$T/g" && eval gimg rebase "$args" top 2>&1); gr=$?
        qo=$(cd "$T/q" && eval qemu-img rebase "$args" top 2>&1); qr=$?
        is "$go [exit $gr]" "$qo [exit $qr]" "$n, rebase $args: qemu-img's output and status"
        is "$(backing_lines "$T/g/top")" "$(backing_lines "$T/q/top")" \
           "$n, rebase $args: the backing file is qemu-img's"
        if [ "${args% -u}" != "$args" ] || [ "$args" = -u ]; then
            same_file "$T/g/top" "$T/q/top" "$n, rebase $args: byte-identical to qemu-img's"
            continue
        fi
        ok "$n, rebase $args: the image reads as before" qemu-img compare "$T/g/top" "$T/view.raw"
        is "$(cd "$T/g" && qemu-img map top | runs)" "$(cd "$T/q" && qemu-img map top | runs)" \
           "$n, rebase $args: the same allocation as qemu-img's"
        ok "$n, rebase $args: qemu-img check is clean" qemu-img check "$T/g/top"
    done
done

# errors: qemu-img's messages and statuses
pair_of chain raw
err_like rebase "neither -b nor -u" top
err_like rebase "two images" -b new -F raw top old
err_like rebase "an unknown backing format" -b new -F foo top
err_like rebase "-u without -F" -u -b new top
err_like rebase "a raw image" -f raw -b new -F raw old
(cd "$T/g" && gimg rebase -b new -F raw nosuch 2>/dev/null); is $? 1 "a missing image: exit status 1"
same_file "$T/g/top" "$T/q/top" "failed rebases leave the image alone"
(cd "$T/g" && gimg rebase -b new top 2>/dev/null); gr=$?
is "$gr" 1 "safe mode without -F: refused (qemu-img refuses after copying; gimg before)"
cmp -s "$T/g/top" "$T/q/top"; is $? 0 "safe mode without -F leaves the image alone"

# killed before its writes to the image: 6 kill points each in make check,
# every write with GK_LONG=1
kill_shim || { done_testing; exit; }
for n in raw c512; do
    chain $n "$T/p"
    qemu-img convert -O raw "$T/p/top" "$T/view.raw"
    for args in "-b new -F raw" "-b ''"; do
        rm -rf "$T/k"; cp -r "$T/p" "$T/k"
        total=$(( $(cd "$T/k" && eval writes_of "$T/k/top" gimg rebase "$args" top) ))
        for k in $(kill_points "$total" 6); do
            rm -rf "$T/k"; cp -r "$T/p" "$T/k"
            (cd "$T/k" && eval killed "$k" $((k % 2)) "$T/k/top" gimg rebase "$args" top)
            why=$(sound "$T/k/top")
            qemu-img compare -q "$T/k/top" "$T/view.raw" || why="$why the image reads differently;"
            b=$(qemu-img info "$T/k/top" | sed -n 's/^backing file: //p' | sed 's/ (actual path: .*)$//')
            case "$b" in old|new|"") ;; *) why="$why backing file '$b';" ;; esac
            is "$why" "" "$n: rebase $args killed before write $k of $total$([ $((k % 2)) = 1 ] && echo ', torn')"
        done
    done
done
done_testing
