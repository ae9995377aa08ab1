#!/usr/bin/env bash
# Installs the pinned browser test driver (playwright-core) when missing or stale.
exec "$(dirname "${BASH_SOURCE[0]}")/../../tools/npm-ci.sh" "$(dirname "${BASH_SOURCE[0]}")"
