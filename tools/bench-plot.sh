#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# PNG plots of a make bench run, on the build host (gnuplot-nox):
#   tools/bench-plot.sh DIR     DIR holds bench.txt and the *.dat files
# writes DIR/boot-breakdown.png (median of each boot phase, stacked, beside
# QEMU microvm and q35 to the same marker, the guest kernel's own time split
# out of each), DIR/boot-latency.png (every
# trial's time to onPayloadReady / READY, sorted: the distributions),
# DIR/stop-latency.png and DIR/density.png (VMs running against time); a
# part that did not run (AVF_BENCH_PARTS) has no plot.
set -euo pipefail
dir=${1:?usage: bench-plot.sh DIR}
command -v gnuplot >/dev/null || { echo "bench-plot: gnuplot missing (tools/deps.sh)" >&2; exit 1; }
[ -s "$dir/bench.txt" ] || { echo "bench-plot: no $dir/bench.txt" >&2; exit 1; }
val() { awk -v k="$1" '$1 == k { v = $2 } END { print (v == "" || v == "nan" ? 0 : v) }' "$dir/bench.txt"; }

# boot breakdown: one row per system, one column per phase (medians, ms).
# The guest kernel's own time (its BOOT <ms> line) is split out on every
# bar: for avf from kernel_to_init, for QEMU from start -> init; what is
# left of those is the guest's earliest set-up (avf) / QEMU's own start
# with it. Without the guest's figure the split is 0 and the bars are as
# measured.
{
	echo "system qemu_start libavf_spawn vmm_setup measure derive guest_before_its_clock guest_kernel_own_clock guest_runtime payload_to_ready event_delivery"
	g=$(val guest_says_kernel_median)
	k=$(val boot_kernel_to_init_median)
	printf 'avf 0 %s %s %s %s' "$(val boot_libavf_spawn_median)" "$(val boot_vmm_setup_median)" \
		"$(val boot_measure_median)" "$(val boot_derive_median)"
	awk -v k="$k" -v g="$g" 'BEGIN { if (g <= 0 || g > k) g = 0; printf " %.3f %.3f", k - g, g }'
	printf ' %s %s %s\n' "$(val boot_guest_runtime_median)" "$(val boot_payload_to_ready_median)" \
		"$(val boot_event_delivery_median)"
	for m in microvm q35; do
		# QEMU: start -> init minus the guest's own part, then init -> READY as runtime + payload
		awk -v t="$(val "qemu_${m}_exec_to_init_median")" -v g="$(val "qemu_${m}_guest_says_kernel_median")" \
			-v r="$(val "qemu_${m}_init_to_ready_median")" -v m="$m" \
			'BEGIN { if (g <= 0 || g > t) g = 0; printf "qemu-%s %.3f 0 0 0 0 0 %.3f %.3f 0 0\n", m, t - g, g, r }'
	done
} >"$dir/boot-breakdown.dat"

# sorted per-trial values: avf (run() -> onPayloadReady) and QEMU (start -> READY);
# empty when that part did not run
sorted() {	# sorted COLUMN FILE OUT
	: >"$3"
	[ -s "$2" ] || return 0
	awk -v c="$1" '!/^#/ { print $c }' "$2" | sort -n | awk '{ print NR, $1 }' >"$3"
}
sorted 2 "$dir/boot.dat" "$dir/avf-ready.sorted"
for m in microvm q35; do
	sorted 3 "$dir/qemu_$m.dat" "$dir/qemu-$m-ready.sorted"
done
sorted 2 "$dir/stop.dat" "$dir/stop.sorted"
sorted 4 "$dir/stop.dat" "$dir/delete.sorted"

# Each plot only when its part ran (AVF_BENCH_PARTS may have left some out).
has() { [ -s "$dir/$1" ]; }
plots=$(mktemp)
trap 'rm -f "$plots"' EXIT
cat >"$plots" <<EOF
set terminal pngcairo size 900,520 noenhanced font ",10"
set datafile missing "nan"
EOF
if has boot.dat || has qemu_microvm.dat; then
	cat >>"$plots" <<EOF
set output "$dir/boot-breakdown.png"
set title "Boot to ready, median per phase (ms); the guest kernel by its own clock split out"
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.6
set key outside right top
set ylabel "ms"
set grid ytics
set linetype 1 lc rgb "#7b3294"
set linetype 2 lc rgb "#1b9e77"
set linetype 3 lc rgb "#66c2e5"
set linetype 4 lc rgb "#e6ab02"
set linetype 5 lc rgb "#ffe45c"
set linetype 6 lc rgb "#a6cee3"
set linetype 7 lc rgb "#1f78b4"
set linetype 8 lc rgb "#e31a1c"
set linetype 9 lc rgb "#222222"
set linetype 10 lc rgb "#fb9a99"
plot for [c=2:11] "$dir/boot-breakdown.dat" using c:xtic(1) title columnheader(c) lt (c - 1)

unset style
set style data linespoints
set output "$dir/boot-latency.png"
set title "Boot to ready, every trial sorted (ms)"
set xlabel "trial (sorted)"
set ylabel "ms"
set key inside left top
EOF
	line=
	for f in "avf-ready.sorted:avf run() -> onPayloadReady" \
		"qemu-microvm-ready.sorted:qemu microvm start -> READY" \
		"qemu-q35-ready.sorted:qemu q35 start -> READY"; do
		has "${f%%:*}" || continue
		line="${line:+$line, }\"$dir/${f%%:*}\" using 1:2 with linespoints title \"${f#*:}\""
	done
	[ -z "$line" ] || echo "plot $line" >>"$plots"
fi
if has stop.sorted; then
	cat >>"$plots" <<EOF
set output "$dir/stop-latency.png"
set title "stop() -> onStopped and delete, every trial sorted (ms)"
set style data linespoints
set xlabel "trial (sorted)"
set ylabel "ms"
set key inside left top
plot "$dir/stop.sorted" using 1:2 with linespoints title "stop() -> onStopped", \
     "$dir/delete.sorted" using 1:2 with linespoints title "delete"
EOF
fi
if has density.dat; then
	cat >>"$plots" <<EOF
set output "$dir/density.png"
set title "Density: 64 MiB VMs whose payload started, against time since the first run()"
set xlabel "seconds"
set ylabel "VMs running"
set key off
plot "$dir/density.dat" using 1:2 with steps lw 2
EOF
fi
gnuplot "$plots"
ls "$dir"/*.png 2>/dev/null || echo "bench-plot: no part with plots ran" >&2
