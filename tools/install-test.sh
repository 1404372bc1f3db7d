#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The installed tree, tested (make check's install tier; TAP on stdout):
#
#   tools/install-test.sh [--no-testhost]
#
# On the build host: make install into a DESTDIR (PREFIX=/usr/local), the
# file list, no build-tree path in any installed file, the hardening of the
# installed ELF files, the .pc files with the PREFIX/LIBDIR given, the
# documented host example (Documentation/examples/avf-hello.c) and a payload
# compiled with pkg-config against the installed tree only, avf.ko built
# from the installed DKMS tree (kernel/build.sh normal), make uninstall
# leaving nothing. Then, in the test host (unless --no-testhost), that
# avf.ko loaded, the installed tree copied over /usr/local, the build tree
# hidden, and as uid 1000 in group avf: avfctl info, create and run of the
# installed hello example, and the host example program.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" = --in-testhost-run ]; then
	# Inside the test host (root). Copy what we need out of the tree, put
	# the installed tree at /usr/local, set avf-vmm's owner and mode as
	# packaging does, hide the build tree, and run as uid 1000.
	w=$2 n=0
	ok() { n=$((n + 1)); echo "ok $n $1"; }
	nok() { n=$((n + 1)); echo "not ok $n $1"; }
	mkdir -p /run/inst && cp -a "$w/root/usr/local/." /run/inst/ && cp "$w/avf-hello" /run/avf-hello ||
		{ nok "copy_installed_tree"; exit 1; }
	mount --bind /run/inst /usr/local
	chown avf-vmm:avf-vmm /usr/local/libexec/avf/avf-vmm && chmod 6755 /usr/local/libexec/avf/avf-vmm
	mount -t tmpfs -o mode=0755 hidden "$top"
	[ -e "$top/Makefile" ] && nok "build_tree_hidden" || ok "build_tree_hidden"
	unset AVF_VMM AVF_VMM_TRUSTED AVF_GUEST_KERNEL AVF_GUEST_INITRD AVF_PACKAGE AVF_CACHE
	[ "$(stat -c %G:%a /dev/avf)" = avf:660 ] && ok "dev_avf_group_avf_0660" ||
		{ echo "# $(stat -c %G:%a /dev/avf)"; nok "dev_avf_group_avf_0660"; }
	mkdir -p /tmp/u1000 && chown 1000:1000 /tmp/u1000
	as1000() { setpriv --reuid 1000 --regid 1000 --groups avf env HOME=/tmp/u1000 "$@"; }
	run() { # name cmd...
		local name=$1 out; shift
		if out=$(as1000 "$@" 2>&1); then ok "$name"; else echo "$out" | sed 's/^/# /'; nok "$name"; fi
	}
	run "avfctl_info" /usr/local/bin/avfctl info
	run "avfctl_create_hello" /usr/local/bin/avfctl create hello \
		--package /usr/local/share/avf/examples/hello.zip --payload-binary-name hello.so
	run "avfctl_run_hello" /usr/local/bin/avfctl run hello
	run "host_example_runs_hello" /run/avf-hello /usr/local/share/avf/examples/hello.zip
	out=$(setpriv --reuid 1001 --regid 1001 --clear-groups /usr/local/bin/avfctl info 2>&1) &&
		{ echo "# $out"; nok "not_in_group_avf_refused"; } || ok "not_in_group_avf_refused"
	echo "1..$n"
	exit 0
fi
cd "$top"
testhost=1
[ "${1:-}" = --no-testhost ] && testhost=0
w=$top/build/install-test
d=$w/root
# a clean installed build: nothing left over from another configuration
rm -rf "$w" "$top/build/dist" && mkdir -p "$w"
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n $1"; }
check() { # name cmd...
	local name=$1; shift
	if "$@" >"$w/$name.log" 2>&1; then ok "$name"; else nok "$name"; tail -20 "$w/$name.log" | sed 's/^/# /'; fi
}
echo "TAP version 13"

check "make_install" make -s install DESTDIR="$d" PREFIX=/usr/local AVF_WERROR="${AVF_WERROR:-0}"
p=$d/usr/local
expect=(bin/avfctl bin/avf-package lib/libavf.so.0.1 lib/libavf.so.0 lib/libavf.so lib/libavf.a
	lib/pkgconfig/avf.pc lib/pkgconfig/vm_payload.pc include/avf/avf.h include/avf/rpc.h include/vm_payload.h
	lib/avf/libvm_payload.so libexec/avf/avf-vmm share/avf/vmlinux share/avf/initramfs.cpio.gz
	share/avf/examples/hello.zip share/man/man1/avfctl.1 share/man/man1/avf-package.1
	share/bash-completion/completions/avfctl lib/udev/rules.d/60-avf.rules
	lib/sysusers.d/avf.conf lib/modprobe.d/avf.conf)
missing=
for f in "${expect[@]}"; do [ -e "$p/$f" ] || missing="$missing $f"; done
dk=$d/usr/src/avf-$(cat VERSION)
for f in dkms.conf Kbuild kmod/Kbuild kmod/avf_dev.c include/uapi/linux/avf.h; do
	[ -e "$dk/$f" ] || missing="$missing usr/src/${dk##*/}/$f"
done
[ -z "$missing" ] && ok "installed_file_list" || { echo "# missing:$missing"; nok "installed_file_list"; }
(cd "$d" && find . \( -type f -o -type l \) | sort) >"$w/files"
grep -q "@VERSION@" "$dk/dkms.conf" && nok "dkms_conf_versioned" || ok "dkms_conf_versioned"

# no path of this tree in anything installed (debug info included)
leaks=$(grep -rl --binary-files=binary -F "$top" "$d" 2>/dev/null)
[ -z "$leaks" ] && ok "no_build_tree_path_installed" || { echo "# $leaks"; nok "no_build_tree_path_installed"; }

# hardening: PIE, full RELRO + BIND_NOW, stack protector, FORTIFY
harden() { # ELF [fortify]
	local dyn sym
	dyn=$(readelf -d "$1") sym=$(nm -D "$1")
	grep -q 'DYN (Position-Independent Executable' <<<"$(readelf -h "$1")" || { echo "# $1: not PIE"; return 1; }
	grep -q GNU_RELRO <<<"$(readelf -lW "$1")" || { echo "# $1: no RELRO"; return 1; }
	grep -q BIND_NOW <<<"$dyn" || grep -q 'FLAGS_1.*NOW' <<<"$dyn" || { echo "# $1: no BIND_NOW"; return 1; }
	grep -q __stack_chk_fail <<<"$sym" || { echo "# $1: no stack protector"; return 1; }
	[ "${2:-}" = fortify ] && ! grep -q '__[a-z_]*_chk@' <<<"$sym" && { echo "# $1: no FORTIFY _chk"; return 1; }
	return 0
}
for b in libexec/avf/avf-vmm bin/avfctl bin/avf-package; do
	check "hardened_${b##*/}" harden "$p/$b" fortify
done

# pkg-config against the installed tree only
grep -q '^libdir=/usr/local/lib$' "$p/lib/pkgconfig/avf.pc" && ok "avf_pc_libdir" || nok "avf_pc_libdir"
check "host_example_compiles" sh -c "cc -std=c11 -Wall -Wextra -Werror -o '$w/avf-hello' \
	Documentation/examples/avf-hello.c \$(PKG_CONFIG_SYSROOT_DIR='$d' PKG_CONFIG_PATH='$p/lib/pkgconfig' \
	pkg-config --cflags --libs avf) -Wl,-rpath,/usr/local/lib"
check "static_link_avf" sh -c "cc -std=c11 -o '$w/avf-hello-static' Documentation/examples/avf-hello.c \
	\$(PKG_CONFIG_SYSROOT_DIR='$d' PKG_CONFIG_PATH='$p/lib/pkgconfig' pkg-config --static --cflags avf) \
	'$p/lib/libavf.a' \$(pkg-config --libs json-c) -pthread"
check "payload_compiles" sh -c "cc -std=c11 -Wall -Wextra -Werror -shared -fPIC -o '$w/hello.so' \
	payload/examples/hello.c \$(PKG_CONFIG_SYSROOT_DIR='$d' PKG_CONFIG_PATH='$p/lib/pkgconfig' \
	pkg-config --cflags --libs vm_payload)"
check "installed_avf_package" "$p/bin/avf-package" -o "$w/hello-sdk.zip" "$w/hello.so"
check "installed_avfctl_runs" sh -c "LD_LIBRARY_PATH='$p/lib' '$p/bin/avfctl' --help | grep -q avfctl"

# other PREFIX/LIBDIR: the .pc files and RUNPATH follow
d2=$w/root-usr
check "make_install_prefix_usr" make -s install DESTDIR="$d2" PREFIX=/usr LIBDIR=/usr/lib/x86_64-linux-gnu
grep -q '^libdir=/usr/lib/x86_64-linux-gnu$' "$d2/usr/lib/x86_64-linux-gnu/pkgconfig/avf.pc" &&
	grep -q '^includedir=/usr/include$' "$d2/usr/lib/x86_64-linux-gnu/pkgconfig/avf.pc" &&
	grep -q '^libdir=/usr/lib/x86_64-linux-gnu/avf$' "$d2/usr/lib/x86_64-linux-gnu/pkgconfig/vm_payload.pc" &&
	ok "pc_follows_prefix_libdir" || nok "pc_follows_prefix_libdir"
grep -qE 'RPATH|RUNPATH' <<<"$(readelf -d "$d2/usr/bin/avfctl")" && nok "no_runpath_in_system_libdir" ||
	ok "no_runpath_in_system_libdir"
grep -qx '/usr/libexec/avf/avf-vmm' <<<"$(strings "$d2/usr/lib/x86_64-linux-gnu/libavf.so.0.1")" &&
	ok "libavf_knows_its_libexecdir" || nok "libavf_knows_its_libexecdir"
check "make_uninstall_prefix_usr" make -s uninstall DESTDIR="$d2" PREFIX=/usr LIBDIR=/usr/lib/x86_64-linux-gnu
left=$(find "$d2" \( -type f -o -type l \) 2>/dev/null)
[ -z "$left" ] && ok "uninstall_removes_everything" || { echo "# left: $left"; nok "uninstall_removes_everything"; }

# avf.ko from the installed DKMS tree, against the test-host kernel
kdir=$(kernel/build.sh normal 2>/dev/null)
rm -rf "$w/dkms" && cp -a "$dk" "$w/dkms"
check "dkms_tree_builds" make -C "$kdir" M="$w/dkms" modules
check "module_version" sh -c "modinfo -F version '$w/dkms/kmod/avf.ko' | grep -qx '$(cat VERSION)'"
# and against any other installed Debian kernel headers in the supported
# range (Documentation/install.rst: 6.12 and later; bookworm's 6.1 lacks
# fd_file() and is skipped)
other=
for h in $(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V); do
	v=${h##*/linux-headers-}
	[ -f "$h/Makefile" ] && [ "$(printf '%s\n' 6.12 "${v%%-*}" | sort -V | head -1)" = 6.12 ] && other=$h
done
if [ -n "$other" ]; then
	rm -rf "$w/dkms-other" && cp -a "$dk" "$w/dkms-other"
	check "dkms_tree_builds_${other##*/linux-headers-}" make -C "$other" M="$w/dkms-other" modules
else
	n=$((n + 1)); echo "ok $n dkms_tree_builds_other_kernel # SKIP no other linux-headers-*-amd64 >= 6.12 installed"
fi

if [ $testhost = 1 ] && [ -f "$w/dkms/kmod/avf.ko" ]; then
	testhost/run --kernel normal --timeout 900 --quiet --module "$w/dkms/kmod/avf.ko" \
		--out "$w/th" -- tools/install-test.sh --in-testhost-run "$w" >/dev/null 2>&1
	rc=$?
	sed -n 's/^\(not \)\{0,1\}ok [0-9]* \(.*\)$/\1ok \2/p' "$w/th/output" >"$w/th.tap"
	while read -r l; do
		case $l in "not ok "*) nok "testhost_${l#not ok }" ;; "ok "*) ok "testhost_${l#ok }" ;; esac
	done <"$w/th.tap"
	[ -s "$w/th.tap" ] && [ $rc != 125 ] || nok "testhost_ran (rc $rc; see $w/th/output)"
fi
echo "1..$n"
[ $fails = 0 ]
