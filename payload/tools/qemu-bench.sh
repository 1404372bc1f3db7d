#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boot-time peer measurement on QEMU microvm (no avf-vmm): runs a package N
# times with qemu-run.sh and reports, in seconds since QEMU was started, when
# the guest sent STARTED (payload about to run) and SHUTDOWN (VM ending),
# plus the whole run time of QEMU. Same devices, kernel and initramfs as the
# VMM uses, so the numbers are the baseline avf-vmm is compared with.
#
#   qemu-bench.sh [-n TRIALS] [qemu-run.sh options] [PACKAGE.zip PAYLOAD]
#   (default: 10 trials of the hello package, 256 MiB)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${OUT:-$top/build/user}
trials=10
if [ "${1:-}" = -n ]; then trials=$2; shift 2; fi
args=("$@")
if [ ${#args[@]} -lt 2 ] || [[ ${args[-1]} != *.so ]]; then
	args+=("$out/guest/packages/hello.zip" hello.so)
fi
if [[ " ${args[*]} " != *" --kernel "* ]] && [ -z "${AVF_KERNEL:-}" ]; then
	args=(--kernel "$("$top/kernel/build.sh" guest)/vmlinux" "${args[@]}")
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for i in $(seq 1 "$trials"); do
	"$here/qemu-run.sh" --timestamps --debug none "${args[@]}" >"$work/run.$i" 2>"$work/err.$i" || true
	grep -o 'VM ran [0-9.]*' "$work/err.$i" | awk '{ print $3 }' >>"$work/total"
	awk '$2 == "STARTED" { print $1 }' "$work/run.$i" >>"$work/started"
	awk '$2 == "SHUTDOWN" { print $1 }' "$work/run.$i" >>"$work/shutdown"
done
stats() {	# stats NAME FILE
	awk -v name="$1" -v want="$trials" '
		{ v[NR] = $1; s += $1; if (NR == 1 || $1 < mn) mn = $1; if ($1 > mx) mx = $1 }
		END {
			if (NR == 0) { printf "%-9s no samples\n", name; exit }
			printf "%-9s n=%d/%d  min %.3f  mean %.3f  max %.3f s\n", name, NR, want, mn, s / NR, mx
		}' "$2"
}
echo "qemu microvm TCG peer, $trials trials: ${args[*]: -2}"
stats STARTED "$work/started"
stats SHUTDOWN "$work/shutdown"
stats total "$work/total"
