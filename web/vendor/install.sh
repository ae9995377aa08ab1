#!/usr/bin/env bash
# Installs the pinned hls.js (npm ci) and copies its player build into the
# page folder, so the page's IPFS directory carries its own player and works
# on any gateway without another origin. Does nothing when up to date.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
"$here/../../tools/npm-ci.sh" "$here"
exec 8>"$here/.install.lock"
flock 8 # the copies below, against another run of this script
copy() { # from, to (inside the page folder)
  cmp -s "$1" "../$2" && return
  cp "$1" "../$2.tmp"
  mv "../$2.tmp" "../$2"
}
copy node_modules/hls.js/dist/hls.light.min.js hls.light.min.js
copy node_modules/hls.js/LICENSE hls.js.LICENSE
