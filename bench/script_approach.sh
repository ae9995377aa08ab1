#!/usr/bin/env bash
# The common script approach that issues 2 and 10 measure radio-setup
# against: one ffmpeg process per track cutting HLS segments in the
# station's format (AAC at the station's bitrate, resampled to 48 kHz
# stereo, segments of the station's length), then one `add` request (one
# curl process) per segment of that track. JOBS tracks are processed at a
# time (xargs -P JOBS), each track's encode and adds in one job, as a
# script author would parallelise it.
#
#   bench/script_approach.sh MUSIC_DIR OUT_DIR API_URL [JOBS [BITRATE_KBPS [SEGMENT_SECONDS]]]
#
# JOBS defaults to 1, BITRATE_KBPS to 128, SEGMENT_SECONDS to 6 (the setup
# program's defaults). Tracks are the audio files directly in MUSIC_DIR
# (mp3, then flac, ogg, wav; each kind in name order). Exits non-zero when
# any track fails.
set -euo pipefail
usage="usage: script_approach.sh MUSIC_DIR OUT_DIR API_URL [JOBS [BITRATE_KBPS [SEGMENT_SECONDS]]]"
music=${1:?$usage}
out=${2:?$usage}
api=${3:?$usage}
jobs=${4:-1}
export SA_OUT="$out" SA_API="$api" SA_BITRATE="${5:-128}" SA_SEG="${6:-6}"
mkdir -p "$out"

one_track() {
  set -euo pipefail
  local n=$1 f=$2 d="$SA_OUT/$1" s
  mkdir -p "$d"
  ffmpeg -nostdin -loglevel error -y -i "$f" -vn -c:a aac -b:a "${SA_BITRATE}k" -ar 48000 -ac 2 \
    -f hls -hls_time "$SA_SEG" -hls_list_size 0 "$d/index.m3u8"
  for s in "$d"/*.ts; do
    curl -sf -X POST -F "file=@$s" \
      "$SA_API/api/v0/add?cid-version=1&raw-leaves=true&pin=true" >/dev/null
  done
}
export -f one_track

shopt -s nullglob
n=0
for f in "$music"/*.mp3 "$music"/*.flac "$music"/*.ogg "$music"/*.wav; do
  n=$((n + 1))
  printf '%s\0%s\0' "$n" "$f"
done | xargs -0 -n 2 -P "$jobs" bash -c 'one_track "$1" "$2"' _
