#!/usr/bin/env bash
# Command A: installs what is missing, builds, and runs the main job: load ch2.nii.gz, run a compiled
# intensity chain, write the result and report each stage with its time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" med
build=${MED_BUILD_DIR:-$root/build}
mkdir -p "$root/out"
"$build/bin/med" demo --input /usr/share/mricron/templates/ch2.nii.gz --output "$root/out/ch2_chain.nii.gz"
