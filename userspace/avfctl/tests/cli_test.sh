#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Host-side tests of avfctl's command line (no /dev/avf needed): usage
# errors, exit codes, --json errors, help, package. TAP.
#   tests/cli_test.sh PATH/TO/avfctl
set -u
avfctl=${1:?usage: cli_test.sh AVFCTL}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/avfctl-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export AVF_DATA_ROOT=$tmp/root
n=0 fail=0
t() { # t WANT DESC ARGS...
	local want=$1 desc=$2 rc
	shift 2
	"$avfctl" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	n=$((n + 1))
	if [ "$rc" = "$want" ]; then
		echo "ok $n $desc"
	else
		echo "not ok $n $desc (exit $rc, wanted $want)"
		sed 's/^/#   /' "$tmp/err" | head -5
		fail=$((fail + 1))
	fi
}
c() { # c DESC CONDITION
	n=$((n + 1))
	if eval "$2"; then echo "ok $n $1"; else echo "not ok $n $1"; fail=$((fail + 1)); fi
}

echo "TAP version 13"
t 64 "no verb" 
t 0 "--help" --help
c "help lists every verb" 'for v in info create list status run start stop delete config console log export import connect package; do grep -q "^  $v " "$tmp/out" || exit 1; done'
t 0 "help run" help run
c "help run shows --console" 'grep -q -- "--console" "$tmp/out"'
t 64 "unknown verb" frobnicate
c "unknown verb is named" 'grep -q frobnicate "$tmp/err"'
t 64 "unknown option" list --bogus
t 64 "option not taken by the verb" stop vm --mem 5
c "the refused option is named" 'grep -q -- "--mem" "$tmp/err"'
t 64 "missing VM name" status
t 64 "too many arguments" status a b
t 64 "bad --debug" create x --package /a.zip --payload-binary-name a.so --debug loud
t 64 "bad --mem" create x --package /a.zip --payload-binary-name a.so --mem 0
t 64 "bad --storage-size" create x --package /a.zip --payload-binary-name a.so --storage-size 1Q
t 64 "bad --cpu-topology" create x --package /a.zip --payload-binary-name a.so --cpu-topology all
t 64 "create without --package" create x --payload-binary-name a.so
t 64 "export without --socket" export x
t 64 "package without -o" package a.so
t 64 "connect without a port" connect vm
t 64 "connect with a bad port" connect vm 12x
t 0 "--version" --version
# export/import: socket checks that come before /dev/avf is touched.
: >"$tmp/file"
ln -s "$tmp/file" "$tmp/link"
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$tmp/sock"
t 73 "import refuses an existing file as its socket" import x --socket "$tmp/file"
c "the refusal says the path exists" 'grep -q "already exists" "$tmp/err"'
t 73 "import refuses an existing symlink" import x --socket "$tmp/link"
t 73 "import refuses an existing socket it did not create" import x --socket "$tmp/sock"
c "the existing socket is left alone" 'test -S "$tmp/sock"'
t 77 "export refuses a symlink" export x --socket "$tmp/link"
c "the refusal names the link" 'grep -q "symbolic link" "$tmp/err"'
t 77 "export refuses a non-socket" export x --socket "$tmp/file"
t 77 "export refuses a socket of another uid than --to-uid" export x --socket "$tmp/sock" --to-uid 4242
c "the refusal names both uids" 'grep -q "belongs to uid $(id -u), not --to-uid 4242" "$tmp/err"'
t 64 "bad --to-uid" export x --socket "$tmp/sock" --to-uid -1
t 64 "bad --from-uid" import x --socket "$tmp/new.sock" --from-uid abc
t 64 "export does not take --from-uid" export x --socket "$tmp/sock" --from-uid 1
t 64 "import does not take --to-uid" import x --socket "$tmp/new.sock" --to-uid 1
if [ -e /dev/avf ]; then
	for i in 1 2 3; do n=$((n + 1)); echo "ok $n no-/dev/avf checks # SKIP /dev/avf present"; done
else
	t 69 "info without /dev/avf: EX_UNAVAILABLE" info
	c "the message names /dev/avf" 'grep -q "/dev/avf" "$tmp/err"'
	t 69 "--json error object" --json list
	c "the JSON names AVF_E_UNSUPPORTED" 'jq -e ".error == \"AVF_E_UNSUPPORTED\" and .exit_code == 69" "$tmp/out" >/dev/null'
fi
# package runs avf-package when it is there.
pkg=${AVF_PACKAGE:-$(dirname "$avfctl")/avf-package}
if [ -x "$pkg" ]; then
	printf 'int AVmPayload_main(void) { return 0; }\n' >"$tmp/p.c"
	cc -shared -fPIC -o "$tmp/p.so" "$tmp/p.c"
	t 0 "package builds a zip" package -o "$tmp/p.zip" "$tmp/p.so"
	c "the zip has lib/x86_64/p.so" 'python3 -c "import zipfile,sys; sys.exit(0 if \"lib/x86_64/p.so\" in zipfile.ZipFile(\"$tmp/p.zip\").namelist() else 1)"'
else
	n=$((n + 1)); echo "ok $n package # SKIP no avf-package built"
fi
AVF_PACKAGE=/nonexistent t 69 "package without avf-package: EX_UNAVAILABLE" package -o "$tmp/x.zip" "$tmp/p.so"
echo "1..$n"
echo "# $((n - fail)) passed, $fail failed"
[ $fail = 0 ]
