#!/usr/bin/env bash
# Runs CTest with the wall clock moved to DATE, ticking on from there, to
# catch tests and code that only work in some months or years.
#
#   tools/test-at-date.sh DATE [CTEST ARGS...]
#   tools/test-at-date.sh 2027-01-15
#   BUILD=build-release tools/test-at-date.sh "2030-06-30 23:59:50 UTC" -R timeline
#
# DATE is anything `date -d` reads. The build is $BUILD (default build/).
# It runs only what the fake clock can reach, the unit tests and the tests
# labelled no_ipfs (healthmon against loopback fakes); CTEST ARGS narrow
# that further (-R NAME) or tune the run (-j2). libfaketime works by
# LD_PRELOAD, so it cannot reach Go programs (the Kubo test node would keep
# the real date) nor sanitizer builds (ASan must be the first library
# loaded): neither runs under it.
set -euo pipefail

[[ $# -ge 1 ]] || { echo "usage: $0 DATE [CTEST ARGS...]" >&2; exit 2; }
date_arg="$1"
shift
build="${BUILD:-build}"

command -v faketime >/dev/null 2>&1 ||
  { echo "faketime is not installed (tools/install-deps.sh installs it)" >&2; exit 1; }
date -d "$date_arg" >/dev/null 2>&1 || { echo "date cannot read \"$date_arg\"" >&2; exit 2; }
[[ -f "$build/CTestTestfile.cmake" ]] ||
  { echo "$build is not a configured build (make build, or set BUILD)" >&2; exit 2; }
if grep -q '^RADIO_SANITIZE:BOOL=ON' "$build/CMakeCache.txt"; then
  echo "$build is a sanitizer build, which cannot run under libfaketime" >&2
  exit 2
fi

start="$(date -u -d "$date_arg" '+%Y-%m-%d %H:%M:%S')"
echo "test-at-date: the clock starts at $start UTC" >&2
cd "$build"
# faketime's plain TIMESTAMP form is an offset from the real clock: every
# child process sees the same time, and it ticks. The monotonic clock moves
# by the same offset: with --exclude-monotonic, libfaketime 0.9.10 makes
# Python's time.sleep (clock_nanosleep to an absolute time) fail with EINVAL.
exec faketime "$start UTC" ctest --output-on-failure -L '^(unit|no_ipfs)$' "$@"
