#!/usr/bin/env python3
"""radio-healthmon benchmarks.

1. Loudness of one 6-second station segment (AAC-LC 128 kb/s, 48 kHz stereo,
   MPEG-TS): `radio-healthmon --analyze SEG` (decode, integrated and
   short-term loudness, sample peak, RMS, silence, clips; and again with
   true_peak on) against `ffmpeg -i SEG -af ebur128 -f null -` on the same
   file, interleaved, in the same run. Reports CPU and wall time per run
   and their ratio.
2. Monitoring cost: the daemon at the default interval against three
   loopback gateways (one local, two "public") serving a live 50-segment
   window of 6 s segments; CPU seconds the process used, per hour; with the
   default config and with true_peak on.

usage: bench/healthmon_bench.py BUILD_DIR/healthmon/radio-healthmon [--reps N] [--seconds S]
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import healthmon_fakes as hf  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd):
    c0, w0 = child_cpu(), time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed: {p.stderr.decode()[-2000:]}")
    return child_cpu() - c0, time.perf_counter() - w0, p


def bench_loudness(binary, work, config, tp_config, reps):
    seg = hf.make_track(work, "one", hf.music_source(220, -16, 6), 6, 6)[0][0]
    cmds = {
        "healthmon": [binary, "--config", config, "--analyze", seg],
        "healthmon, true_peak on": [binary, "--config", tp_config, "--analyze", seg],
        "ffmpeg ebur128": ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", seg, "-af", "ebur128",
                           "-f", "null", "-"],
    }
    for cmd in cmds.values():
        timed(cmd)   # warm the page cache and the dynamic loader
    runs = {name: [] for name in cmds}
    for _ in range(reps):
        for name, cmd in cmds.items():
            runs[name].append(timed(cmd)[:2])
    out = subprocess.run(cmds["healthmon"], capture_output=True, text=True).stdout
    lufs = json.loads(out)["audio"]["integrated_lufs"]
    print(f"1. loudness of one 6 s segment ({os.path.getsize(seg)} bytes, {lufs:.2f} LUFS), {reps} runs "
          f"each, interleaved; whole processes, start-up included")
    cpu = {}
    for name, r in runs.items():
        c = sorted(x for x, _ in r)
        w = sorted(x for _, x in r)
        cpu[name] = statistics.median(c)
        print(f"   {name:25s} cpu median {1000 * cpu[name]:6.1f} ms (min {1000 * c[0]:6.1f});"
              f"  wall median {1000 * statistics.median(w):6.1f} ms")
    ref = cpu["ffmpeg ebur128"]
    print(f"   ffmpeg / healthmon cpu: {ref / cpu['healthmon']:.2f}x (default, no true peak, like "
          f"ffmpeg's ebur128 by default); {ref / cpu['healthmon, true_peak on']:.2f}x with true peak")


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def bench_monitoring(binary, work, seconds, true_peak):
    # Longer than the run: a looping station would repeat segments, and the
    # monitor rightly reuses measurements of bytes it has already verified.
    length = int(seconds) + 120
    segs = []
    for path, dur in hf.make_track(work, "station", hf.music_source(262, -11, length), length, 6):
        with open(path, "rb") as f:
            data = f.read()
        segs.append((hf.raw_cid(data), dur, data))
    station = hf.Station([(c, d, 0) for c, d, _ in segs], epoch=time.time() - 1, window=50)
    blocks = {c: d for c, _, d in segs}
    gws = [hf.Gateway(playlist=lambda: station.playlist(time.time()), blocks=blocks) for _ in range(3)]
    config = hf.write_config(os.path.join(work, "mon.json"), ipns_name="bench", local_gateway=gws[0].url,
                             public_gateways=[g.url for g in gws[1:]], true_peak=true_peak)
    mon = hf.Monitor(binary, config, work)
    try:
        _, doc = mon.wait_round(0)
        interval = doc["interval_seconds"]
        first = doc["round"]
        c0, t0 = proc_cpu(mon.proc.pid), time.time()
        time.sleep(seconds)
        _, doc = mon.health()
        c1, t1 = proc_cpu(mon.proc.pid), time.time()
    finally:
        mon.stop()
        for g in gws:
            g.close()
    rounds = doc["round"] - first
    local = doc["gateways"][0]
    print(f"2. monitoring, true_peak {'on' if true_peak else 'off (default)'}: 3 gateways, interval {interval:g} s "
          f"(default), {t1 - t0:.0f} s, {rounds} rounds, last status {doc['status']} {doc['reasons']}")
    print(f"   each round: {local['audio']['seconds']:.1f} s of audio measured ({local['audio']['integrated_lufs']:.1f}"
          f" LUFS), reused by the other gateways: {[g['audio']['shared_measurement'] for g in doc['gateways'][1:]]}")
    print(f"   cpu {c1 - c0:.2f} s = {1000 * (c1 - c0) / max(rounds, 1):.0f} ms/round = "
          f"{(c1 - c0) / (t1 - t0) * 3600:.1f} cpu-seconds per hour of monitoring "
          f"({100 * (c1 - c0) / (t1 - t0):.2f}% of one core)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("healthmon")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=120)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="healthmon-bench-")
    try:
        config = hf.write_config(os.path.join(work, "c.json"), ipns_name="bench")
        tp = hf.write_config(os.path.join(work, "c-tp.json"), ipns_name="bench", true_peak=True)
        print(f"machine: {os.cpu_count()} cpus, {os.uname().machine}; "
              f"{subprocess.run(['ffmpeg', '-version'], capture_output=True, text=True).stdout.splitlines()[0]}")
        bench_loudness(a.healthmon, work, config, tp, a.reps)
        bench_monitoring(a.healthmon, work, a.seconds, False)
        bench_monitoring(a.healthmon, work, a.seconds, True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
