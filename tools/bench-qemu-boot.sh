#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# One boot of make bench's peer: the hello payload under QEMU (--accel kvm,
# MACHINE microvm or q35), the same kernel, initramfs, package, devices,
# memory (256 MiB) and vCPUs (1) as avf's, to the same marker (the
# runtime's BOOT line on the control channel). Appends one line to OUTFILE:
#
#   exec_to_init_ms exec_to_started_ms exec_to_ready_ms guest_says_kernel_ms
#
# (QEMU's stamps are from its start, to the microsecond; guest_says is -1
# when the guest said nothing). Runs in the test host, between avf_bench's
# boot trials (tools/bench-in-testhost.sh):
#
#   AVF_GUEST_KERNEL=... tools/bench-qemu-boot.sh MACHINE OUTFILE
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 2 ] || { sed -n '3,15p' "$0" >&2; exit 64; }
m=$1 out=$2
pk=$top/build/user/guest/packages
"$top/payload/tools/qemu-run.sh" --accel kvm --machine "$m" --timestamps \
	--debug none --mem 256 --cpus 1 --kernel "${AVF_GUEST_KERNEL:?}" \
	"$pk/hello.zip" hello.so 2>/dev/null |
	awk '$2 == "BOOT" { b = $1; g = ($3 ~ /^[0-9]+$/) ? $3 : -1 }
	     $2 == "STARTED" { s = $1 } $2 == "READY" { r = $1 }
	     END { if (b != "" && r != "") printf "%.3f %.3f %.3f %d\n", b * 1000, s * 1000, r * 1000, g }' \
	>>"$out"
