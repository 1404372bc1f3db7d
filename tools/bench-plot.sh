#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# PNG plots of a make bench run, on the build host (gnuplot-nox):
#   tools/bench-plot.sh DIR     DIR holds bench.txt and the *.dat files
# writes DIR/boot-breakdown.png (median of each boot phase, stacked, beside
# QEMU microvm and q35 to the same marker), DIR/boot-latency.png (every
# trial's time to onPayloadReady / READY, sorted: the distributions),
# DIR/stop-latency.png and DIR/density.png (VMs running against time).
set -euo pipefail
dir=${1:?usage: bench-plot.sh DIR}
command -v gnuplot >/dev/null || { echo "bench-plot: gnuplot missing (tools/deps.sh)" >&2; exit 1; }
[ -s "$dir/bench.txt" ] || { echo "bench-plot: no $dir/bench.txt" >&2; exit 1; }
val() { awk -v k="$1" '$1 == k { v = $2 } END { print (v == "" || v == "nan" ? 0 : v) }' "$dir/bench.txt"; }

# boot breakdown: one row per system, one column per phase (medians, ms)
{
	echo "system qemu_start_to_init libavf_spawn vmm_setup measure derive kernel_to_init guest_runtime payload_to_ready event_delivery"
	printf 'avf 0'
	for p in libavf_spawn vmm_setup measure derive kernel_to_init guest_runtime \
		payload_to_ready event_delivery; do
		printf ' %s' "$(val "boot_${p}_median")"
	done
	echo
	for m in microvm q35; do
		# QEMU: start -> init (VMM + kernel, one slot), init -> READY as runtime + payload
		printf 'qemu-%s %s 0 0 0 0 0 %s 0 0\n' "$m" "$(val "qemu_${m}_exec_to_init_median")" \
			"$(val "qemu_${m}_init_to_ready_median")"
	done
} >"$dir/boot-breakdown.dat"

# sorted per-trial totals: avf (run() -> onPayloadReady) and QEMU (start -> READY)
awk '!/^#/ { print $2 }' "$dir/boot.dat" 2>/dev/null | sort -n | awk '{ print NR, $1 }' >"$dir/avf-ready.sorted"
for m in microvm q35; do
	awk '!/^#/ { print $3 }' "$dir/qemu_$m.dat" 2>/dev/null | sort -n | awk '{ print NR, $1 }' \
		>"$dir/qemu-$m-ready.sorted"
done
awk '!/^#/ { print $2 }' "$dir/stop.dat" 2>/dev/null | sort -n | awk '{ print NR, $1 }' >"$dir/stop.sorted"
awk '!/^#/ { print $4 }' "$dir/stop.dat" 2>/dev/null | sort -n | awk '{ print NR, $1 }' >"$dir/delete.sorted"

gnuplot <<EOF
set terminal pngcairo size 900,520 noenhanced font ",10"
set datafile missing "nan"

set output "$dir/boot-breakdown.png"
set title "Boot to ready, median per phase (ms); QEMU: start->init, init->READY"
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.6
set key outside right top
set ylabel "ms"
set grid ytics
plot for [c=2:10] "$dir/boot-breakdown.dat" using c:xtic(1) title columnheader(c)

unset style
set style data linespoints
set output "$dir/boot-latency.png"
set title "Boot to ready, every trial sorted (ms)"
set xlabel "trial (sorted)"
set ylabel "ms"
set key inside left top
plot "$dir/avf-ready.sorted" using 1:2 with linespoints title "avf run() -> onPayloadReady", \
     "$dir/qemu-microvm-ready.sorted" using 1:2 with linespoints title "qemu microvm start -> READY", \
     "$dir/qemu-q35-ready.sorted" using 1:2 with linespoints title "qemu q35 start -> READY"

set output "$dir/stop-latency.png"
set title "stop() -> onStopped and delete, every trial sorted (ms)"
plot "$dir/stop.sorted" using 1:2 with linespoints title "stop() -> onStopped", \
     "$dir/delete.sorted" using 1:2 with linespoints title "delete"

$( [ -s "$dir/density.dat" ] || echo 'exit' )
set output "$dir/density.png"
set title "Density: 64 MiB VMs whose payload started, against time since the first run()"
set xlabel "seconds"
set ylabel "VMs running"
set key off
plot "$dir/density.dat" using 1:2 with steps lw 2
EOF
ls "$dir"/*.png
