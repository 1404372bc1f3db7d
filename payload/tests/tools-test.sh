#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Host tools: avf-package and avf-mkconfig behaviour, reproducible package
# and initramfs. TAP output. Run by `make -C payload test`.
#
#   tools-test.sh BIN_DIR GUEST_DIR
set -uo pipefail
bin=$1 guest=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0 bad=0
t() {	# t NAME COMMAND...
	local name=$1
	shift
	n=$((n + 1))
	if "$@" >"$work/out" 2>&1; then
		echo "ok $n $name"
	else
		echo "not ok $n $name"
		sed 's/^/#   /' "$work/out" | tail -10
		bad=$((bad + 1))
	fi
}

echo "TAP version 13"
echo "1..11"
printf 'payload' >"$work/a.so"
printf 'asset' >"$work/asset.txt"

pkg_twice() {
	"$bin/avf-package" -o "$work/p1.zip" --asset assets/x.txt="$work/asset.txt" "$work/a.so" &&
	sleep 1 &&
	"$bin/avf-package" -o "$work/p2.zip" --asset assets/x.txt="$work/asset.txt" "$work/a.so" &&
	cmp "$work/p1.zip" "$work/p2.zip"
}
t "avf-package output is reproducible" pkg_twice

layout() {
	command -v unzip >/dev/null || { echo "no unzip: checked by size only"; [ -s "$work/p1.zip" ]; return; }
	unzip -Z1 "$work/p1.zip" >"$work/list" &&
	printf 'assets/x.txt\nlib/x86_64/a.so\n' | cmp - "$work/list"
}
t "avf-package layout: lib/x86_64/<name> and assets" layout

refuses() { ! "$bin/avf-package" -o "$work/bad.zip" "$@" && [ ! -e "$work/bad.zip" ]; }
t "avf-package refuses ../ asset names" refuses --asset ../x="$work/asset.txt" "$work/a.so"
t "avf-package refuses absolute asset names" refuses --asset /x="$work/asset.txt" "$work/a.so"
t "avf-package refuses duplicate entries" refuses "$work/a.so" "$work/a.so"
t "avf-package refuses a missing input" refuses "$work/nonexistent.so"

mkconfig() {
	"$bin/avf-mkconfig" --payload hello.so --debug none --cid 3000 --mem 128 --cpus 2 --storage \
		--dtb "$work/c.dtb" -o "$work/c.cpio" &&
	cpio -it --quiet <"$work/c.cpio" | tr '\n' ' ' | grep -qx 'avf avf/config.dtb ' &&
	{ ! command -v dtc >/dev/null || {
		dtc -q -I dtb -O dts "$work/c.dtb" >"$work/c.dts" &&
		grep -q 'payload-binary-name = "hello.so"' "$work/c.dts" &&
		grep -q 'cid = <0xbb8>' "$work/c.dts" &&
		grep -q 'storage = <0x01>' "$work/c.dts"; }; }
}
t "avf-mkconfig writes the tree and its cpio wrapper" mkconfig

mkconfig_identity() {
	head -c 32 /dev/urandom >"$work/secret" &&
	"$bin/avf-mkconfig" --payload s.so --new-instance 1 --secret "$work/secret" \
		-o "$work/s.cpio" --dtb "$work/s.dtb" &&
	cpio -it --quiet <"$work/s.cpio" | tr '\n' ' ' | grep -qx 'avf avf/config.dtb avf/secret ' &&
	mkdir "$work/x" && (cd "$work/x" && cpio -id --quiet <"$work/s.cpio") &&
	cmp "$work/secret" "$work/x/avf/secret" &&
	{ ! command -v dtc >/dev/null ||
		dtc -q -I dtb -O dts "$work/s.dtb" | grep -q 'new-instance = <0x01>'; }
}
t "avf-mkconfig adds new-instance and avf/secret" mkconfig_identity

mkconfig_bad_secret() {
	head -c 31 /dev/zero >"$work/short" && head -c 33 /dev/zero >"$work/long" &&
	! "$bin/avf-mkconfig" --payload x.so --secret "$work/short" -o "$work/y.cpio" &&
	! "$bin/avf-mkconfig" --payload x.so --secret "$work/long" -o "$work/y.cpio" &&
	! "$bin/avf-mkconfig" --payload x.so --new-instance 2 -o "$work/y.cpio"
}
t "avf-mkconfig refuses a secret that is not 32 bytes" mkconfig_bad_secret

mkconfig_rejects() { ! "$bin/avf-mkconfig" --payload x.so --cid nope -o "$work/x.cpio"; }
t "avf-mkconfig rejects bad numbers" mkconfig_rejects

initramfs_reproducible() {
	local g=$guest
	[ -f "$g/initramfs.cpio.gz" ] || { echo "build the guest first"; return 1; }
	"$here/../tools/mkinitramfs.sh" "$work/i.cpio.gz" "$g/init" "$g/lib/libvm_payload.so" \
		--tool /sbin/mke2fs=/sbin/mke2fs -- \
		"$g"/examples/*.so &&
	cmp "$work/i.cpio.gz" "$g/initramfs.cpio.gz" &&
	[ $(( $(stat -c %s "$work/i.cpio.gz") % 4 )) -eq 0 ]
}
t "initramfs is byte-for-byte reproducible and 4-byte padded" initramfs_reproducible

echo "# $((n - bad)) passed, $bad failed"
[ $bad -eq 0 ]
