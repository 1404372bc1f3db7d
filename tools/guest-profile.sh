#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Where a guest spent its time: the samples of avf-vmm --profile (one
# "vcpuN 0xRIP US" line each, US microseconds after the vCPUs started;
# Documentation/vmm.rst, "Profiling a guest") counted per function of the
# guest kernel, from its vmlinux symbols.
# Samples outside the kernel's top 2 GiB are the guest's user space.
#
#   [FROM_MS=A] [TO_MS=B] tools/guest-profile.sh PROFILE [VMLINUX] [TOP]
#   (default VMLINUX: the payload kernel of kernel/build.sh guest; TOP 30;
#   FROM_MS/TO_MS: only samples taken in [A, B) ms after the vCPUs started)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
prof=${1:?usage: tools/guest-profile.sh PROFILE [VMLINUX] [TOP]}
vmlinux=${2:-}
n=${3:-30}
[ -n "$vmlinux" ] || vmlinux=$("$top/kernel/build.sh" guest 2>/dev/null)/vmlinux
[ -r "$prof" ] || { echo "guest-profile: $prof: cannot read" >&2; exit 1; }
[ -r "$vmlinux" ] || { echo "guest-profile: $vmlinux: no kernel image with symbols" >&2; exit 1; }
case $n in '' | *[!0-9]*) echo "guest-profile: TOP '$n': not a number" >&2; exit 1 ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# x86-64 kernel text lives in 0xffffffff80000000..: the low 32 bits are
# exact in awk's doubles, 64-bit addresses are not.
nm -n --defined-only "$vmlinux" | awk '$2 ~ /^[tTwW]$/ && $1 ~ /^ffffffff/ { print substr($1, 9), $3 }' >"$tmp/syms"
awk '
	function lo32(s,   i, v) {	# the low 32 bits of a kernel address, or -1
		s = tolower(s); sub(/^0x/, "", s)
		if (length(s) != 16 || substr(s, 1, 8) != "ffffffff") return -1
		v = 0
		for (i = 9; i <= 16; i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	}
	NR == FNR { a[ns] = lo32("ffffffff" $1); name[ns] = $2; ns++; next }
	FNR == 1 { from_us = ENVIRON["FROM_MS"] * 1000; to_us = ENVIRON["TO_MS"] == "" ? -1 : ENVIRON["TO_MS"] * 1000 }
	(NF == 2 || (NF == 3 && $3 ~ /^[0-9]+$/)) && $1 ~ /^vcpu[0-9]+$/ && $2 ~ /^0x[0-9a-fA-F]+$/ {
		if (NF == 3 && (($3 + 0) < from_us || (to_us >= 0 && ($3 + 0) >= to_us))) next
		total++
		r = lo32($2)
		if (r < 0 || !ns || r < a[0]) { count["[guest user space]"]++; next }
		l = 0; h = ns - 1
		while (l < h) { m = int((l + h + 1) / 2); if (a[m] <= r) l = m; else h = m - 1 }
		count[name[l]]++
		next
	}
	{ bad++ }
	END {
		printf "%d %d\n", total, bad > "'"$tmp"'/total"
		for (f in count) print count[f], f
	}' "$tmp/syms" "$prof" | sort -k1,1nr -k2 >"$tmp/counts"
read -r total bad <"$tmp/total"
[ "$total" -gt 0 ] || { echo "guest-profile: $prof: no samples" >&2; exit 1; }
note=
[ "$bad" -eq 0 ] || note=", $bad lines not understood"
echo "$total samples of $prof ($vmlinux)$note"
head -n "$n" "$tmp/counts" | awk -v t="$total" '{ c = $1; sub(/^[0-9]+ /, ""); printf "%6d %5.1f%%  %s\n", c, 100 * c / t, $0 }'
