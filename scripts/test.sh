#!/usr/bin/env bash
# Command B: installs what is missing, builds everything and runs the whole test suite (GoogleTest
# and lit, through ctest).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
build=${MED_BUILD_DIR:-$root/build}
cd "$build"
status=0
ctest --output-on-failure -j 2 "$@" || status=$?
# ctest counts the lit suite as one test; print lit's own totals too.
log=Testing/Temporary/LastTest.log
if [ -f "$log" ] && grep -q "Total Discovered Tests" "$log"; then
  echo "lit totals:"
  sed -n '/^Total Discovered Tests/,/^$/p' "$log"
fi
exit $status
