# SPDX-License-Identifier: GPL-2.0
# Re-number the TAP of one test program into a runner's flat TAP stream so
# that every test case counts on its own (make check's summary).
#
#   PROG 2>&1 | awk -v first=N -v prog=NAME -v state=FILE -f tap_flatten.awk
#
# "ok K desc" / "not ok K desc" become "ok N+j prog: desc"; "1..0 # SKIP why"
# becomes one skipped result; version and plan lines are dropped; anything
# else is passed through as a "# " diagnostic. FILE receives
# "<next number> <results> <failures>" at the end.
BEGIN { n = first; results = 0; failures = 0 }
{ sub(/\r$/, "") }
/^(not )?ok [0-9]+/ {
	bad = ($0 ~ /^not /)
	line = $0
	sub(/^(not )?ok [0-9]+ ?(- )?/, "", line)
	printf "%s %d %s: %s\n", bad ? "not ok" : "ok", n, prog, line
	n++; results++; failures += bad
	fflush()
	next
}
/^1\.\.0( |$)/ {
	why = $0
	sub(/^1\.\.0 *(# *)?/, "", why)
	sub(/^SKIP */, "", why)
	printf "ok %d %s # SKIP %s\n", n, prog, why
	n++; results++
	fflush()
	next
}
/^1\.\.[0-9]+/ || /^K?TAP version/ { next }
{ print "# " $0; fflush() }
END { printf "%d %d %d\n", n, results, failures > state }
