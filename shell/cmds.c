/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command table of gfsh — the single source of truth for dispatch,
 * argument checking, `help`, completion and gfsh(1)'s COMMANDS section —
 * and the code that reads it. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "gfsh.h"

#define S(n) {GA_STR, n}
#define P(n) {GA_PATH, n}
#define D(n) {GA_DEV, n}
#define DP(n) {GA_DEVPATH, n}
#define I(n) {GA_INT, n}
#define H(n) {GA_HOST, n}
#define OB(n) {GA_OBOOL, n}
#define OS(n) {GA_OSTR, n}

#define INSPECT_GET(nm, what, more)                                          \
    {nm, {0}, {D("root")}, {{0}}, GF_LAUNCHED, "get " what " of inspected OS", \
     "Print " what " of the operating system whose root device is root, "  \
     "as found by inspect-os." more, run_inspect_get}

const gfsh_cmd gfsh_cmds[] = {
    /* ---- session and shell ---- */
    {"add", {"add-drive", NULL}, {H("filename")}, {OS("format"), OB("readonly")}, 0,
     "add an image to examine",
     "Add a disk image as the next disk (/dev/sda, /dev/sdb...).  It must come before the guest is "
     "launched, that is before run or any command that looks at the disks.  format:raw or "
     "format:qcow2 skips probing the format.  Images are opened read-only unless gfsh was "
     "started with --rw.",
     run_add},
    {"run", {"launch", NULL}, {{0}}, {{0}}, 0,
     "scan the added disks",
     "Scan the added disks for partitions, LVM volumes and filesystems.  gfsh does this "
     "on its own when a command first needs the disks, and -a with -i or -m do it at start; "
     "run when the disks are already scanned does nothing (scripts written for guestfish run it).",
     run_launch},
    {"echo", {0}, {{0}}, {{0}}, GF_VARARGS,
     "display a line of text",
     "Print the parameters, separated by single spaces, and a newline.",
     run_echo},
    {"help", {0}, {{0}}, {{0}}, GF_VARARGS,
     "display a list of commands or help on a command",
     "With no parameter, list every command with a one-line description.  "
     "help cmd shows the full description of cmd.",
     run_help},
    {"quit", {"exit", "q"}, {{0}}, {{0}}, 0,
     "quit gfsh",
     "Leave the shell.  End of input (Ctrl-D) does the same.",
     run_quit},
    {"lcd", {0}, {H("directory")}, {{0}}, 0,
     "change working directory",
     "Change the host working directory of gfsh, where relative host file names (download, "
     "copy-out...) are taken from.  !cd cannot do this, as it runs in a subshell.",
     run_lcd},
    {"time", {0}, {S("cmd")}, {{0}}, GF_VARARGS,
     "print elapsed time taken to run a command",
     "Run cmd with its arguments and then print \"elapsed time: N.NN seconds\".",
     run_time},
    {"glob", {0}, {S("cmd")}, {{0}}, GF_VARARGS | GF_LAUNCHED,
     "expand wildcards in command",
     "Expand the guest wildcards (*, ? and [...]) in the arguments of cmd and run cmd once for "
     "each combination of the expansions (their cartesian product).  A pattern that matches "
     "nothing is passed on unchanged.",
     run_glob},

    /* ---- devices, partitions, LVM ---- */
    {"list-devices", {0}, {{0}}, {{0}}, GF_LAUNCHED,
     "list the block devices",
     "List the disks, /dev/sda, /dev/sdb..., one per line in the order they were added.",
     run_list_devices},
    {"list-partitions", {0}, {{0}}, {{0}}, GF_LAUNCHED,
     "list the partitions",
     "List every partition found on the disks (/dev/sda1...), including partitions that "
     "hold LVM physical volumes.",
     run_list_partitions},
    {"list-filesystems", {0}, {{0}}, {{0}}, GF_LAUNCHED,
     "list filesystems",
     "List the devices that may hold a filesystem with the filesystem type, as "
     "\"/dev/sda1: ext4\".  Disks with a partition table, LVM physical volumes and extended "
     "partitions are left out; swap shows as swap and anything not recognised as unknown.",
     run_list_filesystems},
    {"lvs", {0}, {{0}}, {{0}}, GF_LAUNCHED,
     "list the LVM logical volumes (LVs)",
     "List the logical volumes as /dev/VG/LV, one per line.",
     run_lvs},
    {"vgs", {0}, {{0}}, {{0}}, GF_LAUNCHED,
     "list the LVM volume groups (VGs)",
     "List the names of the volume groups, one per line.",
     run_vgs},
    {"pvs", {0}, {{0}}, {{0}}, GF_LAUNCHED,
     "list the LVM physical volumes (PVs)",
     "List the devices that hold LVM physical volumes, one per line.",
     run_pvs},
    {"vfs-type", {0}, {D("mountable")}, {{0}}, GF_LAUNCHED,
     "get the Linux VFS type corresponding to a mounted device",
     "Print the filesystem type blkid finds on the device (ext4, swap, LVM2_member...), or an "
     "empty line if nothing is recognised.",
     run_vfs_type},
    {"vfs-uuid", {0}, {D("mountable")}, {{0}}, GF_LAUNCHED,
     "get the filesystem UUID",
     "Print the filesystem UUID of the device, or an empty line if it has none.",
     run_vfs_uuid},
    {"vfs-label", {0}, {D("mountable")}, {{0}}, GF_LAUNCHED,
     "get the filesystem label",
     "Print the filesystem label of the device, or an empty line if it has none.",
     run_vfs_label},
    {"blockdev-getsize64", {0}, {D("device")}, {{0}}, GF_LAUNCHED,
     "get total size of device in bytes",
     "Print the size of the device in bytes.",
     run_blockdev_getsize64},
    {"part-list", {0}, {D("device")}, {{0}}, GF_LAUNCHED,
     "list partitions on a device",
     "List the partitions of the disk: for each one a block with part_num, part_start, "
     "part_end (inclusive) and part_size, all in bytes.",
     run_part_list},
    {"part-get-parttype", {0}, {D("device")}, {{0}}, GF_LAUNCHED,
     "get the partition table type",
     "Print the partition table type of the disk: msdos or gpt.",
     run_part_get_parttype},
    {"part-get-name", {0}, {D("device"), I("partnum")}, {{0}}, GF_LAUNCHED,
     "get partition name",
     "Print the name (label) of GPT partition partnum of the disk.",
     run_part_get},
    {"part-get-gpt-type", {0}, {D("device"), I("partnum")}, {{0}}, GF_LAUNCHED,
     "get the type GUID of a GPT partition",
     "Print the partition type GUID of GPT partition partnum of the disk, in upper case.",
     run_part_get},
    {"part-get-gpt-guid", {0}, {D("device"), I("partnum")}, {{0}}, GF_LAUNCHED,
     "get the GUID of a GPT partition",
     "Print the unique GUID of GPT partition partnum of the disk.",
     run_part_get},
    {"part-get-gpt-attributes", {0}, {D("device"), I("partnum")}, {{0}}, GF_LAUNCHED,
     "get the attribute flags of a GPT partition",
     "Print the 64-bit attribute flags of GPT partition partnum of the disk, in decimal.",
     run_part_get},
    {"part-get-mbr-id", {0}, {D("device"), I("partnum")}, {{0}}, GF_LAUNCHED,
     "get the MBR type byte (ID byte) from a partition",
     "Print the type byte of MBR partition partnum of the disk, in hex (0x83).",
     run_part_get},
    {"part-to-dev", {0}, {D("partition")}, {{0}}, GF_LAUNCHED,
     "convert partition name to device name",
     "Print the disk a partition is on: /dev/sda for /dev/sda1.",
     run_part_to_dev},
    {"part-to-partnum", {0}, {D("partition")}, {{0}}, GF_LAUNCHED,
     "convert partition name to partition number",
     "Print the partition number: 1 for /dev/sda1.",
     run_part_to_partnum},
    {"canonical-device-name", {0}, {D("device")}, {{0}}, GF_LAUNCHED,
     "return canonical device name",
     "Print the name gfsh uses for a device given under another name: /dev/vda1, "
     "/dev/hda1 or /dev/xvda1 become /dev/sda1, /dev/mapper/VG-LV becomes /dev/VG/LV.",
     run_canonical_device_name},
    {"is-lv", {0}, {D("mountable")}, {{0}}, GF_LAUNCHED,
     "test if mountable is a logical volume",
     "Print true if the device is an LVM logical volume, false otherwise.",
     run_is_kind},
    {"is-whole-device", {0}, {D("device")}, {{0}}, GF_LAUNCHED,
     "test if a device is a whole device",
     "Print true if the device is a whole disk (not a partition or an LV), false otherwise.",
     run_is_kind},
    {"list-md-devices", {0}, {{0}}, {{0}}, GF_LAUNCHED,
     "list Linux md (RAID) devices",
     "List the Linux md RAID arrays assembled from the disks, sorted by name "
     "(/dev/md127 downwards, as libguestfs' appliance names them).",
     run_list_md_devices},
    {"md-detail", {0}, {D("md")}, {{0}}, GF_LAUNCHED,
     "obtain metadata for an MD device",
     "Print the level, device count, name and UUID of the md array.",
     run_md_detail},
    {"md-stat", {0}, {D("md")}, {{0}}, GF_LAUNCHED,
     "get underlying devices from an MD device",
     "List the member devices of the md array that are present, with their slot.",
     run_md_stat},
    {"mount", {0}, {D("mountable"), P("mountpoint")}, {{0}}, GF_LAUNCHED,
     "mount a guest disk at a position in the filesystem",
     "Mount the filesystem on the device at mountpoint, which must be / first and then an "
     "existing directory of what is mounted.  It is mounted read-only unless gfsh runs with --rw.",
     run_mount},
    {"mount-ro", {0}, {D("mountable"), P("mountpoint")}, {{0}}, GF_LAUNCHED,
     "mount a guest disk, read-only",
     "Like mount, but always read-only.",
     run_mount_ro},
    {"umount", {"unmount", NULL}, {DP("pathordevice")}, {OB("force"), OB("lazyunmount")}, GF_LAUNCHED,
     "unmount a filesystem",
     "Unmount the filesystem mounted at the given mountpoint, or from the given device.  "
     "Filesystems mounted below it must be unmounted first.",
     run_umount},
    {"umount-all", {"unmount-all", NULL}, {{0}}, {{0}}, GF_LAUNCHED,
     "unmount all filesystems",
     "Unmount every mounted filesystem.",
     run_umount_all},
    {"mounts", {0}, {{0}}, {{0}}, GF_LAUNCHED,
     "show mounted filesystems",
     "List the devices that are mounted, in mount order.",
     run_mounts},
    {"mountpoints", {0}, {{0}}, {{0}}, GF_LAUNCHED,
     "show mountpoints",
     "List what is mounted as \"device: mountpoint\" lines.",
     run_mountpoints},

    /* ---- inspection ---- */
    {"inspect-os", {0}, {{0}}, {{0}}, GF_LAUNCHED,
     "inspect disk and return list of operating systems found",
     "Look for operating systems on the disks and print the root device of each one.  "
     "Nothing is mounted by this command.",
     run_inspect_os},
    {"inspect-get-roots", {0}, {{0}}, {{0}}, GF_LAUNCHED,
     "return list of operating systems found by last inspection",
     "Print the root devices found by inspect-os.",
     run_inspect_get_roots},
    INSPECT_GET("inspect-get-type", "the type", "  It is linux, or unknown."),
    INSPECT_GET("inspect-get-distro", "the distro",
                "  For example debian, ubuntu, fedora, rhel, archlinux; unknown if not known."),
    INSPECT_GET("inspect-get-arch", "the architecture",
                "  For example x86_64, i386 or aarch64; unknown if not known."),
    INSPECT_GET("inspect-get-product-name", "the product name",
                "  This is the OS's own name for itself, not meant to be parsed."),
    INSPECT_GET("inspect-get-product-variant", "the product variant", ""),
    INSPECT_GET("inspect-get-major-version", "the major version", "  0 if unknown."),
    INSPECT_GET("inspect-get-minor-version", "the minor version", "  0 if unknown."),
    INSPECT_GET("inspect-get-hostname", "the hostname", ""),
    INSPECT_GET("inspect-get-package-format", "the package format",
                "  For example deb, rpm, pacman or apk; unknown if not known."),
    INSPECT_GET("inspect-get-package-management", "the package management tool",
                "  For example apt, dnf, yum or pacman; unknown if not known."),
    INSPECT_GET("inspect-get-osinfo", "the libosinfo short ID", ""),
    INSPECT_GET("inspect-get-build-id", "the build ID", ""),
    INSPECT_GET("inspect-get-windows-systemroot", "the Windows systemroot",
                "  For example /Windows, as the guest spells it; an error for other guests."),
    INSPECT_GET("inspect-get-windows-current-control-set", "the Windows CurrentControlSet",
                "  For example ControlSet001, from HKLM\\SYSTEM\\Select."),
    INSPECT_GET("inspect-get-windows-software-hive", "the path of the Windows SOFTWARE hive",
                "  For example /Windows/System32/config/SOFTWARE."),
    INSPECT_GET("inspect-get-windows-system-hive", "the path of the Windows SYSTEM hive",
                "  For example /Windows/System32/config/SYSTEM."),
    {"inspect-get-drive-mappings", {0}, {D("root")}, {{0}}, GF_LAUNCHED,
     "get drive letter mappings",
     "Print the Windows drive letters of the OS as \"C: /dev/sda2\" lines, from "
     "HKLM\\SYSTEM\\MountedDevices matched against the disks (MBR disk signature and "
     "partition offset, or GPT partition GUID), in the order the registry lists them.  Nothing "
     "for other guests.",
     run_inspect_get_drive_mappings},
    {"inspect-get-mountpoints", {0}, {D("root")}, {{0}}, GF_LAUNCHED,
     "get mountpoints of inspected operating system",
     "Print the filesystems the OS mounts, from its fstab, as \"mountpoint: device\" lines.",
     run_inspect_get_mountpoints},
    {"inspect-get-filesystems", {0}, {D("root")}, {{0}}, GF_LAUNCHED,
     "get filesystems associated with inspected operating system",
     "List every filesystem that belongs to the OS, including swap.",
     run_inspect_get_filesystems},
    {"inspect-list-applications", {0}, {D("root")}, {{0}}, GF_LAUNCHED,
     "get list of applications installed in the operating system",
     "List the installed packages, sorted by name, as blocks of app_* fields.  The disks "
     "must be mounted (-i does this).",
     run_inspect_list_apps},
    {"inspect-list-applications2", {0}, {D("root")}, {{0}}, GF_LAUNCHED,
     "get list of applications installed in the operating system",
     "Like inspect-list-applications, with the app2_* fields, which include the architecture.",
     run_inspect_list_apps2},

    /* ---- reading files ---- */
    {"ls", {0}, {P("directory")}, {{0}}, GF_LAUNCHED,
     "list the files in a directory",
     "List the names in the directory, sorted, without . and ..",
     run_ls},
    {"ll", {0}, {P("directory")}, {{0}}, GF_LAUNCHED,
     "list the files in a directory (long format)",
     "List the directory like ls -la does.  Meant for people, not for parsing.",
     run_ll},
    {"find", {0}, {P("directory")}, {{0}}, GF_LAUNCHED,
     "find all files and directories",
     "List every file and directory below directory, recursively and sorted, with the "
     "directory's name taken off the front, as guestfish does: find / prints bin, etc, "
     "etc/passwd ...; find /etc prints /passwd, /ssh, /ssh/sshd_config ... (find /etc/ "
     "prints them without the leading /).  Symbolic links are not followed; mounted "
     "filesystems below directory are included.",
     run_find},
    {"find0", {0}, {P("directory"), H("files")}, {{0}}, GF_LAUNCHED,
     "find all files and directories, returning NUL-separated list",
     "Like find, but write the names, each ended by a NUL byte, to the host file (- for stdout).",
     run_find0},
    {"cat", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "list the contents of a file",
     "Write the contents of the file to the output, byte for byte.  Ctrl-C stops it.",
     run_cat},
    {"more", {"less", NULL}, {P("filename")}, {{0}}, GF_LAUNCHED,
     "view a file",
     "Show the file with the pager in $PAGER (default more) when the output is a terminal; "
     "otherwise the same as cat.",
     run_more},
    {"head", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "return first 10 lines of a file",
     "Print the first 10 lines of the file.",
     run_head},
    {"head-n", {0}, {I("nrlines"), P("path")}, {{0}}, GF_LAUNCHED,
     "return first N lines of a file",
     "Print the first nrlines lines of the file.  A negative nrlines prints all but the last "
     "-nrlines lines; 0 prints nothing.",
     run_head},
    {"tail", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "return last 10 lines of a file",
     "Print the last 10 lines of the file.",
     run_tail},
    {"tail-n", {0}, {I("nrlines"), P("path")}, {{0}}, GF_LAUNCHED,
     "return last N lines of a file",
     "Print the last nrlines lines of the file.  A negative nrlines prints the lines from "
     "line number -nrlines to the end; 0 prints nothing.",
     run_tail},
    {"read-file", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "read a file",
     "Write the whole file to the output, byte for byte (the same as cat).",
     run_read_file},
    {"hexdump", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "dump a file in hexadecimal",
     "Print the file the way hexdump -C does: offset, 16 bytes in hex, the printable "
     "characters; repeated lines are shown as *.",
     run_hexdump},
    {"strings", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "print the printable strings in a file",
     "Print each run of at least 4 printable 7-bit characters in the file on a line, like "
     "strings -a -e s.",
     run_strings},
    {"lgetxattrs", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "list extended attributes of a file or directory",
     "List the extended attributes of path (a symbolic link itself, not what it points to) "
     "as [N] = { attrname, attrval } blocks; bytes of the value that are not printable show "
     "as \\xNN.",
     run_getxattrs},
    {"getxattrs", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "list extended attributes of a file or directory",
     "Like lgetxattrs, following symbolic links.",
     run_getxattrs},
    {"lgetxattr", {0}, {P("path"), S("name")}, {{0}}, GF_LAUNCHED,
     "get a single extended attribute",
     "Write the value of extended attribute name of path (not following a final symbolic "
     "link) to the output, as raw bytes.",
     run_getxattr},
    {"getxattr", {0}, {P("path"), S("name")}, {{0}}, GF_LAUNCHED,
     "get a single extended attribute",
     "Like lgetxattr, following symbolic links.",
     run_getxattr},
    {"read-lines", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "read file as lines",
     "Print the lines of the file, each followed by a newline (a missing final newline is added).",
     run_read_lines},
    {"filesize", {0}, {P("file")}, {{0}}, GF_LAUNCHED,
     "return the size of the file in bytes",
     "Print the size of the file in bytes (symbolic links are followed).",
     run_filesize},
    {"stat", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "get file information",
     "Print the file's stat fields (dev ino mode nlink uid gid rdev size blksize blocks atime "
     "mtime ctime), following symbolic links.  Deprecated: use statns.",
     run_stat},
    {"lstat", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "get file information for a symbolic link",
     "Like stat, but about a symbolic link itself.  Deprecated: use lstatns.",
     run_stat},
    {"statns", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "get file information",
     "Print the file's stat fields st_dev through st_ctime_nsec, with nanosecond times, "
     "following symbolic links.  st_dev identifies the mounted filesystem inside gfsh.",
     run_statns},
    {"lstatns", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "get file information for a symbolic link",
     "Like statns, but about a symbolic link itself.",
     run_statns},
    {"readlink", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "read the target of a symbolic link",
     "Print the target of the symbolic link, as stored.",
     run_readlink},
    {"realpath", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "canonicalized absolute pathname",
     "Print the absolute path with every symbolic link, . and .. resolved inside the guest.",
     run_realpath},
    {"hivex-open", {0}, {P("filename")}, {OB("verbose"), OB("debug"), OB("write"), OB("unsafe")},
     GF_LAUNCHED,
     "open a Windows Registry hive file",
     "Open the registry hive at filename in the guest (for example "
     "/Windows/System32/config/SOFTWARE, or win:C:\\Windows\\System32\\config\\SOFTWARE) "
     "for the other hivex-* commands; a hive already open is closed first.  unsafe:true "
     "reads hives hivex finds corrupt as far as it can.  Hives are read-only: write:true is "
     "refused.",
     run_hivex_open},
    {"hivex-close", {0}, {{0}}, {{0}}, GF_LAUNCHED,
     "close the current hivex handle",
     "Close the hive hivex-open opened.",
     run_hivex_close},
    {"hivex-root", {0}, {{0}}, {{0}}, GF_LAUNCHED,
     "return the root node of the hive",
     "Print the handle of the root node (key) of the open hive.",
     run_hivex_root},
    {"hivex-node-name", {0}, {I("nodeh")}, {{0}}, GF_LAUNCHED,
     "return the name of the node",
     "Print the name of the node (key) nodeh.",
     run_hivex_node},
    {"hivex-node-children", {0}, {I("nodeh")}, {{0}}, GF_LAUNCHED,
     "return list of nodes which are subkeys of node",
     "List the subkeys of nodeh as blocks of hivex_node_h fields, as guestfish prints them.",
     run_hivex_node},
    {"hivex-node-get-child", {0}, {I("nodeh"), S("name")}, {{0}}, GF_LAUNCHED,
     "return the named child of node",
     "Print the handle of the subkey of nodeh called name (compared ignoring case), or 0 if "
     "there is none.",
     run_hivex_node},
    {"hivex-node-parent", {0}, {I("nodeh")}, {{0}}, GF_LAUNCHED,
     "return the parent of node",
     "Print the handle of the parent of nodeh.",
     run_hivex_node},
    {"hivex-node-values", {0}, {I("nodeh")}, {{0}}, GF_LAUNCHED,
     "return list of values attached to node",
     "List the values of nodeh as blocks of hivex_value_h fields.",
     run_hivex_node},
    {"hivex-node-get-value", {0}, {I("nodeh"), S("key")}, {{0}}, GF_LAUNCHED,
     "return the named value",
     "Print the handle of the value of nodeh called key (compared ignoring case; the empty "
     "string is the default value), or 0 if there is none.",
     run_hivex_node},
    {"hivex-value-key", {0}, {I("valueh")}, {{0}}, GF_LAUNCHED,
     "return the key field from the (key, datatype, data) tuple",
     "Print the name of the value valueh.",
     run_hivex_value},
    {"hivex-value-type", {0}, {I("valueh")}, {{0}}, GF_LAUNCHED,
     "return the data type from the (key, datatype, data) tuple",
     "Print the registry type of valueh as a number (1 REG_SZ, 3 REG_BINARY, 4 REG_DWORD...).",
     run_hivex_value},
    {"hivex-value-value", {0}, {I("valueh")}, {{0}}, GF_LAUNCHED,
     "return the data field from the (key, datatype, data) tuple",
     "Write the raw data of valueh, byte for byte.",
     run_hivex_value},
    {"hivex-value-string", {0}, {I("valueh")}, {{0}}, GF_LAUNCHED,
     "return the data field as a UTF-8 string",
     "Print the string value valueh (REG_SZ, REG_EXPAND_SZ) converted to UTF-8.",
     run_hivex_value},
    {"hivex-value-utf8", {0}, {I("valueh")}, {{0}}, GF_LAUNCHED,
     "return the data field as a UTF-8 string",
     "The old name of hivex-value-string.",
     run_hivex_value},
    {"hivex-commit", {0}, {S("filename")}, {{0}}, GF_LAUNCHED | GF_RW,
     "commit (write) changes back to the hive",
     "Not supported: hives are opened read-only.",
     run_hivex_write},
    {"hivex-node-add-child", {0}, {I("parent"), S("name")}, {{0}}, GF_LAUNCHED | GF_RW,
     "add a child node",
     "Not supported: hives are opened read-only.",
     run_hivex_write},
    {"hivex-node-delete-child", {0}, {I("nodeh")}, {{0}}, GF_LAUNCHED | GF_RW,
     "delete a node (recursively)",
     "Not supported: hives are opened read-only.",
     run_hivex_write},
    {"hivex-node-set-value", {0}, {I("nodeh"), S("key"), I("t"), S("val")}, {{0}},
     GF_LAUNCHED | GF_RW,
     "set or replace a single value in a node",
     "Not supported: hives are opened read-only.",
     run_hivex_write},
    {"case-sensitive-path", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "return true path on case-insensitive filesystem",
     "Print path with each element replaced by the directory entry it matches ignoring case, "
     "for paths of Windows guests (NTFS compares names by the volume's own upper-case table, "
     "other filesystems by ASCII case; the first match in directory order wins).  The last "
     "element may be missing: it is printed as given.  Links are followed into directories.",
     run_case_sensitive_path},
    {"checksum", {0}, {S("csumtype"), P("path")}, {{0}}, GF_LAUNCHED,
     "compute MD5, SHAx or CRC checksum of file",
     "Print the checksum of the file.  csumtype is crc (the POSIX cksum CRC, printed in "
     "decimal), md5, sha1, sha224, sha256, sha384 or sha512 (printed in hex).",
     run_checksum},
    {"checksums-out", {0}, {S("csumtype"), P("directory"), H("sumsfile")}, {{0}}, GF_LAUNCHED,
     "compute MD5, SHAx or CRC checksum of files in a directory",
     "Checksum every regular file below directory, recursively, and write the lines "
     "sha256sum (md5sum ...) would print, with paths relative to directory (./etc/passwd), "
     "sorted by path, to the host file sumsfile (- for the output).  For crc the lines are "
     "cksum's: CRC, size, path.",
     run_checksums_out},
    {"download", {0}, {P("remotefilename"), H("filename")}, {{0}}, GF_LAUNCHED,
     "download a file to the local machine",
     "Copy the guest file to the host file filename (- writes it to the output).  A symbolic "
     "link at filename is refused, never followed.",
     run_download},
    {"download-offset", {0}, {P("remotefilename"), H("filename"), I("offset"), I("size")}, {{0}},
     GF_LAUNCHED,
     "download a file to the local machine with offset and size",
     "Copy size bytes of the guest file starting at offset to the host file (- for the output).  "
     "Less is copied if the file ends first.",
     run_download_offset},
    {"copy-out", {0}, {P("remote"), H("localdir")}, {{0}}, GF_LAUNCHED | GF_VARARGS,
     "copy remote files or directories out of an image",
     "copy-out remote [remote ...] localdir: copy guest files or whole directories, "
     "recursively, into the existing host directory localdir.  Modes, times, symbolic links "
     "and hard links are kept; owners, set-id bits and device nodes only when run as root.  "
     "Nothing is written through a symbolic link already in localdir, nor outside it.",
     run_copy_out},
    {"tar-out", {0}, {P("directory"), H("tarfile")},
     {OS("compress"), OB("numericowner"), OS("excludes"), OB("xattrs")}, GF_LAUNCHED,
     "pack directory into tarfile",
     "Write the directory and everything below it as a tar archive to the host file tarfile "
     "(- for the output), as tar -C directory -cf - . does: GNU format, names ./..., sorted, "
     "hard links stored once, sockets left out.  compress:gzip (bzip2, xz, zstd, lzop, "
     "compress) compresses it.  Owners are numeric, with the name root for uid/gid 0 unless "
     "numericowner:true.  excludes:\"PATTERN ...\" leaves out the names matching any of the "
     "wildcard patterns.  xattrs:true stores extended attributes (SELinux labels too) in pax "
     "headers.",
     run_tar_out},
    {"grep", {0}, {S("regex"), P("path")},
     {OB("extended"), OB("fixed"), OB("insensitive"), OB("compressed")}, GF_LAUNCHED,
     "return lines matching a pattern",
     "Print the lines of the file that match the regular expression (POSIX basic syntax).  "
     "extended:true uses extended syntax, fixed:true a fixed string, insensitive:true ignores "
     "case, compressed:true reads a gzip-compressed file.",
     run_grep},
    {"egrep", {0}, {S("regex"), P("path")}, {{0}}, GF_LAUNCHED,
     "return lines matching a pattern",
     "grep with extended regular expressions (grep extended:true).",
     run_grep},
    {"fgrep", {0}, {S("pattern"), P("path")}, {{0}}, GF_LAUNCHED,
     "return lines matching a pattern",
     "grep for a fixed string (grep fixed:true).",
     run_grep},
    {"grepi", {0}, {S("regex"), P("path")}, {{0}}, GF_LAUNCHED,
     "return lines matching a pattern",
     "grep ignoring case (grep insensitive:true).",
     run_grep},
    {"zgrep", {0}, {S("regex"), P("path")}, {{0}}, GF_LAUNCHED,
     "return lines matching a pattern",
     "grep in a gzip-compressed file (grep compressed:true).",
     run_grep},
    {"is-file", {0}, {P("path")}, {OB("followsymlinks")}, GF_LAUNCHED,
     "test if a regular file",
     "Print true if path is a regular file, false otherwise.  A symbolic link counts only "
     "with followsymlinks:true.",
     run_is},
    {"is-dir", {0}, {P("path")}, {OB("followsymlinks")}, GF_LAUNCHED,
     "test if a directory",
     "Print true if path is a directory, false otherwise.  A symbolic link counts only "
     "with followsymlinks:true.",
     run_is},
    {"is-symlink", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "test if symbolic link",
     "Print true if path is a symbolic link, false otherwise.",
     run_is},
    {"is-blockdev", {0}, {P("path")}, {OB("followsymlinks")}, GF_LAUNCHED,
     "test if block device",
     "Print true if path is a block device node, false otherwise.",
     run_is},
    {"is-chardev", {0}, {P("path")}, {OB("followsymlinks")}, GF_LAUNCHED,
     "test if character device",
     "Print true if path is a character device node, false otherwise.",
     run_is},
    {"is-fifo", {0}, {P("path")}, {OB("followsymlinks")}, GF_LAUNCHED,
     "test if FIFO (named pipe)",
     "Print true if path is a FIFO, false otherwise.",
     run_is},
    {"is-socket", {0}, {P("path")}, {OB("followsymlinks")}, GF_LAUNCHED,
     "test if socket",
     "Print true if path is a Unix socket, false otherwise.",
     run_is},
    {"exists", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "test if file or directory exists",
     "Print true if path exists (following symbolic links), false otherwise.",
     run_is},
    {"du", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "estimate file space usage",
     "Print the space used by path and everything below it, in kilobytes, like du -s "
     "(hard-linked files count once).",
     run_du},
    {"df", {0}, {{0}}, {{0}}, GF_LAUNCHED,
     "report file system disk space usage",
     "Show the usage of the mounted filesystems like the df command.  For people, not for parsing.",
     run_df},
    {"df-h", {0}, {{0}}, {{0}}, GF_LAUNCHED,
     "report file system disk space usage (human readable)",
     "Like df, with human-readable sizes (df -h).",
     run_df},
    {"btrfs-subvolume-list", {0}, {S("fs")}, {{0}}, GF_LAUNCHED,
     "list btrfs snapshots and subvolumes",
     "List the subvolumes and snapshots of the btrfs filesystem fs (a device, a btrfsvol: "
     "name, or the path where one is mounted): for each one a block with its id, the id of "
     "the subvolume it is in, and its path from the top level.",
     run_btrfs_subvolume_list},
    {"btrfs-subvolume-get-default", {0}, {S("fs")}, {{0}}, GF_LAUNCHED,
     "get the default subvolume or snapshot of a filesystem",
     "Print the id of the default subvolume of the btrfs filesystem fs (a device, a btrfsvol: "
     "name, or the path where one is mounted): 5 is the top level.",
     run_btrfs_subvolume_get_default},
    {"statvfs", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "get file system statistics",
     "Print the statvfs fields (bsize frsize blocks bfree bavail files ffree favail fsid flag "
     "namemax) of the filesystem holding path.",
     run_statvfs},

    /* ---- changing the guest (--rw) ---- */
    {"write", {0}, {P("path"), S("content")}, {{0}}, GF_LAUNCHED | GF_RW,
     "create a new file",
     "Create the file path (or empty an existing one) and write content into it.  A symbolic "
     "link is followed, a dangling one creates its target.",
     run_write},
    {"write-append", {0}, {P("path"), S("content")}, {{0}}, GF_LAUNCHED | GF_RW,
     "append content to end of file",
     "Append content to the file path, creating it if it does not exist.",
     run_write},
    {"upload", {0}, {H("filename"), P("remotefilename")}, {{0}}, GF_LAUNCHED | GF_RW,
     "upload a file from the local machine",
     "Copy the host file filename (- reads the input) into the guest file remotefilename, "
     "replacing what it held.  If the copy fails part way, a new file is removed and an "
     "existing one is left empty.",
     run_upload},
    {"mkdir", {0}, {P("path")}, {{0}}, GF_LAUNCHED | GF_RW,
     "create a directory",
     "Create the directory path (mode 0755).  Its parent must exist.",
     run_mkdir},
    {"mkdir-p", {0}, {P("path")}, {{0}}, GF_LAUNCHED | GF_RW,
     "create a directory and parents",
     "Create the directory path and any missing parent directories, like mkdir -p.  An "
     "existing directory is not an error.",
     run_mkdir},
    {"rm", {0}, {P("path")}, {{0}}, GF_LAUNCHED | GF_RW,
     "remove a file",
     "Remove the file (or symbolic link, device node...) path.  Directories are not removed: "
     "see rmdir and rm-rf.",
     run_rm},
    {"rm-f", {0}, {P("path")}, {{0}}, GF_LAUNCHED | GF_RW,
     "remove a file ignoring errors",
     "Like rm, but a path that does not exist is not an error (rm -f).",
     run_rm},
    {"rm-rf", {0}, {P("path")}, {{0}}, GF_LAUNCHED | GF_RW,
     "remove a file or directory recursively",
     "Remove path and, if it is a directory, everything below it (rm -rf).  A path that does "
     "not exist is not an error.  Mounted filesystems below it are not crossed: removing a "
     "mountpoint fails.",
     run_rm},
    {"rmdir", {0}, {P("path")}, {{0}}, GF_LAUNCHED | GF_RW,
     "remove a directory",
     "Remove the empty directory path.",
     run_rmdir},
    {"mv", {0}, {P("src"), P("dest")}, {{0}}, GF_LAUNCHED | GF_RW,
     "move a file",
     "Move (rename) src to dest, like mv: an existing directory dest receives src under its "
     "own name, an existing file dest is replaced.  Between filesystems src is copied (as "
     "cp-a does) and then removed.",
     run_mv},
    {"cp", {0}, {P("src"), P("dest")}, {{0}}, GF_LAUNCHED | GF_RW,
     "copy a file",
     "Copy the file src to dest, like cp: an existing directory dest receives the copy under "
     "src's name.  Directories need cp-r or cp-a.",
     run_cp},
    {"cp-a", {0}, {P("src"), P("dest")}, {{0}}, GF_LAUNCHED | GF_RW,
     "copy a file or directory recursively",
     "Copy src, recursively, to dest keeping modes, owners, times, extended attributes, "
     "symbolic links and hard links (cp -a).",
     run_cp},
    {"cp-r", {0}, {P("src"), P("dest")}, {{0}}, GF_LAUNCHED | GF_RW,
     "copy a file or directory recursively",
     "Copy src, recursively, to dest (cp -rP): symbolic links are copied as links; the copies "
     "belong to root and get the current time.",
     run_cp},
    {"ln", {0}, {P("target"), P("linkname")}, {{0}}, GF_LAUNCHED | GF_RW,
     "create a hard link",
     "Create linkname as a hard link to the file target.",
     run_ln},
    {"ln-f", {0}, {P("target"), P("linkname")}, {{0}}, GF_LAUNCHED | GF_RW,
     "create a hard link",
     "Like ln, removing linkname first if it exists.",
     run_ln},
    {"ln-s", {0}, {S("target"), P("linkname")}, {{0}}, GF_LAUNCHED | GF_RW,
     "create a symbolic link",
     "Create linkname as a symbolic link to target (stored as given, not checked).",
     run_ln},
    {"ln-sf", {0}, {S("target"), P("linkname")}, {{0}}, GF_LAUNCHED | GF_RW,
     "create a symbolic link",
     "Like ln-s, removing linkname first if it exists.",
     run_ln},
    {"chmod", {0}, {I("mode"), P("path")}, {{0}}, GF_LAUNCHED | GF_RW,
     "change file mode",
     "Change the permission bits of path (following symbolic links).  The mode is a number: "
     "write it in octal with a leading 0 (chmod 0755 /file).",
     run_chmod},
    {"chown", {0}, {I("owner"), I("group"), P("path")}, {{0}}, GF_LAUNCHED | GF_RW,
     "change file owner and group",
     "Change the numeric owner and group of path, following symbolic links; -1 keeps one of "
     "them.  Like chown(2), set-user-ID and set-group-ID bits of a file are cleared.",
     run_chown},
    {"lchown", {0}, {I("owner"), I("group"), P("path")}, {{0}}, GF_LAUNCHED | GF_RW,
     "change file owner and group",
     "Like chown, but a symbolic link itself is changed.",
     run_chown},
    {"touch", {0}, {P("path")}, {{0}}, GF_LAUNCHED | GF_RW,
     "update file timestamps or create a new file",
     "Set the access and modification times of the regular file path to now, or create it "
     "empty if it does not exist.  Other file types are refused.",
     run_touch},
    {"truncate", {0}, {P("path")}, {{0}}, GF_LAUNCHED | GF_RW,
     "truncate a file to zero size",
     "Make the regular file path empty.",
     run_truncate},
    {"truncate-size", {0}, {P("path"), I("size")}, {{0}}, GF_LAUNCHED | GF_RW,
     "truncate a file to a particular size",
     "Change the size of the regular file path: shrinking drops the end, growing adds a hole "
     "that reads as zeros.",
     run_truncate},
    {"setxattr", {0}, {S("xattr"), S("val"), I("vallen"), P("path")}, {{0}}, GF_LAUNCHED | GF_RW,
     "set extended attribute of a file or directory",
     "Set the extended attribute xattr (user.*, trusted.*, security.*) of path, following "
     "symbolic links, to the first vallen bytes of val.",
     run_setxattr},
    {"lsetxattr", {0}, {S("xattr"), S("val"), I("vallen"), P("path")}, {{0}}, GF_LAUNCHED | GF_RW,
     "set extended attribute of a file or directory",
     "Like setxattr, on a symbolic link itself.",
     run_setxattr},
    {"removexattr", {0}, {S("xattr"), P("path")}, {{0}}, GF_LAUNCHED | GF_RW,
     "remove extended attribute of a file or directory",
     "Remove the extended attribute xattr of path, following symbolic links.",
     run_removexattr},
    {"lremovexattr", {0}, {S("xattr"), P("path")}, {{0}}, GF_LAUNCHED | GF_RW,
     "remove extended attribute of a file or directory",
     "Like removexattr, on a symbolic link itself.",
     run_removexattr},
    {"mknod", {0}, {I("mode"), I("devmajor"), I("devminor"), P("path")}, {{0}}, GF_LAUNCHED | GF_RW,
     "make block, character or FIFO devices",
     "Create a device node, FIFO or socket path; mode holds the type bits as well as the "
     "permissions (020644 is a character device, 060600 a block device, 010600 a FIFO; "
     "without type bits an empty regular file is made, as mknod(2) does).",
     run_mknod},
    {"mkfifo", {0}, {I("mode"), P("path")}, {{0}}, GF_LAUNCHED | GF_RW,
     "make FIFO (named pipe)",
     "Create the FIFO path with the permission bits of mode.",
     run_mknod},
    {"tar-in", {0}, {H("tarfile"), P("directory")},
     {OS("compress"), OB("xattrs"), OB("selinux"), OB("acls")}, GF_LAUNCHED | GF_RW,
     "unpack tarfile to directory",
     "Unpack the host tar archive tarfile (- reads the input; any compression is detected, "
     "compress: is accepted for compatibility) into the existing guest directory, keeping "
     "modes, owners, times, symbolic and hard links.  An archive is untrusted: a leading / is "
     "dropped, names with .. are refused, and nothing is written through a symbolic link, so "
     "nothing lands outside directory.  xattrs:true (or selinux:true) sets the extended "
     "attributes the archive stores (SELinux labels among them); acls: is accepted and "
     "ignored.",
     run_tar_in},
    {"copy-in", {0}, {H("localpath")}, {{0}}, GF_LAUNCHED | GF_RW | GF_VARARGS,
     "copy local files or directories into an image",
     "copy-in localpath [localpath ...] remotedir: copy host files or whole directories, "
     "recursively, into the existing guest directory remotedir, each under its own name, with "
     "modes, owners, times, symbolic links and hard links.  Files of the same name are "
     "replaced, directories merged.",
     run_copy_in},
    {"edit", {0}, {P("filename")}, {{0}}, GF_LAUNCHED | GF_RW,
     "edit a file",
     "Copy the file to the host, run $EDITOR (default vi) on the copy, and if its contents "
     "changed write it back as virt-edit does: a new file with the original's owner, mode and "
     "extended attributes (SELinux label included) is renamed over it.  A symbolic link is "
     "followed: the file it points to is edited.",
     run_edit},
    {"vi", {0}, {P("filename")}, {{0}}, GF_LAUNCHED | GF_RW,
     "edit a file",
     "Like edit, with vi.",
     run_edit},
    {"emacs", {0}, {P("filename")}, {{0}}, GF_LAUNCHED | GF_RW,
     "edit a file",
     "Like edit, with emacs.",
     run_edit},
    {"sync", {0}, {{0}}, {{0}}, 0,
     "sync disks, writes are flushed through to the disk image",
     "Make every change so far durable in the disk images: on ext3/4 the pending journal "
     "transaction is committed and checkpointed.  Leaving gfsh does the same.",
     run_sync},
    /* ---- more read-only guestfish commands (shell/cmds-ro.c, cmds-disk.c,
     * cmds-initrd.c, cmds-inspect.c) ---- */
    {"file", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "determine file type",
     "Print what kind of file path is, as file -zb does (libmagic), looking inside compressed "
     "files.  Other than regular files print directory, symbolic link, character device, "
     "block device, FIFO or socket; an empty file prints empty.",
     run_file},
    {"file-architecture", {0}, {P("filename")}, {{0}}, GF_LAUNCHED,
     "detect the architecture of a binary file",
     "Print the architecture an ELF binary or a PE executable is built for, with libguestfs' "
     "names (x86_64, i386, aarch64, arm, ppc64le, s390x, riscv64 ...).",
     run_file_architecture},
    {"wc-l", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "count lines in a file",
     "Print the number of newline characters in the file, as wc -l does.",
     run_wc},
    {"wc-w", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "count words in a file",
     "Print the number of words (runs of characters between white space) in the file, as wc -w "
     "does.",
     run_wc},
    {"wc-c", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "count characters in a file",
     "Print the size of the file in bytes, as wc -c does.",
     run_wc},
    {"pread", {0}, {P("path"), I("count"), I("offset")}, {{0}}, GF_LAUNCHED,
     "read part of a file",
     "Write count bytes of the file starting at offset to the output, as raw bytes; less when "
     "the file ends first.  count is at most 2 MiB (guestfish's protocol limit is smaller).",
     run_pread},
    {"pread-device", {0}, {D("device"), I("count"), I("offset")}, {{0}}, GF_LAUNCHED,
     "read part of a device",
     "Write count bytes of the device starting at offset to the output, as raw bytes.  count "
     "is at most 2 MiB.",
     run_pread},
    {"is-zero", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "test if a file contains all zero bytes",
     "Print true if the file holds only zero bytes (an empty file does), false otherwise.  Holes "
     "of a sparse file are not read.",
     run_is_zero},
    {"is-zero-device", {0}, {D("device")}, {{0}}, GF_LAUNCHED,
     "test if a device contains all zero bytes",
     "Print true if every byte of the device is zero, false otherwise.  Unallocated parts of "
     "the image are not read.",
     run_is_zero},
    {"strings-e", {0}, {S("encoding"), P("path")}, {{0}}, GF_LAUNCHED,
     "print the printable strings in a file",
     "Like strings, with strings -e's encoding: s (7-bit, the default of strings), S (8-bit), "
     "b or B (16 or 32-bit big endian), l or L (16 or 32-bit little endian).",
     run_strings},
    {"checksum-device", {0}, {S("csumtype"), D("device")}, {{0}}, GF_LAUNCHED,
     "compute MD5, SHAx or CRC checksum of the contents of a device",
     "Like checksum, of the whole device.",
     run_checksum},
    {"ls0", {0}, {P("dir"), H("filenames")}, {{0}}, GF_LAUNCHED,
     "get list of files in a directory",
     "Like ls, but write the names, each ended by a NUL byte, to the host file filenames (- for "
     "the output).",
     run_ls0},
    {"llz", {0}, {P("directory")}, {{0}}, GF_LAUNCHED,
     "list the files in a directory (long format with SELinux contexts)",
     "Like ll, with the SELinux context of each file (its security.selinux attribute; ? when "
     "there is none) before the size, as ls -laZ prints it.",
     run_ll},
    {"lstatlist", {0}, {P("path"), S("names")}, {{0}}, GF_LAUNCHED,
     "lstat on multiple files",
     "lstat each of names (a space-separated list) in directory path and print the results "
     "as [N] = { ... } blocks.  Deprecated in guestfish: use lstatnslist.",
     run_statlist},
    {"lstatnslist", {0}, {P("path"), S("names")}, {{0}}, GF_LAUNCHED,
     "lstat on multiple files",
     "lstatns each of names (a space-separated list) in directory path and print the results "
     "as [N] = { ... } blocks.",
     run_statlist},
    {"readlinklist", {0}, {P("path"), S("names")}, {{0}}, GF_LAUNCHED,
     "readlink on multiple files",
     "Print the target of each of names (a space-separated list) in directory path, one per "
     "line; an empty line for a name that is not a symbolic link.",
     run_readlinklist},
    {"lxattrlist", {0}, {P("path"), S("names")}, {{0}}, GF_LAUNCHED,
     "lgetxattr on multiple files",
     "The extended attributes of each of names (a space-separated list) in directory path, in "
     "guestfish's layout: for each file an entry with an empty attrname whose value is the "
     "number of attributes, then the attributes.",
     run_lxattrlist},
    {"glob-expand", {"glob-expand-opts", NULL}, {S("pattern")}, {OB("directoryslash")}, GF_LAUNCHED,
     "expand a wildcard path",
     "Print the guest paths matching pattern (*, ? and [...]), sorted.  Directories get a "
     "trailing / unless directoryslash:false.",
     run_glob_expand},
    {"initrd-list", {0}, {P("path")}, {{0}}, GF_LAUNCHED,
     "list files in an initrd",
     "List the files of an initrd image (a cpio archive, compressed with gzip, xz, zstd, bzip2 "
     "or lz4, or not, after any uncompressed early cpio archives) as cpio -t does.",
     run_initrd},
    {"initrd-cat", {0}, {P("initrdpath"), S("filename")}, {{0}}, GF_LAUNCHED,
     "list the contents of a single file in an initrd",
     "Write the contents of the file called filename inside the initrd image to the output.  "
     "filename is as initrd-list prints it.",
     run_initrd},
    {"tgz-out", {0}, {P("directory"), H("tarball")}, {{0}}, GF_LAUNCHED,
     "pack directory into compressed tarball",
     "tar-out with compress:gzip.",
     run_tar_out_z},
    {"txz-out", {0}, {P("directory"), H("tarball")}, {{0}}, GF_LAUNCHED,
     "pack directory into compressed tarball",
     "tar-out with compress:xz.",
     run_tar_out_z},
    {"egrepi", {0}, {S("regex"), P("path")}, {{0}}, GF_LAUNCHED,
     "return lines matching a pattern",
     "grep extended:true insensitive:true.",
     run_grep},
    {"fgrepi", {0}, {S("pattern"), P("path")}, {{0}}, GF_LAUNCHED,
     "return lines matching a pattern",
     "grep fixed:true insensitive:true.",
     run_grep},
    {"zegrep", {0}, {S("regex"), P("path")}, {{0}}, GF_LAUNCHED,
     "return lines matching a pattern",
     "grep extended:true compressed:true.",
     run_grep},
    {"zegrepi", {0}, {S("regex"), P("path")}, {{0}}, GF_LAUNCHED,
     "return lines matching a pattern",
     "grep extended:true insensitive:true compressed:true.",
     run_grep},
    {"zfgrep", {0}, {S("pattern"), P("path")}, {{0}}, GF_LAUNCHED,
     "return lines matching a pattern",
     "grep fixed:true compressed:true.",
     run_grep},
    {"zfgrepi", {0}, {S("pattern"), P("path")}, {{0}}, GF_LAUNCHED,
     "return lines matching a pattern",
     "grep fixed:true insensitive:true compressed:true.",
     run_grep},
    {"zgrepi", {0}, {S("regex"), P("path")}, {{0}}, GF_LAUNCHED,
     "return lines matching a pattern",
     "grep insensitive:true compressed:true.",
     run_grep},

    {"blkid", {0}, {D("device")}, {{0}}, GF_LAUNCHED,
     "print block device attributes",
     "Print what libblkid finds on the device, as blkid -p -i -o export does, as \"KEY: value\" "
     "lines: DEVNAME, the filesystem's LABEL, UUID, VERSION, BLOCK_SIZE, TYPE, USAGE, the I/O "
     "sizes, and for a partition its PART_ENTRY_* values from the partition table.",
     run_blkid},
    {"tune2fs-l", {0}, {D("device")}, {{0}}, GF_LAUNCHED,
     "get ext2/ext3/ext4 superblock details",
     "Print the superblock of the ext2/3/4 filesystem on the device as \"key: value\" lines, the "
     "fields tune2fs -l lists (libe2p's list of the superblock).",
     run_tune2fs_l},
    {"disk-format", {0}, {H("filename")}, {{0}}, 0,
     "detect the disk format of a disk image",
     "Print the format of the host disk image filename: raw or qcow2, as qemu-img info "
     "detects it.",
     run_disk_info},
    {"disk-virtual-size", {0}, {H("filename")}, {{0}}, 0,
     "return virtual size of a disk",
     "Print the virtual size in bytes of the host disk image filename.",
     run_disk_info},
    {"disk-has-backing-file", {0}, {H("filename")}, {{0}}, 0,
     "return whether disk has a backing file",
     "Print true if the host disk image filename has a backing file, false otherwise.",
     run_disk_info},
    {"list-disk-labels", {0}, {{0}}, {{0}}, 0,
     "mapping of disk labels to devices",
     "Print \"label: device\" for each disk added with a label (add filename label:NAME).",
     run_list_disk_labels},
    {"device-index", {0}, {D("device")}, {{0}}, GF_LAUNCHED,
     "convert device to index",
     "Print the index of the disk in the order disks were added, from 0.",
     run_device_index},
    {"nr-devices", {0}, {{0}}, {{0}}, GF_LAUNCHED,
     "return number of whole block devices (disks) added",
     "Print the number of disks.",
     run_device_index},
    {"blockdev-getss", {0}, {D("device")}, {{0}}, GF_LAUNCHED,
     "get sectorsize of block device",
     "Print the logical sector size of the device in bytes (512 unless the disk has 4K "
     "sectors).",
     run_blockdev_get},
    {"blockdev-getsz", {0}, {D("device")}, {{0}}, GF_LAUNCHED,
     "get total size of device in 512-byte sectors",
     "Print the size of the device in 512-byte sectors.",
     run_blockdev_get},
    {"blockdev-getbsz", {0}, {D("device")}, {{0}}, GF_LAUNCHED,
     "get blocksize of block device",
     "Print the block size the kernel would use for the device: the filesystem's block size "
     "when one is mounted from it, else 4096.",
     run_blockdev_get},
    {"blockdev-getro", {0}, {D("device")}, {{0}}, GF_LAUNCHED,
     "is block device set to read-only",
     "Print true if the device is read-only (gfsh without --rw), false otherwise.",
     run_blockdev_get},
    {"part-get-bootable", {0}, {D("device"), I("partnum")}, {{0}}, GF_LAUNCHED,
     "return true if a partition is bootable",
     "Print true if partition partnum of the disk is bootable: the MBR active flag, or the GPT "
     "legacy BIOS bootable attribute (bit 2).",
     run_part_get},
    {"part-get-disk-guid", {0}, {D("device")}, {{0}}, GF_LAUNCHED,
     "get the GUID of a GPT-partitioned disk",
     "Print the disk GUID of a GPT disk, in upper case.",
     run_part_get_disk_guid},
    {"part-get-mbr-part-type", {0}, {D("device"), I("partnum")}, {{0}}, GF_LAUNCHED,
     "get the MBR partition type",
     "Print primary, extended or logical for partition partnum of an MBR disk; GPT partitions "
     "are primary.",
     run_part_get},
    {"findfs-label", {0}, {S("label")}, {{0}}, GF_LAUNCHED,
     "find a filesystem by label",
     "Print the device holding the filesystem with this label.",
     run_findfs},
    {"findfs-uuid", {0}, {S("uuid")}, {{0}}, GF_LAUNCHED,
     "find a filesystem by UUID",
     "Print the device holding the filesystem with this UUID.",
     run_findfs},
    {"mountable-device", {0}, {D("mountable")}, {{0}}, GF_LAUNCHED,
     "extract the device part of a mountable",
     "Print the device of a mountable: the device itself (btrfsvol:DEV/SUBVOL gives DEV).",
     run_mountable},
    {"mountable-subvolume", {0}, {D("mountable")}, {{0}}, GF_LAUNCHED,
     "extract the subvolume part of a mountable",
     "Print the subvolume of a btrfsvol:DEV/SUBVOL mountable; an error for a plain device.",
     run_mountable},
    {"get-e2label", {0}, {D("device")}, {{0}}, GF_LAUNCHED,
     "get the ext2/3/4 filesystem label",
     "Print the label of the filesystem on the device.  Deprecated: use vfs-label.",
     run_vfs_label},
    {"get-e2uuid", {0}, {D("device")}, {{0}}, GF_LAUNCHED,
     "get the ext2/3/4 filesystem UUID",
     "Print the UUID of the filesystem on the device.  Deprecated: use vfs-uuid.",
     run_vfs_uuid},
    {"list-dm-devices", {0}, {{0}}, {{0}}, GF_LAUNCHED,
     "list device mapper devices",
     "List the device-mapper names the guest's LVM logical volumes would have, "
     "/dev/mapper/VG-LV (dashes inside names doubled), sorted.",
     run_list_dm_devices},
    {"filesystem-available", {0}, {S("filesystem")}, {{0}}, 0,
     "check if filesystem is available",
     "Print true if gfsh can mount a filesystem of this type (a blkid TYPE such as ext4, xfs, "
     "btrfs, vfat), false otherwise.",
     run_filesystem_available},
    {"lvuuid", {0}, {D("device")}, {{0}}, GF_LAUNCHED,
     "get the UUID of a logical volume",
     "Print the LVM UUID of the logical volume.",
     run_lvm_uuid},
    {"pvuuid", {0}, {D("device")}, {{0}}, GF_LAUNCHED,
     "get the UUID of a physical volume",
     "Print the LVM UUID of the physical volume on the device.",
     run_lvm_uuid},
    {"vguuid", {0}, {S("vgname")}, {{0}}, GF_LAUNCHED,
     "get the UUID of a volume group",
     "Print the LVM UUID of the volume group.",
     run_lvm_uuid},
    {"vglvuuids", {0}, {S("vgname")}, {{0}}, GF_LAUNCHED,
     "get the LV UUIDs of all LVs in the volume group",
     "Print the UUIDs of the logical volumes of the volume group, one per line.",
     run_lvm_uuid},
    {"vgpvuuids", {0}, {S("vgname")}, {{0}}, GF_LAUNCHED,
     "get the PV UUIDs containing the volume group",
     "Print the UUIDs of the physical volumes of the volume group, one per line.",
     run_lvm_uuid},
    {"lvm-canonical-lv-name", {0}, {D("lvname")}, {{0}}, GF_LAUNCHED,
     "get canonical name of an LV",
     "Print the /dev/VG/LV name of a logical volume given as /dev/VG/LV or /dev/mapper/VG-LV.",
     run_lvm_canonical},
    {"filesystem-walk", {0}, {D("device")}, {{0}}, GF_LAUNCHED,
     "walk through the filesystem content",
     "List every file of the filesystem on the device, directories before what they hold, as "
     "[N] = { tsk_* } blocks: inode, type (r d l c b p s, u unknown), size, path, flags (1: "
     "allocated), times, nlink and link target.  Only allocated files: unlike The Sleuth Kit "
     "that guestfish uses, deleted entries are not recovered.",
     run_filesystem_walk},
    {"ntfs-3g-probe", {0}, {S("rw"), D("device")}, {{0}}, GF_LAUNCHED,
     "probe NTFS volume",
     "Print what ntfs-3g.probe(8) exits with for the NTFS filesystem on device: 0 when it "
     "could be mounted (read-write if rw is true, else read-only), else the reason: 12 not "
     "NTFS, 13 corrupt, 14 Windows is hibernated or kept metadata in its cache (Fast Startup), "
     "15 the journal is not clean.  Nothing is written.",
     run_ntfs_3g_probe},
    {"ntfscat-i", {0}, {D("device"), I("inode"), H("filename")}, {{0}}, GF_LAUNCHED,
     "download a file from the filesystem by its inode number",
     "Copy the data of NTFS inode number inode on device to the host file filename (- writes "
     "it to the output), as ntfscat -i does: also files no path reaches, such as the metadata "
     "files ($MFT is 0, with its fixups applied; $Secure is 9).  The filesystem must not be "
     "mounted.",
     run_ntfscat_i},
    {"version", {0}, {{0}}, {{0}}, 0,
     "get the library version number",
     "Print guestkit's version as major, minor, release and extra fields.",
     run_version},
    {"ping-daemon", {0}, {{0}}, {{0}}, 0,
     "ping the guest daemon",
     "Do nothing: gfsh has no daemon to ping (kept for scripts written for guestfish).",
     run_ping_daemon},
    {"echo-daemon", {0}, {{0}}, {{0}}, GF_VARARGS,
     "echo arguments back to the client",
     "Print the words, separated by single spaces (there is no daemon: kept for scripts "
     "written for guestfish).",
     run_echo},
    {"mount-options", {0}, {S("options"), D("mountable"), P("mountpoint")}, {{0}}, GF_LAUNCHED,
     "mount a guest disk with mount options",
     "Like mount, with mount options (comma-separated): VFS options such as ro or noatime are "
     "taken, the others go to the filesystem driver, which refuses those it does not know.",
     run_mount_vfs},
    {"mount-vfs", {0}, {S("options"), S("vfstype"), D("mountable"), P("mountpoint")}, {{0}},
     GF_LAUNCHED,
     "mount a guest disk with mount options and vfstype",
     "Like mount-options, with the filesystem type given instead of probed.",
     run_mount_vfs},
    {"add-ro", {"add-drive-ro", NULL}, {H("filename")}, {OS("format")}, 0,
     "add a drive in snapshot mode (read-only)",
     "Like add, always read-only (gfsh never writes a drive added this way, even with --rw).",
     run_add_ro},
    {"equal", {0}, {P("file1"), P("file2")}, {{0}}, GF_LAUNCHED,
     "test if two files have equal contents",
     "Print true if the two regular files hold the same bytes, false otherwise.",
     run_equal},
    {"readdir", {0}, {P("dir")}, {{0}}, GF_LAUNCHED,
     "read directories entries",
     "List every entry of the directory, . and .. first, in the directory's own order, as "
     "[N] = { ino, ftyp, name } blocks; ftyp is r (regular), d, l, c, b, f (FIFO), s, u "
     "(unknown) or ?.",
     run_readdir},
    {"base64-out", {0}, {P("filename"), H("base64file")}, {{0}}, GF_LAUNCHED,
     "download file and encode as base64",
     "Write the guest file, base64-encoded in 76-character lines as base64(1) writes it, to the "
     "host file base64file (- for the output).",
     run_base64_out},
    {"sleep", {0}, {I("secs")}, {{0}}, 0,
     "sleep for some seconds",
     "Wait secs seconds (Ctrl-C stops it).",
     run_sleep},
    {"inspect-get-icon", {0}, {D("root")}, {OB("favicon"), OB("highquality")}, GF_LAUNCHED,
     "get the icon corresponding to this operating system",
     "Write the OS's icon, a PNG file found where libguestfs looks for it (/etc/favicon.png "
     "unless favicon:false, then the distribution's logo), to the output as raw bytes; nothing "
     "when there is none.  Needs the OS mounted (-i).",
     run_inspect_get_icon},
    {"inspect-get-format", {0}, {D("root")}, {{0}}, GF_LAUNCHED,
     "get format of inspected operating system",
     "Print installed (guestfish deprecated this; installer CDs are not recognised).",
     run_inspect_deprecated},
    {"inspect-is-live", {0}, {D("root")}, {{0}}, GF_LAUNCHED,
     "get live flag for install disk",
     "Print false (deprecated in guestfish).",
     run_inspect_deprecated},
    {"inspect-is-netinst", {0}, {D("root")}, {{0}}, GF_LAUNCHED,
     "get netinst (network installer) flag for install disk",
     "Print false (deprecated in guestfish).",
     run_inspect_deprecated},
    {"inspect-is-multipart", {0}, {D("root")}, {{0}}, GF_LAUNCHED,
     "get multipart flag for install disk",
     "Print false (deprecated in guestfish).",
     run_inspect_deprecated},
};
const int gfsh_ncmds = sizeof gfsh_cmds / sizeof gfsh_cmds[0];

/* ------------------------------------------------------------------ */

void gfsh_err(const gfsh_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL;
    fflush(stdout);
    if (cmd)
        fprintf(stderr, "%s: %s: ", gk_progname, cmd->name);
    else
        fprintf(stderr, "%s: ", gk_progname);
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    if (msg)
        gk_term_puts(stderr, msg);      /* guest names: no escapes to a terminal */
    fputc('\n', stderr);
    free(msg);
}

void gfsh_err_gk(const gfsh_cmd *cmd)
{
    gfsh_err_about(cmd, NULL);
}

void gfsh_err_about(const gfsh_cmd *cmd, const char *subject)
{
    const char *m = gk_errmsg();
    /* the library may have named the operation or the path already */
    size_t cl = cmd ? strlen(cmd->name) : 0;
    if (cmd && strncmp(m, cmd->name, cl) == 0 && m[cl] == ':' && m[cl + 1] == ' ')
        m += cl + 2;
    if (!subject || strstr(m, subject))
        gfsh_err(cmd, "%s", m);
    else
        gfsh_err(cmd, "%s: %s", subject, m);
}

const gfsh_cmd *gfsh_lookup(const char *name)
{
    for (int i = 0; i < gfsh_ncmds; i++) {
        const gfsh_cmd *c = &gfsh_cmds[i];
        if (strcasecmp(c->name, name) == 0)
            return c;
        for (int j = 0; c->aliases[j]; j++)
            if (strcasecmp(c->aliases[j], name) == 0)
                return c;
    }
    /* guestfish also accepts the API names with underscores */
    if (strchr(name, '_')) {
        char *dash = gk_strdup(name);
        for (char *p = dash; *p; p++)
            if (*p == '_')
                *p = '-';
        const gfsh_cmd *c = gfsh_lookup(dash);
        free(dash);
        return c;
    }
    return NULL;
}

/* Integers as guestfish takes them: decimal, 0 octal, 0x hex, and the
 * size suffixes k K KiB (1024), KB (1000), M MiB MB, G..., up to E. */
int gfsh_parse_int(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 0);
    if (end == s || errno == ERANGE)
        return -1;
    if (*end) {
        static const char units[] = "KMGTPE";
        char u = (char)toupper((unsigned char)*end);
        const char *pos = strchr(units, u);
        if (!pos || !*pos)
            return -1;
        int power = (int)(pos - units) + 1;
        int base = 1024;
        if (end[1] == 0 || (end[1] == 'i' && end[2] == 'B' && end[3] == 0))
            base = 1024;
        else if (end[1] == 'B' && end[2] == 0)
            base = 1000;
        else
            return -1;
        for (int i = 0; i < power; i++) {
            if (v > INT64_MAX / base || v < INT64_MIN / base)
                return -1;
            v *= base;
        }
    }
    *out = v;
    return 0;
}

int gfsh_parse_bool(const char *s)
{
    static const char *yes[] = {"true", "t", "yes", "y", "on", "1"};
    static const char *no[] = {"false", "f", "no", "n", "off", "0"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return 1;
        if (strcasecmp(s, no[i]) == 0)
            return 0;
    }
    return -1;
}

static int nargs_of(const gfsh_cmd *c)
{
    int n = 0;
    while (n < GFSH_MAXARGS && c->args[n].kind != GA_END)
        n++;
    return n;
}

static int nopts_of(const gfsh_cmd *c)
{
    int n = 0;
    while (n < GFSH_MAXOPTS && c->opts[n].kind != GA_END)
        n++;
    return n;
}

/* Guest paths longer than this cannot exist (PATH_MAX in the guest). */
#define GFSH_PATH_MAX 4096

static int check_word(const gfsh_cmd *c, const gfsh_arg *a, const char *w, int64_t *num)
{
    switch (a->kind) {
    case GA_PATH:
        if (w[0] != '/' && !gfsh_is_win_path(w)) {
            gfsh_err(c, "%s: %s must be an absolute path (start with /)", w, a->name);
            return -1;
        }
        /* fall through */
    case GA_DEVPATH:
        if (strlen(w) >= GFSH_PATH_MAX) {
            gfsh_err(c, "%s: path too long (%zu bytes)", a->name, strlen(w));
            return -1;
        }
        if (a->kind == GA_DEVPATH && w[0] != '/' && !gfsh_is_win_path(w)) {
            gfsh_err(c, "%s: %s must be a mountpoint or a /dev/ device", w, a->name);
            return -1;
        }
        return 0;
    case GA_DEV:
        /* a btrfs subvolume is mountable too, as libguestfs names it */
        if (strcmp(a->name, "mountable") == 0 && strncmp(w, "btrfsvol:/dev/", 14) == 0)
            w += 9;
        if (strncmp(w, "/dev/", 5) != 0 || strlen(w) >= 256) {
            gfsh_err(c, "%.256s: %s must be a device name such as /dev/sda1", w, a->name);
            return -1;
        }
        return 0;
    case GA_INT:
        if (gfsh_parse_int(w, num) < 0) {
            gfsh_err(c, "%.64s: %s: invalid integer parameter", w, a->name);
            return -1;
        }
        return 0;
    default:
        return 0;
    }
}

static void wrong_count(const gfsh_cmd *c, const char *name, int min, int max)
{
    fflush(stdout);
    if (min == max && min == 0)
        fprintf(stderr, "%s: %s should have no parameters\n", gk_progname, name);
    else if (max < 0)
        fprintf(stderr, "%s: %s should have at least %d parameter%s\n", gk_progname, name,
                min, min == 1 ? "" : "s");
    else if (min == max)
        fprintf(stderr, "%s: %s should have %d parameter%s\n", gk_progname, name, min,
                min == 1 ? "" : "s");
    else
        fprintf(stderr, "%s: %s should have %d-%d parameter(s)\n", gk_progname, name, min, max);
    fprintf(stderr, "type 'help %s' for help on %s\n", c->name, c->name);
}

int gfsh_need_guest(gfsh *sh, const gfsh_cmd *cmd)
{
    if (sh->g && sh->g->launched)
        return 0;
    if (!sh->g || sh->g->devs->ndisks == 0) {
        gfsh_err(cmd, "no disks: start gfsh with -a IMAGE, or use add IMAGE first");
        return -1;
    }
    if (gk_guest_launch(sh->g) < 0) {
        gfsh_err_gk(cmd);
        return -1;
    }
    return 0;
}

int gfsh_run_words(gfsh *sh, int nwords, char **words)
{
    const gfsh_cmd *c = gfsh_lookup(words[0]);
    if (!c) {
        fflush(stdout);
        fprintf(stderr, "%s: %.256s: unknown command (type 'help' for a list)\n", gk_progname,
                words[0]);
        return -1;
    }
    int nreq = nargs_of(c), nopt = nopts_of(c);
    int nw = nwords - 1;
    char **w = words + 1;
    gfsh_args a;
    memset(&a, 0, sizeof a);

    if (c->flags & GF_VARARGS) {
        if (nw < nreq) {
            wrong_count(c, words[0], nreq, -1);
            return -1;
        }
    } else if (nw < nreq || nw > nreq + nopt) {
        wrong_count(c, words[0], nreq, nreq + nopt);
        return -1;
    }
    for (int i = 0; i < nreq && i < nw; i++)
        if (check_word(c, &c->args[i], w[i], &a.num[i]) < 0)
            return -1;
    if (c->flags & GF_VARARGS) {
        a.argc = nw;
    } else {
        a.argc = nreq;
        for (int i = nreq; i < nw; i++) {
            int j;
            for (j = 0; j < nopt; j++) {
                size_t len = strlen(c->opts[j].name);
                if (strncmp(w[i], c->opts[j].name, len) == 0 && w[i][len] == ':')
                    break;
            }
            if (j == nopt) {
                gfsh_err(c, "unknown optional argument \"%.256s\"", w[i]);
                return -1;
            }
            if (a.set[j]) {
                gfsh_err(c, "optional argument \"%s\" given twice", c->opts[j].name);
                return -1;
            }
            const char *val = w[i] + strlen(c->opts[j].name) + 1;
            a.set[j] = 1;
            a.ostr[j] = val;
            if (c->opts[j].kind == GA_OBOOL) {
                int b = gfsh_parse_bool(val);
                if (b < 0) {
                    gfsh_err(c, "%s: expecting true or false, not \"%.64s\"", c->opts[j].name, val);
                    return -1;
                }
                a.onum[j] = b;
            } else if (c->opts[j].kind == GA_OINT && gfsh_parse_int(val, &a.onum[j]) < 0) {
                gfsh_err(c, "%s: invalid integer \"%.64s\"", c->opts[j].name, val);
                return -1;
            }
        }
    }
    a.argv = w;
    if ((c->flags & GF_RW) && !sh->cli.rw) {
        /* what guestfish says (its appliance mounts read-only) */
        const char *target = NULL;
        for (int i = 0; i < nreq && i < nw && !target; i++)
            if (c->args[i].kind == GA_PATH)
                target = w[i];
        if (c->flags & GF_VARARGS && nw > 0)
            target = w[nw - 1];
        if (target)
            gfsh_err(c, "%s: %s", target, strerror(EROFS));
        else
            gfsh_err(c, "%s", strerror(EROFS));
        return -1;
    }
    if (!gfsh_in_worker()) {
        /* the guest is parsed in the sandboxed worker only (split.c) */
        if (sh->worker <= 0 && ((c->flags & GF_LAUNCHED) || c->run == run_launch) &&
            sh->g && sh->g->devs->ndisks > 0 && !sh->g->launched)
            gfsh_split_start(sh);
        if (sh->worker > 0) {
            int r = gfsh_split_forward(sh, c, nwords, words);
            if (r != -2)
                return r;
        }
    }
    if ((c->flags & GF_LAUNCHED) && gfsh_need_guest(sh, c) < 0)
        return -1;
    char **win_free;
    if (gfsh_win_paths(sh, c, &a, &win_free) < 0)
        return -1;
    int rc = c->run(sh, c, &a);
    gfsh_win_paths_free(win_free);
    return rc;
}

/* ------------------------------------------------------------------ */
/* help and the man page, both from the table                          */

char *gfsh_synopsis(const gfsh_cmd *c)
{
    size_t cap = 256, n = 0;
    char *s = gk_malloc(cap);
    n += (size_t)snprintf(s, cap, "%s", c->name);
    for (int i = 0; i < GFSH_MAXARGS && c->args[i].kind; i++)
        n += (size_t)snprintf(s + n, cap - n, " %s", c->args[i].name);
    if (c->flags & GF_VARARGS)
        n += (size_t)snprintf(s + n, cap - n, " ...");
    for (int i = 0; i < GFSH_MAXOPTS && c->opts[i].kind; i++)
        n += (size_t)snprintf(s + n, cap - n, " [%s:%s]", c->opts[i].name,
                              c->opts[i].kind == GA_OBOOL ? "true|false" :
                              c->opts[i].kind == GA_OINT ? "N" : "..");
    return s;
}

static int cmp_cmd(const void *a, const void *b)
{
    return strcmp((*(const gfsh_cmd *const *)a)->name, (*(const gfsh_cmd *const *)b)->name);
}

static const gfsh_cmd **sorted_cmds(void)
{
    const gfsh_cmd **v = gk_malloc((size_t)gfsh_ncmds * sizeof *v);
    for (int i = 0; i < gfsh_ncmds; i++)
        v[i] = &gfsh_cmds[i];
    qsort(v, (size_t)gfsh_ncmds, sizeof *v, cmp_cmd);
    return v;
}

void gfsh_list_commands(FILE *fp)
{
    const gfsh_cmd **v = sorted_cmds();
    fprintf(fp, "    %-16s     %s\n", "Command", "Description");
    for (int i = 0; i < gfsh_ncmds; i++) {
        if (v[i]->flags & GF_HIDDEN)
            continue;
        fprintf(fp, "%-20s %s\n", v[i]->name, v[i]->shortdesc);
        for (int j = 0; v[i]->aliases[j]; j++)
            fprintf(fp, "%-20s alias for '%s'\n", v[i]->aliases[j], v[i]->name);
    }
    fprintf(fp, "    Use -h <cmd> / help <cmd> to show detailed help for a command.\n");
    free(v);
}

/* Print text wrapped at 72 columns with an indent. */
static void wrap(FILE *fp, const char *text, int indent)
{
    const char *p = text;
    while (*p) {
        const char *para = strstr(p, "\n\n");
        size_t plen = para ? (size_t)(para - p) : strlen(p);
        int col = 0;
        const char *q = p, *end = p + plen;
        while (q < end) {
            while (q < end && *q == ' ')
                q++;
            const char *wend = q;
            while (wend < end && *wend != ' ')
                wend++;
            int wl = (int)(wend - q);
            if (wl == 0)
                break;
            if (col == 0) {
                col = fprintf(fp, "%*s%.*s", indent, "", wl, q);
            } else if (col + 1 + wl > 72) {
                col = fprintf(fp, "\n%*s%.*s", indent, "", wl, q) - 1;
            } else {
                col += fprintf(fp, " %.*s", wl, q);
            }
            q = wend;
        }
        fputc('\n', fp);
        p += plen;
        if (para) {
            p += 2;
            fputc('\n', fp);
        }
    }
}

int gfsh_help_command(FILE *fp, const char *name)
{
    const gfsh_cmd *c = gfsh_lookup(name);
    if (!c) {
        fflush(stdout);
        fprintf(stderr, "%s: %.256s: command not known, use -h to list all commands\n",
                gk_progname, name);
        return -1;
    }
    char *syn = gfsh_synopsis(c);
    fprintf(fp, "NAME\n    %s - %s\n\nSYNOPSIS\n     %s\n\nDESCRIPTION\n", c->name, c->shortdesc, syn);
    wrap(fp, c->longdesc, 4);
    if (c->aliases[0]) {
        fprintf(fp, "\n    You can use ");
        for (int j = 0; c->aliases[j]; j++)
            fprintf(fp, "%s'%s'", j ? " or " : "", c->aliases[j]);
        fprintf(fp, " as an alias for this command.\n");
    }
    if (c->flags & GF_RW)
        fprintf(fp, "\n    This command changes the disks: it needs --rw.\n");
    free(syn);
    return 0;
}

/* roff-escape: backslashes and a leading dot or quote. */
static void roff(FILE *fp, const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", fp);
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", fp);
        else if (*s == '-')
            fputs("\\-", fp);
        else
            fputc(*s, fp);
    }
}

void gfsh_man_commands(FILE *fp)
{
    const gfsh_cmd **v = sorted_cmds();
    for (int i = 0; i < gfsh_ncmds; i++) {
        const gfsh_cmd *c = v[i];
        fputs(".SS ", fp);
        roff(fp, c->name);
        for (int j = 0; c->aliases[j]; j++) {
            fputs(", ", fp);
            roff(fp, c->aliases[j]);
        }
        fputs("\n.nf\n\\fB", fp);
        roff(fp, c->name);
        fputs("\\fR", fp);
        for (int j = 0; j < GFSH_MAXARGS && c->args[j].kind; j++) {
            fputs(" \\fI", fp);
            roff(fp, c->args[j].name);
            fputs("\\fR", fp);
        }
        if (c->flags & GF_VARARGS)
            fputs(" ...", fp);
        for (int j = 0; j < GFSH_MAXOPTS && c->opts[j].kind; j++) {
            fputs(" [", fp);
            roff(fp, c->opts[j].name);
            fputs(c->opts[j].kind == GA_OBOOL ? ":true|false]" : ":..]", fp);
        }
        fputs("\n.fi\n", fp);
        /* the paragraphs, each as its own .PP */
        const char *p = c->longdesc;
        while (*p) {
            const char *para = strstr(p, "\n\n");
            char *t = gk_strndup(p, para ? (size_t)(para - p) : strlen(p));
            if (p != c->longdesc)
                fputs(".PP\n", fp);
            roff(fp, t);
            fputc('\n', fp);
            free(t);
            p = para ? para + 2 : p + strlen(p);
        }
        if (c->flags & GF_RW)
            fputs(".PP\nThis command changes the disks: it needs \\fB\\-\\-rw\\fR.\n", fp);
    }
    free(v);
}
