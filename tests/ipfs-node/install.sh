#!/usr/bin/env bash
# Install the pinned js-ipfs test node (tests/ipfs-node/node_modules) from
# package-lock.json. Idempotent: runs `npm ci` only when node_modules is
# missing or older than package-lock.json / package.json. Works from any cwd.
# Safe to call concurrently (serialised with flock when available).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

stamp=node_modules/.ipfs-node-installed

up_to_date() {
  [[ -f "$stamp" && ! package-lock.json -nt "$stamp" && ! package.json -nt "$stamp" ]]
}

up_to_date && exit 0

if command -v flock >/dev/null 2>&1; then
  exec 8>"$here/.install.lock"
  flock 8
  up_to_date && exit 0 # another process installed it while we waited
fi

command -v npm >/dev/null 2>&1 || { echo "install.sh: npm not found (need Node >= 20 + npm)" >&2; exit 1; }

echo "install.sh: npm ci in $here (takes a few minutes the first time)" >&2
start=$SECONDS
# --ignore-scripts: none of the install scripts is needed (classic-level ships
# prebuilt linux binaries; the others only build browser/CLI helpers).
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2
touch "$stamp"
echo "install.sh: done in $((SECONDS - start)) s" >&2
