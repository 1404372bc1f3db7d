#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A/B of two avf-vmm binaries on the same guest: alternating standalone
# hello boots (debug none), one line per boot with the port I/O exits, the
# guest's own boot time and kvm_run -> BOOT / READY. Runs inside the test
# host (where /dev/kvm boots Linux):
#
#   testhost/run -- tools/vmm-ab.sh A_VMM B_VMM [BOOTS]     (BOOTS: 10)
#
# A_VMM, B_VMM: absolute paths (e.g. a build of an older commit in a git
# worktree: make -C WT/userspace/vmm, WT/build/user/bin/avf-vmm).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] || { sed -n '3,11p' "$0" >&2; exit 64; }
a=$1 b=$2 n=${3:-10}
B=$top/build/user
o=$(mktemp -d)
for v in "$a" "$b"; do
	[ -x "$v" ] || { echo "vmm-ab: $v: not an executable" >&2; exit 66; }
done
for i in $(seq 1 "$n"); do
	for w in A B; do
		vmm=$a
		[ $w = B ] && vmm=$b
		rc=0
		"$vmm" --standalone --kernel "$B/vmm/guest-vmlinux" --initrd "$B/guest/initramfs.cpio.gz" \
			--package "$B/guest/packages/hello.zip" --payload hello.so --log "$o/log" \
			2>"$o/vmm" || rc=$?
		io=$(grep -o 'kvm_io_exits=[0-9]*' "$o/vmm" || true)
		gb=$(grep -o 'guest_says_boot_ms=[0-9]*' "$o/vmm" || true)
		ts=$(grep -o 'timestamps .*' "$o/vmm" || true)
		kr=$(echo "$ts" | grep -o 'kvm_run=[0-9]*' | cut -d= -f2)
		bt=$(echo "$ts" | grep -o ' boot=[0-9]*' | cut -d= -f2)
		rd=$(echo "$ts" | grep -o 'ready=[0-9]*' | cut -d= -f2)
		echo "$w $i rc=$rc $io $gb kvmrun_to_boot_ms=$(( (${bt:-0} - ${kr:-0}) / 1000000 ))" \
			"kvmrun_to_ready_ms=$(( (${rd:-0} - ${kr:-0}) / 1000000 ))" | tee -a "$o/lines"
	done
done
for w in A B; do
	sorted=$(grep "^$w " "$o/lines" | grep -o 'kvmrun_to_ready_ms=[0-9]*' | cut -d= -f2 | sort -n)
	median=$(echo "$sorted" | awk '{ v[NR] = $1 }
		END { m = (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2); print m }')
	echo "$w kvm_run -> READY ms, sorted: $(echo $sorted); median $median"
done
rm -rf "$o"
