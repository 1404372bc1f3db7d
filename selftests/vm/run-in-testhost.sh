#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# From the build host: boot the test host and run selftests/vm/run.sh in it.
# The test host's /root is a tmpfs, so the guest vmlinux from the kernel
# cache is copied next to the build outputs first.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${OUT:-$top/build/user}
if [ -z "${AVF_GUEST_KERNEL:-}" ]; then
	kdir=$("$top/kernel/build.sh" guest)
	mkdir -p "$out/vmm"
	cp -u "$kdir/vmlinux" "$out/vmm/guest-vmlinux"
	export AVF_GUEST_KERNEL=$out/vmm/guest-vmlinux
fi
exec "$top/testhost/run" --timeout "${TIMEOUT:-1500}" "$@" -- "$top/selftests/vm/run.sh"
