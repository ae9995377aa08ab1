#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (a small CMake project of its own,
# so the main build may use any compiler) and runs them on the seed corpus.
#
#   run.sh BUILD_DIR [SECONDS]
#
# The playlist target runs SECONDS (default 20; run it for hours by hand:
# `tests/fuzz/run.sh /tmp/fuzz 3600`), the dag-pb target half of that.
# New inputs are kept in BUILD_DIR/corpus-*, crashes in BUILD_DIR/crash-*.
# Exits non-zero on any finding (crash, sanitizer report, leak, timeout,
# out of memory) and when clang or its libFuzzer runtime is missing:
# tools/install-deps.sh installs both, so a missing one is a broken machine,
# not a reason to skip. RADIO_WERROR=ON makes compiler warnings errors.
set -euo pipefail

# libFuzzer's own default for a finding is 77, which CTest (and automake)
# read as "skipped": a leak or a deadly signal would pass unnoticed.
readonly FINDING_EXIT=1

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ $# -ge 1 ]] || { echo "usage: $0 BUILD_DIR [SECONDS]" >&2; exit 2; }
build="$1"
secs="${2:-20}"

if ! command -v clang >/dev/null 2>&1; then
  echo "clang is not installed (tools/install-deps.sh installs it)" >&2
  exit 1
fi
if ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n){(void)d;(void)n;return 0;}' |
     clang -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
  echo "clang has no libFuzzer runtime (libclang-rt-N-dev for clang N; tools/install-deps.sh installs it)" >&2
  exit 1
fi

cmake -S "$here" -B "$build" -DCMAKE_C_COMPILER=clang -DRADIO_WERROR="${RADIO_WERROR:-OFF}" >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

mkdir -p "$build/corpus-m3u8" "$build/corpus-dagpb"
cp "$here"/corpus/m3u8/* "$build/corpus-m3u8/"
# dag-pb seeds: a UnixFS file root with two raw leaves, and an empty node.
python3 - "$build/corpus-dagpb" <<'PY'
import hashlib, os, sys
def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7f; v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v: return bytes(out)
def field(n, b): return varint(n << 3 | 2) + varint(len(b)) + b
def vfield(n, v): return varint(n << 3) + varint(v)
leaves = [b"a" * 300, b"b" * 200]
root = b""
for leaf in leaves:
    cid = bytes([1, 0x55, 0x12, 0x20]) + hashlib.sha256(leaf).digest()
    root += field(2, field(1, cid) + field(2, b"") + vfield(3, len(leaf)))
root += field(1, vfield(1, 2) + vfield(3, 500) + vfield(4, 300) + vfield(4, 200))
split = bytes([round(255 * len(root) / (len(root) + 500))])
open(os.path.join(sys.argv[1], "file"), "wb").write(split + root + b"".join(leaves))
open(os.path.join(sys.argv[1], "empty"), "wb").write(b"\x80" + field(1, vfield(1, 2)))
PY

run() {
  local target="$1" t="$2"
  shift 2
  echo "fuzzing $target for ${t}s" >&2
  "$build/$target" -max_total_time="$t" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -error_exitcode="$FINDING_EXIT" -timeout_exitcode="$FINDING_EXIT" \
    -artifact_prefix="$build/crash-$target-" "$@" "$build/corpus-${target#fuzz_}" 2>&1 | tail -n 12
  return "${PIPESTATUS[0]}"
}
run fuzz_m3u8 "$secs" -max_len=65536 -dict="$here/m3u8.dict"
run fuzz_dagpb "$(( (secs + 1) / 2 ))" -max_len=4096
