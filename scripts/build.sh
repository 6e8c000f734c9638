#!/usr/bin/env bash
# Configures (once) and builds Medulla into build/ with Ninja and ccache.
# Usage: scripts/build.sh [ninja targets...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MED_BUILD_DIR:-$root/build}
export CCACHE_BASEDIR="$root"
export CCACHE_DIR=${CCACHE_DIR:-${HOME:-/root}/.cache/medulla-ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
# Two cores, and MLIR/LibTorch translation units take up to ~1 GB each: two jobs fit in memory.
cmake --build "$build" -j "${MED_JOBS:-2}" ${1:+--target "$@"}
