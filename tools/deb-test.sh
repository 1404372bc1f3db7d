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
