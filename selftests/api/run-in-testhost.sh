#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# From the build host: boot the test host and run selftests/api/run.sh in
# it. Extra arguments go to testhost/run (e.g. --module PATH, --kernel debug);
# by default it loads build/kmod/normal/avf.ko ('make module') and points
# AVF_GUEST_KERNEL at the kernel/build.sh output. Build first:
# make -C payload && make -C selftests/api [SAN=1, then also SAN=1 here].
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
exec "$top/testhost/run" --timeout "${TIMEOUT:-1800}" "$@" -- "$top/selftests/api/run.sh"
