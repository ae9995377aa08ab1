#!/usr/bin/env bash
# Start/stop a throwaway, offline, loopback-only js-ipfs node for tests.
#
#   node.sh start DIR   -> prints the RPC API URL (e.g. http://127.0.0.1:41107)
#                          and writes DIR/api_url, DIR/gateway_url, DIR/pid;
#                          repo in DIR/repo, log in DIR/daemon.log.
#                          No-op (prints the URL again) if already running.
#   node.sh stop DIR    -> TERM (then KILL) the daemon, remove DIR/repo.
#                          No-op if not running.
#
# Only the API URL goes to stdout; diagnostics go to stderr.
# Env: IPFS_NODE_START_TIMEOUT (seconds, default 60), IPFS_NODE_STOP_TIMEOUT
# (seconds before KILL, default 10), IPFS_NODE_DEBUG (passed to the daemon as
# DEBUG, e.g. 'ipfs*,libp2p*'; an inherited DEBUG is ignored).
# Needs: node >= 20, npm (first run), curl; flock is used when present.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
cmd="$1"
[[ "$cmd" == start || "$cmd" == stop ]] || usage
[[ "$cmd" == stop && ! -d "$2" ]] && exit 0 # nothing was ever started there
mkdir -p "$2"
dir="$(cd "$2" && pwd)"

start_timeout="${IPFS_NODE_START_TIMEOUT:-60}"
stop_timeout="${IPFS_NODE_STOP_TIMEOUT:-10}"

log() { echo "node.sh: $*" >&2; }

# Serialise start/stop on the same DIR. fd 9 is closed for the daemon.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$dir/.node.lock"
  flock 9
fi

# Alive, not a zombie, and really our daemon (guards against pid reuse).
is_our_daemon() {
  local pid="$1" state
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r /proc/$pid/stat ]]; then
    state="$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
    [[ "$state" != Z && "$state" != X ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$here/daemon.mjs" || return 1
  fi
  return 0
}

read_pid() { [[ -f "$dir/pid" ]] && cat "$dir/pid" 2>/dev/null || true; }

api_answers() {
  curl -sf -o /dev/null --max-time 3 -X POST "$1/api/v0/id"
}

kill_daemon() {
  local pid="$1" i
  is_our_daemon "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < stop_timeout * 10; i++)); do
    is_our_daemon "$pid" || return 0
    sleep 0.1
  done
  log "daemon $pid ignored SIGTERM for ${stop_timeout}s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    is_our_daemon "$pid" || return 0
    sleep 0.1
  done
  log "daemon $pid still alive after SIGKILL"
  return 1
}

cleanup_files() {
  rm -rf "$dir/repo"
  rm -f "$dir/pid" "$dir/api_url" "$dir/gateway_url" "$dir/.ready" "$dir/.ready.tmp"
}

do_stop() {
  local pid
  pid="$(read_pid)"
  [[ -n "$pid" ]] && kill_daemon "$pid"
  cleanup_files
}

do_start() {
  local pid api gateway t0 i
  pid="$(read_pid)"
  if [[ -n "$pid" && -f "$dir/api_url" ]] && is_our_daemon "$pid" && api_answers "$(cat "$dir/api_url")"; then
    cat "$dir/api_url"
    return 0
  fi
  # Stale state from a crashed/half-started run.
  [[ -n "$pid" ]] && kill_daemon "$pid"
  cleanup_files

  "$here/install.sh"
  command -v curl >/dev/null 2>&1 || { log "curl not found"; return 1; }

  t0="$(date +%s%N)"
  IPFS_PATH="$dir/repo" IPFS_NODE_READY_FILE="$dir/.ready" DEBUG="${IPFS_NODE_DEBUG:-}" \
    node --import "$here/polyfill.mjs" "$here/daemon.mjs" \
    </dev/null >"$dir/daemon.log" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$dir/pid"

  api=""
  for ((i = 0; i < start_timeout * 10; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "daemon exited during startup"
      break
    fi
    if [[ -f "$dir/.ready" ]]; then
      api="$(sed -n 's/^api=//p' "$dir/.ready")"
      gateway="$(sed -n 's/^gateway=//p' "$dir/.ready")"
      if [[ -n "$api" ]] && api_answers "$api"; then
        break
      fi
      api=""
    fi
    sleep 0.1
  done

  if [[ -z "$api" ]]; then
    (( i >= start_timeout * 10 )) && log "daemon not ready after ${start_timeout}s"
    log "---- tail of $dir/daemon.log ----"
    tail -n 40 "$dir/daemon.log" >&2 || true
    kill_daemon "$pid" || true
    cleanup_files
    return 1
  fi

  echo "$gateway" >"$dir/gateway_url"
  echo "$api" >"$dir/api_url"
  rm -f "$dir/.ready"
  log "started pid $pid in $((($(date +%s%N) - t0) / 1000000)) ms (api $api, gateway $gateway)"
  echo "$api"
}

case "$cmd" in
  start) do_start ;;
  stop) do_stop ;;
esac
