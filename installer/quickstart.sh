#!/usr/bin/env bash
# Quickstart: installs the dependencies, builds Release (porticod, porticoctl and
# portico-dashboard), installs them into the checkout's .local/ (bin/, man pages,
# completion), starts porticod in the foreground on its built-in defaults (ingress
# 127.0.0.1:8080; as root the admin socket /run/portico/admin.sock and state in
# /var/lib/portico, else per-user folders) and deploys the examples in
# resources/examples/. Ctrl-C stops it cleanly.
#   PORTICO_BUILD_DIR   build folder (default build-release); an existing one is reused
#                       as it is configured.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source installer/buildir.sh

installer/deps.sh
build="${PORTICO_BUILD_DIR:-$root/build-release}"
configure_build "$build"
cmake --build "$build" --parallel "$(nproc)" --target porticod porticoctl portico-dashboard
# Into the checkout's own prefix: nothing outside the checkout changes, and
# `export PATH="$PWD/.local/bin:$PATH"` puts porticoctl and the dashboard on PATH.
prefix="$root/.local"
cmake --install "$build" --prefix "$prefix" >/dev/null

if [[ -x "$root/.tools/deno/node_modules/.bin/deno" ]]; then
    export PATH="$root/.tools/deno/node_modules/.bin:$PATH"
fi

# Both sides use the default admin socket ($XDG_RUNTIME_DIR/portico/admin.sock, or
# /run/portico/admin.sock for root without one), so a plain `porticoctl` finds it too.
ctl=("$prefix/bin/porticoctl")

"$prefix/bin/porticod" "$@" &
daemon=$!
stop() {
    echo
    echo "quickstart: stopping porticod"
    kill -TERM "$daemon" 2>/dev/null || true
    wait "$daemon" 2>/dev/null || true
    exit 0
}
trap stop INT TERM

for _ in $(seq 1 100); do
    if "${ctl[@]}" status >/dev/null 2>&1; then break; fi
    if ! kill -0 "$daemon" 2>/dev/null; then
        echo "quickstart: porticod exited; see the messages above" >&2
        exit 1
    fi
    sleep 0.1
done

for manifest in resources/examples/*/portico.json; do
    "${ctl[@]}" deploy "$manifest" || echo "quickstart: $manifest was not deployed (see above)" >&2
done

cat <<TXT

Portico is running. Try:
  curl localhost:8080/                 # the deployed path-routed projects
  curl localhost:8080/hello/           # Deno, export-default handler
  curl localhost:8080/site/            # static files
  curl localhost:3000/                 # a Python process on its own HTTP port
  echo hi | nc -q1 localhost 5000      # raw TCP echo on port 5000
  echo hi | nc -u -w1 localhost 5300   # UDP echo on port 5300
  curl localhost:8080/_api/routes      # the routing table
In another terminal, put porticoctl and the dashboard on PATH:
  cd $root && export PATH="\$PWD/.local/bin:\$PATH"
  porticoctl routes
  portico-dashboard
Ctrl-C stops it.
TXT
wait "$daemon"
