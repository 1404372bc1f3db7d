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
# with -Werror from the installed DKMS tree against the test-host kernel
# (kernel/build.sh normal, 6.12) and Debian's 6.1 headers
# (linux-headers-amd64), make uninstall leaving nothing. Then, in the test
# host (unless --no-testhost), that avf.ko loaded, the installed tree
# copied over /usr/local, the build tree hidden, and as uid 1000 in group
# avf: avfctl info, create, status, list, run and delete of the installed
# hello example, the host example program, and the payload compiled
# against vm_payload.pc packaged by the installed avfctl/avf-package and
# run; as root selftests/api/avfctl_test.sh with the installed avfctl and
# example packages. Last, as root, the persistent device secret: avf-secret init as
# avf-secret.service runs it, modprobe avf through the installed
# modprobe.d hook, the secret across reloads being the file's
# (selftests/avf/avf_secret_probe).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" = --in-testhost-run ]; then
	# Inside the test host (root). Copy what we need out of the tree, put
	# the installed tree at /usr/local, set avf-vmm's owner and mode as
	# packaging does, hide the build tree, and run as uid 1000.
	w=$2 n=0
	ok() { n=$((n + 1)); echo "ok $n $1"; }
	nok() { n=$((n + 1)); echo "not ok $n $1"; }
	# The persistent device secret, as root: avf-secret init as
	# avf-secret.service runs it (/var/lib on a tmpfs: the root is
	# read-only), modprobe avf through the installed modprobe.d hook
	# (/lib/modules on a tmpfs holding the installed DKMS tree's avf.ko).
	secret_tests() {
		local sec=/usr/local/libexec/avf/avf-secret p=/run/avf_secret_probe d=/tmp/sec s1 s2 out
		local f=/var/lib/avf/uds
		mount -t tmpfs -o mode=0755 varlib /var/lib && mount -t tmpfs -o mode=0755 mods /lib/modules &&
			mkdir -p "/lib/modules/$(uname -r)/updates" && cp /run/avf.ko "/lib/modules/$(uname -r)/updates/" &&
			(cd "/lib/modules/$(uname -r)" && : >modules.order && : >modules.builtin && : >modules.builtin.modinfo) &&
			depmod -a || { nok "secret_setup"; return; }
		mkdir -p $d && chmod 0755 $d
		# what udev/60-avf.rules does after each load (no udevd here)
		load() {
			modprobe avf "$@" && chgrp avf /dev/avf && chmod 0660 /dev/avf
		}
		# the last VMM of a run may still be exiting (its final log drain) and
		# hold the module for a moment: wait for it (10 s) rather than race
		unload() {
			for _ in $(seq 1 100); do
				rmmod avf 2>/dev/null && return 0
				lsmod | grep -q '^avf ' || return 0
				sleep 0.1
			done
			rmmod avf
		}
		reload() { unload; load "$@"; }
		"$sec" init >/dev/null
		[ "$(stat -c %u:%a:%s $f 2>&1)" = 0:600:32 ] && [ "$(stat -c %u:%a /var/lib/avf)" = 0:700 ] &&
			ok "secret_init_makes_root_only_file" ||
			{ echo "# $(stat -c '%n %u:%a:%s' /var/lib/avf $f 2>&1)"; nok "secret_init_makes_root_only_file"; }
		cp $f /run/uds.orig
		"$sec" init && cmp -s $f /run/uds.orig && ok "secret_init_keeps_the_secret" ||
			nok "secret_init_keeps_the_secret"
		if reload; then ok "modprobe_through_installed_hook"; else nok "modprobe_through_installed_hook"; load; fi
		[ "$(cat /sys/module/avf/parameters/vmm_uid)" = "$(id -u avf-vmm)" ] && ok "hook_passes_vmm_uid" ||
			nok "hook_passes_vmm_uid"
		out=$($p caps)
		case $out in "persistent trusted") ok "secret_persistent_after_modprobe" ;;
		*) echo "# caps: $out"; nok "secret_persistent_after_modprobe" ;; esac
		expect "avfctl_info_device_secret_persistent" "device secret: *persistent" /usr/local/bin/avfctl info
		out=$(keyctl search @u logon avf:uds 2>&1; keyctl search @us logon avf:uds 2>&1; keyctl search @s logon avf:uds 2>&1)
		grep -q '^[0-9]' <<<"$out" && { echo "# $out"; nok "no_key_left_after_modprobe"; } || ok "no_key_left_after_modprobe"
		# an instance sealed now opens after a "reboot" (init, modprobe) ...
		$p seal $d && s1=$($p run $d) && "$sec" init && reload && s2=$($p run $d)
		case ${s1:-} in [0-9a-f]*) ;; *) s1= ;; esac
		[ -n "$s1" ] && [ "$s1" = "${s2:-}" ] && ok "secret_persists_across_reload" ||
			{ echo "# ${s1:-} / ${s2:-}"; nok "secret_persists_across_reload"; }
		# ... because the secret is the file's: another file, another UDS
		head -c 32 /dev/urandom >$f && reload
		out=$($p run $d)
		case $out in *"Bad message"*) ok "other_file_other_secret" ;; *) echo "# $out"; nok "other_file_other_secret" ;; esac
		cp /run/uds.orig $f && reload && s2=$($p run $d)
		[ -n "$s1" ] && [ "$s1" = "${s2:-}" ] && ok "secret_is_the_files" || { echo "# $s1 / ${s2:-}"; nok "secret_is_the_files"; }
		# a secret others can read is refused, and the module not loaded
		chmod 0644 $f && unload
		out=$(modprobe avf 2>&1)
		case $out in *"readable by others than root"*) ! lsmod | grep -q '^avf ' && ok "readable_secret_refused" ||
			nok "readable_secret_refused" ;; *) echo "# $out"; nok "readable_secret_refused" ;; esac
		chmod 0600 $f && { lsmod | grep -q '^avf ' || load; }
		# sealed with systemd-creds: without a TPM, sealing to it fails and
		# keeps the file; with the host key (what can be tested here) the
		# sealed secret is the same secret
		if "$sec" seal tpm2 >/dev/null 2>&1; then
			echo "# sealed to a TPM2 in the test host?"; nok "seal_tpm2_without_tpm_fails"
		else
			[ ! -e $f.cred ] && cmp -s $f /run/uds.orig && ok "seal_tpm2_without_tpm_fails" || nok "seal_tpm2_without_tpm_fails"
		fi
		if "$sec" seal host >/dev/null && [ ! -e $f ] && [ -e $f.cred ]; then
			reload && s2=$($p run $d)
			[ -n "$s1" ] && [ "$s1" = "${s2:-}" ] && ok "sealed_secret_same_after_reload" ||
				{ echo "# $s1 / ${s2:-}"; nok "sealed_secret_same_after_reload"; }
		else
			nok "sealed_secret_same_after_reload"
		fi
		# what it is for: a VM of the installed avfctl survives a module
		# reload through modprobe, and not an insmod (ephemeral secret)
		run "avfctl_run_before_reload" /usr/local/bin/avfctl run keep \
			--package /usr/local/share/avf/examples/hello.zip --payload-binary-name hello.so
		reload
		run "avfctl_vm_runs_after_modprobe_reload" /usr/local/bin/avfctl run keep
		unload && insmod /run/avf.ko vmm_uid="$(id -u avf-vmm)" && chgrp avf /dev/avf && chmod 0660 /dev/avf ||
			echo "# the module could not be replaced: $(lsmod | grep '^avf ')"
		out=$(as1000 /usr/local/bin/avfctl run keep 2>&1)
		case "$?:$out" in 70:*PAYLOAD_VERIFICATION_FAILED*) ok "avfctl_vm_refused_after_insmod_reload" ;;
		*) echo "$out" | sed 's/^/# /'; nok "avfctl_vm_refused_after_insmod_reload" ;; esac
	}
	mkdir -p /run/inst && cp -a "$w/root/usr/local/." /run/inst/ && cp "$w/avf-hello" /run/avf-hello &&
		cp "$w/hello.so" "$w/dkms/kmod/avf.ko" "$top/build/user/selftests/avf/avf_secret_probe" \
			"$top/selftests/api/avfctl_test.sh" /run/ &&
		{ [ ! -f "$top/build/user/tests/api/vsock-echo.zip" ] || cp "$top/build/user/tests/api/vsock-echo.zip" /run/; } &&
		chmod 0644 /run/hello.so ||
		{ echo "# (avf_secret_probe comes from make user)"; nok "copy_installed_tree"; echo "1..$n"; exit 1; }
	mount --bind /run/inst /usr/local
	chown avf-vmm:avf-vmm /usr/local/libexec/avf/avf-vmm && chmod 6755 /usr/local/libexec/avf/avf-vmm
	mount -t tmpfs -o mode=0755 hidden "$top"
	[ -e "$top/Makefile" ] && nok "build_tree_hidden" || ok "build_tree_hidden"
	unset AVF_VMM AVF_VMM_TRUSTED AVF_GUEST_KERNEL AVF_GUEST_INITRD AVF_PACKAGE AVF_CACHE
	[ "$(stat -c %G:%a /dev/avf)" = avf:660 ] && ok "dev_avf_group_avf_0660" ||
		{ echo "# $(stat -c %G:%a /dev/avf)"; nok "dev_avf_group_avf_0660"; }
	mkdir -p /tmp/u1000 && chown 1000:1000 /tmp/u1000
	# bounded: a hung run fails its own test, not the whole test host
	as1000() { timeout -k 10 600 setpriv --reuid 1000 --regid 1000 --groups avf env HOME=/tmp/u1000 "$@"; }
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
	expect() { # name grep-pattern cmd...: runs as uid 1000, output must match
		local name=$1 pat=$2 out; shift 2
		out=$(as1000 "$@" 2>&1)
		if grep -q -- "$pat" <<<"$out"; then ok "$name"; else echo "$out" | sed 's/^/# /'; nok "$name"; fi
	}
	expect "avfctl_status_hello" STOPPED /usr/local/bin/avfctl status hello
	expect "avfctl_list_hello" hello /usr/local/bin/avfctl list
	expect "avfctl_info_trusted_vmm_uid" "trusted VMM uid: *$(id -u avf-vmm)" /usr/local/bin/avfctl info
	# a payload built against the installed vm_payload.pc, packaged by the
	# installed avfctl (which runs the installed avf-package), run
	mkdir -p /tmp/sdk && chown 1000:1000 /tmp/sdk
	run "avfctl_package_sdk_payload" /usr/local/bin/avfctl package -o /tmp/sdk/sdk.zip /run/hello.so
	expect "avfctl_run_sdk_payload" "hello from the avf payload" /usr/local/bin/avfctl run sdk \
		--package /tmp/sdk/sdk.zip --payload-binary-name hello.so --debug full --log -
	run "avfctl_delete_hello" /usr/local/bin/avfctl delete hello
	out=$(as1000 /usr/local/bin/avfctl status hello 2>&1)
	[ $? = 66 ] && ok "avfctl_status_deleted_66" || { echo "# $out"; nok "avfctl_status_deleted_66"; }
	# the avfctl end-to-end tests (selftests/api/avfctl_test.sh, as root as
	# in tier 4) with the installed avfctl, avf-vmm, guest images and
	# example packages; only the vsock echo payload is a test build's
	out=$(timeout -k 10 1200 env AVFCTL=/usr/local/bin/avfctl AVF_TEST_PACKAGES=/usr/local/share/avf/examples \
		AVF_TEST_ECHO=/run/vsock-echo.zip bash /run/avfctl_test.sh 2>&1)
	grep -q '^ok [0-9]' <<<"$out" || { echo "$out" | sed 's/^/# /'; nok "avfctl_test_ran"; }
	while IFS= read -r l; do
		case $l in
		"not ok "*) l=${l#not ok }; nok "avfctl_test: ${l#* }" ;;
		"ok "*) l=${l#ok }; ok "avfctl_test: ${l#* }" ;;
		"#"*) echo "$l" ;;
		esac
	done <<<"$out"
	secret_tests
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
	share/bash-completion/completions/avfctl share/man/man8/avf-secret.8 lib/udev/rules.d/60-avf.rules
	lib/sysusers.d/avf.conf lib/modprobe.d/avf.conf lib/systemd/system/avf-secret.service
	libexec/avf/avf-secret)
missing=
for f in "${expect[@]}"; do [ -e "$p/$f" ] || missing="$missing $f"; done
dk=$d/usr/src/avf-$(cat VERSION)
for f in dkms.conf Kbuild kmod/Kbuild kmod/avf_dev.c kmod/avf_compat.h include/uapi/linux/avf.h; do
	[ -e "$dk/$f" ] || missing="$missing usr/src/${dk##*/}/$f"
done
[ -z "$missing" ] && ok "installed_file_list" || { echo "# missing:$missing"; nok "installed_file_list"; }
(cd "$d" && find . \( -type f -o -type l \) | sort) >"$w/files"
grep -q "@VERSION@" "$dk/dkms.conf" && nok "dkms_conf_versioned" || ok "dkms_conf_versioned"
# the unit and the modprobe.d hook name the installed avf-secret
grep -qx 'ExecStart=/usr/local/libexec/avf/avf-secret init' "$p/lib/systemd/system/avf-secret.service" &&
	grep -qx 'install avf /usr/local/libexec/avf/avf-secret modprobe $CMDLINE_OPTS' "$p/lib/modprobe.d/avf.conf" &&
	ok "secret_unit_and_hook_name_libexecdir" || nok "secret_unit_and_hook_name_libexecdir"
# the unit as systemd reads it, with the installed tree as root
check "secret_unit_verifies" env MANPATH="$p/share/man" systemd-analyze verify --root="$d" \
	/usr/local/lib/systemd/system/avf-secret.service
# BUILD_EXCLUSIVE_KERNEL: 6.1 and later, as dkms matches it (bash =~)
re=$(set +u; . "$dk/dkms.conf" && echo "$BUILD_EXCLUSIVE_KERNEL")
bad=
for v in 6.1.0-57-amd64 6.12.117 6.18.1 7.0.0; do [[ $v =~ $re ]] || bad="$bad $v"; done
for v in 6.0.19 5.10.0-30-amd64 4.19.0; do [[ $v =~ $re ]] && bad="$bad !$v"; done
[ -n "$re" ] && [ -z "$bad" ] && ok "dkms_kernel_range_6_1_and_later" || { echo "# $re:$bad"; nok "dkms_kernel_range_6_1_and_later"; }

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

# avf.ko from the installed DKMS tree (its top-level Kbuild) with -Werror,
# against the test-host kernel (6.12) ...
kdir=$(kernel/build.sh normal 2>/dev/null)
rm -rf "$w/dkms" && cp -a "$dk" "$w/dkms"
check "dkms_tree_builds" make -C "$kdir" M="$w/dkms" AVF_WERROR=1 modules
check "module_version" sh -c "modinfo -F version '$w/dkms/kmod/avf.ko' | grep -qx '$(cat VERSION)'"
# ... and against Debian 12's stock kernel headers (linux-headers-amd64,
# 6.1; tools/deps.sh): the bottom of the supported range
# (Documentation/install.rst), and any other installed *-amd64 headers
n61=0
for h in $(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V); do
	[ -f "$h/Makefile" ] || continue
	v=${h##*/linux-headers-}
	case $v in 6.1.*) n61=$((n61 + 1)) ;; esac
	rm -rf "$w/dkms-$v" && cp -a "$dk" "$w/dkms-$v"
	check "dkms_tree_builds_$v" make -C "$h" M="$w/dkms-$v" AVF_WERROR=1 modules
done
[ $n61 -gt 0 ] && ok "dkms_tree_built_against_6_1" ||
	{ echo "# no /usr/src/linux-headers-6.1.*-amd64 (apt-get install linux-headers-amd64)"; nok "dkms_tree_built_against_6_1"; }

if [ $testhost = 1 ] && [ -f "$w/dkms/kmod/avf.ko" ]; then
	testhost/run --kernel normal --timeout 1800 --quiet --module "$w/dkms/kmod/avf.ko" \
		--out "$w/th" -- tools/install-test.sh --in-testhost-run "$w" >/dev/null 2>"$w/th.err"
	rc=$?
	sed -n 's/^\(not \)\{0,1\}ok [0-9]* \(.*\)$/\1ok \2/p; /^#/p' "$w/th/output" >"$w/th.tap"
	while IFS= read -r l; do
		case $l in
		"not ok "*) nok "testhost_${l#not ok }" ;;
		"ok "*) ok "testhost_${l#ok }" ;;
		"#"*) echo "$l" ;;	# a failing test's output, before its "not ok"
		esac
	done <"$w/th.tap"
	if ! grep -q '^ok ' "$w/th.tap" || [ $rc = 125 ]; then
		tail -30 "$w/th.err" | sed 's/^/# /'
		nok "testhost_ran (rc $rc; see $w/th/output)"
	fi
fi
echo "1..$n"
[ $fails = 0 ]
