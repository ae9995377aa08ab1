#!/usr/bin/env bash
# `make run`: start a local IPFS node on loopback (Kubo when an `ipfs` binary
# is on the PATH, otherwise the pinned js-ipfs the tests use), make sure there
# is music, run setup, then the streamer and healthmon until Ctrl-C. The
# node's repository and the streamer's state live in .run/, so running it
# again resumes the same station: same name, continuing media sequence.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
RUN=.run
mkdir -p "$RUN"

API_PORT=${RADIO_API_PORT:-5001}
GATEWAY_PORT=${RADIO_GATEWAY_PORT:-8080}
API="http://127.0.0.1:$API_PORT"
GATEWAY="http://127.0.0.1:$GATEWAY_PORT"

log() { echo "run-station: $*" >&2; }

api_up() { curl -sf -o /dev/null --max-time 3 -X POST "$API/api/v0/version"; }

start_node() {
  if api_up; then
    log "an IPFS node already answers at $API; using it"
    return
  fi
  if command -v ipfs >/dev/null 2>&1; then
    export IPFS_PATH="$PWD/$RUN/kubo"
    if [ ! -f "$IPFS_PATH/config" ]; then
      ipfs init --profile=server >/dev/null
      ipfs config Addresses.API "/ip4/127.0.0.1/tcp/$API_PORT"
      ipfs config Addresses.Gateway "/ip4/127.0.0.1/tcp/$GATEWAY_PORT"
      ipfs config --json Ipns.UsePubsub true
    fi
    log "starting Kubo ($(ipfs version --number)) with repository $IPFS_PATH"
    ipfs daemon --enable-gc >"$RUN/ipfs.log" 2>&1 &
  else
    tests/ipfs-node/install.sh
    log "no ipfs binary on PATH: starting the pinned js-ipfs node (repository $RUN/jsipfs)"
    IPFS_PATH="$PWD/$RUN/jsipfs" node --import ./tests/ipfs-node/polyfill.mjs \
      tests/ipfs-node/daemon.mjs "$API_PORT" "$GATEWAY_PORT" >"$RUN/ipfs.log" 2>&1 &
  fi
  echo $! >"$RUN/ipfs.pid"
  for _ in $(seq 1 600); do
    api_up && return
    kill -0 "$(cat "$RUN/ipfs.pid")" 2>/dev/null || break
    sleep 0.1
  done
  log "the IPFS node did not come up; see $RUN/ipfs.log"
  tail -20 "$RUN/ipfs.log" >&2 || true
  exit 1
}

PIDS=()
stop_all() {
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -f "$RUN/ipfs.pid" ]; then
    kill "$(cat "$RUN/ipfs.pid")" 2>/dev/null || true
    rm -f "$RUN/ipfs.pid"
  fi
  log "stopped"
}

start_node
trap stop_all EXIT INT TERM

MUSIC=music
if [ -z "$(find "$MUSIC" -type f 2>/dev/null | head -1)" ]; then
  MUSIC="$RUN/demo-music"
  tools/make-demo-library.sh "$MUSIC"
fi

cat >"$RUN/playlist.config.json" <<JSON
{ "source": "$MUSIC" }
JSON
cat >"$RUN/setup.config.json" <<JSON
{ "ipfs_api": "$API", "playlist_config": "$RUN/playlist.config.json", "processed_dir": "processed",
  "page_dir": "web" }
JSON
web/vendor/install.sh

set +e
"$BUILD/setup/radio-setup" --config "$RUN/setup.config.json"
status=$?
set -e
if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then
  log "setup failed (exit $status)"
  exit "$status"
fi
log "processed/ is ready: $(grep -c '^#EXTINF' processed/playlist.m3u) entries in processed/playlist.m3u"

HEALTH_LISTEN=${RADIO_HEALTH_LISTEN:-127.0.0.1:8091}
cat >"$RUN/streaming.config.json" <<JSON
{ "ipfs_api": "$API", "processed_dir": "processed", "state_dir": "$RUN/state",
  "local_gateway": "$GATEWAY" }
JSON
cat >"$RUN/healthmon.config.json" <<JSON
{ "state_dir": "$RUN/state", "local_gateway": "$GATEWAY", "listen": "$HEALTH_LISTEN",
  "output_file": "$RUN/state/health.json" }
JSON
"$BUILD/streamer/radio-streamer" --config "$RUN/streaming.config.json" 2>>"$RUN/streamer.log" &
PIDS+=($!)
for _ in $(seq 1 300); do
  [ -f "$RUN/state/status.json" ] && grep -q '"ipns_name": "' "$RUN/state/status.json" && break
  sleep 0.2
done
NAME=$(sed -n 's/.*"ipns_name": "\([^"]*\)".*/\1/p' "$RUN/state/status.json" | head -1)
PAGE=$(sed -n 's/.*"cid": "\([^"]*\)".*/\1/p' processed/page.json 2>/dev/null | head -1)
"$BUILD/healthmon/radio-healthmon" --config "$RUN/healthmon.config.json" 2>>"$RUN/healthmon.log" &
PIDS+=($!)

echo
echo "  IPFS radio is on air."
echo "  IPNS name:  ${NAME:-"(not known yet: see $RUN/streamer.log)"}"
echo "  Listen:     $GATEWAY/ipns/$NAME   (VLC, ffplay, or any HLS player)"
if [ -n "$PAGE" ] && [ -n "$NAME" ]; then
  echo "  Web player: $GATEWAY/ipfs/$PAGE/?name=$NAME&health=http://$HEALTH_LISTEN/health"
fi
echo "  Health:     http://$HEALTH_LISTEN/health   (metrics: /metrics)"
echo "  Logs:       $RUN/streamer.log, $RUN/healthmon.log, $RUN/ipfs.log"
echo "  Stop:       Ctrl-C"
echo
wait "${PIDS[0]}"
