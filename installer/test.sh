#!/usr/bin/env bash
# The test command: installs dependencies, builds with tests and runs the whole suite.
# Exits non-zero on any failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

installer/deps.sh

build="${PORTICO_BUILD_DIR:-$root/build}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPORTICO_BUILD_TESTS=ON >/dev/null
cmake --build "$build" --parallel "$(nproc)"

# Deno from .tools when it is not on PATH.
if [[ -x "$root/.tools/deno/node_modules/.bin/deno" ]]; then
    export PATH="$root/.tools/deno/node_modules/.bin:$PATH"
fi

# The test command installs Ajv (deps.sh), so the manifest schema test must not skip.
export PORTICO_REQUIRE_SCHEMA_VALIDATOR=1

# A root porticod runs process and deno backends as portico-backend (installer/deps.sh
# creates it): that user must be able to run the test backends in the build tree and read
# the examples in the checkout. A checkout under /root (0700) is out of its reach.
if [[ $(id -u) -eq 0 ]] && ! runuser -u portico-backend -- test -x "$build/tests/portico-testbackend" -a \
    -r "$root/resources/examples/hello-process/app.py"; then
    echo "test: the backend user portico-backend cannot run $build/tests/portico-testbackend or read" \
        "$root/resources/examples; give every folder on those paths o+x (and the files o+r)" >&2
    exit 1
fi

cd "$build"
# Each test writes its text log into test-results/ (tests/CMakeLists.txt); the summary
# after the run lists every skip with its reason, which ctest's own summary hides. Under
# CI=1 a missing dependency the installer provides fails its test instead of skipping.
mkdir -p test-results
rm -f test-results/*.txt
status=0
ctest --output-on-failure --parallel "$(nproc)" --timeout 600 "$@" || status=$?
python3 "$root/tests/skipsummary.py" "$build/test-results" || { [[ $status -ne 0 ]] || status=1; }

# The fuzz targets (fuzz/README.md), each for PORTICO_FUZZ_SECONDS (10) from its seeds and
# kept crashes, in a clang build of their own (ASan + UBSan): only for a whole run, and
# PORTICO_FUZZ_SECONDS=0 turns it off. A finding fails the run with its input's path.
fuzz_seconds="${PORTICO_FUZZ_SECONDS:-10}"
if [[ $# -eq 0 && "$fuzz_seconds" != 0 ]]; then
    fuzz_status=0
    "$root/fuzz/run.sh" "$fuzz_seconds" || fuzz_status=$?
    if [[ $fuzz_status -eq 2 && "${CI:-}" != 1 ]]; then
        echo "fuzz: SKIPPED, needs clang++ and libclang-rt-14-dev (installer/deps.sh installs them)"
    elif [[ $fuzz_status -ne 0 ]]; then
        status=1
    fi
fi
exit "$status"
