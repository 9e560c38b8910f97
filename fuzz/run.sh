#!/usr/bin/env bash
# Builds the fuzz targets with clang (ASan + UBSan, -DPORTICO_FUZZ=ON) and runs each for a
# bounded time from its seeds and kept crashes. installer/test.sh runs it after the suite;
# by hand it is the quickest way to fuzz everything for a while (see fuzz/README.md):
#   fuzz/run.sh [seconds per target, default $PORTICO_FUZZ_SECONDS or 10] [target...]
# A finding (crash, leak, sanitizer report, timeout, out of memory) fails the run with the
# path of its input and the command that replays it. Exits 2 when clang or libFuzzer's
# runtime is missing (installer/deps.sh installs them).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds="${1:-${PORTICO_FUZZ_SECONDS:-10}}"
shift || true
build="${PORTICO_FUZZ_BUILD_DIR:-$root/build-fuzz}"

if ! command -v clang++ >/dev/null 2>&1 ||
    ! compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-$(uname -m).a" >/dev/null; then
    echo "fuzz: needs clang++ and libclang-rt-14-dev (installer/deps.sh installs them)" >&2
    exit 2
fi

launcher=()
if command -v ccache >/dev/null 2>&1; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "${launcher[@]}" -DPORTICO_FUZZ=ON -DPORTICO_BUILD_TESTS=OFF -DPORTICO_BUILD_DASHBOARD=OFF >/dev/null
cmake --build "$build" --parallel "$(nproc)" --target portico_fuzz

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    for exe in "$build"/fuzz/fuzz_*; do
        [[ -f "$exe" && -x "$exe" ]] && targets+=("${exe##*/fuzz_}")
    done
fi

findings="$build/fuzz-findings"
mkdir -p "$findings"
status=0
for name in "${targets[@]}"; do
    exe="$build/fuzz/fuzz_$name"
    # New inputs the run finds go to a scratch folder: the seeds in the tree stay as they are.
    work=$(mktemp -d)
    log="$findings/$name.log"
    seeds=("$root/fuzz/corpus/$name")
    [[ -d "$root/fuzz/regressions/$name" ]] && seeds+=("$root/fuzz/regressions/$name")
    rc=0
    "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$findings/$name-" "$work" "${seeds[@]}" >"$log" 2>&1 || rc=$?
    rm -rf "$work"
    if [[ $rc -ne 0 ]]; then
        status=1
        # The report from its first line (sanitizer, broken invariant, libFuzzer's own).
        report=$(awk '/ERROR:|runtime error:|fuzz invariant broken/ {p = 1} p' "$log" | head -n 60)
        if [[ -n "$report" ]]; then echo "$report" >&2; else tail -n 40 "$log" >&2; fi
        input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        if [[ -n "$input" ]]; then
            echo "fuzz: $name FAILED; reproducer: $input" >&2
            echo "fuzz:   replay: $exe $input   (then see fuzz/README.md: fix, keep it in fuzz/regressions/$name/)" >&2
        else
            echo "fuzz: $name FAILED (exit $rc) without an input; the log is $log" >&2
        fi
        continue
    fi
    # "#N DONE cov: C ft: F corp: ... exec/s: E" is libFuzzer's last status line.
    echo "fuzz: $name ok: $(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | sed -E 's/^#([0-9]+)[[:space:]]+DONE[[:space:]]+/\1 runs, /')"
done
echo "fuzz: ${#targets[@]} targets, ${seconds}s each; ${SECONDS}s in all with the build"
exit "$status"
