#!/usr/bin/env bash
# `make setup`: runs radio-setup once, before the station first starts.
# When the station runs under docker-compose (a compose command exists and
# the stack's ipfs service is up), setup runs in the stack's own setup
# container, against the stack's node and data volume; otherwise natively,
# against the node config/setup.config.json names.
#
#   tools/setup.sh [BUILD_DIR]     RADIO_SETUP_NATIVE=1 forces the native run
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}

compose=()
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
fi
if [[ ${RADIO_SETUP_NATIVE:-0} != 1 && ${#compose[@]} -gt 0 ]] &&
  [[ -n "$("${compose[@]}" ps -q ipfs 2>/dev/null)" ]]; then
  echo "setup: the compose stack is up; running its setup service" >&2
  exec "${compose[@]}" run --rm setup
fi
exec "$BUILD/setup/radio-setup" --config config/setup.config.json
