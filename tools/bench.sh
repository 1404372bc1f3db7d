#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench: build, boot the test host, run tools/bench-in-testhost.sh.
# Absolute times under an emulated test host are slow and noisy; the
# figures that matter are ratios against QEMU run side by side in the same
# test host, on the same guest kernel and initramfs, and absolute memory.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tools/deps.sh
kernel/build.sh normal >/dev/null
make -s module KVARIANT=normal
make -s user
exec testhost/run --kernel normal --timeout 1800 --out build/bench -- \
	env AVF_BENCH_TRIALS="${AVF_BENCH_TRIALS:-5}" tools/bench-in-testhost.sh
