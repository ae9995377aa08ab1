#!/usr/bin/env bash
# Installs the pinned JavaScript test clients (hls-parser, ipns) when missing or stale.
exec "$(dirname "${BASH_SOURCE[0]}")/../../tools/npm-ci.sh" "$(dirname "${BASH_SOURCE[0]}")"
