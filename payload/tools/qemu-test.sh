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
	kdir=$("$top/kernel/build.sh" normal) || { echo "Bail out! kernel build failed"; exit 1; }
	args+=(--kernel "$kdir/vmlinux")
fi

# hostile configuration: a truncated tree
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$out/bin/avf-mkconfig" --payload hello.so --dtb "$work/full.dtb"
mkdir -p "$work/cfg/avf"
head -c 100 "$work/full.dtb" >"$work/cfg/avf/config.dtb"
(cd "$work/cfg" && find avf | sort | cpio -o -H newc -R 0:0 --quiet) >"$work/truncated.cpio"

# name | package | payload name | expected control lines (';'-separated) | timeout | qemu-run args
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
)

echo "TAP version 13"
echo "1..${#cases[@]}"
n=0 bad=0
for c in "${cases[@]}"; do
	IFS='|' read -r name pkg payload expect tmo extra <<<"$c"
	n=$((n + 1))
	logdir=$(mktemp -d)
	rc=0
	# shellcheck disable=SC2086 # extra holds separate arguments
	"$here/qemu-run.sh" "${args[@]}" $extra --timeout "$tmo" --out "$logdir" "$pk/$pkg.zip" "$payload" \
		>/dev/null 2>"$logdir/qemu-run.err" || rc=$?
	if [ $rc = 2 ]; then
		echo "Bail out! $(tail -1 "$logdir/qemu-run.err")"
		exit 1
	fi
	got=$(tr '\n' ';' <"$logdir/control.log" | sed 's/;$//')
	# shellcheck disable=SC2053 # the expectation may hold a glob
	if [[ $got == $expect ]]; then
		echo "ok $n $name"
	else
		echo "not ok $n $name"
		echo "#   expected: $expect"
		echo "#   got:      $got"
		sed 's/^/#   console: /' "$logdir/console.log" | tail -20
		sed 's/^/#   log: /' "$logdir/payload.log" | tail -30
		sed 's/^/#   /' "$logdir/qemu-run.err" | tail -5
		bad=$((bad + 1))
	fi
	rm -rf "$logdir"
done
echo "# $((n - bad)) passed, $bad failed"
[ $bad -eq 0 ]
