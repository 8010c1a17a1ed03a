#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# The .reg text of the phony Windows guests' SOFTWARE and SYSTEM hives
# (hivexregedit --merge reads it; every parent key is listed first, as it
# wants):
#
#   windows-reg.py software VERSION > software.reg
#   windows-reg.py system VERSION MOUNTED... > system.reg
#
# VERSION is win7, win2012r2, win10, win11 or win2022: the values the
# inspection reads (ProductName, CurrentVersion, CurrentMajor/Minor-
# VersionNumber, CurrentBuildNumber, InstallationType; Select\Current, the
# Tcpip Hostname, MountedDevices) as those Windows versions write them
# (Windows 11 still calls itself "Windows 10" there: only the build number
# tells).  MOUNTED: LETTER=mbr:SIGNATURE_HEX:OFFSET or LETTER=gpt:GUID, the
# drive letters to record in MountedDevices.
import struct
import sys
import uuid

VERSIONS = {
    'win7': dict(name='Windows 7 Professional', cv='6.1', build='7601', type='Client',
                 edition='Professional', host='win7-pc', cs=1),
    'win2012r2': dict(name='Windows Server 2012 R2 Standard', cv='6.3', build='9600',
                      type='Server', edition='ServerStandard', host='WIN-2012R2', cs=2),
    'win10': dict(name='Windows 10 Pro', cv='6.3', major=10, minor=0, build='19045',
                  type='Client', edition='Professional', host='DESKTOP-GK10', cs=1),
    'win11': dict(name='Windows 10 Pro', cv='6.3', major=10, minor=0, build='22631',
                  type='Client', edition='Professional', host='DESKTOP-GK11', cs=1),
    'win2022': dict(name='Windows Server 2022 Datacenter', cv='6.3', major=10, minor=0,
                    build='20348', type='Server', edition='ServerDatacenter', host='WIN-SRV2022',
                    cs=1),
}

APPS = [
    # key, DisplayName, DisplayVersion, Publisher, InstallLocation, URLInfoAbout, Comments
    ('7-Zip', '7-Zip 19.00 (x64)', '19.00', 'Igor Pavlov', 'C:\\Program Files\\7-Zip\\', None, None),
    ('{23170F69-40C1-2702-1900-000001000000}', 'Phony MSI Product', '1.2.3.4', 'Example Corp',
     None, 'https://example.com/', 'An MSI product code as the key'),
    ('Ünïcødé', 'Ünïcødé Tööl ✓', '2.0', 'Ёжик ООО', 'C:\\Program Files\\Ünïcødé', None, None),
    ('NoDisplayName', None, '9.9', 'Nobody', None, None, 'no DisplayName: not listed'),
]
APPS32 = [
    ('Notepad++', 'Notepad++ (32-bit x86)', '8.5.8', 'Notepad++ Team',
     'C:\\Program Files (x86)\\Notepad++', 'https://notepad-plus-plus.org/', None),
]


def q(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'


def key(path, values=()):
    out = ['[%s]' % path]
    for name, val in values:
        if val is None:
            continue
        if isinstance(val, int):
            out.append('%s=dword:%08x' % (q(name), val))
        elif isinstance(val, bytes):
            out.append('%s=hex:%s' % (q(name), ','.join('%02x' % b for b in val)))
        elif not val.isascii():
            # hivexregedit reads the file as bytes: a non-ASCII string is
            # given as its REG_SZ data, UTF-16LE with the final NUL
            data = (val + '\0').encode('utf-16-le')
            out.append('%s=hex(1):%s' % (q(name), ','.join('%02x' % b for b in data)))
        else:
            out.append('%s=%s' % (q(name), q(val)))
    return '\n'.join(out) + '\n\n'


def keys_along(path):
    """path and each of its parents, outermost first"""
    parts = path.split('\\')
    return ['\\'.join(parts[:i]) for i in range(3, len(parts) + 1)]


def software(v):
    V = VERSIONS[v]
    hk = 'HKEY_LOCAL_MACHINE\\SOFTWARE'
    out = 'Windows Registry Editor Version 5.00\n\n'
    cv = hk + '\\Microsoft\\Windows NT\\CurrentVersion'
    for k in keys_along(cv)[:-1]:
        out += key(k)
    out += key(cv, [('ProductName', V['name']), ('CurrentVersion', V['cv']),
                    ('CurrentBuild', V['build']), ('CurrentBuildNumber', V['build']),
                    ('InstallationType', V['type']), ('EditionID', V['edition']),
                    ('CurrentMajorVersionNumber', V.get('major')),
                    ('CurrentMinorVersionNumber', V.get('minor')),
                    ('SystemRoot', 'C:\\Windows'), ('RegisteredOwner', 'guestkit')])
    for base, apps in ((hk + '\\Microsoft\\Windows\\CurrentVersion', APPS),
                       (hk + '\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion', APPS32)):
        for k in keys_along(base):
            if k.count('\\') >= 2 and k != hk + '\\Microsoft':
                out += key(k, [('ProgramFilesDir', 'C:\\Program Files')] if k == base else [])
        out += key(base + '\\Uninstall')
        for a in apps:
            out += key(base + '\\Uninstall\\' + a[0],
                       [('DisplayName', a[1]), ('DisplayVersion', a[2]), ('Publisher', a[3]),
                        ('InstallLocation', a[4]), ('URLInfoAbout', a[5]), ('Comments', a[6])])
    return out


def mounted(spec):
    letter, kind, rest = spec.split('=')[0], spec.split('=')[1].split(':')[0], spec.split(':', 1)[1]
    if kind == 'mbr':
        sig, off = rest.split(':')
        return letter, struct.pack('<IQ', int(sig, 16), int(off))
    return letter, b'DMIO:ID:' + uuid.UUID(rest).bytes_le


def system(v, specs):
    V = VERSIONS[v]
    hk = 'HKEY_LOCAL_MACHINE\\SYSTEM'
    out = 'Windows Registry Editor Version 5.00\n\n'
    out += key(hk + '\\Select', [('Current', V['cs']), ('Default', V['cs']), ('Failed', 0),
                                 ('LastKnownGood', V['cs'])])
    vals = [('\\DosDevices\\' + l + ':', b) for l, b in map(mounted, specs)]
    # volume GUID names are listed too, and are not drive letters
    vals.append(('\\??\\Volume{6e5d1a40-1111-2222-3333-444455556666}', b'\x01\x02\x03\x04' * 3))
    out += key(hk + '\\MountedDevices', vals)
    for cs in sorted({1, V['cs']}):
        c = hk + '\\ControlSet%03d' % cs
        host = V['host'] if cs == V['cs'] else 'old-name'
        out += key(c) + key(c + '\\Control') + key(c + '\\Control\\ComputerName')
        out += key(c + '\\Control\\ComputerName\\ComputerName', [('ComputerName', host.upper())])
        out += key(c + '\\Services') + key(c + '\\Services\\Tcpip')
        out += key(c + '\\Services\\Tcpip\\Parameters', [('Hostname', host), ('Domain', '')])
    return out


def main():
    if sys.argv[1] == 'software':
        sys.stdout.write(software(sys.argv[2]))
    else:
        sys.stdout.write(system(sys.argv[2], sys.argv[3:]))


main()
