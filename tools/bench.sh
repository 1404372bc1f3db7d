#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench: build, boot the test host, run tools/bench-in-testhost.sh
# there, then draw the plots on the build host (tools/bench-plot.sh).
# Results: build/bench/ (bench.txt, *.dat, *.png); bench/README.md has the
# method and the latest figures. Absolute times under an emulated or nested
# test host are slow and noisy; the figures that matter are ratios against
# QEMU run side by side in the same test host, on the same guest kernel and
# initramfs, and absolute memory.
#   AVF_BENCH_TRIALS (default 10), AVF_BENCH_DENSITY_MAX (default 16)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tools/deps.sh
kernel/build.sh normal >/dev/null
kernel/build.sh guest >/dev/null
make -s module KVARIANT=normal
make -s user
testhost/run --kernel normal --timeout "${AVF_BENCH_TIMEOUT:-3600}" --out build/bench -- \
	env AVF_BENCH_TRIALS="${AVF_BENCH_TRIALS:-10}" \
	AVF_BENCH_DENSITY_MAX="${AVF_BENCH_DENSITY_MAX:-16}" tools/bench-in-testhost.sh
exec tools/bench-plot.sh build/bench
