#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Identity across module reloads, in the test host with avf.ko loaded:
# an ephemeral device secret refuses old instances after a reload; a
# persistent one (logon key "avf:uds") gives the same secret. Prints TAP.
#
#   avf_uds_persist.sh AVF_KO PROBE
set -u
ko=$1 probe=$2 n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n $1"; }
reload() { rmmod avf && insmod "$ko"; }
echo "TAP version 13"
echo "1..5"
d=$(mktemp -d)

[ "$($probe caps)" = ephemeral ] && ok "ephemeral_without_key" || nok "ephemeral_without_key"
$probe seal "$d/a" && s1=$($probe run "$d/a") && s2=$($probe run "$d/a")
[ -n "${s1:-}" ] && [ "$s1" = "$s2" ] && ok "same_secret_same_load" || nok "same_secret_same_load"
reload
out=$($probe run "$d/a")
case $out in *"Bad message"*) ok "ephemeral_uds_refuses_after_reload" ;; *) echo "# got: $out"; nok "ephemeral_uds_refuses_after_reload" ;; esac

$probe addkey "avf-selftest-device-secret-0123456789abcdef" || echo "# addkey failed"
reload
if [ "$($probe caps)" = persistent ] && $probe seal "$d/b"; then
	k1=$($probe run "$d/b"); reload; k2=$($probe run "$d/b")
	[ -n "$k1" ] && [ "$k1" = "$k2" ] && [ "$k1" != "$s1" ] &&
		ok "persistent_uds_same_secret_after_reload" || { echo "# $k1 / $k2"; nok "persistent_uds_same_secret_after_reload"; }
else
	nok "persistent_uds_same_secret_after_reload"
fi
$probe loaduds && ok "uds_load_with_key" || nok "uds_load_with_key"
rm -rf "$d"
exit $((failed > 0))
