#!/usr/bin/env bash
# A small demo library for a first run without music/: a few short pieces
# with chords, a bass line, a beat and a melody (ffmpeg's aevalsrc), so the
# station sounds like music rather than test tones. Deterministic.
set -euo pipefail
out=${1:?usage: make-demo-library.sh DIR}
mkdir -p "$out"

piece() { # file, artist, title, seconds, root Hz, tempo (beats/s)
  local file=$1 artist=$2 title=$3 secs=$4 root=$5 bps=$6
  [ -f "$out/$file" ] && return
  local r=$root
  # Four-chord loop (I-V-vi-IV), one chord per 4 beats; bass on the root;
  # a noise hi-hat and a decaying kick on every beat; a pentatonic melody.
  local c="mod(floor(t*$bps/4)\\,4)"
  local f="(1+0.5*eq($c\\,1)+0.6818*eq($c\\,2)+0.3348*eq($c\\,3))"
  local beat="mod(t*$bps\\,1)/$bps"
  local pad="0.12*(sin(2*PI*$r*$f*t)+sin(2*PI*$r*$f*1.2599*t)+sin(2*PI*$r*$f*1.4983*t))"
  local bass="0.25*sin(PI*$r*$f*t)*exp(-3*$beat)"
  local kick="0.5*sin(2*PI*(60+80*exp(-30*$beat))*t)*exp(-12*$beat)"
  local step="floor(mod(t*$bps*2*7.3\\,5))*2+floor(mod(t*$bps*2\\,3))"
  local mel="0.15*sin(2*PI*$r*2*pow(2\\,($step)/12)*t)*exp(-4*mod(t*$bps*2\\,1)/$bps)"
  ffmpeg -nostdin -loglevel error -y \
    -f lavfi -i "aevalsrc=$pad+$bass+$kick+$mel|$pad+$bass+$kick+0.9*$mel:s=22050:d=$secs" \
    -f lavfi -i "anoisesrc=c=white:a=0.03:d=$secs:r=22050" \
    -filter_complex "[1:a]highpass=f=7000,volume='0.6*exp(-25*mod(t*$bps*2\\,1)/$bps)':eval=frame,pan=stereo|c0=c0|c1=c0[hat];[0:a][hat]amix=inputs=2:normalize=0,afade=t=in:d=1,afade=t=out:st=$((secs - 2)):d=2[a]" \
    -map "[a]" -metadata "artist=$artist" -metadata "title=$title" -c:a libvorbis -q:a 5 "$out/$file"
}

piece "01 Demo Band - First Light.ogg" "Demo Band" "First Light" 75 220 2
piece "02 Demo Band - Gateway Groove.ogg" "Demo Band" "Gateway Groove" 70 196 2.2
piece "03 The Content Addressed - Pinned.ogg" "The Content Addressed" "Pinned" 80 246.94 1.8
piece "04 The Content Addressed - Sixty Seconds.ogg" "The Content Addressed" "Sixty Seconds" 60 261.63 2.4
piece "05 Merkle Trio - Raw Leaves.ogg" "Merkle Trio" "Raw Leaves" 65 174.61 2
