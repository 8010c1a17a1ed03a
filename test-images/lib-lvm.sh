# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced (not run) by the fixture scripts that make LVM with lvm2 over loop
# devices.  This machine has no device-mapper, so nothing is ever activated
# (NOACT for lvcreate), and lvm2 gets a private configuration that sees only
# our loop devices: no devices file, no backups, no udev, no hints under /run.

# lvm_private_config WORKDIR LOOPDEV...: write WORKDIR/etc/lvm.conf and point
# lvm2 at it.
lvm_private_config() {
    local w=$1 f="" l
    shift
    for l in "$@"; do f="$f\"a|^$l\$|\", "; done
    mkdir -p "$w/etc" "$w/lock"
    cat >"$w/etc/lvm.conf" <<CONF
devices { filter = [ $f"r|.*|" ] use_devicesfile = 0 obtain_device_list_from_udev = 0 hints = "none" }
global { locking_dir = "$w/lock" }
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
backup { backup = 0 archive = 0 }
CONF
    export LVM_SYSTEM_DIR=$w/etc LVM_SUPPRESS_FD_WARNINGS=1
}

# lvm2 without the noise that having no device-mapper makes.
lvm() {
    command lvm "$@" 2> >(grep -v -e 'device-mapper' -e 'libdevmapper' -e 'mapper/control' \
        -e 'not zeroed' -e 'NOT backed up' -e 'Activation disabled' >&2)
}

NOACT=(--driverloaded n -an -Zn -q)
