#!/usr/bin/env bash
# Portico benchmark: porticod against HAProxy and nginx in front of one shared origin, on
# 127.0.0.1 only. Run by hand, never from ctest/CI (it takes minutes and wants a quiet box).
#
#   tests/bench/run.sh            full run (wrk -d10s, 5 interleaved rounds), ~10 min
#   tests/bench/run.sh --quick    short run (wrk -d3s, 3 rounds), ~2 min
#   tests/bench/run.sh --skip-build [--quick]   reuse build-bench as it is
#
# Extra arguments go to bench.py (see `python3 tests/bench/bench.py --help`), e.g.
# `--rounds 5 --duration 8`. The Markdown report goes to stdout and to
# tests/bench/results/latest.md (or --out FILE). Every process started here runs in its own
# process group, is stopped on exit, Ctrl-C or SIGTERM (bench.py's finally/signal handlers),
# and also gets SIGTERM from the kernel if bench.py itself dies (PR_SET_PDEATHSIG).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build="$root/build-bench"

skip_build=0
args=()
for a in "$@"; do
    case "$a" in
        --skip-build) skip_build=1 ;;
        *) args+=("$a") ;;
    esac
done

if ((!skip_build)); then
    echo "bench: installing tools (installer/deps.sh --bench)" >&2
    "$root/installer/deps.sh" --bench >&2
    echo "bench: building porticod + porticoctl (Release) in build-bench" >&2
    gen=()
    if command -v ninja >/dev/null 2>&1 && [[ ! -f "$build/Makefile" ]]; then gen=(-G Ninja); fi
    cmake -S "$root" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
        -DPORTICO_BUILD_TESTS=OFF -DPORTICO_BUILD_DASHBOARD=OFF >/dev/null
    cmake --build "$build" -j2 --target porticod porticoctl >&2
fi

# The raw TCP probe and the connection-count / tunnel probe: plain POSIX C++, so they cost
# little CPU next to the proxies they measure.
for tool in tcpbench httpload; do
    if [[ ! -x "$build/$tool" || "$here/$tool.cpp" -nt "$build/$tool" ]]; then
        mkdir -p "$build"
        g++ -O2 -std=c++20 -Wall -Wextra -pthread -o "$build/$tool" "$here/$tool.cpp"
    fi
done

porticod=$(find "$build" -type f -name porticod -perm -u+x | head -n 1)
porticoctl=$(find "$build" -type f -name porticoctl -perm -u+x | head -n 1)
if [[ -z "$porticod" || -z "$porticoctl" ]]; then
    echo "bench: porticod/porticoctl not found under $build (run without --skip-build)" >&2
    exit 1
fi

exec python3 "$here/bench.py" --porticod "$porticod" --porticoctl "$porticoctl" \
    --tcpbench "$build/tcpbench" --httpload "$build/httpload" --repo "$root" "${args[@]}"
