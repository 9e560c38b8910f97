#!/usr/bin/env bash
# The one place that lists Portico's dependencies. Installs whatever is missing with
# apt-get (Debian 12); idempotent and quiet when everything is there.
#   installer/deps.sh            build + test dependencies
#   installer/deps.sh --bench    also HAProxy, nginx and wrk for tests/bench
set -euo pipefail

BUILD_PKGS=(
    build-essential cmake ninja-build pkg-config
    qt6-base-dev qt6-base-dev-tools qt6-websockets-dev qt6-charts-dev libqt6test6
    libqt6opengl6-dev libgl-dev
    libhttp-parser-dev
)
TEST_PKGS=(
    xvfb xauth socat netcat-openbsd procps python3
)
BENCH_PKGS=(haproxy nginx-light wrk)

want=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}")
# npm (for Deno) may come with a nodejs that is not Debian's; only ask apt when it is missing.
if ! command -v npm >/dev/null 2>&1; then
    want+=(npm)
fi
if [[ "${1:-}" == "--bench" ]]; then
    want+=("${BENCH_PKGS[@]}")
fi

missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

if ((${#missing[@]})); then
    echo "deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Deno comes from the npm registry, into the checkout's .tools (git-ignored).
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ ! -x "$root/.tools/deno/node_modules/.bin/deno" ]] && ! command -v deno >/dev/null 2>&1; then
    echo "deps: installing deno from npm into .tools/deno"
    mkdir -p "$root/.tools/deno"
    (cd "$root/.tools/deno" && npm install --silent --no-audit --no-fund deno >/dev/null 2>&1) ||
        echo "deps: warning: could not install deno; deno tests will be skipped" >&2
fi
