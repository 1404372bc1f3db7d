#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages avf builds and tests with, when missing.
set -euo pipefail
pkgs=(
	build-essential bc bison flex libelf-dev libssl-dev dwarves rsync kmod cpio
	linux-source-6.12 python3
	qemu-system-x86
	libfdt-dev libmbedtls-dev libjson-c-dev libminizip-dev zlib1g-dev libseccomp-dev
	libprotobuf-c-dev protobuf-c-compiler
	device-tree-compiler pkg-config jq gnuplot-nox
	clang
	e2fsprogs keyutils
	debhelper dh-dkms lintian
	linux-headers-amd64
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
if [ "$(id -u)" != 0 ]; then
	echo "deps: not root; install these yourself: ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
