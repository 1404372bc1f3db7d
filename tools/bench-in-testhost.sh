#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Benchmarks inside the test host. One machine-readable line per figure,
# "name value unit", then a short table. Figures (PERFORMANCE.md):
#   boot_to_ready_s        run() -> onPayloadReady, hello, 256 MiB, median
#   boot_to_started_s      run() -> onPayloadStarted, median
#   qemu_to_started_s      QEMU microvm start -> payload STARTED, same guest
#   ratio_vs_qemu          boot_to_started_s / qemu_to_started_s
#   vmm_overhead_mib       avf-vmm RSS minus guest RAM mapping RSS, idle VM
#   qemu_overhead_mib      the same for QEMU
#   stop_ms                stop() -> STOPPED, median
#   delete_ms              delete of a stopped VM
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/build/user/bin
pk=$top/build/user/guest/packages
n=${AVF_BENCH_TRIALS:-5}
root=$(mktemp -d /tmp/avf-bench.XXXXXX)
avfctl() { "$bin/avfctl" --data-root "$root" "$@"; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "nan" }'; }
ms() { local ns; ns=$(date +%s%N); echo $((ns / 1000000)); }
out=${AVF_TESTHOST_OUT:-/tmp}/bench.txt
: >"$out"
fig() { echo "$1 $2 $3" | tee -a "$out"; }

# --- boot: run() -> started / ready, via avfctl --json (times since run())
avfctl create hello --package "$pk/hello.zip" --payload-binary-name hello.so >/dev/null
for i in $(seq 1 "$n"); do
	avfctl --json run hello >"$root/run.$i" 2>/dev/null
	awk -F'"time":' '/"payload_started"/ { split($2, a, /[,}]/); print a[1] }' "$root/run.$i" >>"$root/started"
	awk -F'"time":' '/"payload_ready"/ { split($2, a, /[,}]/); print a[1] }' "$root/run.$i" >>"$root/ready"
done
started=$(median <"$root/started")
ready=$(median <"$root/ready")
fig boot_to_started_s "$started" s
fig boot_to_ready_s "$ready" s

# --- the peer: QEMU microvm with the same kernel, initramfs and devices
for i in $(seq 1 "$n"); do
	"$top/payload/tools/qemu-run.sh" --accel kvm --timestamps --debug none \
		--kernel "$AVF_GUEST_KERNEL" "$pk/hello.zip" hello.so 2>/dev/null |
		awk '$2 == "STARTED" { print $1 }' >>"$root/qemu_started"
done
qstarted=$(median <"$root/qemu_started")
fig qemu_to_started_s "$qstarted" s
fig ratio_vs_qemu "$(awk -v a="$started" -v b="$qstarted" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }')" x

# --- whole run without the module (--standalone: no identity, no
# measurement): avf-vmm alone against QEMU, exec to exit, same guest and
# devices. The build tree's avf-vmm: the set-uid one refuses --standalone.
for i in $(seq 1 "$n"); do
	t0=$(ms)
	"$bin/avf-vmm" --standalone --kernel "$AVF_GUEST_KERNEL" \
		--initrd "$top/build/user/guest/initramfs.cpio.gz" \
		--package "$pk/hello.zip" --payload hello.so >/dev/null 2>&1
	t1=$(ms)
	echo $((t1 - t0)) >>"$root/vmm_total"
	"$top/payload/tools/qemu-run.sh" --accel kvm --debug none \
		--kernel "$AVF_GUEST_KERNEL" "$pk/hello.zip" hello.so 2>&1 >/dev/null |
		awk '/VM ran/ { for (i = 1; i <= NF; i++) if ($i == "ran") printf "%d\n", $(i + 1) * 1000 }' >>"$root/qemu_total"
done
vt=$(median <"$root/vmm_total")
qt=$(median <"$root/qemu_total")
fig vmm_run_total_ms "$vt" ms
fig qemu_run_total_ms "$qt" ms
fig ratio_total_vs_qemu "$(awk -v a="$vt" -v b="$qt" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }')" x

# --- measurement in the module: hashing at create(), hashing + the sealed
# copy the guest boots from at every run (AVF_VMM_LOAD), and the same LOAD
# from sealed memfds (hash only): the difference is what the copy costs
"$top/build/user/selftests/avf/avf_load_bench" "$AVF_GUEST_KERNEL" \
	"$top/build/user/guest/initramfs.cpio.gz" "$pk/hello.zip" "$n" |
	while read -r name value unit; do fig "$name" "$value" "$unit"; done

# --- memory of an idle VM (never-ready payload), guest RAM excluded
rss_minus() { # pid mapping-pattern -> MiB
	awk -v pat="$2" '
		/^[0-9a-f]+-[0-9a-f]+ / { guest = ($0 ~ pat) }
		/^Rss:/ { if (guest) g += $2; else o += $2 }
		END { printf "%.1f\n", o / 1024 }' "/proc/$1/smaps"
}
avfctl create idle --package "$pk/never-ready.zip" --payload-binary-name never-ready.so >/dev/null
avfctl start idle >/dev/null
sleep 8
vpid=$(pgrep -n avf-vmm)
[ -n "$vpid" ] && fig vmm_overhead_mib "$(rss_minus "$vpid" 'avf-guest-ram')" MiB
t0=$(ms); avfctl stop idle >/dev/null; t1=$(ms)
fig stop_ms $((t1 - t0)) ms
t0=$(ms); avfctl delete idle >/dev/null; t1=$(ms)
fig delete_ms $((t1 - t0)) ms

"$top/payload/tools/qemu-run.sh" --accel kvm --debug none --timeout 30 \
	--kernel "$AVF_GUEST_KERNEL" "$pk/never-ready.zip" never-ready.so >/dev/null 2>&1 &
sleep 8
qpid=$(pgrep -n qemu-system)
# QEMU's guest RAM is an anonymous mapping of the VM's size: count the
# largest mapping as guest RAM.
if [ -n "$qpid" ]; then
	fig qemu_overhead_mib "$(python3 - "$qpid" <<'PY'
import re, sys
# RSS outside QEMU's largest mapping (its guest RAM), in MiB
maps, cur = [], None
for line in open("/proc/%s/smaps" % sys.argv[1]):
    m = re.match(r"([0-9a-f]+)-([0-9a-f]+) ", line)
    if m:
        cur = [int(m.group(2), 16) - int(m.group(1), 16), 0]
        maps.append(cur)
    elif line.startswith("Rss:"):
        cur[1] = int(line.split()[1])
big = max(maps)
print("%.1f" % (sum(r for s, r in maps if s != big[0]) / 1024))
PY
)" MiB
	kill "$qpid" 2>/dev/null
fi
wait 2>/dev/null

echo
echo "figure                value     (test host under emulation: compare ratios, not absolutes)"
column -t "$out"
