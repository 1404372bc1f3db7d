#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# End-to-end tests of the avfctl verbs and their --json output; TAP.
# Runs inside the test host (run.sh); skips when /dev/avf is absent.
#
# Environment: AVFCTL (default <tree>/build/user/bin/avfctl),
# AVF_TEST_PACKAGES (default <tree>/build/user/guest/packages).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
avfctl=${AVFCTL:-$top/build/user/bin/avfctl}
pkgs=${AVF_TEST_PACKAGES:-$top/build/user/guest/packages}
root=$(mktemp -d /tmp/avfctl-test.XXXXXX)
other=$(mktemp -d /tmp/avfctl-other.XXXXXX)
export AVF_DATA_ROOT=$root
n=0 pass=0 fail=0 skip=0
out=$root/.out

cleanup() {
	for r in "$root" "$other"; do
		for vm in $("$avfctl" --data-root "$r" --json list 2>/dev/null |
			    jq -r '.[].name' 2>/dev/null); do
			"$avfctl" --data-root "$r" stop "$vm" >/dev/null 2>&1
			"$avfctl" --data-root "$r" delete "$vm" >/dev/null 2>&1
		done
	done
	rm -rf "$root" "$other"
}
trap cleanup EXIT

ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
not_ok() {
	n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"
	sed 's/^/#   /' "$out" 2>/dev/null | tail -20
}
skip_test() { n=$((n + 1)); skip=$((skip + 1)); echo "ok $n $1 # SKIP $2"; }

# expect STATUS DESCRIPTION -- avfctl ARGS: runs avfctl, checks the exit status.
expect() {
	local want=$1 desc=$2 rc
	shift 3
	"$avfctl" "$@" >"$out" 2>&1
	rc=$?
	if [ "$rc" = "$want" ]; then ok "$desc"; else echo "# exit $rc, wanted $want" >>"$out"; not_ok "$desc"; fi
}
# check DESCRIPTION -- shell condition
check() {
	local desc=$1
	shift 2
	if eval "$@" >>"$out" 2>&1; then ok "$desc"; else not_ok "$desc"; fi
}

echo "TAP version 13"
if [ ! -e /dev/avf ]; then
	echo "1..0 # SKIP /dev/avf absent (run inside the test host)"
	exit 0
fi
if [ ! -r "$pkgs/hello.zip" ]; then
	echo "1..0 # SKIP example packages missing in $pkgs (make -C payload)"
	exit 0
fi
hello=(--package "$pkgs/hello.zip" --payload-binary-name hello.so)


expect 0 "info" -- info
expect 0 "info --json" -- --json info
check "info --json is JSON with capabilities" -- 'jq -e ".non_protected_vm == true and .abi_version == 2" "$out"'
if [ -n "${AVF_VMM_UID:-}" ]; then
	expect 0 "info --json again" -- --json info
	check "info --json names the trusted VMM uid" -- 'jq -e ".vmm_uid == $AVF_VMM_UID and .development_mode == false" "$out"'
	expect 0 "info" -- info
	check "info prints the trusted VMM uid" -- 'grep -q "^trusted VMM uid: *$AVF_VMM_UID$" "$out"'
	check "info does not claim development mode" -- '! grep -q "development mode" "$out"'
else
	for t in "info --json again" "info --json names the trusted VMM uid" "info" "info prints the trusted VMM uid" "info does not claim development mode"; do
		skip_test "$t" "AVF_VMM_UID not set (not the test host)"
	done
fi

expect 64 "usage error: unknown verb" -- frobnicate
expect 64 "usage error: bad --debug" -- create x "${hello[@]}" --debug loud
expect 65 "payload name with '/' is refused" -- create x --package "$pkgs/hello.zip" --payload-binary-name lib/hello.so
expect 69 "protected VM is refused (no capability)" -- create x "${hello[@]}" --protected
expect 66 "status of a missing VM" -- status nothere
check "the error names the VM" -- 'grep -q nothere "$out"'

expect 0 "create" -- create vm1 "${hello[@]}"
expect 73 "create an existing name" -- create vm1 "${hello[@]}"
expect 0 "create with encrypted storage" -- create st "${hello[@]}" --storage-size 1M
expect 0 "list --json" -- --json list
check "list shows vm1 STOPPED" -- 'jq -e ".[] | select(.name == \"vm1\") | .status == \"STOPPED\"" "$out"'
check "instance files" -- 'test -s $root/vm/vm1/config -a $(stat -c %s $root/vm/vm1/instance.img) = 256 -a $(stat -c %s $root/vm/vm1/instance_id) = 64 -a $(stat -c %s $root/vm/st/storage.img) = 1048576'

expect 0 "run hello exits 0" -- run vm1
check "run printed the events in order" -- 'grep -o "payload_started\|payload_ready\|payload_finished\|stopped" "$out" | tr "\n" " " | grep -q "^payload_started payload_ready payload_finished stopped $"'
expect 0 "run --json" -- --json run vm1
check "run --json events" -- 'jq -s -e "map(.event) | index(\"payload_finished\") != null" "$out"'

expect 0 "config --mem 300" -- config vm1 --mem 300 --cpu-topology match_host
expect 0 "status --json" -- --json status vm1
check "status shows the new memory and the run counters" -- 'jq -e ".config.memory_bytes == 314572800 and .status == \"STOPPED\" and .run_count == 2 and .vsock_refused == 0 and (.console_dropped | type) == \"number\"" "$out"'

expect 7 "run exits with the payload's exit code" -- run ec --package "$pkgs/exit-code.zip" --payload-binary-name exit-code.so
expect 70 "a crashing payload fails the run" -- run cr --package "$pkgs/crash.zip" --payload-binary-name crash.so

expect 0 "start in the background" -- start nr --package "$pkgs/never-ready.zip" --payload-binary-name never-ready.so
expect 0 "status while running" -- --json status nr
check "status RUNNING with a CID" -- 'jq -e ".status == \"RUNNING\" and .cid >= 2048" "$out"'
expect 75 "start while running" -- start nr
expect 75 "config change while running" -- config nr --mem 512
expect 75 "delete while running" -- delete nr
expect 0 "stop" -- stop nr
expect 75 "stop while stopped" -- stop nr

expect 0 "run with --debug full streams the payload log" -- run dbg "${hello[@]}" --debug full --log -
check "payload log reached stdout" -- 'grep -q "hello from the avf payload" "$out"'

# connect: stdin/stdout over vsock to a payload that echoes one message.
echo_zip=${AVF_TEST_ECHO:-$top/build/user/tests/api/vsock-echo.zip}
if [ -r "$echo_zip" ]; then
	expect 0 "start the vsock echo payload" -- start echo --package "$echo_zip" --payload-binary-name vsock-echo.so
	# It listens once ready; until then the connection is refused (69).
	reply=
	for i in $(seq 90); do
		reply=$(echo ping | "$avfctl" connect echo 5000 2>"$out") && [ "$reply" = ping ] && break
		sleep 1
	done
	check "connect relays through vsock" -- '[ "$reply" = ping ]'
	expect 64 "connect needs a port" -- connect echo
else
	for t in "start the vsock echo payload" "connect relays through vsock" "connect needs a port"; do
		skip_test "$t" "vsock-echo.zip not built"
	done
fi

# export to another data root, run the copy there
"$avfctl" --data-root "$other" import copy --socket "$root/xfer.sock" --timeout 60 >"$root/import.out" 2>&1 &
ipid=$!
expect 0 "export" -- export vm1 --socket "$root/xfer.sock"
wait $ipid
irc=$?
cp "$root/import.out" "$out"
if [ $irc = 0 ]; then ok "import into another data root"; else not_ok "import into another data root"; fi
expect 0 "the imported copy runs" -- --data-root "$other" run copy

# import listens only on a socket it creates, 0600, and says who sent.
: >"$root/taken.sock"
expect 73 "import refuses an existing socket path" -- --data-root "$other" import copy2 --socket "$root/taken.sock" --timeout 5
check "the refusal names the path" -- 'grep -q "taken.sock already exists" "$out"'
"$avfctl" --data-root "$other" import copy2 --socket "$root/x2.sock" --timeout 60 >"$root/import.out" 2>&1 &
ipid=$!
for i in $(seq 50); do [ -S "$root/x2.sock" ] && break; sleep 0.1; done
check "the import socket is mode 0600" -- '[ "$(stat -c %a "$root/x2.sock")" = 600 ]'
expect 0 "export --to-uid to the right uid" -- export vm1 --socket "$root/x2.sock" --to-uid "$(id -u)"
check "export names the uid it sent to" -- 'grep -q "sending to uid $(id -u)" "$out"'
wait $ipid
irc=$?
cp "$root/import.out" "$out"
if [ $irc = 0 ]; then ok "import with the peer checks"; else not_ok "import with the peer checks"; fi
check "import names the uid it received from" -- 'grep -q "descriptor from uid $(id -u)" "$out"'
check "import removed its socket" -- '[ ! -e "$root/x2.sock" ]'
# --from-uid: a peer of another uid is refused.
"$avfctl" --data-root "$other" import copy3 --socket "$root/x3.sock" --from-uid 4242 --timeout 60 >"$root/import.out" 2>&1 &
ipid=$!
"$avfctl" export vm1 --socket "$root/x3.sock" >"$out" 2>&1
erc=$?
# The importer hangs up on it: no acknowledgement (76), or a broken send (74).
if [ $erc = 76 ] || [ $erc = 74 ]; then ok "export to an importer that expects another uid fails"; else not_ok "export to an importer that expects another uid fails (exit $erc)"; fi
wait $ipid
irc=$?
cp "$root/import.out" "$out"
if [ $irc = 77 ]; then ok "import refuses a peer that is not --from-uid"; else not_ok "import refuses a peer that is not --from-uid (exit $irc)"; fi
check "the refusal names the peer uid" -- 'grep -q "descriptor of uid $(id -u)" "$out"'
expect 66 "nothing was imported" -- --data-root "$other" status copy3

# A third uid squatting the socket path: export refuses to send to it.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	sq=$(mktemp -d /tmp/avfctl-squat.XXXXXX)
	chown 1001:1001 "$sq"
	chmod 0755 "$sq"
	# The squatter listens where the importer (uid 1000) was told to.
	setpriv --reuid=1001 --regid=1001 --clear-groups python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
s.settimeout(60)
c, _ = s.accept()
print("imported VM: got a connection", flush=True)
' "$sq/xfer.sock" >"$sq/import.out" 2>&1 &
	spid=$!
	for i in $(seq 50); do [ -S "$sq/xfer.sock" ] && break; sleep 0.1; done
	expect 77 "export refuses a socket squatted by another uid" -- export vm1 --socket "$sq/xfer.sock" --to-uid 1000
	check "the refusal names the squatter's uid" -- 'grep -q "uid 1001" "$out"'
	kill $spid 2>/dev/null
	wait $spid 2>/dev/null
	check "the squatter got nothing" -- '! grep -q "imported VM" "$sq/import.out"'
	rm -rf "$sq"
else
	for t in "export refuses a socket squatted by another uid" "the refusal names the squatter's uid" "the squatter got nothing"; do
		skip_test "$t" "needs root and setpriv"
	done
fi
# Module instances vanish on reload; the files persist and libavf re-opens
# them. The identity survives only a persistent device secret (kernel key):
# with an ephemeral one the old sealed state is refused, as it must be.
module=$(cat /run/avfout/module 2>/dev/null)
if [ -n "$module" ] && [ -r "$module" ] && [ "$(id -u)" = 0 ]; then
	persistent=$("$avfctl" --json info | jq -r .device_secret_persistent)
	# Loaded again as testhost/init does: with the trusted VMM uid.
	# avfctl run returns once its VMM is gone; the echo VM's (avfctl
	# start, detached) ends on its own after its one message: give it 10 s.
	for _ in $(seq 100); do
		rmmod avf >"$out" 2>&1 && break
		sleep 0.1
	done
	lsmod | grep -q '^avf ' && { ps -eo pid,ppid,stat,args | grep '[a]vf-vmm'; } >>"$out"
	! lsmod | grep -q '^avf ' && insmod "$module" ${AVF_VMM_UID:+vmm_uid=$AVF_VMM_UID} >>"$out" 2>&1
	if [ $? = 0 ]; then ok "module reload"; else sed 's/^/# /' "$out"; not_ok "module reload"; fi
	expect 0 "status after reload" -- --json status vm1
	check "the instance is back, STOPPED, with no runs" -- 'jq -e ".status == \"STOPPED\" and .run_count == 0" "$out"'
	if [ "$persistent" = true ]; then
		expect 0 "it runs after the reload (persistent device secret)" -- run vm1
	else
		expect 70 "its identity is refused after the reload (ephemeral device secret)" -- run vm1
		check "the refusal names the device secret" -- 'grep -q "MICRODROID_PAYLOAD_VERIFICATION_FAILED" "$out"'
	fi
else
	for t in "module reload" "status after reload" "instance back after reload" "run after reload" "refusal"; do
		skip_test "$t" "no module path or not root"
	done
fi

expect 0 "delete" -- delete vm1
expect 66 "status after delete" -- status vm1
echo "1..$n"
echo "# $pass passed, $fail failed, $skip skipped"
exit $((fail > 0))
