#!/usr/bin/env bash
# Command B: installs what is missing, builds everything and runs the whole test suite (GoogleTest
# and lit, through ctest).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
build=${MED_BUILD_DIR:-$root/build}
cd "$build"
ctest --output-on-failure -j 2 "$@"
