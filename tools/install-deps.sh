#!/usr/bin/env bash
# Installs what building, running and testing need, only where missing, so a
# fresh Debian machine needs nothing else. Safe to run again and again.
set -euo pipefail

# Libraries and tools, by Debian package.
PKGS=(
  build-essential cmake pkg-config
  libavformat-dev libavcodec-dev libswresample-dev libswscale-dev libavutil-dev
  libcurl4-openssl-dev libjansson-dev libsodium-dev libebur128-dev
  libcmocka-dev libmicrohttpd-dev
  clang
  ffmpeg curl python3 docker-compose
  chromium faketime
  espeak-ng valgrind nginx-light
  vlc-bin vlc-plugin-base
  prometheus
  tzdata
)
# The oldest Node.js the npm lockfiles accept: the highest engines.node in
# tests/*/package-lock.json (@noble/curves and @noble/hashes).
NODE_MIN=20.19.0

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# Whether version $1 is at least $2.
at_least() { [[ "$(printf '%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]; }

# The libFuzzer runtime must be the one of the clang that `clang` runs.
# Debian's unversioned libclang-rt-dev goes with its default clang; a clang
# of another version (an alternative, a backport) needs its own.
clang_rt=libclang-rt-dev
if command -v clang >/dev/null 2>&1; then
  versioned="libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev"
  if apt-cache show "$versioned" >/dev/null 2>&1; then clang_rt="$versioned"; fi
fi
PKGS+=("$clang_rt")

missing=()
for p in "${PKGS[@]}"; do
  installed "$p" || missing+=("$p")
done

# Runs a command as root: directly, or through sudo where that exists.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    local what="${missing[*]:-}"
    [[ -z "$node_missing" ]] || what="${what:+$what }node"
    echo "install-deps: missing $what; run this as root (sudo is not installed)" >&2
    exit 1
  fi
}

node_missing=""
command -v node >/dev/null 2>&1 || node_missing=1
if ((${#missing[@]})) || [[ -n "$node_missing" ]]; then
  # Also what tells which Node.js Debian offers, on a machine that never updated.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
fi

# Node.js from elsewhere than Debian (nodejs.org, NodeSource) bundles npm,
# which conflicts with Debian's npm: Debian's packages are installed only
# when the commands are missing, and only a new enough Node.js.
node_problem=""
if [[ -z "$node_missing" ]]; then
  have="$(node --version)"
  if at_least "${have#v}" "$NODE_MIN"; then
    command -v npm >/dev/null 2>&1 || missing+=(npm)
  else
    node_problem="node is $have"
  fi
else
  offered="$(apt-cache policy nodejs 2>/dev/null | sed -n 's/^ *Candidate: *//p')"
  offered="${offered#*:}"  # drop an epoch
  if [[ -n "$offered" && "$offered" != "(none)" ]] && at_least "${offered%%[-~+]*}" "$NODE_MIN"; then
    missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
  else
    node_problem="node is not installed and this system's nodejs package is ${offered:-missing}"
  fi
fi

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

if [[ -n "$node_problem" ]]; then
  echo "install-deps: $node_problem; the npm test clients need Node.js >= $NODE_MIN" >&2
  echo "  (Debian 12 ships 18). Install Node.js $NODE_MIN or newer with npm, e.g. from" >&2
  echo "  https://nodejs.org/en/download or NodeSource's Debian packages, then run this again." >&2
  exit 1
fi
