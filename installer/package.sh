#!/usr/bin/env bash
# Builds the Debian package (porticod, porticoctl, portico-dashboard, the systemd unit,
# /etc/portico/porticod.json, man pages, completion, desktop entry) with CPack and prints
# the path of the .deb on standard output; everything else goes to standard error, so
#   apt install "$(installer/package.sh)"
# builds and installs in one go. Works from a clean checkout: installs what it needs.
#   PORTICO_BUILD_DIR   build folder (default build-deb). An existing build folder is
#                       reused as it is configured (CI packages the build it tested).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source installer/buildir.sh

{
    installer/deps.sh
    build="${PORTICO_BUILD_DIR:-$root/build-deb}"
    configure_build "$build"
    cached() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
    prefix=$(cached CMAKE_INSTALL_PREFIX)
    service=$(cached PORTICO_SYSTEM_SERVICE)
    # The package is a /usr install with the system service; the build folder gets its
    # own settings back afterwards (a later `cmake --install` must not write to /etc).
    cmake -S . -B "$build" -DCMAKE_INSTALL_PREFIX=/usr -DPORTICO_SYSTEM_SERVICE=ON \
        -DPORTICO_BUILD_DASHBOARD=ON >/dev/null
    restore() {
        cmake -S . -B "$build" -DCMAKE_INSTALL_PREFIX="${prefix:-/usr/local}" \
            -DPORTICO_SYSTEM_SERVICE="${service:-OFF}" >/dev/null
    }
    trap restore EXIT
    cmake --build "$build" --parallel "$(nproc)"
    rm -f "$build"/portico_*.deb
    (cd "$build" && cpack -G DEB -C "$(cached CMAKE_BUILD_TYPE)" >/dev/null)
} 1>&2

deb=$(ls "${PORTICO_BUILD_DIR:-$root/build-deb}"/portico_*.deb)
echo "$deb"
