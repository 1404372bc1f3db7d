#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build Debian's linux-source-6.12 with our config fragments into a cache
# outside the work tree, keyed by source version and fragment hash.
#
#   kernel/build.sh [normal|debug|guest]   prints the build directory on stdout
#
# normal and debug are the test host's kernels; guest is the payload VM's
# (kernel/guest.config, on its own).
#
# Environment: AVF_CACHE (default ~/.cache/avf), JOBS (default nproc).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
variant=${1:-normal}
cache=${AVF_CACHE:-$HOME/.cache/avf}
jobs=${JOBS:-$(nproc)}
tarball=/usr/src/linux-source-6.12.tar.xz
log() { printf '[kernel:%s] %s\n' "$variant" "$*" >&2; }

case $variant in
normal) frags=("$here/avf.config") ;;
debug) frags=("$here/avf.config" "$here/debug.config") ;;
guest) frags=("$here/guest.config") ;;
*) log "unknown variant '$variant' (normal|debug|guest)"; exit 2 ;;
esac

need=()
for c in bc bison flex make gcc; do command -v $c >/dev/null || need+=("$c"); done
[ -f /usr/include/libelf.h ] || need+=(libelf-dev)
[ -f /usr/include/openssl/ssl.h ] || need+=(libssl-dev)
[ -f "$tarball" ] || need+=(linux-source-6.12)
if [ ${#need[@]} -gt 0 ]; then
	log "installing build dependencies: ${need[*]}"
	if [ "$(id -u)" != 0 ]; then log "not root: install ${need[*]} yourself"; exit 1; fi
	apt-get update -q >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >&2
fi

ver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || stat -c %Y "$tarball")
key=$( (echo "$ver"; cat "${frags[@]}") | sha256sum | cut -c1-16)
src=$cache/src/linux-source-6.12-$ver
out=$cache/kernel/$variant-$ver-$key

if [ -f "$out/.avf-done" ]; then
	log "cached: $out"
	echo "$out"
	exit 0
fi

# One build per cache at a time; a second caller waits, then finds it done.
mkdir -p "$cache"
exec 9>"$cache/.build.lock"
flock 9
if [ -f "$out/.avf-done" ]; then
	log "cached: $out"
	echo "$out"
	exit 0
fi

if [ ! -f "$src/.avf-extracted" ]; then
	log "extracting $tarball"
	rm -rf "$src" && mkdir -p "$cache/src"
	tmp=$(mktemp -d "$cache/src/.x.XXXXXX")
	tar -C "$tmp" -xf "$tarball"
	mv "$tmp/linux-source-6.12" "$src" && rmdir "$tmp"
	touch "$src/.avf-extracted"
fi

rm -rf "$out" && mkdir -p "$out"
log "configuring (tinyconfig + ${frags[*]##*/})"
make -s -C "$src" O="$out" tinyconfig >&2
(cd "$src" && KCONFIG_CONFIG="$out/.config" scripts/kconfig/merge_config.sh -m -O "$out" "$out/.config" "${frags[@]}" >/dev/null)
make -s -C "$src" O="$out" olddefconfig >&2

# Every option asked for must be in the merged config.
bad=0
for f in "${frags[@]}"; do
	while IFS= read -r line; do
		if [[ $line =~ ^(CONFIG_[A-Z0-9_]+)=(.*)$ ]]; then
			want="${BASH_REMATCH[1]}=${BASH_REMATCH[2]}"
			grep -qx "$want" "$out/.config" || { log "missing from merged .config: $want"; bad=1; }
		elif [[ $line =~ ^#\ (CONFIG_[A-Z0-9_]+)\ is\ not\ set$ ]]; then
			grep -q "^${BASH_REMATCH[1]}=" "$out/.config" && { log "should be unset: ${BASH_REMATCH[1]}"; bad=1; }
		fi
	done <"$f"
done
[ $bad = 0 ] || { log "config fragment not satisfied; fix kernel/*.config"; exit 1; }

log "building with $jobs jobs (log: $out/build.log)"
start=$(date +%s)
make -C "$src" O="$out" -j"$jobs" bzImage modules >"$out/build.log" 2>&1 &
pid=$!
while kill -0 $pid 2>/dev/null; do
	sleep 20
	kill -0 $pid 2>/dev/null && log "  $(( $(date +%s) - start ))s, $(find "$out" -name '*.o' | wc -l) objects"
done
if ! wait $pid; then
	tail -40 "$out/build.log" >&2
	log "build failed"
	exit 1
fi
ln -sfn "$src" "$out/source-tree"
touch "$out/.avf-done"
log "built in $(( $(date +%s) - start ))s: $out"
echo "$out"
