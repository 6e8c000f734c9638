#!/usr/bin/env bash
# Command B: installs what is missing, builds everything and runs the whole test suite (GoogleTest
# and lit, through ctest).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
build=${MED_BUILD_DIR:-$root/build}
cd "$build"
set +e
ctest --output-on-failure -j 2 "$@" 2>&1 | tee ctest-output.txt
status=${PIPESTATUS[0]}
set -e
# ctest counts the lit suite as one test; print lit's own totals too.
log=Testing/Temporary/LastTest.log
if [ -f "$log" ] && grep -q "Total Discovered Tests" "$log"; then
  echo "lit totals:"
  awk '/^Total Discovered Tests/ {on = 1; print; next} on && /^  [A-Za-z ]+: / {print; next} {on = 0}' "$log"
fi
# One closing line for everything ctest ran (GoogleTest cases and the lit suite).
total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' ctest-output.txt | tail -1)
failed=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed.*/\1/p' ctest-output.txt | tail -1)
skipped=$(grep -c '(Skipped)$' ctest-output.txt || true)
if [ -n "$total" ] && [ -n "$failed" ]; then
  echo "tests: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
fi
exit $status
