#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The reference rate for api.hundred_boots_without_unexplained_reset
# (Documentation/testing.rst, "Guest resets"): N hello boots of the same
# guest kernel, initramfs and package on QEMU's microvm machine with KVM,
# P at once, in the test host. A boot counts when the runtime reported
# FINISHED on the control channel; any other run is listed with its exit
# status and control lines, its files kept under OUT.
#
#   testhost/run -- payload/tools/qemu-boots.sh [N [P]]
#
# Environment: AVF_QEMU_BOOTS_OUT (default $AVF_TESTHOST_OUT or /tmp).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
n=${1:-100} p=${2:-3}
pkg=$top/build/user/guest/packages/hello.zip
kernel=$top/build/user/vmm/guest-vmlinux
[ -f "$kernel" ] || kernel=$("$top/kernel/build.sh" guest 2>/dev/null)/vmlinux
[ -f "$pkg" ] && [ -f "$kernel" ] || { echo "qemu-boots: build first (make user)" >&2; exit 2; }
out=${AVF_QEMU_BOOTS_OUT:-${AVF_TESTHOST_OUT:-/tmp}}/qemu-boots
rm -rf "$out" && mkdir -p "$out"
one() {
	local d=$out/run$1 rc=0
	mkdir -p "$d"
	"$here/qemu-run.sh" --accel kvm --timeout 300 --out "$d" --kernel "$kernel" \
		"$pkg" hello.so >"$d/stdout" 2>&1 || rc=$?
	if grep -q '^FINISHED' "$d/control.log" 2>/dev/null; then
		rm -rf "$d"
	else
		echo "qemu-boots: run $1 failed: qemu exit $rc, control: $(tr '\n' ' ' <"$d/control.log" 2>/dev/null)"
	fi
}
start=$(date +%s) i=0
while [ $i -lt "$n" ]; do
	for _ in $(seq 1 "$p"); do
		[ $i -lt "$n" ] || break
		one $i &
		i=$((i + 1))
	done
	wait
done
failed=$(find "$out" -mindepth 1 -maxdepth 1 -name 'run*' | wc -l)
echo "qemu-boots: $n boots ($p at once) in $(( $(date +%s) - start )) s: $failed failed"
[ "$failed" = 0 ]
