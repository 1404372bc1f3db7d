#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The module tier of `make check`, run inside the test host (debug kernel)
# with avf.ko loaded: KUnit suites, the ABI selftests, module cycles.
# Writes one TAP/KTAP file per suite into $AVF_TESTHOST_OUT/results/.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
variant=${AVF_KVARIANT:-debug}
res=${AVF_TESTHOST_OUT:-/tmp}/results
mkdir -p "$res"
kmod=$top/build/kmod/$variant
abi=$top/build/user/selftests/avf/avf_abi_test
rc=0

echo "== KUnit (avf_test.ko)"
dmesg -C
if insmod "$kmod/avf_test.ko"; then
	dmesg >"$res/kunit.ktap"
	rmmod avf_test
else
	echo "not ok 1 insmod avf_test.ko" >"$res/kunit.ktap"; rc=1
fi
grep -E '^\[[^]]*\] (not )?ok [0-9]' "$res/kunit.ktap" | sed 's/^\[[^]]*\] /  /'

echo "== ABI selftests"
# 10^5 close-race iterations take too long under KASAN in an emulated test
# host; AVF_RACE_ITERS overrides.
[ "$variant" = debug ] && export AVF_RACE_ITERS=${AVF_RACE_ITERS:-30000}
"$abi" >"$res/avf_abi_test.tap" 2>&1 || rc=1
grep -E '^(not ok|# (PASSED|FAILED|Totals))' "$res/avf_abi_test.tap"

echo "== identity selftests"
"$top/build/user/selftests/avf/avf_identity_test" >"$res/avf_identity_test.tap" 2>&1 || rc=1
grep -E '^(not ok|# (PASSED|FAILED|Totals))' "$res/avf_identity_test.tap"

echo "== fault injection over every allocation of each ioctl"
"$top/build/user/selftests/avf/avf_fault_test" >"$res/avf_fault_test.tap" 2>&1 || rc=1
grep -E '^(not ok|ok|# (PASSED|FAILED|Totals))|fault points' "$res/avf_fault_test.tap"

echo "== module load/unload cycles"
"$top/selftests/avf/avf_module_cycles.sh" "$kmod/avf.ko" "$abi" "${AVF_MODULE_CYCLES:-100}" \
	>"$res/avf_module_cycles.tap" 2>&1 || rc=1
grep -E '^(not )?ok' "$res/avf_module_cycles.tap"

# Last: it leaves a persistent device-secret key in root's keyring.
echo "== device secret across reloads"
"$top/selftests/avf/avf_uds_persist.sh" "$kmod/avf.ko" "$top/build/user/selftests/avf/avf_secret_probe" \
	>"$res/avf_uds_persist.tap" 2>&1 || rc=1
grep -E '^(not )?ok' "$res/avf_uds_persist.tap"
exit $rc
