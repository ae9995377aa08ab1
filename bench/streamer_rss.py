#!/usr/bin/env python3
"""Resident memory of the real streamer daemon (issue 10), publishing to a
real Kubo node.

The library is the setup benchmark's 12 generated tracks (17 min), cut by
radio-setup with short segments (--segment-seconds, default 1) onto a fresh
Kubo node (tools/kubo_node.py), so that the daemon publishes a new playlist
about every second: many publishes in a few minutes. Then, for each window
size (--windows, default 50 and 1000), radio-streamer runs with the default
configuration apart from processed_dir, state_dir, ipfs_api, local_gateway,
window_segments and ipns_key (one key per window size, so that each run has
a name of its own), for --seconds (default 300). VmRSS and VmHWM are read
from /proc/PID/status every --every seconds (default 5), with the counts of
state/status.json (publishes, failures, superseded) at the same moment.

A new station's first window lists only about three target durations and
grows by one segment per segment boundary, so a 1,000-segment window of 1 s
segments would take 17 minutes to fill. To measure full windows within the
run, each station is first put on air for --preroll seconds (default 8)
under libfaketime with the clock set back by the window's length plus a
minute: its timeline then starts that long ago, and when the daemon starts
again on the real clock it resumes there (as after any restart) with a full
window from its first publish. Without faketime the runs start with short
windows, and the report says so.

    bench/streamer_rss.py BUILD_DIR [--work DIR] [--seconds S] [--every S]
                          [--windows 50,1000] [--segment-seconds S] [--preroll S] [--music DIR]

Prints a report, every sample, and lines "RESULT<TAB>name<TAB>value" for
bench/run.sh. There is no target: the figures are reported.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import setup_bench as sb  # noqa: E402


def find_faketime():
    for d in ("/usr/lib/x86_64-linux-gnu/faketime", "/usr/lib/aarch64-linux-gnu/faketime", "/usr/lib/faketime",
              "/usr/local/lib/faketime"):
        f = os.path.join(d, "libfaketime.so.1")
        if os.path.exists(f):
            return f
    return None


FAKETIME_LIB = find_faketime()


def log(*a):
    print(*a, flush=True)


def result(name, value):
    print(f"RESULT\t{name}\t{value}", flush=True)


def proc_status(pid):
    """{field: KiB} of VmRSS and VmHWM, {} once the process is gone."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    out[k] = int(v.split()[0])
    except OSError:
        return {}
    return out


def read_status(state):
    try:
        with open(os.path.join(state, "status.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def stop(p, grace):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


def write_streamer_config(path, processed, state, node, window, key):
    cfg = {"processed_dir": processed, "state_dir": state, "ipfs_api": node.api,
           "local_gateway": open(os.path.join(node.path, "gateway_url")).read().strip(),
           "window_segments": window, "ipns_key": key, "log_level": "info"}
    with open(path, "w") as f:
        json.dump(cfg, f, indent=1)
    return path


def run_window(args, work, streamer, processed, node, window, seg_seconds):
    tag = f"w{window}"
    state = os.path.join(work, f"daemon-state-{tag}")
    shutil.rmtree(state, ignore_errors=True)
    cfg = write_streamer_config(os.path.join(work, f"daemon-{tag}.json"), processed, state, node, window,
                                f"bench-rss-{tag}")
    logpath = os.path.join(work, f"daemon-{tag}.log")
    full_from_start = False
    if args.preroll > 0 and FAKETIME_LIB and not args.sanitized:
        back = int(window * seg_seconds + 60)
        with open(logpath + ".preroll", "w") as lf:
            # libfaketime preloaded into the daemon itself (the faketime
            # wrapper would stand between it and SIGTERM).
            env = dict(os.environ, LD_PRELOAD=FAKETIME_LIB, FAKETIME=f"-{back}")
            p = subprocess.Popen([streamer, "--config", cfg], stderr=lf, stdout=subprocess.DEVNULL, env=env)
            time.sleep(args.preroll)
            rc = stop(p, 15)
        st = read_status(state)
        if rc != 0 or not st:
            sys.exit(f"streamer_rss: the pre-roll under faketime failed (status {rc}); see {logpath}.preroll")
        full_from_start = True
        log(f"-- window {window}: station put on air {back} s ago (pre-roll of {args.preroll:.0f} s under "
            f"faketime, {st.get('counts', {}).get('publishes', 0)} publishes), restarted on the real clock --")
    else:
        why = "off" if args.preroll <= 0 else "a sanitizer build" if args.sanitized else "faketime missing"
        log(f"-- window {window}: no pre-roll ({why}): the window "
            f"starts at about three target durations and grows one segment per boundary --")
    samples = []
    with open(logpath, "w") as lf:
        t0 = time.monotonic()
        p = subprocess.Popen([streamer, "--config", cfg], stderr=lf, stdout=subprocess.DEVNULL)
        node_rss0 = proc_status(node.pid).get("VmRSS", 0)
        next_at = 1.0
        while True:
            now = time.monotonic() - t0
            if next_at > now:
                time.sleep(next_at - now)
            if p.poll() is not None:
                sys.exit(f"streamer_rss: radio-streamer exited ({p.returncode}) after {now:.0f} s; see {logpath}")
            ps = proc_status(p.pid)
            st = read_status(state)
            c = st.get("counts", {})
            s = {"t": time.monotonic() - t0, "rss": ps.get("VmRSS", 0), "hwm": ps.get("VmHWM", 0),
                 "publishes": c.get("publishes", 0), "failures": c.get("failures", 0),
                 "superseded": c.get("superseded", 0),
                 "window": st.get("newest_sequence", 0) - st.get("media_sequence", 0) + 1 if st else 0,
                 "node_rss": proc_status(node.pid).get("VmRSS", 0)}
            samples.append(s)
            log(f"  t {s['t']:6.1f} s  VmRSS {s['rss']:6d} KiB  VmHWM {s['hwm']:6d} KiB  publishes {s['publishes']:4d}"
                f"  failures {s['failures']}  superseded {s['superseded']}  window {s['window']:4d} segments"
                f"  (node RSS {s['node_rss'] // 1024} MiB)  load {os.getloadavg()[0]:.2f}")
            if s["t"] >= args.seconds:
                break
            next_at += args.every
        final = read_status(state)
        hwm = proc_status(p.pid).get("VmHWM", samples[-1]["hwm"])
        rc = stop(p, 15)
    if rc != 0:
        log(f"  (radio-streamer exited with status {rc} on SIGTERM; see {logpath})")
    c = final.get("counts", {})
    rss = [s["rss"] for s in samples]
    # "after the first minute": what the daemon holds once it has settled.
    settled = next((s for s in samples if s["t"] >= 60), samples[0])
    lp = final.get("last_publish", {})
    log(f"window {window}: {len(samples)} samples over {samples[-1]['t']:.0f} s; VmRSS start {rss[0]} KiB "
        f"(t {samples[0]['t']:.0f} s), at 1 min {settled['rss']} KiB, peak {max(rss)} KiB (VmHWM {hwm} KiB), "
        f"end {rss[-1]} KiB; end - 1 min {rss[-1] - settled['rss']:+d} KiB")
    log(f"window {window}: publishes {c.get('publishes', 0)}, failures {c.get('failures', 0)}, superseded "
        f"{c.get('superseded', 0)}, skipped {c.get('skipped_publishes', 0)}; last publish latency "
        f"{lp.get('latency_seconds', float('nan')):.3f} s; window at the end {samples[-1]['window']} segments; "
        f"full from the first publish: {'yes' if full_from_start else 'no'}; node RSS "
        f"{node_rss0 // 1024} -> {samples[-1]['node_rss'] // 1024} MiB")
    result(f"daemon_{tag}_rss_start_kib", rss[0])
    result(f"daemon_{tag}_rss_1min_kib", settled["rss"])
    result(f"daemon_{tag}_rss_peak_kib", max(max(rss), hwm))
    result(f"daemon_{tag}_rss_end_kib", rss[-1])
    result(f"daemon_{tag}_rss_growth_kib", rss[-1] - settled["rss"])
    result(f"daemon_{tag}_publishes", c.get("publishes", 0))
    result(f"daemon_{tag}_failures", c.get("failures", 0))
    result(f"daemon_{tag}_superseded", c.get("superseded", 0))
    result(f"daemon_{tag}_seconds", f"{samples[-1]['t']:.0f}")
    result(f"daemon_{tag}_window_end", samples[-1]["window"])
    result(f"daemon_{tag}_full_window", "yes" if full_from_start else "no")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build")
    ap.add_argument("--work", default=None, help="work folder (the generated library is kept there and reused)")
    ap.add_argument("--seconds", type=float, default=300)
    ap.add_argument("--every", type=float, default=5)
    ap.add_argument("--windows", default="50,1000")
    ap.add_argument("--segment-seconds", type=float, default=1)
    ap.add_argument("--preroll", type=float, default=8)
    ap.add_argument("--music", default=None, help="cut this folder instead of the generated library")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    setup = os.path.join(build, "setup", "radio-setup")
    streamer = os.path.join(build, "streamer", "radio-streamer")
    for need in (setup, streamer):
        if not os.access(need, os.X_OK):
            sys.exit(f"streamer_rss: {need} is missing; build first")
    # libfaketime cannot be preloaded into a sanitizer build (ASan must be the first library loaded).
    try:
        args.sanitized = "RADIO_SANITIZE:BOOL=ON" in open(os.path.join(build, "CMakeCache.txt")).read()
    except OSError:
        args.sanitized = False
    work = os.path.abspath(args.work or "/tmp/radio-bench-setup")
    os.makedirs(work, exist_ok=True)
    log(f"streamer daemon memory, {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, {os.cpu_count()} CPUs, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    music = os.path.abspath(args.music) if args.music else os.path.join(work, "library")
    if not args.music:
        sb.make_library(music)
    processed = os.path.join(work, "daemon-processed")
    shutil.rmtree(processed, ignore_errors=True)
    with sb.Node(os.path.join(work, "node-daemon")) as node:
        cfg = sb.write_config(work, "daemon", music, processed, node.api, 2, False, args.segment_seconds)
        wall, _ = sb.time_setup(setup, cfg, expect_nothing=False)
        with open(os.path.join(processed, "manifest.json")) as f:
            man = json.load(f)
        nsegs = sum(len(t["segments"]) for t in man["tracks"])
        log(f"library cut in {wall:.0f} s: {len(man['tracks'])} tracks, {nsegs} segments of "
            f"{args.segment_seconds:g} s, on a fresh Kubo node")
        result("daemon_segments", nsegs)
        for w in [int(x) for x in args.windows.split(",") if x]:
            run_window(args, work, streamer, processed, node, w, args.segment_seconds)
    log(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
