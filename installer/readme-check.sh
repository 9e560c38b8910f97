#!/usr/bin/env bash
# Every command in README.md's ```sh blocks must be run by CI exactly as written: each one
# (without its trailing "# comment") must appear verbatim in a command line (not a
# comment) of .ci/run or installer/readme-walkthrough.sh, which CI runs. A README command
# that is changed or added without being run fails here, so none can go stale.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

runners=(.ci/run installer/readme-walkthrough.sh)
code=$(cat "${runners[@]}" | sed -e 's/^[[:space:]]*//' | grep -v '^#' || true)

missing=0
count=0
while IFS= read -r cmd; do
    count=$((count + 1))
    if ! grep -qF -- "$cmd" <<<"$code"; then
        echo "readme-check: not run by CI: $cmd" >&2
        missing=$((missing + 1))
    fi
done < <(awk '
    /^```sh[[:space:]]*$/ { inblock = 1; next }
    /^```/                { inblock = 0; next }
    inblock {
        sub(/[[:space:]]+#[[:space:]].*$/, "")
        sub(/[[:space:]]+$/, "")
        if ($0 != "") print
    }' README.md)

if ((count == 0)); then
    echo "readme-check: found no commands in README.md" >&2
    exit 1
fi
if ((missing)); then
    echo "readme-check: $missing of $count README commands are not run by ${runners[*]}" >&2
    exit 1
fi
echo "readme-check: all $count README commands are run by CI"
