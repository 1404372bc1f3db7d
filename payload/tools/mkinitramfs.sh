#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Assemble the guest initramfs, reproducibly (the image is measured into the
# VM identity): /init, the dynamic loader, exactly the shared libraries that
# /init, libvm_payload.so and the given payloads need (found with ldd, copied
# to the paths ldd reports), libvm_payload.so, the mount points and
# /dev/console, and the helper programs given with --tool (mke2fs for the
# encrypted storage) with their libraries. Sorted entries, root:root, mtime 0, gzip -n; the file is
# zero-padded to a multiple of 4 bytes so another newc archive can be
# appended directly (the kernel looks for one on a 4-byte boundary).
#
#   mkinitramfs.sh OUT.cpio.gz INIT LIBVM_PAYLOAD.so [--tool SRC=DEST]... -- [PAYLOAD.so]...
set -euo pipefail
out=$1 init=$2 libvmp=$3
shift 3
tools=()
while [ "${1:-}" = --tool ]; do
	tools+=("$2")
	shift 2
done
[ "${1:-}" = -- ] && shift
export LC_ALL=C

root=$(mktemp -d "${out}.root.XXXXXX")
trap 'rm -rf "$root"' EXIT
libdir=/lib/x86_64-linux-gnu

mkdir -p "$root"/{dev,proc,sys,run,tmp,mnt/apk,lib64,"$libdir"}
chmod 1777 "$root/tmp"
install -m 0755 "$init" "$root/init"
install -m 0644 "$libvmp" "$root$libdir/libvm_payload.so"
strip --strip-unneeded "$root/init" "$root$libdir/libvm_payload.so"
tool_srcs=()
for t in "${tools[@]}"; do
	src=${t%%=*} dest=${t#*=}
	mkdir -p "$root$(dirname "$dest")"
	install -m 0755 "$src" "$root$dest"
	tool_srcs+=("$src")
done
# the kernel opens /dev/console for PID 1 before devtmpfs is mounted
if ! mknod -m 0600 "$root/dev/console" c 5 1 2>/dev/null; then
	echo "mkinitramfs: warning: cannot mknod /dev/console (not root?); the runtime" \
		"opens the console itself, but this image differs from a root build" >&2
fi

# shared libraries: everything ldd resolves, at the path it resolves to
deps() {
	ldd "$1" | awk '
		/=> not found/ { print "MISSING " $1; next }
		/=>/ { if ($3 ~ /^\//) print $3; next }
		$1 ~ /^\// { print $1 }'
}
for bin in "$init" "$libvmp" "${tool_srcs[@]}" "$@"; do
	while read -r lib; do
		case $lib in
		MISSING*libvm_payload.so) continue ;;	# provided above
		MISSING*) echo "mkinitramfs: $bin: ${lib#MISSING } not found" >&2; exit 1 ;;
		esac
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
		chmod 0755 "$root$lib"
	done < <(deps "$bin")
done

find "$root" -exec touch -h -d @0 {} +
tmp=$(mktemp "${out}.XXXXXX")
(cd "$root" && find . -mindepth 1 | sed 's|^\./||' | sort |
	cpio -o -H newc --reproducible -R 0:0 --quiet) | gzip -9 -n >"$tmp"
size=$(stat -c %s "$tmp")
pad=$(( (4 - size % 4) % 4 ))
[ $pad -eq 0 ] || head -c $pad /dev/zero >>"$tmp"
chmod 0644 "$tmp"	# mktemp makes 0600: other users boot this image too
mv "$tmp" "$out"
echo "mkinitramfs: $out ($(stat -c %s "$out") bytes): $(cd "$root" && find . -type f | sed 's|^\./|/|' | sort | tr '\n' ' ')" >&2
