#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make check's packaging tier (TAP): dpkg-buildpackage -b -us -uc of a copy
# of the tree in build/deb/ (the .debs land there, not above the tree),
# the expected binary packages, and lintian on them with no errors or
# warnings.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
v=$(cat VERSION)
w=$top/build/deb
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n $1"; }
echo "TAP version 13"
for t in dpkg-buildpackage dh dh_dkms lintian; do
	command -v $t >/dev/null || { echo "1..0 # SKIP $t missing (tools/deps.sh installs it)"; exit 0; }
done
rm -rf "$w" && mkdir -p "$w/avf-$v"
git ls-files -co --exclude-standard | grep -v '^build/' | tar -cf - -T - | tar -xf - -C "$w/avf-$v"
if (cd "$w/avf-$v" && dpkg-buildpackage -b -us -uc) >"$w/build.log" 2>&1; then
	ok "dpkg_buildpackage"
else
	tail -30 "$w/build.log" | sed 's/^/# /'; nok "dpkg_buildpackage"
fi
for p in avf-dkms_${v}_all libavf0_${v}_amd64 libavf-dev_${v}_amd64 avfctl_${v}_amd64 \
	avf-vmm_${v}_amd64 avf-guest_${v}_amd64 avf-payload-dev_${v}_amd64; do
	[ -f "$w/$p.deb" ] && ok "package_${p%%_*}" || nok "package_${p%%_*}"
done
# (read the field whole: grep -q on a pipe can SIGPIPE dpkg-deb, and
# pipefail would then fail the test)
dep=$(dpkg-deb -f "$w/avf-dkms_${v}_all.deb" Depends 2>/dev/null)
echo "# avf-dkms Depends: $dep"
case "$dep" in *dkms*) ok "avf_dkms_depends_on_dkms" ;; *) nok "avf_dkms_depends_on_dkms" ;; esac
# the DKMS tree and its dkms hooks only in avf-dkms
bad=
for p in libavf0 libavf-dev avfctl avf-vmm avf-guest avf-payload-dev; do
	f=$w/${p}_${v}_amd64.deb
	[ -f "$f" ] || continue
	c=$(dpkg-deb -c "$f") dep=$(dpkg-deb -f "$f" Depends)
	case "$c $dep" in *usr/src/*|*dkms*) bad="$bad $p" ;; esac
done
[ -z "$bad" ] && ok "dkms_only_in_avf_dkms" || { echo "# usr/src or dkms in:$bad"; nok "dkms_only_in_avf_dkms"; }
# avf-vmm: the device-secret unit, enabled on installation
f=$w/avf-vmm_${v}_amd64.deb
c=$(dpkg-deb -c "$f" 2>/dev/null) pi=$(dpkg-deb -I "$f" postinst 2>/dev/null)
case $c in *lib/systemd/system/avf-secret.service*) case $c in *usr/libexec/avf/avf-secret*)
	grep -q "deb-systemd-helper enable 'avf-secret.service'" <<<"$pi" && ok "avf_vmm_enables_avf_secret" ||
		nok "avf_vmm_enables_avf_secret" ;; *) nok "avf_vmm_enables_avf_secret" ;; esac ;;
*) nok "avf_vmm_enables_avf_secret" ;; esac
if [ -f "$w/avf_${v}_amd64.changes" ]; then
	out=$(lintian --fail-on error,warning --tag-display-limit 0 "$w/avf_${v}_amd64.changes" 2>&1)
	rc=$?
	echo "$out" | grep -E '^[EW]:' | sed 's/^/# /'
	[ $rc = 0 ] && ok "lintian_no_errors_or_warnings" || nok "lintian_no_errors_or_warnings"
else
	nok "lintian_no_errors_or_warnings"
fi
echo "1..$n"
[ $fails = 0 ]
