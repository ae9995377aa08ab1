#!/usr/bin/env bash
# Runs every benchmark and prints a results table (what `make bench` calls).
#
#   bench/run.sh BUILD_DIR [--quick] [--with-10k] [--only streamer,daemon,setup,healthmon]
#
# --only picks parts (comma-separated; default all four): streamer is the
# tick cost and the simulated day (bench_tick, bench_day), daemon the real
# radio-streamer's resident memory against a real Kubo node
# (bench/streamer_rss.py: about 11 minutes, 2 windows of 5 minutes), setup
# the setup benchmarks (bench/setup_bench.py), healthmon the health monitor's.
# --with-10k adds the cached re-run over a 10,000-segment manifest (1,000
# tracks of 10 s in 1 s segments), whose cold run takes many minutes.
# BUILD_DIR is a configured and built tree (bench_tick, bench_day and
# bench_upload are built there from bench/CMakeLists.txt). Each benchmark
# measures its result and its reference in the same run, interleaved; the
# table reports ratios. Logs go to $BENCH_OUT (default BUILD_DIR/bench-results).
# Environment: BENCH_WORK (setup work folder, generated libraries are kept
# and reused; default /tmp/radio-bench-setup), BENCH_ROUNDS (cold setup
# rounds, default 3), BENCH_DAEMON_SECONDS (each daemon run, default 300).
#
# Exit status: 0 when every benchmark ran (a missed target is reported in the
# table, not as a failure), 1 when one could not run, 2 on bad usage.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
usage() { echo "usage: $0 BUILD_DIR [--quick] [--with-10k] [--only streamer,daemon,setup,healthmon]" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
build="$(cd "$1" 2>/dev/null && pwd)" || { echo "run.sh: no build folder $1" >&2; exit 2; }
shift
quick=0
with10k=0
only="streamer,daemon,setup,healthmon"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1 ;;
    --with-10k) with10k=1 ;;
    --only) [[ $# -ge 2 ]] || usage; only="$2"; shift ;;
    *) usage ;;
  esac
  shift
done
want() { [[ ",$only," == *",$1,"* ]]; }

out="${BENCH_OUT:-$build/bench-results}"
mkdir -p "$out"
failed=0
note() { printf '\n### %s\n' "$*"; }

if ((quick)); then
  ticks=4000 rounds=4 cg_ticks=500 hours=3 setup_rounds=1 cached_runs=3 daemon_seconds=60
else
  ticks=20000 rounds=20 cg_ticks=2000 hours=24 setup_rounds="${BENCH_ROUNDS:-3}" cached_runs=7
  daemon_seconds="${BENCH_DAEMON_SECONDS:-300}"
fi

echo "benchmarks: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "build: $build; logs: $out"

# run NAME CMD...: runs a benchmark, shows and keeps its output.
run() {
  local name="$1"
  shift
  note "$name: $*"
  "$@" 2>&1 | tee "$out/$name.log"
  local rc=${PIPESTATUS[0]}
  if ((rc == 3)); then
    echo "run.sh: $name: target not met (see the table)" | tee -a "$out/$name.log"
    rm -f "$out/$name.rc"
  elif ((rc != 0)); then
    echo "run.sh: $name exited with status $rc" | tee -a "$out/$name.log"
    echo "$rc" >"$out/$name.rc"
  else
    rm -f "$out/$name.rc"
  fi
  return 0
}

if want streamer; then
  for p in bench_tick bench_day; do
    [[ -x "$build/bench/$p" ]] || { echo "run.sh: $build/bench/$p is missing; build first" >&2; exit 1; }
  done
  run tick "$build/bench/bench_tick" --ticks "$ticks" --rounds "$rounds"
  if command -v valgrind >/dev/null; then
    : >"$out/tick_callgrind.log"
    for size in small large; do
      note "tick_callgrind ($size): valgrind --tool=callgrind --collect-atstart=no $build/bench/bench_tick --only $size --ticks $cg_ticks"
      valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=/dev/null \
        "$build/bench/bench_tick" --only "$size" --ticks "$cg_ticks" >"$out/tick_callgrind_$size.log" 2>&1
      ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out/tick_callgrind_$size.log")
      if [[ -n "$ir" ]]; then
        printf 'RESULT\ttick_%s_ir\t%s\n' "$size" "$((ir / cg_ticks))" | tee -a "$out/tick_callgrind.log"
      else
        echo "run.sh: callgrind gave no count for $size" | tee -a "$out/tick_callgrind.log"
        failed=1
      fi
    done
  fi
  # Resident memory over a simulated day. The state files go to tmpfs when
  # there is one: fsync latency of a shared disk says nothing about memory
  # and would make a day take several minutes. A short run on disk reports
  # what persistence costs in wall time there.
  shm=/dev/shm
  [[ -d $shm && -w $shm ]] || shm="${TMPDIR:-/tmp}"
  dayd="$(mktemp -d "$shm/radio-bench-day.XXXXXX")"
  run day "$build/bench/bench_day" --hours "$hours" --dir "$dayd"
  run day_reload "$build/bench/bench_day" --hours "$hours" --reload-hours 3 --dir "$dayd"
  rm -rf "$dayd"
  diskd="$(mktemp -d "${TMPDIR:-/tmp}/radio-bench-day.XXXXXX")"
  run day_disk "$build/bench/bench_day" --hours 1 --dir "$diskd"
  rm -rf "$diskd"
fi

if want daemon; then
  run daemon python3 "$here/streamer_rss.py" "$build" --seconds "$daemon_seconds" --work "${BENCH_WORK:-/tmp/radio-bench-setup}"
fi

if want setup; then
  args=(--rounds "$setup_rounds" --cached-runs "$cached_runs" --work "${BENCH_WORK:-/tmp/radio-bench-setup}")
  ((quick)) && args+=(--upload-rounds 1)
  ((with10k)) && args+=(--only cold,upload,cached,cached10k)
  run setup python3 "$here/setup_bench.py" "$build" "${args[@]}"
fi

if want healthmon && [[ -f "$here/healthmon_bench.py" && -x "$build/healthmon/radio-healthmon" ]]; then
  hargs=()
  ((quick)) && hargs=(--reps 5 --seconds 30)
  run healthmon python3 "$here/healthmon_bench.py" "$build/healthmon/radio-healthmon" "${hargs[@]}"
fi

# --- the table ---------------------------------------------------------------
declare -A R
for f in "$out"/*.log; do
  [[ -f $f ]] || continue
  name="$(basename "$f" .log)"
  while IFS=$'\t' read -r tag key val; do
    [[ $tag == RESULT ]] && R[$name.$key]=$val
  done <"$f"
done
for f in "$out"/*.rc; do
  [[ -f $f ]] && failed=1
done
g() { echo "${R[$1]:-?}"; }
# verdict VALUE OP LIMIT
verdict() {
  [[ $1 == "?" ]] && { echo "not run"; return; }
  if awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN { exit !((op == "<=" && a <= b) || (op == ">=" && a >= b) || (op == "<" && a < b)) }'; then
    echo "met"
  else
    echo "NOT MET"
  fi
}
row() { printf '| %-44s | %-56s | %-13s | %-7s |\n' "$1" "$2" "$3" "$4"; }

echo
echo "## Results ($(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo
row "benchmark" "measured (median, range over rounds)" "target" "verdict"
row "---" "---" "---" "---"
if want streamer; then
  row "tick cost, 100k vs 100-segment order (cpu)" "$(g tick.tick_ratio_cpu)x ($(g tick.tick_ratio_cpu_min)..$(g tick.tick_ratio_cpu_max)); $(g tick.tick_large_cpu_ns) vs $(g tick.tick_small_cpu_ns) ns" "<= 1.5x" "$(verdict "$(g tick.tick_ratio_cpu)" '<=' 1.5)"
  row "tick cost (wall)" "$(g tick.tick_ratio_wall)x; $(g tick.tick_large_wall_ns) vs $(g tick.tick_small_wall_ns) ns" "<= 1.5x" "$(verdict "$(g tick.tick_ratio_wall)" '<=' 1.5)"
  if [[ -n ${R[tick_callgrind.tick_small_ir]:-} && -n ${R[tick_callgrind.tick_large_ir]:-} ]]; then
    irr=$(awk -v a="$(g tick_callgrind.tick_large_ir)" -v b="$(g tick_callgrind.tick_small_ir)" 'BEGIN { printf "%.3f", a / b }')
    row "tick cost (callgrind instructions)" "${irr}x; $(g tick_callgrind.tick_large_ir) vs $(g tick_callgrind.tick_small_ir) Ir/tick" "<= 1.5x" "$(verdict "$irr" '<=' 1.5)"
  fi
  row "streamer RSS over a day (window 50)" "+$(g day.day_rss_growth_kib) KiB h1->h${hours} ($(g day.day_rss_h1_kib) -> $(g day.day_rss_hlast_kib) KiB)" "flat, < 1 MiB" "$(verdict "$(g day.day_rss_growth_kib)" '<' 1024)"
  row "  same, new running order every 3 h" "+$(g day_reload.day_rss_growth_kib) KiB ($(g day_reload.day_rss_h1_kib) -> $(g day_reload.day_rss_hlast_kib) KiB)" "(info)" ""
  row "  publish + persist, state on disk (1 h)" "$(g day_disk.day_publish_wall_us) us wall, $(g day_disk.day_publish_cpu_us) us cpu per publish" "(info)" ""
fi
if want daemon; then
  for w in 50 1000; do
    row "radio-streamer RSS, real Kubo, window $w" "$(g daemon.daemon_w${w}_rss_start_kib) start, $(g daemon.daemon_w${w}_rss_peak_kib) peak, $(g daemon.daemon_w${w}_rss_end_kib) end KiB; $(g daemon.daemon_w${w}_publishes) publishes in $(g daemon.daemon_w${w}_seconds) s" "(report)" ""
  done
fi
if want setup; then
  row "cold setup jobs=1 vs script (norm. off)" "$(g setup.cold_ratio_j1)x ($(g setup.cold_ratio_j1_min)..$(g setup.cold_ratio_j1_max)); $(g setup.cold_ours_j1_off_x_realtime) vs $(g setup.cold_script_x_realtime)x realtime" ">= 1.0x" "$(verdict "$(g setup.cold_ratio_j1)" '>=' 1.0)"
  row "cold setup jobs=2 vs script -P2 (norm. off)" "$(g setup.cold_ratio_j2)x ($(g setup.cold_ratio_j2_min)..$(g setup.cold_ratio_j2_max)); $(g setup.cold_ours_j2_off_x_realtime) vs $(g setup.cold_script_j2_x_realtime)x realtime" ">= 1.8x" "$(verdict "$(g setup.cold_ratio_j2)" '>=' 1.8)"
  row "  every round, jobs=1; jobs=2" "$(g setup.cold_ratio_j1_rounds); $(g setup.cold_ratio_j2_rounds)" "(info)" ""
  row "  cpu seconds, script/ours (jobs=1; jobs=2)" "$(g setup.cold_cpu_ratio_j1)x; $(g setup.cold_cpu_ratio_j2)x" "(info)" ""
  row "  jobs=2 cores used; other jobs' cores" "$(g setup.cold_j2_parallelism); $(g setup.cold_other_load_cores) (of $(nproc))" "(info)" ""
  row "normalisation cost (jobs=1, wall on/off)" "$(g setup.cold_norm_cost)x ($(g setup.cold_norm_cost_min)..$(g setup.cold_norm_cost_max)); cpu $(g setup.cold_norm_cpu_cost)x" "(report)" ""
  row "upload: batched (64) vs 1 per request, 1 process" "$(g setup.upload_ratio_vs_batch1)x ($(g setup.upload_ratio_vs_batch1_min)..$(g setup.upload_ratio_vs_batch1_max)); $(g setup.upload_batch64_files_per_s) vs $(g setup.upload_batch1_one_process_files_per_s) files/s; rounds $(g setup.upload_ratio_vs_batch1_rounds)" "(report)" ""
  row "  (info) vs one curl process per file" "$(g setup.upload_ratio_vs_curl)x; $(g setup.upload_curl_per_file_files_per_s) files/s" "(report)" ""
  row "cached re-run, 1,000 tracks" "$(g setup.cached_run_ms) ms ($(g setup.cached_run_ms_min)..$(g setup.cached_run_ms_max)); pin/ls $(g setup.cached_pin_ls_ms) ms" "< 500 ms" "$(verdict "$(g setup.cached_run_ms)" '<' 500)"
  row "  cold run of those 1,000 tracks (jobs=2)" "$(g setup.cached_cold_run_s) s" "(info)" ""
  if [[ -n ${R[setup.cached10k_run_ms]:-} ]]; then
    row "cached re-run, 1,000 tracks, 10,000 segments" "$(g setup.cached10k_run_ms) ms ($(g setup.cached10k_run_ms_min)..$(g setup.cached10k_run_ms_max)); pin/ls $(g setup.cached10k_pin_ls_ms) ms" "< 500 ms" "$(verdict "$(g setup.cached10k_run_ms)" '<' 500)"
    row "  cold run of those (jobs=2)" "$(g setup.cached10k_cold_run_s) s" "(info)" ""
  fi
fi
if want healthmon && [[ -f "$out/healthmon.log" ]]; then
  row "healthmon (bench/healthmon_bench.py)" "see $out/healthmon.log" "" ""
fi
echo
if ((failed)); then
  echo "run.sh: some benchmarks did not run to the end; see the logs in $out" >&2
  exit 1
fi
exit 0
