#!/usr/bin/env bash
# Installs what building, running and testing need, only where missing, so a
# fresh Debian machine needs nothing else. Safe to run again and again.
set -euo pipefail

# Libraries and tools, by Debian package.
PKGS=(
  build-essential cmake pkg-config
  libavformat-dev libavcodec-dev libswresample-dev libavutil-dev
  libcurl4-openssl-dev libjansson-dev libsodium-dev libebur128-dev
  libcmocka-dev libmicrohttpd-dev
  clang libclang-rt-14-dev
  ffmpeg curl python3 docker-compose
  chromium
)
# Commands that may come from elsewhere than Debian (Node.js from its own
# packages bundles npm, which then conflicts with Debian's npm): install the
# Debian package only when the command is missing.
CMDS=(node:nodejs npm:npm)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
for pair in "${CMDS[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
