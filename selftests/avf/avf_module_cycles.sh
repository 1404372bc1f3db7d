#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Module lifetime tests, run inside the test host with avf.ko loaded:
# rmmod fails while fds are open; N unload/load cycles with instances left
# behind each time; kmemleak clean afterwards. Prints TAP.
#
#   avf_module_cycles.sh AVF_KO ABI_TEST [CYCLES]
set -u
ko=$1 abi=$2 cycles=${3:-100}
# load it as the test host does: with the trusted VMM uid
params="vmm_uid=${AVF_VMM_UID:-970}"
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n $1"; }
echo "TAP version 13"
echo "1..4"

grep -q '^avf ' /proc/modules || insmod "$ko" $params
exec 3</dev/avf
if rmmod avf 2>/dev/null; then nok "rmmod_with_open_fd_fails"; insmod "$ko" $params; else ok "rmmod_with_open_fd_fails"; fi
exec 3<&-
# A VM fd (anon inode) pins the module too.
python3 - <<'PY' && ok "rmmod_with_vm_fd_fails" || nok "rmmod_with_vm_fd_fails"
import fcntl, os, struct, subprocess, sys
dev = os.open("/dev/avf", os.O_RDWR)
AVF_VM_OPEN = (1 << 30) | (0xAF << 8) | 0x41 | (104 << 16)
arg = bytearray(struct.pack("II64s4Q", 1, 0, b"pin", 0, 0, 0, 0))
vm = fcntl.ioctl(dev, AVF_VM_OPEN, arg)
os.close(dev)
r = subprocess.run(["rmmod", "avf"], capture_output=True)
os.close(vm)
sys.exit(0 if r.returncode != 0 else 1)
PY

bad=0
for i in $(seq 1 "$cycles"); do
	if ! rmmod avf; then echo "# cycle $i: rmmod failed"; bad=1; break; fi
	if ! insmod "$ko" $params; then echo "# cycle $i: insmod failed"; bad=1; break; fi
	# leave instances, running bindings and queued events behind
	if ! "$abi" -t open_create -t bind -t vmm_close_is_crash -t report_full_run >/dev/null 2>&1; then
		echo "# cycle $i: ABI smoke failed"; bad=1; break
	fi
done
[ $bad = 0 ] && ok "unload_load_cycles_$cycles" || nok "unload_load_cycles_$cycles"

if [ -w /sys/kernel/debug/kmemleak ]; then
	echo clear >/sys/kernel/debug/kmemleak
	rmmod avf && insmod "$ko" $params
	"$abi" -t open_create -t bind -t report_full_run >/dev/null 2>&1
	# host connections: relayed, refused, timed out, aborted by the VMM's exit
	"$abi" -t connect_relays_bytes -t connect_refused -t connect_timeout_taken \
		-t connect_vmm_exits -t connect_pending_cap >/dev/null 2>&1
	rmmod avf && insmod "$ko" $params
	# kmemleak needs a couple of scans to be sure about young objects
	echo scan >/sys/kernel/debug/kmemleak; sleep 1; echo scan >/sys/kernel/debug/kmemleak
	leaks=$(grep -c unreferenced /sys/kernel/debug/kmemleak)
	if [ "$leaks" = 0 ]; then ok "kmemleak_clean"; else
		sed 's/^/# /' /sys/kernel/debug/kmemleak | head -40; nok "kmemleak_clean"; fi
else
	n=$((n + 1)); echo "ok $n kmemleak_clean # SKIP kmemleak not enabled in this kernel"
fi
exit $((failed > 0))
