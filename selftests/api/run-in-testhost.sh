#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# From the build host: boot the test host and run selftests/api/run.sh in
# it. Extra arguments go to testhost/run (e.g. --module PATH, --kernel debug);
# by default it loads build/kmod/normal/avf.ko ('make module'). Build first:
# make -C payload && make -C selftests/api [SAN=1, then also SAN=1 here].
#
# The guest kernel for payload VMs defaults to the kernel/build.sh output;
# that cache lives under $HOME, which the test host hides behind a tmpfs,
# so it is copied under build/ first.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${OUT:-$top/build/user}
if [ -z "${AVF_GUEST_KERNEL:-}" ] && [ ! -e "$out/guest/vmlinux" ]; then
	kdir=$("$top/kernel/build.sh" normal)
	mkdir -p "$out/tests/api"
	cp -u "$kdir/vmlinux" "$out/tests/api/vmlinux"
	export AVF_GUEST_KERNEL=$out/tests/api/vmlinux
fi
exec "$top/testhost/run" --timeout "${TIMEOUT:-1500}" "$@" -- "$top/selftests/api/run.sh"
