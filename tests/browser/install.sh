#!/usr/bin/env bash
# Installs the pinned browser test driver (npm ci) when missing or stale.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
stamp=node_modules/.installed
if [[ -f "$stamp" && ! package-lock.json -nt "$stamp" && ! package.json -nt "$stamp" ]]; then
  exit 0
fi
exec 8>"$here/.install.lock"
flock 8
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2
touch "$stamp"
