#!/usr/bin/env bash
# Installs the npm packages pinned in DIR/package-lock.json into
# DIR/node_modules (npm ci), only when they are missing or older than the
# lock or package.json. Safe to run concurrently: serialised with flock.
#
#   tools/npm-ci.sh DIR [STAMP]     STAMP: file under node_modules marking a
#                                   finished install (default .installed)
set -euo pipefail
dir="$(cd "$1" && pwd)"
stamp="node_modules/${2:-.installed}"
cd "$dir"
up_to_date() { [[ -f "$stamp" && ! package-lock.json -nt "$stamp" && ! package.json -nt "$stamp" ]]; }
up_to_date && exit 0
exec 8>"$dir/.install.lock"
flock 8
up_to_date && exit 0 # another process installed it while this one waited
command -v npm >/dev/null 2>&1 || { echo "npm-ci.sh: npm not found (need Node >= 20 and npm)" >&2; exit 1; }
echo "npm-ci.sh: npm ci in $dir" >&2
# --ignore-scripts: none of the packages needs its install scripts here.
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2
touch "$stamp"
