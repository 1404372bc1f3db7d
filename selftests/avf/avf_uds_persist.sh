#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Identity across module reloads, in the test host (as root) with avf.ko
# loaded: an ephemeral device secret refuses old instances after a reload;
# a persistent one (logon key "avf:uds" owned by uid 0, in root's user
# keyring before load or in the module's keyring ".avf") gives the same
# secret; a key of another owner is ignored; an ordinary uid cannot read a
# secret the way the VMM uid does. Prints TAP.
#
#   avf_uds_persist.sh AVF_KO PROBE
set -u
ko=$1 probe=$2 n=0 failed=0
vmm_uid=${AVF_VMM_UID:-970}
ok() { n=$((n + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n $1"; }
skip() { n=$((n + 1)); echo "ok $n $1 # SKIP $2"; }
# after each load, what udev/60-avf.rules does (testhost/init does it once)
load() {
	insmod "$ko" vmm_uid="$vmm_uid" || return
	chgrp avf /dev/avf 2>/dev/null && chmod 0660 /dev/avf
	true
}
reload() { rmmod avf && load; }
echo "TAP version 13"
echo "1..9"
d=$(mktemp -d)
chmod 0755 "$d"
# earlier tiers may have reloaded the module without the VMM uid
reload 2>/dev/null || { lsmod | grep -q '^avf ' || load; }

case $($probe caps) in ephemeral*) ok "ephemeral_without_key" ;; *) nok "ephemeral_without_key" ;; esac
$probe seal "$d/a" && s1=$($probe run "$d/a") && s2=$($probe run "$d/a")
case ${s1:-} in
[0-9a-f]*) [ "$s1" = "$s2" ] && ok "same_secret_same_load" || nok "same_secret_same_load" ;;
*) echo "# got: ${s1:-}"; nok "same_secret_same_load" ;;
esac

# An ordinary uid does what the probe does as the VMM: it must be refused.
if [ "$($probe caps | cut -d' ' -f2)" = trusted ]; then
	mkdir -p "$d/own" && chmod 0777 "$d/own"
	out=$(setpriv --reuid 1000 --regid 1000 --groups avf "$probe" run-own "$d/own" 2>&1)
	case $out in
	*"bind: Operation not permitted"*) ok "ordinary_uid_cannot_get_secret" ;;
	*) echo "# got: $out"; nok "ordinary_uid_cannot_get_secret" ;;
	esac
else
	skip "ordinary_uid_cannot_get_secret" "module without a trusted VMM uid"
fi

reload
out=$($probe run "$d/a")
case $out in *"Bad message"*) ok "ephemeral_uds_refuses_after_reload" ;; *) echo "# got: $out"; nok "ephemeral_uds_refuses_after_reload" ;; esac

# A key named avf:uds planted by another uid in a keyring root's insmod
# searches is ignored.
rmmod avf
$probe plant "avf-selftest-planted-key-0123456789abcdef" 1000 -- insmod "$ko" vmm_uid="$vmm_uid" ||
	{ echo "# plant failed"; lsmod | grep -q '^avf ' || load; }
case $($probe caps) in
ephemeral*) dmesg | grep -q 'ignoring key "avf:uds" of uid 1000' && ok "foreign_key_ignored" || nok "foreign_key_ignored" ;;
*) nok "foreign_key_ignored" ;;
esac

$probe addkey "avf-selftest-device-secret-0123456789abcdef" || echo "# addkey failed"
reload
if [ "$($probe caps | cut -d' ' -f1)" = persistent ] && $probe seal "$d/b"; then
	k1=$($probe run "$d/b"); reload; k2=$($probe run "$d/b")
	case $k1 in [0-9a-f]*) ;; *) k1= ;; esac
	[ -n "$k1" ] && [ "$k1" = "$k2" ] && [ "$k1" != "${s1:-}" ] &&
		ok "persistent_uds_same_secret_after_reload" || { echo "# $k1 / $k2"; nok "persistent_uds_same_secret_after_reload"; }
else
	nok "persistent_uds_same_secret_after_reload"
fi
$probe loaduds && ok "uds_load_with_key" || nok "uds_load_with_key"

# The module's keyring comes first: a key added there (after load) and
# AVF_UDS_LOAD make another device secret; one of another owner is ignored.
if $probe addkey-avf "avf-selftest-keyring-secret-fedcba9876543210" && $probe loaduds; then
	out=$($probe run "$d/b")
	case $out in *"Bad message"*) ok "avf_keyring_key_first" ;; *) echo "# got: $out"; nok "avf_keyring_key_first" ;; esac
else
	nok "avf_keyring_key_first"
fi
reload
if $probe addkey-avf "avf-selftest-foreign-keyring-0123456789ab" 1000 && $probe loaduds; then
	k3=$($probe run "$d/b")
	[ "$k3" = "${k1:-x}" ] && ok "avf_keyring_foreign_key_ignored" || { echo "# $k3 / ${k1:-}"; nok "avf_keyring_foreign_key_ignored"; }
else
	nok "avf_keyring_foreign_key_ignored"
fi
rm -rf "$d"
exit $((failed > 0))
