#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# avf-vmm end-to-end tests; runs INSIDE the test host (root, /dev/avf,
# /dev/kvm) and prints TAP. Build first: make -C selftests/vm && make -C payload.
#
#   selftests/vm/run-in-testhost.sh          (from the build host)
#   testhost/run -- selftests/vm/run.sh      (AVF_GUEST_KERNEL must be visible there)
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${OUT:-$top/build/user}
export AVF_VMM=${AVF_VMM:-$out/bin/avf-vmm}
# --standalone tests need an avf-vmm that is not set-uid: the build's own.
export AVF_VMM_DEV=${AVF_VMM_DEV:-$out/bin/avf-vmm}
export AVF_TEST_PACKAGES=${AVF_TEST_PACKAGES:-$out/guest/packages}
export AVF_GUEST_INITRD=${AVF_GUEST_INITRD:-$out/guest/initramfs.cpio.gz}
if [ -z "${AVF_GUEST_KERNEL:-}" ] || [ ! -r "${AVF_GUEST_KERNEL:-}" ]; then
	for k in "$out/vmm/guest-vmlinux" "$out/guest/vmlinux"; do
		[ -r "$k" ] && { export AVF_GUEST_KERNEL=$k; break; }
	done
fi
t=$out/tests/vm/vm_test
if [ ! -x "$t" ]; then
	echo "TAP version 13"
	echo "1..1"
	echo "not ok 1 selftests: vm: vm_test # missing: build with make -C selftests/vm"
	exit 1
fi
# a failed case gets one more run on its own (issue 12's open guest crash)
exec "$top/tools/ksft_retry.sh" "$t" "$@"
