#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make demo: build what is needed, boot the test host, and inside it create
# and run the hello payload VM with avfctl, showing each life-cycle event
# with its timestamp and the payload's log.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tools/deps.sh
echo "==> kernel (cached after the first build)"
kernel/build.sh normal >/dev/null
kernel/build.sh guest >/dev/null
echo "==> avf.ko and userspace"
make -s module KVARIANT=normal
make -s user
echo "==> booting the test host"
exec testhost/run --kernel normal --timeout 900 -- tools/demo-in-testhost.sh
