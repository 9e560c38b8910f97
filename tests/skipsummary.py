#!/usr/bin/env python3
"""Prints the tests that were skipped, and the expected failures, with their reasons.

ctest counts a test executable that QSKIPs as passed, so installer/test.sh runs this after
ctest over the plain-text logs each test writes (tests/CMakeLists.txt: -o <dir>/<name>.txt).

    tests/skipsummary.py BUILD/test-results

A skip's reason starts with "expected:" (a dependency that may truly be absent, e.g. a
Docker engine) or "missing:" (something installer/deps.sh or CI provides; under CI these
fail instead of skipping, see tests/support/skips.h). An expected failure (QEXPECT_FAIL)
is a known defect, named with its reason. Exit status: 0, or 1 when CI is set and a skip
that is not "expected:" got through anyway (a QSKIP that does not use the helpers).
"""
import os
import re
import sys

LINE = re.compile(r"^(SKIP|XFAIL|XPASS)\s*:\s*(\S+?)::(.*?)\((.*?)\)\s*(.*)$")


def collect(results_dir):
    skips, xfails = [], []
    for name in sorted(os.listdir(results_dir)):
        if not name.endswith(".txt"):
            continue
        with open(os.path.join(results_dir, name), encoding="utf-8", errors="replace") as f:
            for line in f:
                m = LINE.match(line.rstrip("\n"))
                if not m:
                    continue
                kind, _cls, function, row, reason = m.groups()
                where = f"{name[:-4]} {function}" + (f"({row})" if row else "")
                (skips if kind == "SKIP" else xfails).append((where, kind, reason.strip() or "(no reason given)"))
    return skips, xfails


def kind_of(reason):
    if reason.startswith("expected:"):
        return "expected"
    if reason.startswith("missing:"):
        return "missing"
    return "UNCLASSIFIED"


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    results_dir = sys.argv[1]
    if not os.path.isdir(results_dir):
        print(f"skip summary: no results in {results_dir}", file=sys.stderr)
        return 0
    skips, xfails = collect(results_dir)
    print()
    if not skips:
        print("Skipped tests: none")
    else:
        print(f"Skipped tests ({len(skips)}):")
        for where, _, reason in skips:
            print(f"  [{kind_of(reason)}] {where}: {reason}")
    if xfails:
        print(f"Expected failures, known defects ({len(xfails)}):")
        for where, kind, reason in xfails:
            print(f"  [{kind}] {where}: {reason}")
    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false")
    unexpected = [s for s in skips if kind_of(s[2]) != "expected"]
    if ci and unexpected:
        print(f"skip summary: {len(unexpected)} skip(s) under CI that should not happen", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
