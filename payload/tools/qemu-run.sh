#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Run one app package in the avf guest without avf-vmm: QEMU's microvm
# machine with the same devices in the same order as the VMM
# (Documentation/interfaces.rst): hvc0 console, hvc1 payload log, hvc2
# control channel, vda app package. Prints the control-channel lines.
#
#   qemu-run.sh [options] PACKAGE.zip PAYLOAD_NAME
#     --kernel PATH     vmlinux (PVH) or bzImage (default: $AVF_KERNEL, else
#                       vmlinux from kernel/build.sh guest)
#     --initrd PATH     guest initramfs (default: build/user/guest/initramfs.cpio.gz)
#     --debug full|none default full
#     --mem MIB         default 256
#     --cpus N          default 1
#     --timeout S       kill QEMU after S seconds (default 120)
#     --accel tcg|kvm   default tcg
#     --machine M       microvm (default; virtio-mmio) or q35 (virtio-pci,
#                       same devices in the same order; PVH entry, no firmware
#                       beyond QEMU's PVH option ROM)
#     --cpu MODEL       default qemu64 (host with kvm)
#     --console         also print the guest console (hvc0) and payload log
#     --out DIR         keep console.log, payload.log, control.log in DIR
#     --timestamps      prefix each control line with the seconds since
#                       QEMU was started, to the microsecond (boot-time
#                       measurements; BOOT is the runtime's init marker)
#     --config-cpio F   append F instead of a generated configuration archive
#     --no-config       append no configuration at all (tests the runtime)
#     --secret FILE     32-byte stand-in VM secret, appended as avf/secret
#                       (what the module writes on a real run)
#     --new-instance N  config tree new-instance = N (0 or 1)
#     --storage IMG     attach IMG read-write as vdb, config storage = 1
#     --vsock-cid N     add a vhost-vsock device with guest CID N (the host
#                       reaches the payload through AF_VSOCK, N:port)
#
# Exit status: 0 when the VM ended by itself, 124 on timeout, 2 usage.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${OUT:-$top/build/user}

kernel=${AVF_KERNEL:-} initrd=$out/guest/initramfs.cpio.gz debug=full mem=256 cpus=1
timeout_s=120 accel=tcg machine=microvm cpu='' show_console=0 keep='' stamps=0 config_cpio='' no_config=0
secret='' new_instance='' storage='' vsock_cid=''
usage() { sed -n '/^#   qemu-run.sh/,/^# Exit/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift 2 ;;
	--initrd) initrd=$2; shift 2 ;;
	--debug) debug=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--cpus) cpus=$2; shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--accel) accel=$2; shift 2 ;;
	--machine) machine=$2; shift 2 ;;
	--cpu) cpu=$2; shift 2 ;;
	--console) show_console=1; shift ;;
	--out) keep=$2; shift 2 ;;
	--timestamps) stamps=1; shift ;;
	--config-cpio) config_cpio=$2; shift 2 ;;
	--no-config) no_config=1; shift ;;
	--secret) secret=$2; shift 2 ;;
	--new-instance) new_instance=$2; shift 2 ;;
	--storage) storage=$2; shift 2 ;;
	--vsock-cid) vsock_cid=$2; shift 2 ;;
	-h|--help) usage ;;
	--) shift; break ;;
	-*) usage ;;
	*) break ;;
	esac
done
[ $# -eq 2 ] || usage
pkg=$1 payload=$2
[ -n "$cpu" ] || { [ "$accel" = kvm ] && cpu=host || cpu=qemu64; }

if [ -z "$kernel" ]; then
	kdir=$("$top/kernel/build.sh" guest)
	kernel=$kdir/vmlinux	# PVH entry, as avf-vmm boots it
fi
mkconfig=$out/bin/avf-mkconfig
for f in "$kernel" "$initrd" "$pkg" "$mkconfig"; do
	[ -e "$f" ] || { echo "qemu-run: missing $f (run make -C payload)" >&2; exit 2; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dir=${keep:-$tmp}
mkdir -p "$dir"
: >"$dir/console.log"; : >"$dir/payload.log"; : >"$dir/control.log"; : >"$dir/control.times"

# the initramfs is padded to 4 bytes, so the config archive can follow it
if [ $no_config = 1 ]; then
	: >"$tmp/config.cpio"
elif [ -n "$config_cpio" ]; then
	cp "$config_cpio" "$tmp/config.cpio"
else
	extra=()
	[ -z "$secret" ] || extra+=(--secret "$secret")
	[ -z "$new_instance" ] || extra+=(--new-instance "$new_instance")
	[ -z "$storage" ] || extra+=(--storage)
	[ -z "$vsock_cid" ] || extra+=(--cid "$vsock_cid")
	"$mkconfig" -o "$tmp/config.cpio" --payload "$payload" --debug "$debug" \
		--mem "$mem" --cpus "$cpus" "${extra[@]}"
fi
case $machine in
microvm)
	mach=(-M microvm,x-option-roms=off,rtc=off,isa-serial=off,acpi=off)
	vblk=virtio-blk-device vser=virtio-serial-device vvsock=vhost-vsock-device ;;
q35)
	# no option ROMs beyond PVH boot, no default devices, no VGA
	mach=(-M q35,acpi=on -vga none)
	vblk=virtio-blk-pci vser=virtio-serial-pci vvsock=vhost-vsock-pci ;;
*) usage ;;
esac
disks=(-drive "file=$tmp/package.img,format=raw,if=none,id=pkg,readonly=on"
	-device "$vblk,drive=pkg")
if [ -n "$storage" ]; then
	[ -f "$storage" ] || { echo "qemu-run: missing $storage" >&2; exit 2; }
	disks+=(-drive "file=$storage,format=raw,if=none,id=storage,cache=writeback"
		-device "$vblk,drive=storage")
fi
# after the disks, as avf-vmm's vsock device follows the package
[ -z "$vsock_cid" ] || disks+=(-device "$vvsock,guest-cid=$vsock_cid")
cat "$initrd" "$tmp/config.cpio" >"$tmp/initrd"
# a disk is whole sectors: pad the package with zeros
cp "$pkg" "$tmp/package.img"
truncate -s %512 "$tmp/package.img"

# the control channel goes through a FIFO so each line can be timestamped
mkfifo "$tmp/ctl.in" "$tmp/ctl.out"
usec() { local t=${EPOCHREALTIME/[.,]/}; echo $((10#$t)); }
secs() { printf '%d.%03d' $(($1 / 1000000)) $(($1 % 1000000 / 1000)); }
start=$(usec)
(
	# no subshell per line: the stamp is taken as the line arrives
	while IFS= read -r line; do
		t=${EPOCHREALTIME/[.,]/}
		d=$((10#$t - start))
		printf '%s\n' "$line" >>"$dir/control.log"
		printf '%d.%06d %s\n' $((d / 1000000)) $((d % 1000000)) "$line" >>"$dir/control.times"
	done <"$tmp/ctl.out"
) &
reader=$!
rc=0
timeout --foreground -k 5 "$timeout_s" qemu-system-x86_64 \
	"${mach[@]}" \
	-accel "$accel" -cpu "$cpu" -m "$mem" -smp "$cpus" \
	-nodefaults -no-user-config -nographic -no-reboot \
	-kernel "$kernel" -initrd "$tmp/initrd" \
	-append "console=hvc0 panic=-1 reboot=t quiet" \
	-chardev file,id=hvc0,path="$dir/console.log" \
	-chardev file,id=hvc1,path="$dir/payload.log" \
	-chardev pipe,id=hvc2,path="$tmp/ctl" \
	-device "$vser,id=vser0,max_ports=1" \
	-device virtconsole,bus=vser0.0,chardev=hvc0 \
	-device "$vser,id=vser1,max_ports=1" \
	-device virtconsole,bus=vser1.0,chardev=hvc1 \
	-device "$vser,id=vser2,max_ports=1" \
	-device virtconsole,bus=vser2.0,chardev=hvc2 \
	"${disks[@]}" \
	</dev/null || rc=$?
end=$(usec)
# if QEMU never opened the FIFO the reader is still waiting in open()
exec 9<>"$tmp/ctl.out"
exec 9>&-
wait $reader || true

if [ $show_console = 1 ]; then
	echo "== console (hvc0)"; cat "$dir/console.log"
	echo "== payload log (hvc1)"; cat "$dir/payload.log"
	echo "== control (hvc2)"
fi
if [ $stamps = 1 ]; then cat "$dir/control.times"; else cat "$dir/control.log"; fi
printf 'qemu-run: VM ran %s s, qemu exit %d\n' "$(secs $((end - start)))" "$rc" >&2
exit $rc
