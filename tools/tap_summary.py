#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Sum up (K)TAP results of every make-check tier with the kernel's own
KTAP parser (tools/testing/kunit/kunit_parser.py from $KSRC).

  tap_summary.py RESULT_DIR

RESULT_DIR holds NAME.tap / NAME.ktap / NAME.log files and, for each, an
optional NAME.status with the exit status of what produced it. A file may
hold several TAP documents (one per test program); each is parsed on its
own. A non-zero status with no failing test counted is one failure; so is
a file without any TAP. Prints one line per file and a last line
"N passed, N failed, N skipped"; exits 1 if anything failed.
"""
import io
import os
import re
import signal
import sys

ksrc = os.environ.get("KSRC")
if not ksrc:
    sys.exit("tap_summary: KSRC (kernel source tree) not set")
sys.path.insert(0, os.path.join(ksrc, "tools", "testing", "kunit"))
import kunit_parser  # noqa: E402
import kunit_printer  # noqa: E402

# The parser's own per-test listing goes to the log, not the terminal.
QUIET = io.StringIO()
kunit_parser.stdout = kunit_printer.Printer(QUIET)

DMESG = re.compile(r"^\[[ 0-9.]+\] ")
START = re.compile(r"^(K?TAP version \d+)")


def documents(lines):
    """Split a stream into top-level TAP/KTAP documents."""
    docs, cur = [], None
    for line in lines:
        bare = DMESG.sub("", line)
        if START.match(bare):
            cur = []
            docs.append(cur)
        if cur is not None:
            cur.append(line)
    return docs


PLAN = re.compile(r"^1\.\.\d+\s*$")


def plan_first(doc):
    """TAP allows the plan as the last line; the KTAP parser wants it right
    after the version line (it loops forever otherwise)."""
    bare = [DMESG.sub("", l) for l in doc]
    if len(doc) > 1 and PLAN.match(bare[1]):
        return doc
    for i in range(len(doc) - 1, 0, -1):
        if PLAN.match(bare[i]):
            return [doc[0], doc[i]] + doc[1:i] + doc[i + 1:]
    return doc


class ParseTimeout(Exception):
    pass


def on_alarm(signum, frame):
    raise ParseTimeout()


def failed_names(test, prefix=""):
    name = prefix + test.name if test.name else prefix
    if not test.subtests:
        if test.status in (kunit_parser.TestStatus.FAILURE,
                           kunit_parser.TestStatus.TEST_CRASHED):
            return [name]
        return []
    out = []
    for sub in test.subtests:
        out += failed_names(sub, name + "." if name else "")
    return out


NOT_OK = re.compile(r"^\s*not ok \d+ ")
RESULT = re.compile(r"^\s*(not )?ok \d+ ")


def failure_context(lines, max_each=12, max_all=60):
    """The comment lines right before each "not ok" (what kselftest and
    our shell tiers print about a failure), so that the end of make
    check's output says why, not only what."""
    out = []
    for i, line in enumerate(lines):
        if not NOT_OK.match(DMESG.sub("", line)):
            continue
        ctx = []
        j = i - 1
        while j >= 0 and len(ctx) < 200:
            bare = DMESG.sub("", lines[j])
            if RESULT.match(bare) or START.match(bare):
                break
            if bare.lstrip().startswith("#"):
                ctx.append(bare.rstrip())
            j -= 1
        ctx.reverse()
        out.append(DMESG.sub("", line).strip())
        out += ["    " + c for c in ctx[-max_each:]]
        if len(out) >= max_all:
            break
    return out[:max_all]


def main():
    rdir = sys.argv[1]
    tp = tf = ts = 0
    details = []
    tflaky = []
    for fn in sorted(os.listdir(rdir)):
        base, ext = os.path.splitext(fn)
        if ext not in (".tap", ".ktap", ".log"):
            continue
        with open(os.path.join(rdir, fn), errors="backslashreplace") as f:
            lines = f.readlines()
        status = 0
        sf = os.path.join(rdir, base + ".status")
        if os.path.exists(sf):
            status = int(open(sf).read().strip() or "1")
        p = f_ = s = 0
        fails = []
        for doc in documents(lines):
            signal.signal(signal.SIGALRM, on_alarm)
            signal.alarm(60)
            try:
                test = kunit_parser.parse_run_tests(plan_first(doc))
            except ParseTimeout:
                f_ += 1
                fails.append("TAP parser gave up on a document")
                continue
            finally:
                signal.alarm(0)
            c = test.counts
            p += c.passed
            s += c.skipped
            f_ += c.failed + c.crashed + c.errors
            fails += failed_names(test)
            if c.errors and not (c.failed + c.crashed):
                fails.append("%s: parse errors" % (test.name or base))
        if p + f_ + s == 0:
            f_ += 1
            fails.append("no TAP output")
        if status and not f_:
            f_ += 1
            fails.append("exited %d" % status)
        # tools/ksft_retry.sh: cases that failed once and passed on their own
        flaky = [l.split("FLAKY: ", 1)[1].split(" failed,", 1)[0]
                 for l in lines if "FLAKY: " in l and "passed on its own" in l]
        print("  %-4s %-28s %4d passed, %d failed, %d skipped%s" %
              ("FAIL" if f_ else "ok", base, p, f_, s,
               ", %d flaky" % len(flaky) if flaky else ""))
        for name in fails[:20]:
            print("         failed: %s" % name)
        for name in flaky[:20]:
            print("         flaky (passed on retry): %s" % name)
        tflaky.extend(flaky)
        if f_:
            ctx = failure_context(lines)
            if ctx:
                details.append((base, ctx))
        tp, tf, ts = tp + p, tf + f_, ts + s
    for base, ctx in details[:6]:
        print("  -- %s (build/check/results/):" % base)
        for c in ctx:
            print("     " + c)
    print("%d passed, %d failed, %d skipped%s" %
          (tp, tf, ts, ", %d flaky (issue 12; Documentation/testing.rst)" % len(tflaky)
           if tflaky else ""))
    return 1 if tf else 0


if __name__ == "__main__":
    sys.exit(main())
