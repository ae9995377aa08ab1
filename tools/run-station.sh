#!/usr/bin/env bash
# `make run`: start a local Kubo node on loopback (the `ipfs` on the PATH, or
# else the pinned Kubo the tests use), configured as the compose stack
# configures its node (tools/kubo_node.py), make sure there
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
  # An operator's own Kubo on the PATH wins; otherwise the pinned one the
  # tests run (built by tools/install-kubo.sh, which make deps runs).
  if command -v ipfs >/dev/null 2>&1; then
    export RADIO_KUBO_BIN="$(command -v ipfs)"
    log "using the ipfs on the PATH: $("$RADIO_KUBO_BIN" version) (the tests run Kubo $(kubo_pinned))"
  fi
  log "starting Kubo, configured as the compose stack's node (repository $RUN/kubo/repo)"
  python3 tools/kubo_node.py start "$RUN/kubo" --api-port "$API_PORT" --gateway-port "$GATEWAY_PORT" >/dev/null
  NODE_STARTED=1
}

kubo_pinned() { sed -n 's/^[[:space:]]*github.com\/ipfs\/kubo \(v[^[:space:]]*\).*/\1/p' tools/kubo/go.mod | head -1; }

PIDS=()
stop_all() {
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "${NODE_STARTED:-}" ]; then
    python3 tools/kubo_node.py stop "$RUN/kubo" --keep
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
echo "  Logs:       $RUN/streamer.log, $RUN/healthmon.log, $RUN/kubo/daemon.log"
echo "  Stop:       Ctrl-C"
echo
wait "${PIDS[0]}"
