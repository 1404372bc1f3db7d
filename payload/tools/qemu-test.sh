#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boot the guest under QEMU (qemu-run.sh) for each scenario and compare the
# control-channel lines with what Documentation/interfaces.rst promises.
# TAP output. Needs `make -C payload guest-tests` first.
#
#   qemu-test.sh [--kernel PATH]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${OUT:-$top/build/user}
pk=$out/guest/packages
args=("$@")
if [[ " $* " != *" --kernel "* ]] && [ -z "${AVF_KERNEL:-}" ]; then
	kdir=$("$top/kernel/build.sh" guest) || { echo "Bail out! kernel build failed"; exit 1; }
	args+=(--kernel "$kdir/vmlinux")
fi

# hostile configuration: a truncated tree
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# stand-in VM secrets (what the module writes into avf/secret on a real run)
printf '%s' 'avf-qemu-test-secret-one-32bytes' >"$work/s1"
printf '%s' 'avf-qemu-test-secret-two-32bytes' >"$work/s2"
truncate -s 16M "$work/selfcheck.img"
"$out/bin/avf-mkconfig" --payload hello.so --dtb "$work/full.dtb"
mkdir -p "$work/cfg/avf"
head -c 100 "$work/full.dtb" >"$work/cfg/avf/config.dtb"
(cd "$work/cfg" && find avf | sort | cpio -o -H newc -R 0:0 --quiet) >"$work/truncated.cpio"

# name | package | payload name | expected control lines (';'-separated) | timeout | qemu-run args
# (run() expects the runtime's BOOT <ms> line, its first whatever follows, before these)
cases=(
	"hello|hello|hello.so|STARTED;READY;FINISHED 0;SHUTDOWN|120"
	"exit-code|exit-code|exit-code.so|STARTED;FINISHED 7;SHUTDOWN|120"
	"crash|crash|crash.so|STARTED;READY;ERROR 0 payload killed by signal 11;FAIL 15|120"
	"missing-payload|hello|missing.so|ERROR 3 payload lib/x86_64/missing.so not found in the app package;FAIL 14|120"
	"bad-payload-name|hello|../hello.so|ERROR 3 config: invalid payload-binary-name;FAIL 14|120"
	"no-main|no-main|libvm_payload.so|ERROR 3 payload libvm_payload.so has no AVmPayload_main;FAIL 14|120"
	"not-elf|not-elf|junk.so|ERROR 3 cannot load payload junk.so: *;FAIL 14|120"
	"hostile-package|hostile|x.so|ERROR 3 bad app package: *unsafe name;FAIL 14|120"
	"selfcheck|selfcheck|selfcheck.so|STARTED;READY;FINISHED 0;SHUTDOWN|120"
	"no-config|hello|hello.so|ERROR 3 config: cannot open /avf/config.dtb: *;FAIL 14|120|--no-config"
	"truncated-config|hello|hello.so|ERROR 3 config: truncated *;FAIL 14|120|--config-cpio $work/truncated.cpio"
	"never-ready|never-ready|never-ready.so|STARTED|20"
	"selfcheck-identity|selfcheck|selfcheck.so|STARTED;READY;FINISHED 0;SHUTDOWN|180|--secret $work/s1 --new-instance 1 --storage $work/selfcheck.img"
)

n=0 bad=0
total=$((${#cases[@]} + 16))
echo "TAP version 13"
echo "1..$total"

# run NAME PACKAGE PAYLOAD EXPECT TIMEOUT [qemu-run args]: boots once and
# compares the control lines; the logs stay in $logdir for more checks.
# Returns 0 when the lines match.
run() {
	local name=$1 pkg=$2 payload=$3 expect="BOOT;$4" tmo=$5 rc=0 got
	shift 5
	logdir=$work/log.$n.$name
	mkdir -p "$logdir"
	"$here/qemu-run.sh" "${args[@]}" "$@" --timeout "$tmo" --out "$logdir" "$pk/$pkg.zip" \
		"$payload" >/dev/null 2>"$logdir/qemu-run.err" || rc=$?
	if [ $rc = 2 ]; then
		echo "Bail out! $(tail -1 "$logdir/qemu-run.err")"
		exit 1
	fi
	# BOOT carries the guest's boot time in ms (interfaces.rst): any decimal
	got=$(tr '\n' ';' <"$logdir/control.log" | sed -E 's/;$//; s/^BOOT [0-9]+(;|$)/BOOT\1/')
	# shellcheck disable=SC2053 # the expectation may hold a glob
	[[ $got == $expect ]] && return 0
	echo "#   expected: $expect"
	echo "#   got:      $got"
	return 1
}
report() {	# report NAME OK
	n=$((n + 1))
	if [ "$2" = 0 ]; then
		echo "ok $n $1"
	else
		echo "not ok $n $1"
		sed 's/^/#   console: /' "$logdir/console.log" | tail -20
		sed 's/^/#   log: /' "$logdir/payload.log" | tail -30
		sed 's/^/#   /' "$logdir/qemu-run.err" | tail -5
		bad=$((bad + 1))
	fi
}
# logline KEY: the value of the payload's "KEY: value" line in the last run
logline() { sed -n "s/^$1: //p" "$logdir/payload.log" | tr -d '\r' | head -1; }

for c in "${cases[@]}"; do
	IFS='|' read -r name pkg payload expect tmo extra <<<"$c"
	ok=0
	# shellcheck disable=SC2086 # extra holds separate arguments
	run "$name" "$pkg" "$payload" "$expect" "$tmo" $extra || ok=1
	report "$name" $ok
done

# ---- identity: the secret payload's hash of getVmInstanceSecret("avf-test", 32) ----
done_ok="STARTED;READY;FINISHED 0;SHUTDOWN"
expected_hash() {	# independent HKDF-SHA-256 from the stand-in secret file
	command -v python3 >/dev/null || return 0
	python3 -c 'import hmac, hashlib, sys
ikm = open(sys.argv[1], "rb").read()
prk = hmac.new(b"avf-payload-secret-v1", ikm, hashlib.sha256).digest()
okm = hmac.new(prk, b"avf-test\x01", hashlib.sha256).digest()
print(hashlib.sha256(okm).hexdigest())' "$1"
}
ok=0; run secret-first secret secret.so "$done_ok" 120 --secret "$work/s1" --new-instance 1 || ok=1
h1=$(logline secret-hash) ni1=$(logline new-instance)
want=$(expected_hash "$work/s1")
if ! { [ -n "$h1" ] && [ "$ni1" = 1 ] && { [ -z "$want" ] || [ "$h1" = "$want" ]; }; }; then
	ok=1; echo "#   hash '$h1' (want '${want:-any}'), new-instance '$ni1' (want 1)"
fi
report "secret: hash of the derived secret, new-instance 1" $ok
ok=0; run secret-again secret secret.so "$done_ok" 120 --secret "$work/s1" --new-instance 0 || ok=1
h2=$(logline secret-hash) ni2=$(logline new-instance)
if ! { [ "$h1" = "$h2" ] && [ "$ni2" = 0 ]; }; then
	ok=1; echo "#   hash '$h2' != '$h1' or new-instance '$ni2' != 0"
fi
report "secret: same secret, same hash on the next boot; new-instance 0" $ok
ok=0; run secret-other secret secret.so "$done_ok" 120 --secret "$work/s2" || ok=1
h3=$(logline secret-hash)
if ! { [ -n "$h3" ] && [ "$h3" != "$h1" ]; }; then
	ok=1; echo "#   hash '$h3' should differ from '$h1'"
fi
report "secret: another VM secret, another hash" $ok
ok=0; run secret-none secret secret.so "STARTED;FINISHED 1;SHUTDOWN" 120 || ok=1
grep -q '^secret-error: Required key not available' "$logdir/payload.log" || ok=1
report "secret: without identity getVmInstanceSecret fails cleanly (ENOKEY)" $ok
zeros=$work/zeros
head -c 32 /dev/zero >"$zeros"
ok=0; run secret-zero secret secret.so "ERROR 3 secret: /avf/secret was never filled in;FAIL 14" 120 \
	--secret "$zeros" || ok=1
report "secret: an all-zero avf/secret (never filled in) is refused" $ok

# ---- encrypted storage on a raw image as vdb ----
img=$work/storage.img
truncate -s 16M "$img"
ok=0; run storage-first storage storage.so "$done_ok" 180 --secret "$work/s1" --storage "$img" || ok=1
if ! { [ "$(logline storage-content)" = EMPTY ] &&
	[ "$(logline storage-path)" = /mnt/encryptedstore ]; }; then
	ok=1; echo "#   want storage-content EMPTY and storage-path /mnt/encryptedstore"
fi
report "storage: first run formats, sees it empty and writes the marker" $ok
ok=0; run storage-second storage storage.so "$done_ok" 180 --secret "$work/s1" --storage "$img" || ok=1
[ "$(logline storage-content)" = AVF-PLAINTEXT-MARKER-7f3a9c ] ||
	{ ok=1; echo "#   want storage-content AVF-PLAINTEXT-MARKER-7f3a9c"; }
report "storage: second run with the same secret reads the marker back" $ok
ok=0
cnt=$(grep -c AVF-PLAINTEXT-MARKER "$img")
[ "$cnt" = 0 ] || { ok=1; echo "#   the marker is in the host image in plaintext ($cnt)"; }
logdir=$work/log.$n.plaintext; mkdir -p "$logdir"
touch "$logdir/console.log" "$logdir/payload.log" "$logdir/qemu-run.err"
report "storage: no plaintext marker in the host image" $ok
ok=0
# ext4's magic at 1080 would be there in the clear without encryption
[ "$(od -An -tx1 -j 1080 -N 2 "$img" | tr -d ' ')" != 53ef ] || { ok=1; echo "#   ext4 magic in the clear"; }
report "storage: no ext4 superblock in the clear" $ok
ok=0; run storage-other storage storage.so "$done_ok" 180 --secret "$work/s2" --storage "$img" || ok=1
[ "$(logline storage-content)" = EMPTY ] || { ok=1; echo "#   want EMPTY with another secret"; }
report "storage: another secret sees an empty (reformatted) store" $ok
ok=0; run storage-other-again storage storage.so "$done_ok" 180 --secret "$work/s1" --storage "$img" || ok=1
[ "$(logline storage-content)" = EMPTY ] || { ok=1; echo "#   want EMPTY: the wrong key reformatted it"; }
report "storage: the old secret's data is gone after that (documented)" $ok
crash_img=$work/crash.img
truncate -s 16M "$crash_img"
ok=0; run storage-crash storage-crash storage-crash.so \
	"STARTED;READY;ERROR 0 payload killed by signal 11;FAIL 15" 180 \
	--secret "$work/s1" --storage "$crash_img" || ok=1
grep -q 'storage: unmounted /mnt/encryptedstore' "$logdir/console.log" ||
	{ ok=1; echo "#   no 'storage: unmounted' on the console"; }
report "storage: closed cleanly when the payload dies by a signal" $ok
ok=0; run storage-after-crash storage-crash storage-crash.so "STARTED;FINISHED 0;SHUTDOWN" 180 \
	--secret "$work/s1" --storage "$crash_img" || ok=1
[ "$(logline crash-content)" = written-before-crash ] ||
	{ ok=1; echo "#   want crash-content written-before-crash (unsynced write before the crash)"; }
report "storage: a write the payload never synced survives its crash" $ok
ok=0; run storage-no-secret storage storage.so \
	"ERROR 3 storage: encrypted storage requested but the VM has no instance secret;FAIL 14" 120 \
	--storage "$img" || ok=1
report "storage: requested without identity is refused" $ok
truncate -s $((16 * 1024 * 1024 + 512)) "$work/odd.img"
ok=0; run storage-odd-size storage storage.so \
	"ERROR 0 storage: /dev/vdb: size 16777728 is not a positive multiple of 4096;FAIL 15" 120 \
	--secret "$work/s1" --storage "$work/odd.img" || ok=1
report "storage: a device that is not whole 4 KiB sectors fails the VM" $ok
ok=0; run storage-none storage storage.so "STARTED;FINISHED 1;SHUTDOWN" 120 --secret "$work/s1" || ok=1
[ "$(logline storage-path)" = NONE ] || { ok=1; echo "#   want storage-path NONE"; }
report "storage: not configured, the path is NULL" $ok

echo "# $((n - bad)) passed, $bad failed"
[ $n -eq "$total" ] || echo "# planned $total, ran $n"
[ $bad -eq 0 ] && [ $n -eq "$total" ]
