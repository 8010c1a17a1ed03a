# SPDX-License-Identifier: GPL-2.0-or-later
# Member images of a Linux md array, written without the md driver (this
# machine has none, and mdadm --create needs it): the superblock (0.90 or
# 1.x, checksummed as mdadm does) and the array's data laid out per the
# level and layout, parity included.  Used by test-images/md.sh; mdadm
# --examine reads every superblock back there, and libguestfs' appliance
# kernel assembling these arrays is the recorded oracle for the layout.
#
#   python3 lib-md.py PAYLOAD META LEVEL LAYOUT CHUNK_KIB MEMBER_BYTES NAME UUID \
#       EVENTS OUT... [--sizes=B1,B2,...] [--stale=IDX:EVENTS]
# Member sizes: --sizes, else each existing OUT file's size, else MEMBER_BYTES.
# OUT "-" is a member left out (the builder still counts it).  PAYLOAD is
# read as the array's contents (zero-padded/truncated to the array size);
# the array size in bytes is printed on stdout (PAYLOAD "-": only that).
import struct, sys, uuid as uuidmod

SB1_MAGIC = 0xa92b4efc

def args():
    a = [x for x in sys.argv[1:] if not x.startswith('--')]
    opts = dict(x[2:].split('=', 1) for x in sys.argv[1:] if x.startswith('--'))
    return a, opts

(a, opts) = args()
payload, meta, level, layout, chunk_kib, member_bytes, name, set_uuid, events = a[:9]
outs = a[9:]
level = {'linear': -1, 'raid0': 0, 'raid1': 1, 'raid4': 4, 'raid5': 5, 'raid6': 6, 'raid10': 10}[level]
layout, chunk = int(layout), int(chunk_kib) * 2          # chunk in sectors
events = int(events)
n = len(outs)
import os
if 'sizes' in opts:
    sizes = [int(x) for x in opts['sizes'].split(',')]
else:
    sizes = [os.path.getsize(o) if o != '-' and os.path.exists(o) else int(member_bytes) for o in outs]
stale = {}
if 'stale' in opts:
    i, e = opts['stale'].split(':')
    stale[int(i)] = int(e)
U = uuidmod.UUID(set_uuid).bytes

def round_chunk(s):
    return s - s % chunk if chunk else s

# geometry per member (sectors): where the superblock and the data are
geo = []
for i in range(n):
    dev = sizes[i] // 512
    if meta == '0.90':
        sb = ((sizes[i] & ~65535) - 65536) // 512
        geo.append(dict(sb=sb, data_off=0, data_size=sb))
    elif meta == '1.0':
        sb = (dev - 16) & ~7
        geo.append(dict(sb=sb, data_off=0, data_size=sb))
    elif meta == '1.1':
        geo.append(dict(sb=0, data_off=2048, data_size=dev - 2048))
    elif meta == '1.2':
        geo.append(dict(sb=8, data_off=2048, data_size=dev - 2048))
# the component size the array uses on each member
comp = min(round_chunk(g['data_size']) for g in geo)
if meta == '0.90':
    comp -= comp % 128                                    # whole KiB... of 64 KiB
if level == 1:
    comp = min(g['data_size'] for g in geo) & ~7
    if meta == '0.90':
        comp = comp & ~127
near, far, offset = layout & 0xff, (layout >> 8) & 0xff, bool(layout & 0x10000)

if level == -1:
    devsecs = [round_chunk(g['data_size']) for g in geo]
    array = sum(devsecs)
elif level == 0:
    devsecs = [round_chunk(g['data_size']) for g in geo]
    array = None
elif level == 1:
    array = comp
elif level in (4, 5):
    array = comp * (n - 1)
elif level == 6:
    array = comp * (n - 2)
elif level == 10:
    arr_chunks = (comp // chunk // far) * n // near
    used = -(-(arr_chunks * near * far) // n)              # chunks per device, rounded up
    stride = chunk if offset else (used // far) * chunk
    array = arr_chunks * chunk

# RAID0 zones, as the kernel builds them
zones = []
if level == 0:
    start, prev = 0, 0
    while True:
        devs = [i for i in range(n) if devsecs[i] > prev]
        if not devs:
            break
        small = min(devsecs[i] for i in devs)
        zones.append(dict(start=start, end=start + (small - prev) * len(devs), dev_start=prev, devs=devs))
        start += (small - prev) * len(devs)
        prev = small
    array = start

if payload == '-':                                         # the array size only
    print(array * 512)
    sys.exit(0)
data = open(payload, 'rb').read()
data = data[:array * 512].ljust(array * 512, b'\0')
buf = [bytearray(g['data_size'] * 512) for g in geo]

def put(dev, sector, chunkdata):
    o = sector * 512
    buf[dev][o:o + len(chunkdata)] = chunkdata

def xor(blocks):
    ints = [int.from_bytes(b, 'little') for b in blocks]
    x = 0
    for v in ints:
        x ^= v
    return x.to_bytes(len(blocks[0]), 'little')

# GF(2^8) for the RAID6 Q syndrome (generator 2, polynomial 0x11d)
GFEXP = [0] * 512
v = 1
for i in range(255):
    GFEXP[i] = v
    v <<= 1
    if v & 0x100:
        v ^= 0x11d
for i in range(255, 512):
    GFEXP[i] = GFEXP[i - 255]
def gfmul_table(c):
    if c == 0:
        return bytes(256)
    log = {GFEXP[i]: i for i in range(255)}
    return bytes(0 if x == 0 else GFEXP[log[x] + log[c]] for x in range(256))

cs = chunk * 512
if level in (-1,):
    pos = 0
    for i in range(n):
        put(i, 0, data[pos * 512:(pos + devsecs[i]) * 512])
        pos += devsecs[i]
elif level == 0:
    for z in zones:
        nd = len(z['devs'])
        for c in range((z['end'] - z['start']) // chunk):
            asec = z['start'] + c * chunk
            if layout == 2:        # RAID0_ALT_MULTIZONE_LAYOUT: zone-relative
                d = z['devs'][c % nd]
            else:                  # original layout: absolute chunk number
                d = z['devs'][(asec // chunk) % nd]
            put(d, z['dev_start'] + (c // nd) * chunk, data[asec * 512:asec * 512 + cs])
elif level == 1:
    for i in range(n):
        put(i, 0, data)
elif level == 10:
    nchunks = array // chunk
    for c in range(nchunks):
        cc = c * near
        stripe, dev = divmod(cc, n)
        if offset:
            stripe *= far
        sec = stripe * chunk
        d0 = dev
        for k in range(near):
            d, s = d0, sec
            put(d, s, data[c * cs:(c + 1) * cs])
            for f in range(1, far):
                d = (d + near) % n
                s += stride
                put(d, s, data[c * cs:(c + 1) * cs])
            d0 += 1
            if d0 >= n:
                d0 = 0
                sec += chunk
elif level in (4, 5, 6):
    maxdeg = 2 if level == 6 else 1
    dd = n - maxdeg
    if level == 4:
        alg = 5
    else:
        alg = layout
    g2 = [gfmul_table(GFEXP[j]) for j in range(dd)] if level == 6 else None
    nstripes = comp // chunk
    for st in range(nstripes):
        s2 = st % n
        if level != 6:
            if alg == 0: pd = dd - s2
            elif alg == 1: pd = s2
            elif alg == 2: pd = dd - s2
            elif alg == 3: pd = s2
            elif alg == 4: pd = 0
            elif alg == 5: pd = dd
            def ddisk(j):
                if alg in (0, 1): return j + 1 if j >= pd else j
                if alg in (2, 3): return (pd + 1 + j) % n
                if alg == 4: return j + 1
                return j
            qd = None
        else:
            if alg in (0, 1):
                pd = n - 1 - s2 if alg == 0 else s2
                qd = pd + 1
                if pd == n - 1:
                    qd = 0
            elif alg in (2, 3):
                pd = n - 1 - s2 if alg == 2 else s2
                qd = (pd + 1) % n
            elif alg == 4:
                pd, qd = 0, 1
            else:
                pd, qd = dd, dd + 1
            def ddisk(j):
                if alg in (0, 1):
                    if pd == n - 1: return j + 1
                    return j + 2 if j >= pd else j
                if alg in (2, 3): return (pd + 2 + j) % n
                if alg == 4: return j + 2
                return j
        chunks = []
        for j in range(dd):
            c = st * dd + j
            cdata = data[c * cs:(c + 1) * cs]
            chunks.append(cdata)
            put(ddisk(j), st * chunk, cdata)
        put(pd, st * chunk, xor(chunks))
        if qd is not None:
            # Q = sum of g^k * D_k, k the data member's place in the
            # kernel's syndrome order: members in turn from the one after
            # Q (from 0 when Q is last), P and Q left out.  For the
            # symmetric layouts that is the data order; for the asymmetric
            # ones it is not.
            d0 = 0 if qd == n - 1 else qd + 1
            order = [i % n for i in range(d0, d0 + n) if i % n not in (pd, qd)]
            slot = {dev: k for k, dev in enumerate(order)}
            put(qd, st * chunk,
                xor([chunks[j].translate(g2[slot[ddisk(j)]]) for j in range(dd)]))

def csum(b, nbytes):
    s = 0
    for (w,) in struct.iter_unpack('<I', bytes(b[:nbytes - nbytes % 4])):
        s += w
    if nbytes % 4 == 2:
        s += struct.unpack_from('<H', b, nbytes - 2)[0]
    return ((s & 0xffffffff) + (s >> 32)) & 0xffffffff

def sb1(i, ev):
    max_dev = 384
    sb = bytearray(256 + 2 * max_dev)
    struct.pack_into('<IIII', sb, 0, SB1_MAGIC, 1, 0, 0)
    sb[16:32] = U
    nm = name.encode()[:32]
    sb[32:32 + len(nm)] = nm
    struct.pack_into('<Q', sb, 64, 1700000000)
    struct.pack_into('<iIQII', sb, 72, level, layout if level not in (1, -1) else 0,
                     0 if level in (0, -1) else comp, chunk if level != 1 else 0, n)
    g = geo[i]
    struct.pack_into('<QQQQI', sb, 128, g['data_off'], g['data_size'], g['sb'], 0, i)
    sb[168:184] = uuidmod.UUID(int=(int.from_bytes(U, 'big') ^ (i + 1))).bytes
    struct.pack_into('<QQQII', sb, 192, 1700000000, ev, 0xffffffffffffffff, 0, max_dev)
    for j in range(max_dev):
        struct.pack_into('<H', sb, 256 + 2 * j, j if j < n else 0xffff)
    struct.pack_into('<I', sb, 216, csum(sb, len(sb)))
    return sb

def sb0(i, ev):
    w = [0] * 1024
    u = struct.unpack('>IIII', U)
    w[0], w[1], w[2], w[3] = SB1_MAGIC, 0, 90, 0
    w[5], w[6], w[7], w[8], w[9], w[10], w[11] = u[0], 1700000000, level & 0xffffffff, comp // 2, n, n, 0
    w[13], w[14], w[15] = u[1], u[2], u[3]
    w[32], w[33], w[34], w[35] = 1700000000, 1, n, n
    w[39], w[40] = ev & 0xffffffff, ev >> 32
    w[64], w[65] = layout if level not in (1, -1) else 0, chunk * 512
    for j in range(n):
        w[128 + 32 * j: 128 + 32 * j + 5] = [j, 7, j, j, 6]
    w[992:997] = [i, 7, i, i, 6]
    b = bytearray(struct.pack('<1024I', *w))
    struct.pack_into('<I', b, 38 * 4, csum(b, 4096))
    return b

for i, out in enumerate(outs):
    if out == '-':
        continue
    g = geo[i]
    ev = stale.get(i, events)
    f = open(out, 'r+b')
    f.seek(g['data_off'] * 512)
    if i in stale:
        f.write(bytes(len(buf[i])))    # a stale member holds nothing useful
    else:
        f.write(buf[i])
    f.seek(g['sb'] * 512)
    f.write(sb0(i, ev) if meta == '0.90' else sb1(i, ev))
    f.close()
print(array * 512)
