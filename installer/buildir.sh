# Sourced by quickstart.sh and package.sh: the build folder they use.
# configure_build DIR: a Release build without tests, unless DIR is configured already (an
# existing build folder is reused as it is: CI packages and walks through the build it
# tested, without compiling twice).
configure_build() {
    if [[ ! -f "$1/CMakeCache.txt" ]]; then
        cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPORTICO_BUILD_TESTS=OFF >/dev/null
    fi
}
