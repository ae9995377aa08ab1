#!/usr/bin/env bash
# The common script approach that issue 2 measures radio-setup against:
# one ffmpeg process per track, sequentially, cutting 6 s HLS segments of
# AAC 128 kb/s, then one `add` request (one curl process) per segment.
#
#   bench/script_approach.sh MUSIC_DIR OUT_DIR API_URL
#
# Tracks are the audio files directly in MUSIC_DIR (mp3, then flac, ogg, wav;
# each kind in name order). Exits non-zero on the first failure.
set -euo pipefail
music=${1:?usage: script_approach.sh MUSIC_DIR OUT_DIR API_URL}
out=${2:?usage: script_approach.sh MUSIC_DIR OUT_DIR API_URL}
api=${3:?usage: script_approach.sh MUSIC_DIR OUT_DIR API_URL}
mkdir -p "$out"
n=0
shopt -s nullglob
for f in "$music"/*.mp3 "$music"/*.flac "$music"/*.ogg "$music"/*.wav; do
  n=$((n + 1))
  d="$out/$n"
  mkdir -p "$d"
  ffmpeg -nostdin -loglevel error -y -i "$f" -vn -c:a aac -b:a 128k \
    -f hls -hls_time 6 -hls_list_size 0 "$d/index.m3u8"
  for s in "$d"/*.ts; do
    curl -sf -X POST -F "file=@$s" \
      "$api/api/v0/add?cid-version=1&raw-leaves=true&pin=true" >/dev/null
  done
done
