# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by tests/lib.sh and test-images/build-all.sh (a fixture built by
# `make images` runs without lib.sh): qemu-img through tests/oracle-bin,
# which runs it again when its LUKS PBKDF benchmark fails (a qemu flake,
# ~5% of runs under load).  GK_QEMU_IMG is the real one: the first qemu-img
# on PATH that is not the wrapper.
if [ -z "${GK_QEMU_IMG:-}" ]; then
    _gk_ob=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/oracle-bin
    for GK_QEMU_IMG in $(type -ap qemu-img) ""; do
        [ "$GK_QEMU_IMG" -ef "$_gk_ob/qemu-img" ] || break
    done
    [ -z "$GK_QEMU_IMG" ] || export GK_QEMU_IMG PATH="$_gk_ob:$PATH"
    unset _gk_ob
fi
