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

# vsock_stream_test: 64 MiB each way and full duplex (repeated, see its
# header; AVF_TEST_STREAM_REPS=N for a soak), half-close both ways, 32
# concurrent and 100 abandoned connections, a guest that stops reading.
tests=("$out/tests/api/api_test" "$out/tests/api/rpc_test" "$here/avfctl_test.sh"
	"$out/tests/api/vsock_stream_test")
# One flat TAP stream: each test case of each program is its own result
# (tools/tap_flatten.awk), the plan comes last.
echo "TAP version 13"
state=$(mktemp /tmp/api-tap.XXXXXX)
i=1 pass=0 fail=0
for t in "${tests[@]}"; do
	name=$(basename "$t")
	echo "# selftests: api: $name"
	if [ ! -x "$t" ]; then
		echo "not ok $i selftests: api: $name # missing: build with make -C selftests/api"
		i=$((i + 1)) fail=$((fail + 1))
		continue
	fi
	args=()
	# 100 boots run in their own test host (tools/check.sh, tier 4c)
	[ "$name" = api_test ] && [ "${AVF_TEST_BOOTS_HERE:-0}" = 0 ] &&
		args=(-T hundred_boots_without_unexplained_reset)
	# a failed case of a harness program gets one more run on its own
	# (tools/ksft_retry.sh: issue 12's open guest crash)
	retry=("$top/tools/ksft_retry.sh")
	case $name in *.sh) retry=() ;; esac
	"${retry[@]}" "$t" "${args[@]}" 2>&1 | awk -v first=$i -v prog="$name" -v state="$state" -f "$top/tools/tap_flatten.awk"
	rc=${PIPESTATUS[0]}
	read -r i results failures <"$state"
	pass=$((pass + results - failures)) fail=$((fail + failures))
	if [ "$rc" != 0 ] && [ "$rc" != 4 ] && [ "$failures" = 0 ]; then
		# the program failed without saying which case: one failure
		echo "not ok $i $name # exit=$rc"
		i=$((i + 1)) fail=$((fail + 1))
	elif [ "$results" = 0 ]; then
		if [ "$rc" = 4 ]; then
			echo "ok $i $name # SKIP"
			pass=$((pass + 1))
		else
			echo "not ok $i $name # no TAP results"
			fail=$((fail + 1))
		fi
		i=$((i + 1))
	fi
done
rm -f "$state"
echo "1..$((i - 1))"
echo "# $pass passed, $fail failed"
[ $fail = 0 ]
