#!/usr/bin/env python3
"""Mutation check: does the suite catch one-line breaks of Portico's important behaviours?

Each entry of tests/mutation/mutations.txt replaces one exact piece of one line of the
product with a broken version. This script applies them one at a time to a scratch git
worktree (never to your checkout), builds, runs the tests the entry names and reports
whether they failed (caught) or passed (survived). Run by hand, not in CI; it takes a
while (a build and a few test executables per entry).

    tests/mutation/run.py                      # every entry, against main
    tests/mutation/run.py --rev HEAD           # against your branch's last commit
    tests/mutation/run.py --only audit-rotation,upgrade-502
    tests/mutation/run.py --list               # print the entries and exit

The scratch worktree and its build live in --scratch (default build/mutation-scratch in
this checkout, ignored by git) and are kept between runs, so ccache and ninja make later runs quicker; --clean removes them.
Exit status: 0 when every entry applied was caught, 1 otherwise (a survivor, an entry whose
text is no longer in the file, a break that does not compile, or a baseline that fails).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
KEYS = ("what", "file", "find", "replace", "tests")


def parse(path):
    """Blocks of `[id]` followed by `key: value` lines; `#` starts a comment line."""
    entries, current = [], None
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            header = re.fullmatch(r"\[([a-z0-9-]+)\]", line.strip())
            if header:
                current = {"id": header.group(1), "line": number}
                entries.append(current)
                continue
            key, sep, value = line.partition(":")
            key = key.strip()
            if current is None or not sep or key not in KEYS:
                sys.exit(f"{path}:{number}: expected [id] or one of {', '.join(KEYS)}: {line}")
            current[key] = value.strip()
    ids = set()
    for e in entries:
        missing = [k for k in KEYS if not e.get(k)]
        if missing:
            sys.exit(f"{path}:{e['line']}: [{e['id']}] lacks {', '.join(missing)}")
        if e["id"] in ids:
            sys.exit(f"{path}:{e['line']}: [{e['id']}] is listed twice")
        ids.add(e["id"])
        e["tests"] = e["tests"].split()
    return entries


def run(cmd, cwd, log, timeout=None, env=None):
    with open(log, "ab") as out:
        out.write(("\n$ " + " ".join(cmd) + "\n").encode())
        out.flush()
        try:
            return subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout,
                                  env=env).returncode
        except subprocess.TimeoutExpired:
            out.write(b"\n(timed out)\n")
            return 124


def git(args, cwd=REPO):
    return subprocess.run(["git"] + args, cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def prepare(scratch, rev, log):
    """A detached worktree of rev at scratch (reused when it is there) and a configured build."""
    sha = git(["rev-parse", "--verify", rev + "^{commit}"])
    if not os.path.isdir(os.path.join(scratch, ".git")) and not os.path.isfile(os.path.join(scratch, ".git")):
        if os.path.exists(scratch):
            sys.exit(f"{scratch} exists and is not a worktree; remove it or pass --scratch")
        git(["worktree", "add", "--detach", scratch, sha])
    else:
        git(["checkout", "--detach", "--force", sha], cwd=scratch)
        git(["reset", "--hard", sha], cwd=scratch)
    build = os.path.join(scratch, "build")
    if not os.path.isfile(os.path.join(build, "build.ninja")):
        code = run(["cmake", "-S", ".", "-B", "build", "-G", "Ninja", "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                    "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache", "-DPORTICO_BUILD_TESTS=ON"], scratch, log)
        if code != 0:
            sys.exit(f"configure failed; see {log}")
    return sha, build


def build(build_dir, targets, jobs, log):
    return run(["cmake", "--build", build_dir, "-j", str(jobs), "--target"] + targets, build_dir, log) == 0


def ctest(build_dir, tests, log, env):
    regex = "^(" + "|".join(re.escape(t) for t in tests) + ")$"
    return run(["ctest", "--test-dir", build_dir, "-R", regex, "--timeout", "600", "--output-on-failure",
                "-j", "2"], build_dir, log, env=env)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rev", default="main", help="the commit to mutate (default: main)")
    p.add_argument("--only", default="", help="comma-separated entry ids")
    p.add_argument("--list", action="store_true", help="print the entries and exit")
    # Inside the checkout's (ignored) build directory by default: ccache's base_dir then
    # sees the same relative paths as in a normal build, so the scratch build hits the cache.
    p.add_argument("--scratch", default=os.path.join(REPO, "build", "mutation-scratch"))
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--out", default="", help="also write the report (markdown) to this file")
    p.add_argument("--clean", action="store_true", help="remove the scratch worktree and exit")
    args = p.parse_args()

    entries = parse(os.path.join(HERE, "mutations.txt"))
    if args.list:
        for e in entries:
            print(f"{e['id']:28} {e['file']}: {e['what']}  [{' '.join(e['tests'])}]")
        return 0
    if args.clean:
        if os.path.exists(args.scratch):
            subprocess.run(["git", "worktree", "remove", "--force", args.scratch], cwd=REPO)
            shutil.rmtree(args.scratch, ignore_errors=True)
        return 0
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {e["id"] for e in entries}
        if unknown:
            sys.exit(f"no such entries: {', '.join(sorted(unknown))}")
        entries = [e for e in entries if e["id"] in wanted]

    log = os.path.join(args.scratch + "-logs", time.strftime("%Y%m%d-%H%M%S") + ".log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    sha, build_dir = prepare(args.scratch, args.rev, log)
    env = dict(os.environ)
    deno = os.path.join(REPO, ".tools/deno/node_modules/.bin")
    if os.path.isdir(deno):
        env["PATH"] = deno + os.pathsep + env.get("PATH", "")
    print(f"mutating {args.rev} ({sha[:10]}) in {args.scratch}; log: {log}", file=sys.stderr)

    support = ["porticod", "porticoctl", "portico-testbackend", "portico-runtimeharness"]
    all_tests = sorted({t for e in entries for t in e["tests"]})
    if not build(build_dir, support + all_tests, args.jobs, log):
        sys.exit(f"the unmutated build failed; see {log}")
    if ctest(build_dir, all_tests, log, env) != 0:
        sys.exit(f"the named tests fail without any mutation: fix them first; see {log}")

    results = []
    for e in entries:
        path = os.path.join(args.scratch, e["file"])
        started = time.time()
        status = ""
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            text = None
        if text is None:
            status = "STALE (file gone)"
        elif text.count(e["find"]) != 1:
            status = f"STALE (text found {text.count(e['find'])} times)"
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text.replace(e["find"], e["replace"], 1))
            print(f"[{e['id']}] building and running {' '.join(e['tests'])} ...", file=sys.stderr)
            if not build(build_dir, support + e["tests"], args.jobs, log):
                status = "DOES NOT BUILD"
            else:
                status = "caught" if ctest(build_dir, e["tests"], log, env) != 0 else "SURVIVED"
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        results.append((e, status, time.time() - started))
        print(f"[{e['id']}] {status}", file=sys.stderr)
    # Leave the scratch build unmutated for the next run.
    build(build_dir, support + all_tests, args.jobs, log)

    lines = [f"# Mutation check: {args.rev} ({sha[:10]}), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
             "", "| id | broken behaviour | tests | result |", "|---|---|---|---|"]
    for e, status, secs in results:
        lines.append(f"| {e['id']} | {e['what']} | {' '.join(e['tests'])} | {status} ({secs:.0f} s) |")
    caught = sum(1 for _, s, _ in results if s == "caught")
    lines += ["", f"{caught} of {len(results)} caught."]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(report)
    return 0 if caught == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
