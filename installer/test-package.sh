#!/usr/bin/env bash
# CI's package step: builds the .deb from the build the suite just ran (no second
# compile), installs it with dpkg -i on this machine (systemd need not be running),
# checks what it installed, upgrades it in place, removes and purges it, and verifies the
# machine is as it was (users, groups, files).
#   PORTICO_BUILD_DIR   the build to package (default: build, as installer/test.sh makes it)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [[ $(id -u) -ne 0 ]]; then
    echo "test-package: needs root (dpkg -i)" >&2
    exit 1
fi
if dpkg-query -W -f='${Status}' portico 2>/dev/null | grep -q "ok installed"; then
    echo "test-package: portico is installed on this machine already; not touching it" >&2
    exit 1
fi

snapshot() {
    {
        getent passwd | sort
        getent group | sort
        ls -d /etc/portico /var/lib/portico /var/lib/portico-backends /run/portico /usr/bin/porticod 2>/dev/null || true
    }
}
before=$(snapshot)

deb=$(PORTICO_BUILD_DIR="${PORTICO_BUILD_DIR:-$root/build}" installer/package.sh)
echo "test-package: built $deb ($(du -h "$deb" | cut -f1))"
dpkg-deb --info "$deb" | sed -n 's/^ \(Depends\|Installed-Size\):/test-package:   \1:/p'

installed=0
cleanup() {
    if ((installed)); then
        dpkg --purge portico >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

fail() {
    echo "test-package: FAILED: $*" >&2
    exit 1
}

echo "test-package: dpkg -i (systemd running: $([[ -d /run/systemd/system ]] && echo yes || echo no))"
installed=1
dpkg -i "$deb"

/usr/bin/porticod --version
/usr/bin/porticoctl --help >/dev/null
/usr/bin/portico-dashboard --version

unit=$(dpkg -L portico | grep '/systemd/system/porticod.service$')
systemd-analyze verify "$unit" || fail "systemd-analyze verify $unit"
desktop-file-validate /usr/share/applications/portico-dashboard.desktop || fail "desktop-file-validate"
for page in porticod porticoctl portico-dashboard; do
    man -w "$page" >/dev/null || fail "man page $page"
done
# The completion, as bash-completion loads it: commands and options.
completes() {
    bash -c 'source /usr/share/bash-completion/bash_completion
             source /usr/share/bash-completion/completions/porticoctl
             COMP_WORDS=(porticoctl "$1"); COMP_CWORD=1; COMP_LINE="porticoctl $1"; COMP_POINT=${#COMP_LINE}
             _porticoctl; echo "${COMPREPLY[*]}"' completion "$1"
}
[[ "$(completes de)" == "deploy" ]] || fail "bash completion of 'porticoctl de': '$(completes de)'"
[[ "$(completes --so)" == "--socket" ]] || fail "bash completion of 'porticoctl --so'"
[[ -f /usr/share/icons/hicolor/scalable/apps/portico-dashboard.svg ]] || fail "icon"
dpkg-query -W -f='${Conffiles}\n' portico | grep -q ' /etc/portico/porticod.json ' || fail "conffile"
getent group portico >/dev/null || fail "group portico"
getent passwd portico-backend >/dev/null || fail "user portico-backend"
# Run by root without --config, porticod reads the packaged /etc/portico/porticod.json.
/usr/bin/porticod --print-config | grep -q '"admin_group": "portico"' || fail "porticod does not read /etc/portico/porticod.json"

echo "test-package: reinstall (upgrade path)"
dpkg -i "$deb"

echo "test-package: dpkg -r"
dpkg -r portico
[[ ! -e /usr/bin/porticod ]] || fail "/usr/bin/porticod left after dpkg -r"
[[ -f /etc/portico/porticod.json ]] || fail "dpkg -r removed the conffile (only purge may)"

echo "test-package: dpkg --purge"
dpkg --purge portico
installed=0
after=$(snapshot)
if [[ "$before" != "$after" ]]; then
    diff <(echo "$before") <(echo "$after") >&2 || true
    fail "the machine is not as it was before the install"
fi
echo "test-package: ok: installed, checked, upgraded, removed and purged; the machine is as it was"
