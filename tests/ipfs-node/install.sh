#!/usr/bin/env bash
# Installs the pinned js-ipfs test node (tests/ipfs-node/node_modules) when
# missing or stale; takes a few minutes the first time.
exec "$(dirname "${BASH_SOURCE[0]}")/../../tools/npm-ci.sh" "$(dirname "${BASH_SOURCE[0]}")" .ipfs-node-installed
