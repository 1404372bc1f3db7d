#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Benchmarks inside the test host (make bench; bench/README.md has the
# method and the latest figures). One "name value unit" line per figure in
# $AVF_TESTHOST_OUT/bench.txt, the raw per-trial data beside it (*.dat) for
# the plots tools/bench-plot.sh draws on the build host, then a table.
# Every figure that cannot be measured is printed as nan, with the reason
# in bench-notes.txt.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/build/user/bin
bench=$top/build/user/bench/avf_bench
pk=$top/build/user/guest/packages
initrd=$top/build/user/guest/initramfs.cpio.gz
n=${AVF_BENCH_TRIALS:-10}
dmax=${AVF_BENCH_DENSITY_MAX:-16}
outdir=${AVF_TESTHOST_OUT:-/tmp}
out=$outdir/bench.txt
notes=$outdir/bench-notes.txt
root=$(mktemp -d /tmp/avf-bench.XXXXXX)
: >"$out"
: >"$notes"
fig() { echo "$1 $2 $3" | tee -a "$out"; }
nan() { fig "$1" nan "$2"; echo "$1: $3" >>"$notes"; }
# the value of figure $1 in bench.txt
val() { awk -v k="$1" '$1 == k { v = $2 } END { print (v == "" ? "nan" : v) }' "$out"; }
ratio() { awk -v a="$(val "$1")" -v b="$(val "$2")" \
	'BEGIN { if (a == "nan" || b == "nan" || b <= 0) print "nan"; else printf "%.3f", a / b }'; }
# median and p90 (nearest rank) of one column of numbers on stdin
dist() {
	sort -n | awk -v name="$1" '{ v[NR] = $1 }
		END {
			if (!NR) { printf "%s_median nan ms\n%s_p90 nan ms\n", name, name; exit }
			m = int(NR * 0.5 + 0.999999); p = int(NR * 0.9 + 0.999999)
			printf "%s_median %.3f ms\n%s_p90 %.3f ms\n", name, v[m], name, v[p]
		}'
}
# AVF_BENCH_PARTS: which parts to run (default all)
parts=${AVF_BENCH_PARTS:-boot module memory stop density vsock}
want() { case " $parts " in *" $1 "*) return 0 ;; esac; return 1; }
figs() { while read -r a b c; do case $a in '#'*) ;; *) fig "$a" "$b" "$c" ;; esac; done; }
uptime | tee "$outdir/bench-load.txt" >&2

if want boot; then
# --- boot through libavf: run() -> onPayloadReady, breakdown from avf-vmm's
# timestamps line (CLOCK_MONOTONIC, same clock as the callbacks); after
# each trial the peer's: QEMU microvm and q35 (tools/bench-qemu-boot.sh),
# so the emulated machine's drift over the run weighs on all three alike
: >"$root/q.microvm"
: >"$root/q.q35"
"$bench" boot "$outdir" "$pk/hello.zip" hello.so "$n" \
	"$top/tools/bench-qemu-boot.sh microvm $root/q.microvm; $top/tools/bench-qemu-boot.sh q35 $root/q.q35" |
	figs
for m in microvm q35; do
	{ echo "# exec_to_init_ms exec_to_started_ms exec_to_ready_ms guest_says_kernel_ms"; cat "$root/q.$m"; } >"$outdir/qemu_$m.dat"
	awk '{ print $1 }' "$root/q.$m" | dist "qemu_${m}_exec_to_init" | figs
	awk '{ print $3 }' "$root/q.$m" | dist "qemu_${m}_exec_to_ready" | figs
	awk '{ print $3 - $1 }' "$root/q.$m" | dist "qemu_${m}_init_to_ready" | figs
	# what the guest says its kernel took; the rest of exec -> init is QEMU's own
	awk '$4 >= 0 { print $4 }' "$root/q.$m" | dist "qemu_${m}_guest_says_kernel" | figs
	awk '$4 >= 0 { print $1 - $4 }' "$root/q.$m" | dist "qemu_${m}_exec_to_init_not_guest" | figs
	[ -s "$root/q.$m" ] || echo "qemu_$m: no BOOT/READY line from QEMU" >>"$notes"
done
# ours from run() (libavf, spawn, module measurement included) and from the
# VMM's exec, against QEMU from its start; the same for the whole boot
fig ratio_vs_qemu "$(ratio boot_run_to_init_median qemu_microvm_exec_to_init_median)" x
fig ratio_exec_vs_qemu "$(ratio exec_to_init_median qemu_microvm_exec_to_init_median)" x
fig ratio_vs_qemu_q35 "$(ratio boot_run_to_init_median qemu_q35_exec_to_init_median)" x
# the host's own part (all but the guest kernel's own time, as the guest reports it)
fig ratio_not_guest_vs_qemu \
	"$(ratio boot_run_to_init_not_guest_median qemu_microvm_exec_to_init_not_guest_median)" x
fig ratio_ready_vs_qemu "$(ratio boot_to_ready_median qemu_microvm_exec_to_ready_median)" x
fig ratio_ready_vs_qemu_q35 "$(ratio boot_to_ready_median qemu_q35_exec_to_ready_median)" x

fi
if want module; then
# --- module hot paths: measurement at create() (SEAL) and at every run
# (LOAD: hash + sealed copy; from sealed memfds: hash only), per image and
# per MiB of the three images
"$top/build/user/selftests/avf/avf_load_bench" "$AVF_GUEST_KERNEL" "$initrd" \
	"$pk/hello.zip" "$n" | figs
mib=$(stat -L -c %s "$AVF_GUEST_KERNEL" "$initrd" "$pk/hello.zip" |
	awk '{ s += $1 } END { printf "%.3f", s / 1048576 }')
fig module_images_mib "$mib" MiB
for k in seal_ms load_file_ms load_memfd_ms; do
	fig "${k%_ms}_us_per_mib" "$(awk -v a="$(val "$k")" -v b="$mib" \
		'BEGIN { if (a == "nan") print "nan"; else printf "%.1f", a * 1000 / b }')" us/MiB
done

fi
if want memory; then
# --- memory of an idle VM (never-ready payload): avf-vmm outside guest
# RAM, the module's kernel memory per instance, kernel memory per running VM
"$bench" idle "$outdir" "$pk/never-ready.zip" never-ready.so | figs

# qemu-run.sh prints the control lines at exit; --out DIR has them as they come
"$top/payload/tools/qemu-run.sh" --accel kvm --debug none --timeout 300 --mem 256 --cpus 1 \
	--out "$root/qidle" --kernel "$AVF_GUEST_KERNEL" "$pk/never-ready.zip" never-ready.so \
	>/dev/null 2>&1 &
qrun=$!
for _ in $(seq 1 500); do grep -q STARTED "$root/qidle/control.log" 2>/dev/null && break; sleep 0.5; done
sleep 3
qpid=$(pgrep -n qemu-system)
if [ -n "$qpid" ]; then
	# QEMU's guest RAM is one anonymous mapping of the VM's size (the largest)
	python3 - "$qpid" <<'PY' | figs
import re, sys
maps, cur = [], None
for line in open("/proc/%s/smaps" % sys.argv[1]):
    m = re.match(r"([0-9a-f]+)-([0-9a-f]+) ", line)
    if m:
        cur = {"size": int(m.group(2), 16) - int(m.group(1), 16), "Rss": 0, "Pss": 0, "Private": 0}
        maps.append(cur)
    else:
        k = line.split(":")[0]
        if k in ("Rss", "Pss"):
            cur[k] = int(line.split()[1])
        elif k in ("Private_Clean", "Private_Dirty"):
            cur["Private"] += int(line.split()[1])
big = max(maps, key=lambda x: x["size"])
rest = [x for x in maps if x is not big]
print("qemu_overhead_rss_mib %.3f MiB" % (sum(x["Rss"] for x in rest) / 1024))
print("qemu_overhead_pss_mib %.3f MiB" % (sum(x["Pss"] for x in rest) / 1024))
print("qemu_overhead_private_mib %.3f MiB" % (sum(x["Private"] for x in rest) / 1024))
print("qemu_guest_ram_rss_mib %.3f MiB" % (big["Rss"] / 1024))
PY
	kill "$qpid" 2>/dev/null
else
	nan qemu_overhead_rss_mib MiB "QEMU (never-ready payload) did not start"
fi
wait "$qrun" 2>/dev/null
fig vmm_overhead_vs_qemu "$(ratio vmm_overhead_rss_mib qemu_overhead_rss_mib)" x

fi
if want stop; then
# --- stop() -> onStopped and delete, through libavf
"$bench" stop "$outdir" "$pk/never-ready.zip" never-ready.so "$n" | figs

fi
if want density; then
# --- density: 64 MiB VMs started at once, until the first failure or the cap
"$bench" density "$outdir" "$pk/never-ready.zip" never-ready.so "$dmax" | figs

fi
if want vsock; then
# --- vsock: MiB host->guest and guest->host, then 1-byte round trips,
# against the vsock-stream test payload: through libavf's connectVsock
# (avf-vmm's device), and the same payload in QEMU microvm with the host
# kernel's vhost-vsock (the peer), driven by the same client code
vs=$top/build/user/tests/api/vsock-stream.zip
vmib=${AVF_BENCH_VSOCK_MIB:-64} vrt=${AVF_BENCH_VSOCK_RTT:-10000}
if [ -f "$vs" ]; then
	"$bench" vsock vsock "$vs" vsock-stream.so "$vmib" "$vrt" | figs
	[ "$(val vsock_rtt_us_p99)" = nan ] && echo "vsock: avf_bench vsock failed" >>"$notes"
	cid=$((4000 + RANDOM % 1000))
	"$top/payload/tools/qemu-run.sh" --accel kvm --debug none --timeout 900 --mem 256 \
		--cpus 1 --vsock-cid "$cid" --out "$root/qvs" --kernel "$AVF_GUEST_KERNEL" \
		"$vs" vsock-stream.so >/dev/null 2>&1 &
	qv=$!
	"$bench" vsock-cid vhost_vsock "$cid" "$vmib" "$vrt" | figs
	[ "$(val vhost_vsock_rtt_us_p99)" = nan ] &&
		echo "vhost_vsock: QEMU with vhost-vsock-device (CID $cid) did not serve" >>"$notes"
	wait "$qv" 2>/dev/null
	fig vsock_h2g_vs_vhost "$(ratio vsock_h2g_mbps vhost_vsock_h2g_mbps)" x
	fig vsock_g2h_vs_vhost "$(ratio vsock_g2h_mbps vhost_vsock_g2h_mbps)" x
	fig vsock_rtt_vs_vhost "$(ratio vsock_rtt_us_median vhost_vsock_rtt_us_median)" x
else
	for f in vsock_h2g_mbps vsock_g2h_mbps vhost_vsock_h2g_mbps vhost_vsock_g2h_mbps; do
		nan "$f" MB/s "no $vs (make user builds it)"
	done
fi
# RPC: rpc_test's round-trip case over AVF_BENCH_RPC_CALLS sequential Add calls
rpc=$top/build/user/tests/api/rpc_test
if [ -x "$rpc" ]; then
	AVF_TEST_RPC_CALLS=${AVF_BENCH_RPC_CALLS:-10000} "$rpc" -t round_trip_latency 2>&1 |
		sed -n 's/.*perf: rpc round trip over [0-9]* calls: median \([0-9.]*\) us, p99 \([0-9.]*\) us.*/rpc_rtt_us_median \1 us\nrpc_rtt_us_p99 \2 us/p' | figs
fi
[ "$(val rpc_rtt_us_median)" = nan ] && nan rpc_rtt_us_median us "rpc_test round_trip_latency failed or missing"

fi

rm -rf "$root"
echo
echo "figure value unit   (test host under nested KVM on a shared machine: compare ratios, not absolutes)"
column -t "$out"
[ -s "$notes" ] && { echo; echo "not measured:"; cat "$notes"; }
exit 0
