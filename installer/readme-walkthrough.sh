#!/usr/bin/env bash
# The README as a new user meets it: runs its commands exactly as written, in its order,
# as root on this machine (installer/readme-check.sh makes sure every README command is
# here). It runs in network and mount namespaces of its own: the README's fixed port 8080
# is free there and nothing outside is reached, and /run/portico and /var/lib/portico are
# private, so a daemon or state already on the machine is not touched. The service part
# installs the .deb, runs it, and purges it again; a user 'alice' is made for it when
# there is none, and removed after.
#   PORTICO_BUILD_DIR   the build the quickstart and package.sh reuse (CI: the tested build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [[ $(id -u) -ne 0 ]]; then
    echo "readme-walkthrough: the README's commands are for root; run as root" >&2
    exit 1
fi
if [[ -z "${PORTICO_WALKTHROUGH_NS:-}" ]]; then
    exec unshare --net --mount --fork env PORTICO_WALKTHROUGH_NS=1 "$0" "$@"
fi

log=$(mktemp -d /tmp/portico-walkthrough.XXXXXX)
step() { echo "readme-walkthrough: $*"; }
fail() {
    echo "readme-walkthrough: FAILED: $*" >&2
    for f in "$log"/*.log; do
        [[ -f "$f" ]] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }
    done
    exit 1
}
# Waits up to $1 seconds for the command after it to succeed.
waitfor() {
    local seconds=$1
    shift
    for _ in $(seq 1 $((seconds * 10))); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    return 1
}

ip link set lo up
mount --make-rprivate /
made_dirs=()
for d in /run/portico /var/lib/portico; do
    if [[ ! -d "$d" ]]; then
        mkdir -p "$d"
        made_dirs+=("$d")
    fi
    mount -t tmpfs -o mode=0755 tmpfs "$d"
done

quickstart=0
service=0
made_alice=0
cleanup() {
    set +e
    ((quickstart)) && kill -TERM "$quickstart" 2>/dev/null && wait "$quickstart" 2>/dev/null
    ((service)) && kill -TERM "$service" 2>/dev/null && wait "$service" 2>/dev/null
    if dpkg-query -W -f='${Status}' portico 2>/dev/null | grep -q "ok installed\|config-files"; then
        dpkg --purge portico >/dev/null 2>&1
    fi
    ((made_alice)) && deluser --quiet --remove-home alice >/dev/null 2>&1
    rm -f "$root/dashboard.png"
    for d in /run/portico /var/lib/portico; do umount "$d" 2>/dev/null; done
    for d in "${made_dirs[@]}"; do rmdir "$d" 2>/dev/null; done
    rm -rf "$log"
}
trap cleanup EXIT

# ---- Two commands ------------------------------------------------------------------
# (installer/test.sh is CI's first step, in .ci/run.)
step "installer/quickstart.sh"
# (its daemon's access log is left out of the log kept here)
QT_LOGGING_RULES="portico.access.info=false" installer/quickstart.sh >"$log/quickstart.log" 2>&1 &
quickstart=$!
for _ in $(seq 1 6000); do
    grep -q "Portico is running" "$log/quickstart.log" && break
    kill -0 "$quickstart" 2>/dev/null || fail "the quickstart stopped"
    sleep 0.1
done
grep -q "Portico is running" "$log/quickstart.log" || fail "the quickstart did not come up in 10 minutes"

# In another terminal, in the checkout:
export PATH="$PWD/.local/bin:$PATH"
step "porticoctl routes"
porticoctl routes | tee "$log/routes.log"
grep -q "/hello/" "$log/routes.log" || fail "porticoctl routes does not show the hello example"
step "curl localhost:8080/hello/"
curl localhost:8080/hello/ | tee "$log/hello.log"
grep -q "hello from Deno behind Portico" "$log/hello.log" || fail "curl localhost:8080/hello/ did not say hello"
step "portico-dashboard --screenshot dashboard.png"
portico-dashboard --screenshot dashboard.png
[[ -s dashboard.png ]] || fail "the dashboard wrote no screenshot"

# ---- The admin protocol --------------------------------------------------------------
step "socat"
echo '{"jsonrpc":"2.0","id":1,"method":"routes.list"}' | socat - UNIX-CONNECT:/run/portico/admin.sock | tee "$log/socat.log"
grep -q '"routes"' "$log/socat.log" || fail "the socat example got no routes"
step "porticoctl deploy / routes / watch"
porticoctl deploy resources/examples/tcp-echo/portico.json
porticoctl deploy --dry-run resources/examples/tcp-echo | tee "$log/dryrun.log"
grep -q "= keep 5000/tcp" "$log/dryrun.log" || fail "porticoctl deploy --dry-run of a folder shows no route diff"
porticoctl routes | grep -q " echo " || fail "the tcp-echo example (project echo) is not in the routes"
porticoctl projects | tee "$log/projects.log"
grep -q "^echo " "$log/projects.log" || fail "porticoctl projects does not show echo"
porticoctl projects get echo | tee "$log/project.log"
grep -q "^pid " "$log/project.log" || fail "porticoctl projects get echo shows no pid"
porticoctl logs echo || fail "porticoctl logs echo"
porticoctl audit | tee "$log/audit.log"
grep -q "projects.deploy" "$log/audit.log" || fail "porticoctl audit does not show the deploy"
porticoctl watch >"$log/watch.log" 2>&1 &
watcher=$!
waitfor 10 porticoctl restart echo || fail "porticoctl restart echo"
waitfor 20 grep -q "echo" "$log/watch.log" || fail "porticoctl watch showed no event"
kill -TERM "$watcher"
wait "$watcher" 2>/dev/null || true

# ---- Moving to Kubernetes ------------------------------------------------------------
step "porticoctl export kubernetes (offline and from the daemon)"
porticoctl export kubernetes --gateway-class eg --image hello=registry.example.com/hello:1.0 --skip-missing-images resources/examples/ >"$log/export.yaml" 2>"$log/export.log" ||
    fail "porticoctl export kubernetes of the examples"
grep -q "^kind: HTTPRoute$" "$log/export.yaml" || fail "the export of the examples has no HTTPRoute"
porticoctl export kubernetes --namespace shop --skip-missing-images -o json >"$log/export.json" 2>>"$log/export.log" ||
    fail "porticoctl export kubernetes of the daemon's projects"
grep -q '"namespace": "shop"' "$log/export.json" || fail "the daemon's export is not in namespace shop"

kill -TERM "$quickstart"
wait "$quickstart" || fail "the quickstart did not stop cleanly on SIGTERM"
quickstart=0

# ---- Install as a service ------------------------------------------------------------
export DEBIAN_FRONTEND=noninteractive
step 'apt install "$(installer/package.sh)"'
apt install "$(installer/package.sh)" </dev/null >"$log/apt.log" 2>&1 || fail "apt install"
[[ -x /usr/bin/porticod ]] || fail "the package did not install /usr/bin/porticod"
if [[ -d /run/systemd/system ]]; then
    step "systemctl enable --now porticod"
    systemctl enable --now porticod
    waitfor 30 systemctl is-active --quiet porticod || fail "porticod.service is not active"
else
    # No systemd on this machine (CI): the line above is not run here. The service is
    # started as its unit's ExecStart does: root, no arguments, the packaged config.
    step "systemd is not running here: starting $(sed -n 's/^ExecStart=//p' /usr/lib/systemd/system/porticod.service) as the unit would"
    $(sed -n 's/^ExecStart=//p' /usr/lib/systemd/system/porticod.service) >"$log/service.log" 2>&1 &
    service=$!
    waitfor 30 porticoctl status || fail "the packaged porticod did not come up"
fi
if ! getent passwd alice >/dev/null; then
    adduser --quiet --disabled-password --gecos "" alice
    made_alice=1
fi
step "adduser alice portico"
adduser alice portico
step "porticoctl status (as alice)"
runuser -u alice -- env PATH=/usr/bin:/bin porticoctl status | tee "$log/alice.log" ||
    fail "alice, in group portico, cannot use the service"
grep -q "/run/portico/admin.sock" "$log/alice.log" || fail "alice did not reach the system daemon's socket"
step "curl -fsS http://127.0.0.1:9464/metrics"
curl -fsS http://127.0.0.1:9464/metrics >"$log/metrics.txt" || fail "the packaged porticod serves no metrics on 127.0.0.1:9464"
grep -q '^portico_build_info{' "$log/metrics.txt" || fail "the packaged porticod's /metrics has no portico_build_info"

if ((service)); then
    kill -TERM "$service"
    wait "$service" || fail "the packaged porticod did not stop cleanly"
    service=0
else
    systemctl stop porticod
fi
step "apt purge portico"
apt purge portico <<<"y" >"$log/purge.log" 2>&1 || fail "apt purge portico"
if dpkg-query -W -f='${Status}' portico 2>/dev/null | grep -q "installed\|config-files"; then
    fail "portico is still installed after apt purge"
fi
getent group portico >/dev/null && fail "the group portico is left after apt purge"
step "ok: every README command ran"
