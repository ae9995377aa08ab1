"""The station past one node, on existing software, all on loopback:

  - three Kubo nodes (A, B, C) connected to each other; setup adds the
    library to A, and B and C pin it through their own RPC (IPFS Cluster,
    which would do that pinning, is not served by the Go module proxy
    here: see docs/operating.md);
  - a fourth Kubo node, G, that never saw setup, as the gateway (rainbow,
    the public gateways' software, is not served either): it must serve
    every segment byte for byte, fetched from the others over their swarm;
  - the streamer in station mode puts every record to A, B, C and G;
  - nginx (Debian's) in front of G, caching /ipfs/ for a day and /ipns/
    for one target duration;
  - LISTENERS simulated HLS listeners (hls_listeners.py) through nginx for
    LISTEN_SECONDS at real-time pace, while node B is killed (SIGKILL) and
    started again.

Figures printed, and required: no listener stall, the 99th percentile of
the playlist age listeners saw, origin requests per segment behind the
cache, the cache's hit ratio, and memory and CPU of each part.

usage: test_scale_out.py RADIO_SETUP RADIO_STREAMER"""
import base64
import hashlib
import json
import os
import re
import signal
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import radiotest as rt  # noqa: E402
import nginx_cache  # noqa: E402

check = rt.check
SETUP, STREAMER = sys.argv[1:3]
HERE = os.path.dirname(os.path.abspath(__file__))
SEG = 2
LISTENERS = int(os.environ.get("RADIO_SCALE_LISTENERS", "200"))
LISTEN_SECONDS = int(os.environ.get("RADIO_SCALE_SECONDS", "180"))
KILL_AT, DOWN_FOR = LISTEN_SECONDS / 3, LISTEN_SECONDS / 6   # node B: killed then, down that long
MAX_P99_AGE = 3 * SEG + 2           # seconds: the playlist a listener sees is at most this old
MAX_ORIGIN_PER_SEGMENT = 2          # requests the gateway sees for one segment behind the cache
# Loopback peers must be dialable: the server profile filters private ranges.
SWARM = {"Swarm.AddrFilters": [], "Addresses.NoAnnounce": []}

work = tempfile.mkdtemp(prefix="radio-scale-")
procs = []
nodes = {k: rt.Node(os.path.join(work, f"node-{k}"), k, config=SWARM) for k in "ABCG"}


def raw_cid(data):
    """CIDv1, raw codec, sha2-256, base32: what one-block segments are."""
    digest = bytes([0x01, 0x55, 0x12, 0x20]) + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(digest).decode().lower().rstrip("=")


def connect_all():
    ids = {k: json.loads(rt.rpc(n.api, "id"))["ID"] for k, n in nodes.items()}
    for a in "ABCG":
        for b in "ABCG":
            if a < b:
                rt.rpc(nodes[a].api, "swarm/connect",
                       arg=f"/ip4/127.0.0.1/tcp/{nodes[b].ports['Swarm']}/p2p/{ids[b]}")


def make_library():
    music = os.path.join(work, "music")
    os.makedirs(music)
    rt.tagged_songs(music, [(220 + 55 * i, 40) for i in range(4)])
    jingles = os.path.join(work, "jingles")
    os.makedirs(jingles)
    processed = os.path.join(work, "processed")
    t0 = time.time()
    rt.run_setup(SETUP, work, music, processed_dir=processed, jingles_dir=jingles, ipfs_api=nodes["A"].api,
                 segment_seconds=SEG, progress="lines", page_dir="")
    took = time.time() - t0
    with open(os.path.join(processed, "manifest.json")) as f:
        cids = [s["cid"] for t in json.load(f)["tracks"] for s in t["segments"]]
    return processed, cids, took


def pin_on(node, cids):
    t0 = time.time()
    for i in range(0, len(cids), 50):
        q = "&".join(f"arg={c}" for c in cids[i:i + 50])
        req = urllib.request.Request(f"{node.api}/api/v0/pin/add?{q}", data=b"", method="POST")
        urllib.request.urlopen(req, timeout=120).read()
    return time.time() - t0


def usage(pid):
    """(resident MiB, CPU seconds) of a process and its children so far."""
    rss = cpu = 0.0
    for p in [pid] + children(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                rss += int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, AttributeError):
            pass
    return rss, cpu


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except OSError:
                pass
    return out


def test_scale_out():
    for n in nodes.values():
        n.start()
    connect_all()
    processed, cids, setup_took = make_library()
    pin_b, pin_c = pin_on(nodes["B"], cids), pin_on(nodes["C"], cids)
    print(f"     library: {len(cids)} segments; setup onto A {setup_took:.1f}s; pinned on B {pin_b:.1f}s, "
          f"on C {pin_c:.1f}s")
    t0 = time.time()
    for cid in cids:
        with urllib.request.urlopen(f"{nodes['G'].gateway}/ipfs/{cid}", timeout=60) as r:
            check(raw_cid(r.read()) == cid, f"G served other bytes for {cid}")
    print(f"     G, which never saw setup, served all {len(cids)} segments, verified, in {time.time() - t0:.1f}s")

    state = os.path.join(work, "state")
    cfg = rt.write_streamer_config(os.path.join(work, "streamer.json"), processed, state, nodes["A"].api,
                                   nodes["G"].gateway, ipns_mode="station", ipns_ttl_seconds=SEG,
                                   ipns_kubo_targets=[n.api for n in nodes.values()], window_segments=10)
    streamer = rt.spawn(procs, [STREAMER, "--config", cfg], os.path.join(work, "streamer.log"))
    name = rt.wait_for(lambda: rt.read_status(state).get("last_publish", {}).get("time")
                       and rt.read_status(state)["ipns_name"], 60, "the first publish")
    for k, n in nodes.items():
        rt.wait_for(lambda: b"#EXTM3U" in urllib.request.urlopen(f"{n.gateway}/ipns/{name}", timeout=10).read(),
                    60, f"node {k}'s gateway to serve the station")

    root = os.path.join(work, "nginx")
    proxy = nginx_cache.start(procs, root, nodes["G"].gateway, ipns_seconds=SEG)
    ngx = procs[-1]

    out = os.path.join(work, "listeners.json")
    parts = {"streamer": streamer.pid, "nginx": ngx.pid, **{f"kubo {k}": n.proc.pid for k, n in nodes.items()}}
    before = {k: usage(pid) for k, pid in parts.items()}
    t_listen = time.time()
    load = rt.spawn(procs, [sys.executable, os.path.join(HERE, "hls_listeners.py"), f"{proxy}/ipns/{name}",
                            str(LISTENERS), str(LISTEN_SECONDS), out], os.path.join(work, "listeners.log"))
    parts["listeners"] = load.pid
    before["listeners"] = usage(load.pid)
    time.sleep(max(0, t_listen + KILL_AT - time.time()))
    nodes["B"].proc.send_signal(signal.SIGKILL)
    nodes["B"].proc.wait()
    time.sleep(DOWN_FOR)
    nodes["B"].start()
    parts["kubo B"] = nodes["B"].proc.pid
    before["kubo B"] = usage(nodes["B"].proc.pid)
    connect_all()
    time.sleep(max(0, t_listen + LISTEN_SECONDS - 5 - time.time()))
    after = {k: usage(pid) for k, pid in parts.items()}
    check(load.wait(timeout=LISTEN_SECONDS + 60) == 0, f"listeners: {rt.file_tail(os.path.join(work, 'listeners.log'))}")
    wall = time.time() - t_listen

    with open(out) as f:
        result = json.load(f)
    stalls = sum(r["stalls"] for r in result)
    played = sum(r["played"] for r in result)
    ages = sorted(a for r in result for a in r["ages"])
    p99 = ages[int(0.99 * (len(ages) - 1))]
    log = nginx_cache.access_log(root)
    seg_lines = [l for l in log if l[2].startswith("/ipfs/")]
    origin = [l for l in seg_lines if l[0] in ("MISS", "EXPIRED", "BYPASS", "-")]
    distinct = {l[2].split("?")[0] for l in seg_lines}
    hits = sum(1 for l in log if l[0] in ("HIT", "UPDATING", "STALE"))
    print(f"     {LISTENERS} listeners for {wall:.0f}s: {played} segments played, {stalls} stalls, "
          f"{sum(r['errors'] for r in result)} request errors")
    print(f"     playlist age seen: median {ages[len(ages) // 2]:.2f}s, p99 {p99:.2f}s, max {ages[-1]:.2f}s")
    print(f"     cache: {len(log)} requests, hit ratio {hits / len(log):.3f}; origin requests per segment "
          f"{len(origin) / max(1, len(distinct)):.2f} ({len(origin)} for {len(distinct)} segments)")
    for k in parts:
        rss, cpu = after[k]
        print(f"     {k:10s} RSS {rss:7.1f} MiB, CPU {cpu - before[k][1]:6.1f}s over the listening")
    check(played >= LISTENERS * 0.9 * LISTEN_SECONDS / SEG, f"only {played} segments played")
    check(stalls == 0, f"{stalls} stalls")
    check(p99 <= MAX_P99_AGE, f"p99 playlist age {p99:.2f}s")
    check(len(origin) / max(1, len(distinct)) <= MAX_ORIGIN_PER_SEGMENT, "the cache let segments through")
    st = rt.read_status(state)
    targets = {t["url"]: t for t in st.get("ipns_targets", [])}
    check(targets[nodes["B"].api].get("ok"), f"node B takes records again after its restart: {targets}")


def cleanup():
    rt.stop_all(procs, 20)
    for n in nodes.values():
        n.stop()


if __name__ == "__main__":
    rt.run_tests(globals(), work, cleanup=cleanup)
