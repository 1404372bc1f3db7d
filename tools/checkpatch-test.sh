#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make check's kernel-style tier (TAP): scripts/checkpatch.pl --strict of the
# kernel tree we build against, one result per file of the module and of
# its UAPI header. KSRC= names the kernel source tree (tools/check.sh sets
# it to the debug kernel's).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
ksrc=${KSRC:-$(readlink -f "$(kernel/build.sh normal 2>/dev/null)/source-tree")}
cp=$ksrc/scripts/checkpatch.pl
echo "TAP version 13"
if [ ! -x "$cp" ]; then
	echo "1..0 # SKIP no checkpatch.pl in $ksrc"
	exit 0
fi
n=0 fails=0
while read -r f; do
	n=$((n + 1))
	if out=$("$cp" --strict --no-tree --terse --show-types -f "$f" 2>&1); then
		echo "ok $n checkpatch_${f//[\/.-]/_}"
	else
		echo "$out" | grep -v '^total:' | sed 's/^/# /'
		echo "not ok $n checkpatch_${f//[\/.-]/_}"
		fails=$((fails + 1))
	fi
done < <(git ls-files -co --exclude-standard -- 'kmod/*.[ch]' include/uapi/linux/avf.h | sort)
echo "1..$n"
[ $fails = 0 ]
