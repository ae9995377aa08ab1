#!/usr/bin/env python3
"""radio-setup benchmarks (issue 2), each against its reference in the same run.

1. Cold setup of a generated library (12 music-like tracks of 60-120 s, mixed
   mp3/flac/ogg), throughput = audio seconds per wall second, against the
   common script approach (bench/script_approach.sh: one ffmpeg HLS process
   per track resampling to the station's format -- 48 kHz stereo AAC at the
   station's bitrate, 6 s segments -- then one curl add per segment), run one
   track at a time and two at a time (xargs -P2). Configurations, interleaved
   in every round with a rotating start: script jobs=1, script jobs=2;
   radio-setup jobs=1, jobs=2 with loudness normalisation off; jobs=1 with it
   on. Like is compared with like: radio-setup jobs=1 against the script one
   track at a time, jobs=2 against the script two at a time. Every cold run
   gets a fresh processed/ and a fresh IPFS node (started before the clock
   starts). Targets: jobs=1 >= 1.0x the script, jobs=2 >= 1.8x the script at
   two tracks at a time (normalisation off); normalisation's cost is reported
   as wall(on) / wall(off) at jobs=1. Every round's ratio is printed.
2. Upload: the segments radio-setup produced, added to a node as setup does
   (bench_upload: upload_files, 64 per multipart request) against one request
   per segment from one process (bench_upload with batch 1: the headline,
   one process against one process) and, for information, one request per
   segment from one curl process each (as a shell script would). Every timed
   add goes to a fresh node (started before the clock starts), so every add
   stores new blocks; nothing is re-added to a node that holds it.
3. A cached re-run over a 1,000-track manifest: 1,000 distinct 2-second ogg
   files, one cold run (jobs=2, normalisation off, timed), then repeated
   cached runs (median), interleaved with the node's own pin/ls answer time
   (the cached run asks for it) and radio-setup --version (process start).
   Target: under 0.5 s.

usage: bench/setup_bench.py BUILD_DIR [--work DIR] [--rounds N] [--upload-rounds N]
                            [--cached-runs N] [--only cold,upload,cached]

Prints a report and lines "RESULT<TAB>name<TAB>value" for bench/run.sh.
"""
import argparse
import glob
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NODE_CMD = [sys.executable, os.path.join(ROOT, "tools", "kubo_node.py")]
SCRIPT = os.path.join(HERE, "script_approach.sh")
CLK_TCK = os.sysconf("SC_CLK_TCK")
# The station's format, written into every radio-setup config and given to
# the script, so that both produce the same thing (setup's defaults).
BITRATE_KBPS = 128
SEGMENT_SECONDS = 6


def log(*a):
    print(*a, flush=True)


def result(name, value):
    print(f"RESULT\t{name}\t{value}", flush=True)


def run(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if p.returncode != 0:
        sys.exit(f"setup_bench: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return p


def machine_times():
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return sum(v) - idle, sum(v)


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class Node:
    """A throwaway Kubo node (tools/kubo_node.py)."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        shutil.rmtree(self.path, ignore_errors=True)
        self.api = run([*NODE_CMD, "start", self.path]).stdout.strip()
        with open(os.path.join(self.path, "pid")) as f:
            self.pid = int(f.read().strip())
        time.sleep(1.0)  # let start-up work settle before any clock starts
        return self

    def __exit__(self, *exc):
        subprocess.run([*NODE_CMD, "stop", self.path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.path, ignore_errors=True)

    def cpu(self):
        """CPU seconds the node process has used."""
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / CLK_TCK
        except OSError:
            return float("nan")


# --- libraries ---------------------------------------------------------------

def make_library(d):
    """12 music-like tracks, 60-120 s: a detuned chord with tremolo and vibrato
    over pink noise; mp3 44.1 kHz, flac 48 kHz, ogg 44.1 kHz in turn."""
    os.makedirs(d, exist_ok=True)
    roots = [220, 196, 246.94, 261.63, 174.61, 293.66, 164.81, 233.08, 207.65, 185, 277.18, 155.56]
    kinds = [("mp3", 44100, ["-c:a", "libmp3lame", "-b:a", "192k"]),
             ("flac", 48000, ["-c:a", "flac"]),
             ("ogg", 44100, ["-c:a", "libvorbis", "-q:a", "5"])]
    for i, r in enumerate(roots):
        secs = 60 + (i * 37) % 61
        ext, rate, codec = kinds[i % 3]
        path = os.path.join(d, f"{i + 1:02d} Bench Band - Piece {i + 1}.{ext}")
        if os.path.exists(path):
            continue
        expr = (f"0.22*sin(2*PI*{r}*t)*(0.7+0.3*sin(2*PI*1.7*t))"
                f"+0.16*sin(2*PI*{r * 1.2599}*t+0.5*sin(2*PI*5*t))"
                f"+0.12*sin(2*PI*{r * 1.4983}*t)*(0.5+0.5*sin(2*PI*0.25*t))"
                f"+0.10*sin(2*PI*{r / 2}*t)*exp(-3*mod(t\\,0.5))")
        tmp = path + ".tmp." + ext
        run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y",
             "-f", "lavfi", "-i", f"aevalsrc={expr}|{expr}:s={rate}:d={secs}",
             "-f", "lavfi", "-i", f"anoisesrc=c=pink:a=0.04:r={rate}:d={secs}:seed={i + 1}",
             "-filter_complex", "[1:a]pan=stereo|c0=c0|c1=c0[n];[0:a][n]amix=inputs=2:normalize=0,"
             "afade=t=in:d=1,afade=t=out:st=%d:d=2[a]" % (secs - 2),
             "-map", "[a]", "-metadata", "artist=Bench Band", "-metadata", f"title=Piece {i + 1}",
             *codec, tmp])
        os.rename(tmp, path)
    return sorted(glob.glob(os.path.join(d, "*.*")))


def make_short_library(d, n=1000, secs=2):
    """n distinct ogg files of `secs` seconds, cut in one ffmpeg run from a long signal."""
    if len(glob.glob(os.path.join(d, "*.ogg"))) == n:
        return
    shutil.rmtree(d, ignore_errors=True)
    tmp = d + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    total = n * secs + secs
    run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"anoisesrc=c=pink:a=0.05:r=44100:d={total}:seed=11",
         "-f", "lavfi", "-i", f"aevalsrc=0.3*sin(2*PI*(220+20*floor(t/{secs}))*t):s=44100:d={total}",
         "-filter_complex", "[0:a][1:a]amix=inputs=2,pan=stereo|c0=c0|c1=c0",
         "-c:a", "libvorbis", "-q:a", "3", "-f", "segment", "-segment_time", str(secs),
         os.path.join(tmp, "%04d.ogg")])
    files = sorted(glob.glob(os.path.join(tmp, "*.ogg")))[:n]
    for f in sorted(glob.glob(os.path.join(tmp, "*.ogg")))[n:]:
        os.unlink(f)
    if len(files) != n:
        sys.exit(f"setup_bench: expected {n} short files, got {len(files)}")
    for k, f in enumerate(files):
        os.rename(f, os.path.join(tmp, f"Short Band - Clip {k:04d}.ogg"))
    os.rename(tmp, d)


def audio_seconds(files):
    total = 0.0
    for f in files:
        p = run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", f])
        total += float(json.loads(p.stdout)["format"]["duration"])
    return total


# --- runs ----------------------------------------------------------------------

def write_config(work, name, music, processed, api, jobs, normalize, segment_seconds=None):
    jingles = os.path.join(work, "no-jingles")
    os.makedirs(jingles, exist_ok=True)
    pc = os.path.join(work, f"{name}.playlist.json")
    with open(pc, "w") as f:
        json.dump({"source": music}, f)
    cfg = os.path.join(work, f"{name}.setup.json")
    with open(cfg, "w") as f:
        json.dump({"processed_dir": processed, "jingles_dir": jingles, "playlist_config": pc,
                   "ipfs_api": api, "jobs": jobs, "loudness_normalize": normalize,
                   # Dead-air trimming is its own feature (and the script does
                   # not trim): off, so "on" against "off" is normalisation alone.
                   "trim_silence": False,
                   "progress": "lines", "log_level": "info",
                   "bitrate_kbps": BITRATE_KBPS, "sample_rate": 48000, "channels": 2,
                   "segment_seconds": segment_seconds or SEGMENT_SECONDS}, f, indent=1)
    return cfg


def time_setup(binary, cfg, expect_nothing=None):
    c0, w0 = child_cpu(), time.perf_counter()
    p = subprocess.run([binary, "--config", cfg], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall, cpu = time.perf_counter() - w0, child_cpu() - c0
    if p.returncode != 0:
        sys.exit(f"setup_bench: radio-setup --config {cfg} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    nothing = "nothing changed" in p.stderr
    if expect_nothing is not None and nothing != expect_nothing:
        sys.exit(f"setup_bench: radio-setup {'did work on a cached run' if expect_nothing else 'did nothing on a cold run'}:"
                 f"\n{p.stderr[-3000:]}")
    return wall, cpu


def time_script(music, out, api, jobs):
    c0, w0 = child_cpu(), time.perf_counter()
    run([SCRIPT, music, out, api, str(jobs), str(BITRATE_KBPS), str(SEGMENT_SECONDS)])
    return time.perf_counter() - w0, child_cpu() - c0


def fmt_range(v, f="{:.2f}"):
    return f"{f.format(statistics.median(v))} ({f.format(min(v))}..{f.format(max(v))})"


def bench_cold(args, work, binary):
    music = os.path.join(work, "library")
    log("== cold setup: generating the library (once; reused from --work) ==")
    files = make_library(music)
    audio = audio_seconds(files)
    log(f"library: {len(files)} tracks, {audio:.1f} s of audio ({audio / 60:.1f} min), "
        f"{sum(os.path.getsize(f) for f in files) / 1e6:.1f} MB")
    configs = ["script", "script_j2", "ours_j1_off", "ours_j2_off", "ours_j1_on"]
    walls = {c: [] for c in configs}
    cpus = {c: [] for c in configs}
    node_cpus = {c: [] for c in configs}
    other_load = {c: [] for c in configs}
    last_processed = None
    for rnd in range(args.rounds):
        order = configs[rnd % len(configs):] + configs[:rnd % len(configs)]
        for c in order:
            out = os.path.join(work, "cold", f"r{rnd}-{c}")
            shutil.rmtree(out, ignore_errors=True)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with Node(os.path.join(work, "node-cold")) as node:
                n0 = node.cpu()
                b0, t0 = machine_times()
                if c.startswith("script"):
                    wall, cpu = time_script(music, out, node.api, 2 if c == "script_j2" else 1)
                else:
                    jobs = 2 if "_j2_" in c else 1
                    cfg = write_config(work, "cold", music, out, node.api, jobs, c.endswith("_on"))
                    wall, cpu = time_setup(binary, cfg, expect_nothing=False)
                ncpu = node.cpu() - n0
                b1, t1 = machine_times()
            ncores = os.cpu_count() or 1
            # Cores' worth of CPU the whole machine used during the run, and
            # how much of that was not this benchmark (other people's jobs).
            busy = (b1 - b0) / max(t1 - t0, 1) * ncores
            others = max(busy - (cpu + ncpu) / wall, 0.0)
            walls[c].append(wall)
            cpus[c].append(cpu)
            node_cpus[c].append(ncpu)
            other_load[c].append(others)
            log(f"round {rnd + 1} {c:12s} wall {wall:6.2f} s  throughput {audio / wall:6.1f}x realtime  "
                f"cpu {cpu:6.2f} s  node cpu {ncpu:5.2f} s  machine busy {busy:.2f} of {ncores} cores, "
                f"{others:.2f} of it other jobs")
            if c == "ours_j1_off":
                if last_processed:
                    shutil.rmtree(last_processed, ignore_errors=True)
                last_processed = out
            else:
                shutil.rmtree(out, ignore_errors=True)
    log("")
    log(f"{'configuration':14s} {'throughput (x realtime) median (min..max)':>44s} {'wall s':>8s} {'cpu s':>7s} "
        f"{'node cpu s':>10s} {'other jobs (cores)':>18s}")
    for c in configs:
        tp = [audio / w for w in walls[c]]
        log(f"{c:14s} {fmt_range(tp, '{:.1f}'):>44s} {statistics.median(walls[c]):8.2f} "
            f"{statistics.median(cpus[c]):7.2f} {statistics.median(node_cpus[c]):10.2f} "
            f"{statistics.median(other_load[c]):18.2f}")
        result(f"cold_{c}_x_realtime", f"{statistics.median(tp):.1f}")
    r1 = [s / o for s, o in zip(walls["script"], walls["ours_j1_off"])]
    r2 = [s / o for s, o in zip(walls["script_j2"], walls["ours_j2_off"])]
    rn = [on / off for on, off in zip(walls["ours_j1_on"], walls["ours_j1_off"])]
    log(f"throughput vs script (per round, same round): jobs=1 vs script one track at a time "
        f"{fmt_range(r1)}x (target >= 1.0), jobs=2 vs script two at a time {fmt_range(r2)}x (target >= 1.8)")
    log("every round: jobs=1 " + ", ".join(f"{x:.2f}" for x in r1) + "; jobs=2 " + ", ".join(f"{x:.2f}" for x in r2)
        + "; normalisation cost " + ", ".join(f"{x:.2f}" for x in rn))
    result("cold_ratio_j1_rounds", ",".join(f"{x:.2f}" for x in r1))
    result("cold_ratio_j2_rounds", ",".join(f"{x:.2f}" for x in r2))
    result("cold_norm_cost_rounds", ",".join(f"{x:.2f}" for x in rn))
    log(f"normalisation cost at jobs=1: wall(on)/wall(off) = {fmt_range(rn)}")
    c1 = [s / o for s, o in zip(cpus["script"], cpus["ours_j1_off"])]
    c2 = [s / o for s, o in zip(cpus["script_j2"], cpus["ours_j2_off"])]
    cn = [on / off for on, off in zip(cpus["ours_j1_on"], cpus["ours_j1_off"])]
    par = [c / w for c, w in zip(cpus["ours_j2_off"], walls["ours_j2_off"])]
    spar = [c / w for c, w in zip(cpus["script_j2"], walls["script_j2"])]
    log(f"cpu seconds (the process and its children, node excluded), script/ours: jobs=1 {fmt_range(c1)}x, "
        f"jobs=2 {fmt_range(c2)}x; normalisation cpu on/off {fmt_range(cn)}")
    log(f"jobs=2 parallelism achieved (cpu/wall): radio-setup {fmt_range(par)} cores, script {fmt_range(spar)} "
        f"cores; other jobs on the machine used {fmt_range(other_load['ours_j2_off'])} cores meanwhile")
    result("cold_script_j2_parallelism", f"{statistics.median(spar):.2f}")
    result("cold_cpu_ratio_j1", f"{statistics.median(c1):.2f}")
    result("cold_cpu_ratio_j2", f"{statistics.median(c2):.2f}")
    result("cold_norm_cpu_cost", f"{statistics.median(cn):.2f}")
    result("cold_j2_parallelism", f"{statistics.median(par):.2f}")
    result("cold_other_load_cores", f"{statistics.median([x for v in other_load.values() for x in v]):.2f}")
    result("cold_ratio_j1", f"{statistics.median(r1):.2f}")
    result("cold_ratio_j1_min", f"{min(r1):.2f}")
    result("cold_ratio_j1_max", f"{max(r1):.2f}")
    result("cold_ratio_j2", f"{statistics.median(r2):.2f}")
    result("cold_ratio_j2_min", f"{min(r2):.2f}")
    result("cold_ratio_j2_max", f"{max(r2):.2f}")
    result("cold_norm_cost", f"{statistics.median(rn):.2f}")
    result("cold_norm_cost_min", f"{min(rn):.2f}")
    result("cold_norm_cost_max", f"{max(rn):.2f}")
    result("cold_audio_s", f"{audio:.1f}")
    return last_processed


def bench_upload(args, work, build, processed):
    tool = os.path.join(build, "bench", "bench_upload")
    if not processed:
        music = os.path.join(work, "library")
        make_library(music)
        processed = os.path.join(work, "upload-processed")
        shutil.rmtree(processed, ignore_errors=True)
        with Node(os.path.join(work, "node-upload")) as node:
            cfg = write_config(work, "upload", music, processed, node.api, 2, False)
            time_setup(os.path.join(build, "setup", "radio-setup"), cfg)
    segs = sorted(glob.glob(os.path.join(processed, "segments", "**", "*.ts"), recursive=True))
    lst = os.path.join(work, "upload-list.txt")
    with open(lst, "w") as f:
        f.write("\n".join(segs) + "\n")
    nbytes = sum(os.path.getsize(s) for s in segs)
    log(f"\n== upload: {len(segs)} segment files, {nbytes / 1e6:.1f} MB (mean {nbytes / len(segs) / 1024:.0f} KiB) ==")
    curl_loop = ('while IFS= read -r f; do curl -sf -X POST -F "file=@$f" '
                 '"$API/api/v0/add?cid-version=1&raw-leaves=true&pin=true" >/dev/null || exit 1; done < "$LIST"')

    def batched(api, n):
        p = run([tool, api, str(n), lst])
        return float(p.stdout.split("seconds=")[1].split()[0])

    def per_file_curl(api):
        w0 = time.perf_counter()
        run(["bash", "-c", curl_loop], env=dict(os.environ, API=api, LIST=lst))
        return time.perf_counter() - w0

    ways = {"batch64": lambda api: batched(api, 64), "batch1_one_process": lambda api: batched(api, 1),
            "curl_per_file": per_file_curl}
    names = list(ways)
    t = {k: [] for k in names}
    busy = []
    for rnd in range(args.upload_rounds):
        order = names[rnd % len(names):] + names[:rnd % len(names)]
        for k in order:
            # A fresh node for every timed add: all its blocks are new to it.
            with Node(os.path.join(work, "node-upload")) as node:
                b0, t0 = machine_times()
                t[k].append(ways[k](node.api))
                b1, t1 = machine_times()
            busy.append((b1 - b0) / max(t1 - t0, 1) * (os.cpu_count() or 1))
        log(f"round {rnd + 1} (fresh node each): " + "  ".join(f"{k} {t[k][-1]:.2f} s" for k in names)
            + f"  machine busy {min(busy[-3:]):.2f}..{max(busy[-3:]):.2f} cores")
    log(f"{'way':20s} {'files/s median (min..max)':>28s}")
    for k in names:
        fps = [len(segs) / x for x in t[k]]
        log(f"{k:20s} {fmt_range(fps, '{:.0f}'):>28s}")
        result(f"upload_{k}_files_per_s", f"{statistics.median(fps):.0f}")
    r1 = [o / b for o, b in zip(t["batch1_one_process"], t["batch64"])]
    rc = [c / b for c, b in zip(t["curl_per_file"], t["batch64"])]
    log(f"batched (64) vs one request per file, both one process: {fmt_range(r1)}x; "
        f"every round: {', '.join(f'{x:.2f}' for x in r1)}")
    log(f"(for information) batched vs one curl process per file: {fmt_range(rc)}x; "
        f"every round: {', '.join(f'{x:.2f}' for x in rc)}")
    result("upload_ratio_vs_batch1", f"{statistics.median(r1):.2f}")
    result("upload_ratio_vs_batch1_min", f"{min(r1):.2f}")
    result("upload_ratio_vs_batch1_max", f"{max(r1):.2f}")
    result("upload_ratio_vs_batch1_rounds", ",".join(f"{x:.2f}" for x in r1))
    result("upload_ratio_vs_curl", f"{statistics.median(rc):.2f}")
    result("upload_ratio_vs_curl_min", f"{min(rc):.2f}")
    result("upload_ratio_vs_curl_max", f"{max(rc):.2f}")
    result("upload_ratio_vs_curl_rounds", ",".join(f"{x:.2f}" for x in rc))
    result("upload_files", len(segs))


def bench_cached(args, work, binary, secs=2, segment_seconds=None, tag="cached"):
    """1,000 tracks of `secs` seconds, cut into segments of segment_seconds
    (default: setup's 6 s, so one segment per track)."""
    music = os.path.join(work, f"short1000x{secs}")
    log(f"\n== {tag}: cached re-run over 1,000 tracks of {secs} s"
        f"{f', segment_seconds {segment_seconds}' if segment_seconds else ''} ==")
    make_short_library(music, 1000, secs)
    processed = os.path.join(work, f"{tag}-processed")
    shutil.rmtree(processed, ignore_errors=True)
    nfiles = len(glob.glob(os.path.join(music, "*.ogg")))
    with Node(os.path.join(work, f"node-{tag}")) as node:
        cfg = write_config(work, tag, music, processed, node.api, 2, False, segment_seconds)
        n0 = node.cpu()
        cold, cold_cpu = time_setup(binary, cfg, expect_nothing=False)
        ncpu = node.cpu() - n0
        with open(os.path.join(processed, "manifest.json")) as f:
            man = json.load(f)
        tracks = man["tracks"]
        nsegs = sum(len(t["segments"]) for t in tracks)
        log(f"cold run: {len(tracks)} tracks ({nfiles} files), {nsegs} segments: wall {cold:.1f} s, "
            f"setup cpu {cold_cpu:.1f} s, node cpu {ncpu:.1f} s, {cold / len(tracks) * 1000:.0f} ms per track")
        result(f"{tag}_cold_run_s", f"{cold:.1f}")
        result(f"{tag}_tracks", len(tracks))
        result(f"{tag}_segments", nsegs)
        mstat = os.stat(os.path.join(processed, "manifest.json"))

        def pin_ls():
            w0 = time.perf_counter()
            run(["curl", "-sf", "-X", "POST", "-o", "/dev/null",
                 f"{node.api}/api/v0/pin/ls?type=recursive&cid-base=base32"])
            return time.perf_counter() - w0

        def version():
            w0 = time.perf_counter()
            run([binary, "--version"])
            return time.perf_counter() - w0

        time_setup(binary, cfg, expect_nothing=True)  # warm the page cache
        cached, pins, vers = [], [], []
        for _ in range(args.cached_runs):
            cached.append(time_setup(binary, cfg, expect_nothing=True)[0])
            pins.append(pin_ls())
            vers.append(version())
        m2 = os.stat(os.path.join(processed, "manifest.json"))
        if (m2.st_mtime_ns, m2.st_size) != (mstat.st_mtime_ns, mstat.st_size):
            sys.exit("setup_bench: a cached run rewrote manifest.json")
    med = statistics.median(cached)
    log(f"cached run ({args.cached_runs} runs): median {med * 1000:.0f} ms "
        f"(min {min(cached) * 1000:.0f}, max {max(cached) * 1000:.0f}); target < 500 ms: "
        f"{'met' if med < 0.5 else 'NOT met'}")
    log(f"  same run: node pin/ls answer {statistics.median(pins) * 1000:.0f} ms (curl), "
        f"radio-setup --version {statistics.median(vers) * 1000:.0f} ms")
    result(f"{tag}_run_ms", f"{med * 1000:.0f}")
    result(f"{tag}_run_ms_min", f"{min(cached) * 1000:.0f}")
    result(f"{tag}_run_ms_max", f"{max(cached) * 1000:.0f}")
    result(f"{tag}_pin_ls_ms", f"{statistics.median(pins) * 1000:.0f}")
    result(f"{tag}_version_ms", f"{statistics.median(vers) * 1000:.0f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build")
    ap.add_argument("--work", default=None, help="work folder (libraries are kept there and reused)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--upload-rounds", type=int, default=3)
    ap.add_argument("--cached-runs", type=int, default=7)
    ap.add_argument("--only", default="cold,upload,cached",
                    help="comma-separated parts; 'cached10k' (not in the default) is the cached re-run over "
                         "1,000 tracks of 10 s cut into 1 s segments: 10,000 segments, as many as a real "
                         "library of ~290 tracks of 3.5 min; its cold run takes many minutes")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    binary = os.path.join(build, "setup", "radio-setup")
    for need in (binary, os.path.join(build, "bench", "bench_upload")):
        if not os.access(need, os.X_OK):
            sys.exit(f"setup_bench: {need} is missing; build first")
    for tool in ("ffmpeg", "ffprobe", "curl"):
        if not shutil.which(tool):
            sys.exit(f"setup_bench: {tool} is needed")
    work = os.path.abspath(args.work or "/tmp/radio-bench-setup")
    os.makedirs(work, exist_ok=True)
    parts = set(args.only.split(","))
    log(f"setup benchmarks, {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, {os.cpu_count()} CPUs, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    processed = None
    if "cold" in parts:
        processed = bench_cold(args, work, binary)
    if "upload" in parts:
        bench_upload(args, work, build, processed)
    if "cached" in parts:
        bench_cached(args, work, binary)
    if "cached10k" in parts:
        bench_cached(args, work, binary, secs=10, segment_seconds=1, tag="cached10k")
    log(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
