#!/usr/bin/env bash
# Makes the station's jingles: a spoken station ID over a short synth bed.
# The .ogg files beside this script were made by it (espeak-ng and sox from
# Debian); run it again to remake them, e.g. with another station name.
set -euo pipefail
cd "$(dirname "$0")"
STATION="${STATION:-IPFS Radio}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

make_one() { # out, voice, words, chord root (Hz)
  local out=$1 voice=$2 words=$3 root=$4
  espeak-ng -v "$voice" -s 150 -p 45 -w "$tmp/voice.wav" "$words"
  sox "$tmp/voice.wav" -r 48000 -c 2 "$tmp/voice48.wav" pad 0.4 0.6
  local len
  len=$(soxi -D "$tmp/voice48.wav")
  # A rising three-note chime, then a soft pad under the voice.
  sox -n -r 48000 -c 2 "$tmp/chime.wav" \
    synth 0.25 pluck "$root" synth 0.25 pluck "$(echo "$root*1.25" | bc -l)" : \
    synth 0.25 pluck "$(echo "$root*1.5" | bc -l)" : synth 0.6 pluck "$(echo "$root*2" | bc -l)" \
    vol 0.5 2>/dev/null || sox -n -r 48000 -c 2 "$tmp/chime.wav" synth 1.35 pluck "$root" vol 0.5
  sox -n -r 48000 -c 2 "$tmp/pad.wav" synth "$len" sine "$root" sine "$(echo "$root*1.5" | bc -l)" \
    tremolo 3 40 vol 0.08 fade t 0.3 "$len" 0.5
  sox -m "$tmp/voice48.wav" "$tmp/pad.wav" "$tmp/bed.wav"
  sox "$tmp/chime.wav" "$tmp/bed.wav" -C 5 "$out" norm -3
}

make_one "01 station id.ogg" en-us "You are listening to $STATION. Live from the InterPlanetary File System." 440
make_one "02 always on.ogg" en-gb "$STATION. Same music, same moment, on every gateway." 523.25
make_one "03 no servers.ogg" en-us+f3 "This is $STATION. No servers. Just content." 392
