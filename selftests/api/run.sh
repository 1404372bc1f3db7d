#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The libavf/avfctl end-to-end suite; runs INSIDE the test host (as root,
# with /dev/avf and /dev/kvm) and prints TAP in the kselftest runner's
# style. Build first on the build host: make -C selftests/api && make -C payload.
#
#   testhost/run -- selftests/api/run.sh      (or selftests/api/run-in-testhost.sh)
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# SAN=1: the ASan+UBSan builds (make -C selftests/api SAN=1); the guest
# side never carries sanitizers.
if [ "${SAN:-0}" = 1 ]; then out=$top/build/asan; else out=$top/build/user; fi
export AVF_TEST_PACKAGES=${AVF_TEST_PACKAGES:-$top/build/user/guest/packages}
export AVFCTL=${AVFCTL:-$out/bin/avfctl}
export AVF_TEST_ECHO=${AVF_TEST_ECHO:-$out/tests/api/vsock-echo.zip}

# Only in the throwaway test host: let other uids use the devices (the
# export/import test runs the imported copy as uid 1000; uid 1001 plays a
# thief with a copied instance.img and a stranger holding a VM fd). Those
# drop every supplementary group (setgroups(0)), so testhost/init's group
# avf (udev/60-avf.rules: 0660) does not reach them: widen /dev/avf too.
if [ "$(hostname)" = avf-testhost ] && [ "$(id -u)" = 0 ]; then
	chmod 0666 /dev/kvm /dev/avf 2>/dev/null
fi

tests=("$out/tests/api/api_test" "$here/avfctl_test.sh")
echo "TAP version 13"
echo "1..${#tests[@]}"
i=0 pass=0 fail=0
for t in "${tests[@]}"; do
	i=$((i + 1))
	name=$(basename "$t")
	echo "# selftests: api: $name"
	if [ ! -x "$t" ]; then
		echo "not ok $i selftests: api: $name # missing: build with make -C selftests/api"
		fail=$((fail + 1))
		continue
	fi
	"$t" 2>&1 | sed 's/^/# /'
	rc=${PIPESTATUS[0]}
	if [ "$rc" = 0 ]; then
		echo "ok $i selftests: api: $name"
		pass=$((pass + 1))
	elif [ "$rc" = 4 ]; then
		echo "ok $i selftests: api: $name # SKIP"
		pass=$((pass + 1))
	else
		echo "not ok $i selftests: api: $name # exit=$rc"
		fail=$((fail + 1))
	fi
done
echo "# $pass passed, $fail failed"
[ $fail = 0 ]
