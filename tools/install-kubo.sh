#!/usr/bin/env bash
# Builds the pinned Kubo (the IPFS node the station runs beside and every
# test runs against) from the Go module proxy, once, into a cache outside
# the clone, so every clone on the machine reuses it.
#
#   tools/install-kubo.sh           build when missing; quiet when cached
#   tools/install-kubo.sh --path    the same, then print the binary's path
#
# The version and every dependency are pinned by tools/kubo/go.mod and
# go.sum (Kubo is a Go "tool" of that module). `go install module@version`
# cannot build Kubo: its go.mod replaces go-libp2p with a fork the module
# proxy does not serve, and replace directives are only honoured in the
# main module. Ours pins go-libp2p v0.50.0 instead, the first release with
# the quic-go and webtransport-go versions that fork was made for.
#
# Env: RADIO_CACHE_DIR (default ${XDG_CACHE_HOME:-~/.cache}/ipfs-radio).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mod="$here/kubo"
cache="${RADIO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ipfs-radio}"

version="$(sed -n 's/^[[:space:]]*github.com\/ipfs\/kubo \(v[^[:space:]]*\).*/\1/p' "$mod/go.mod" | head -1)"
[[ -n "$version" ]] || { echo "install-kubo: no github.com/ipfs/kubo version in $mod/go.mod" >&2; exit 1; }
# The pin set is part of the name: a changed go.sum builds anew.
pins="$(cat "$mod/go.mod" "$mod/go.sum" | sha256sum | cut -c1-12)"
dest="$cache/kubo-$version-$pins"
bin="$dest/ipfs"

if [[ ! -x "$bin" ]]; then
  need="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$mod/go.mod")"
  if ! command -v go >/dev/null 2>&1; then
    cat >&2 <<EOF
install-kubo: Kubo $version is built from the Go module proxy and needs Go
  (1.21 or newer; it fetches Go $need itself through the proxy). Debian 12's
  golang package is 1.19, too old: install Go from go.dev/dl into /usr/local/go
  and put /usr/local/go/bin on the PATH, or put an ipfs binary of Kubo $version
  on the PATH for make run.
EOF
    exit 1
  fi
  have="$(go env GOVERSION | sed 's/^go//')"
  if [[ "$(printf '%s\n1.21\n' "$have" | sort -V | head -1)" != 1.21 ]]; then
    echo "install-kubo: Go $have cannot fetch the Go $need toolchain Kubo $version needs; install Go 1.21 or newer" >&2
    exit 1
  fi
  mkdir -p "$dest"
  exec 8>"$dest/.build.lock"
  flock 8
  if [[ ! -x "$bin" ]]; then
    echo "install-kubo: building Kubo $version into $dest (a few minutes the first time)" >&2
    t0=$(date +%s)
    # GOFLAGS=-mod=readonly: the pins are used as committed, never updated.
    (cd "$mod" && GOFLAGS=-mod=readonly GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" \
      go build -trimpath -o "$bin.tmp" github.com/ipfs/kubo/cmd/ipfs)
    mv "$bin.tmp" "$bin"
    echo "install-kubo: built in $(($(date +%s) - t0)) s: $("$bin" version)" >&2
  fi
fi
[[ "${1:-}" == --path ]] && echo "$bin"
exit 0
