#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The demo, inside the test host (see tools/demo.sh).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/build/user/bin
export AVF_GUEST_KERNEL=${AVF_GUEST_KERNEL:?}
root=$(mktemp -d /tmp/avf-demo.XXXXXX)
avfctl() { "$bin/avfctl" --data-root "$root" "$@"; }

echo "--- avfctl info"
avfctl info
echo
echo "--- avfctl create hello (debug full, 256 MiB, one CPU)"
avfctl create hello --package "$top/build/user/guest/packages/hello.zip" \
	--payload-binary-name hello.so --debug full
echo
echo "--- avfctl run hello --log -  (life-cycle events with timestamps; payload log)"
set +e
avfctl run hello --log -
rc=$?
set -e
echo
echo "--- payload exit code: $rc"
echo "--- avfctl status hello"
avfctl status hello
exit $rc
