#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# From the build host: boot the test host and run selftests/api/run.sh in
# it. The guest kernel for payload VMs is the cached kernel/build.sh
# output (the test host's /root is a tmpfs, so it is passed explicitly).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${AVF_GUEST_KERNEL:-}" ]; then
	kdir=$("$top/kernel/build.sh" normal)
	export AVF_GUEST_KERNEL=$kdir/vmlinux
fi
exec "$top/testhost/run" --timeout "${TIMEOUT:-1500}" "$@" -- "$top/selftests/api/run.sh"
