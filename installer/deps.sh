#!/usr/bin/env bash
# The one place that lists Portico's dependencies. Installs whatever is missing with
# apt-get (Debian 12); idempotent and quiet when everything is there.
#   installer/deps.sh            build + test dependencies
#   installer/deps.sh --bench    also HAProxy, nginx (with its TCP `stream` module) and wrk
#                                for tests/bench
# Deno (the deno runtime, and the README's `curl localhost:8080/hello/`) comes from npm. When
# it cannot be installed this script fails: a suite that silently skips the Deno tests is
# not a green suite. PORTICO_WITHOUT_DENO=1 goes on without it, on purpose and said aloud.
set -euo pipefail

BUILD_PKGS=(
    build-essential cmake ninja-build pkg-config
    qt6-base-dev qt6-base-dev-tools qt6-websockets-dev qt6-charts-dev libqt6test6
    libqt6opengl6-dev libgl-dev
    libhttp-parser-dev
)
TEST_PKGS=(
    xvfb xauth socat netcat-openbsd procps python3
    # packaging: dpkg-shlibdeps (dpkg-dev), the maintainer scripts' adduser, the checks of
    # the unit (systemd-analyze), the desktop entry and the man pages
    dpkg-dev adduser systemd desktop-file-utils man-db bash-completion
    # the README's commands, run by installer/readme-walkthrough.sh in namespaces of its own
    curl iproute2 util-linux
    # promtool, which checks porticod's /metrics page in tst_metrics_e2e
    prometheus
    # the fuzz targets (fuzz/run.sh, run by installer/test.sh): libFuzzer comes with clang's runtime
    clang libclang-rt-14-dev
    # llvm-symbolizer, for sanitizer reports with function names and lines
    llvm-14
)
# On Debian 12 nginx-light is only a transitional package (nginx + the echo module) and
# nginx's TCP proxy (`stream`) is a dynamic module packaged on its own.
BENCH_PKGS=(haproxy nginx libnginx-mod-stream wrk)

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

# A root porticod runs process and deno backends as this unprivileged system user (config
# backend_user); the Debian package creates it the same way. Tests run as root in CI need it.
if ! getent passwd portico-backend >/dev/null; then
    echo "deps: creating the system user portico-backend"
    $SUDO adduser --system --group --no-create-home --home /nonexistent --quiet portico-backend
fi

# Deno comes from the npm registry, into the checkout's .tools (git-ignored). The `deno`
# package carries the binary in a platform sub-package (@deno/linux-x64-glibc, ...) and its
# postinstall links it as node_modules/.bin/deno; where install scripts do not run (npm's
# allowScripts, --ignore-scripts) .bin/deno is a node wrapper and the platform binary is
# linked here instead.
root=$(cd "$(dirname "$0")/.." && pwd)
deno_dir="$root/.tools/deno"
deno_bin="$deno_dir/node_modules/.bin/deno"
if ! "$deno_bin" --version >/dev/null 2>&1 && ! command -v deno >/dev/null 2>&1; then
    echo "deps: installing deno from npm into .tools/deno"
    mkdir -p "$deno_dir"
    # A package.json of its own keeps npm from installing into an enclosing project.
    [[ -f "$deno_dir/package.json" ]] || echo '{ "private": true }' >"$deno_dir/package.json"
    npm_log="$deno_dir/npm-install.log"
    if ! (cd "$deno_dir" && npm install --no-audit --no-fund --loglevel=error deno >"$npm_log" 2>&1); then
        echo "deps: npm install deno failed; its output:" >&2
        sed 's/^/deps:   /' "$npm_log" >&2 || true
    fi
    # Prefer the native binary over the node wrapper (bin.cjs): no node process in between
    # the daemon and deno, so signals and the parent-death signal reach deno itself.
    if ! "$deno_bin" --version >/dev/null 2>&1 || [[ "$(readlink "$deno_bin")" == *.cjs ]]; then
        for candidate in "$deno_dir"/node_modules/@deno/*/deno; do
            if [[ -x "$candidate" ]] && "$candidate" --version >/dev/null 2>&1; then
                mkdir -p "$(dirname "$deno_bin")"
                ln -sf "$candidate" "$deno_bin"
                break
            fi
        done
    fi
    if "$deno_bin" --version >/dev/null 2>&1; then
        echo "deps: $("$deno_bin" --version | head -n 1) in .tools/deno"
    elif [[ "${PORTICO_WITHOUT_DENO:-}" == 1 ]]; then
        echo "deps: WARNING: no deno (PORTICO_WITHOUT_DENO=1): the deno runtime goes untested" >&2
    else
        echo "deps: ERROR: could not install deno from npm into $deno_dir." >&2
        echo "deps: The deno runtime and its tests need it. Check npm's access to the registry" >&2
        echo "deps: (above), or set PORTICO_WITHOUT_DENO=1 to go on without it knowingly." >&2
        exit 1
    fi
fi

# Installs the npm packages pinned by SRC/package-lock.json into DIR (again when the pins
# change). Without them the tests that use them skip, or fail where CI is set, so a CI run
# that could not install them fails here already.
npm_tools() {
    local src=$1 dir=$2 marker=$3 what=$4
    if cmp -s "$src/package-lock.json" "$dir/package-lock.json" && [[ -e "$dir/node_modules/$marker" ]]; then
        return 0
    fi
    echo "deps: installing $what from npm into ${dir#"$root"/}"
    mkdir -p "$dir"
    cp "$src/package.json" "$src/package-lock.json" "$dir/"
    if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1); then
        rm -f "$dir/package-lock.json" # not installed: try again next time
        echo "deps: warning: could not install $what (npm ci in $dir); the tests that use it will skip" >&2
        if [[ -n "${CI:-}" ]]; then
            echo "deps: CI is set: failing instead" >&2
            exit 1
        fi
    fi
}

# The Kubernetes schema validators that tst_k8sexport_e2e, _golden and tst_k8svalidator run
# over `porticoctl export kubernetes` output (kubernetes-models, @kubernetes-models/gateway-api
# and yaml), into .tools/k8s-validate.
npm_tools "$root/tests/support/k8svalidate" "$root/.tools/k8s-validate" "@kubernetes-models/gateway-api" \
    "the Kubernetes schema validators"

# Ajv, the JSON Schema validator with which tst_manifest_schema checks
# resources/schema/portico.schema.json against the daemon's own validation, into .tools/ajv
# (installer/test.sh makes that test fail without it).
npm_tools "$root/tests/support/jsonschema" "$root/.tools/ajv" "ajv/package.json" "Ajv"
