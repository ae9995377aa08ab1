"""Listeners behind gateways that serve old playlists. The station runs on
a Kubo node of this test's own with a listen delay of DELAY seconds
(EXT-X-START:TIME-OFFSET=-DELAY). In front of the node's gateway:

  - "stale": Debian's nginx keeping /ipns/ answers for STALE_FOR seconds,
    whatever the gateway's Cache-Control says (a CDN or a gateway caching
    for a long TTL);
  - "resolving": the same nginx in front of a proxy that holds every
    /ipns/ request RESOLVE_FOR seconds before passing it on, so the first
    request after each expiry waits that long while the others get the old
    answer (a gateway resolving the name on the DHT).

Three headless Chromium listeners open the listener page at the same time,
one through each (the node directly, stale, resolving), and listen for
LISTEN seconds. Judged from outside the page (hls.js's programme time of
the playing moment and the media element's position, sampled every
SAMPLE_MS by tests/browser/listen.mjs), after SETTLE seconds of start-up:
each plays at least MIN_RATE of wall time, never stands still longer than
MAX_STALL_MS, and all three play the same moment of the programme within
MAX_APART seconds, DELAY behind air. ffmpeg, honouring EXT-X-START
(-prefer_x_start 1), reads through the stale front for FFMPEG_FOR seconds:
its audio never runs dry and it skips no segment. Last, where other
players start in the playlist (tests/integration/player_start.py): ffmpeg
with its defaults, ffmpeg told to honour EXT-X-START, and VLC.

usage: test_listener_stale_gateways.py RADIO_SETUP RADIO_STREAMER SOURCE_DIR"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import radiotest as rt  # noqa: E402
import nginx_cache  # noqa: E402
import player_start  # noqa: E402
from fault_proxy import FaultProxy  # noqa: E402

if len(sys.argv) != 4:
    sys.exit(__doc__)
SETUP, STREAMER, ROOT = sys.argv[1:4]
TESTS = os.path.join(ROOT, "tests")
SEGMENT = 2
DELAY = 60           # listen_delay_seconds: above the resolving front's worst age (STALE_FOR + RESOLVE_FOR)
WINDOW = 60          # segments: DELAY plus room for players' few target durations
STALE_FOR = 30
RESOLVE_FOR = 20
LISTEN = 190
SETTLE = 15          # seconds of start-up not judged: loading, the first correction
SAMPLE_MS = 250
FFMPEG_FOR = 120
MIN_RATE = 0.99
MAX_STALL_MS = 1000
MAX_APART = 1.0

work = tempfile.mkdtemp(prefix="radio-stale-")
PROCESSED = os.path.join(work, "processed")
STATE = os.path.join(work, "state")
procs = []
check = rt.check


def make_station(api):
    music, jingles = os.path.join(work, "music"), os.path.join(work, "jingles")
    os.makedirs(music)
    os.makedirs(jingles)
    rt.tagged_songs(music, [(220 + 110 * i, secs) for i, secs in enumerate((21, 25, 29, 33))])
    rt.ffmpeg("-f", "lavfi", "-i", "sine=f=880:d=3", "-metadata", "artist=Station",
              "-metadata", "title=Jingle", "-c:a", "flac", os.path.join(jingles, "id.flac"))
    rt.run_setup(SETUP, work, music, processed_dir=PROCESSED, jingles_dir=jingles,
                 page_dir=os.path.join(ROOT, "web"), ipfs_api=api, segment_seconds=SEGMENT,
                 jingle_every=2, progress="lines")
    with open(os.path.join(PROCESSED, "page.json")) as f:
        return json.load(f)["cid"]


def ffmpeg_listen(url, out):
    """Decodes the live playlist the way a listener's ffplay or mpv would,
    starting where EXT-X-START says, and records how much audio had come
    out at every moment, to see whether it ever ran dry."""
    rate = 8000
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "warning", "-prefer_x_start", "1",
           "-f", "hls", "-i", url, "-map", "0:a", "-f", "s16le", "-ac", "1", "-ar", str(rate), "-"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    procs.append(p)
    progress = []  # (wall seconds, decoded seconds)
    err = []

    def read():
        total = 0
        while True:
            b = p.stdout.read1(65536) if hasattr(p.stdout, "read1") else p.stdout.read(65536)
            if not b:
                return
            total += len(b)
            progress.append((time.time(), total / 2 / rate))
    reader = threading.Thread(target=read)
    reader.start()
    err_reader = threading.Thread(target=lambda: err.append(p.stderr.read()))
    err_reader.start()
    time.sleep(FFMPEG_FOR)
    p.send_signal(signal.SIGINT)
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    reader.join()
    err_reader.join()
    out.update(progress=progress, stderr=b"".join(err).decode(errors="replace"), rc=p.returncode)


def judge_ffmpeg(ff):
    prog = ff["progress"]
    check(prog, f"ffmpeg decoded nothing:\n{ff['stderr'][-2000:]}")
    t0, a0 = prog[0]
    # Audio out ahead of (or level with) real time since the first sample:
    # a listener's player would have played it without a break.
    dry = max(((t - t0) - (a - a0) for t, a in prog), default=0)
    wall = prog[-1][0] - t0
    decoded = prog[-1][1]
    print(f"ffmpeg: decoded {decoded:.1f}s of audio in {wall:.1f}s; at worst {dry:.2f}s behind real time")
    check(dry <= 1.0, f"ffmpeg's audio ran {dry:.2f}s behind real time: it ran dry")
    check(wall >= FFMPEG_FOR - 15, f"ffmpeg produced audio for only {wall:.1f}s")
    bad = [line for line in ff["stderr"].splitlines()
           if "skipping" in line or "expired" in line or "rror" in line]
    check(not bad, "ffmpeg skipped or failed:\n" + "\n".join(bad[:10]))
    return decoded, wall, dry


def judge_players(gateway, name):
    """Where players that are not the page start, on a fresh playlist: the
    documented behaviour (docs/listening.md) each one must still show."""
    starts = {}
    for player in player_start.PLAYERS:
        if not player_start.available(player):
            print(f"{player}: not installed, not measured")
            continue
        behind, seq = player_start.start_behind_air(gateway, name, player, 30,
                                                    os.path.join(work, "players.log"))
        starts[player] = behind
        print(f"{player}: starts at media sequence {seq}, {behind:.1f}s behind air")
    # Honouring EXT-X-START: the delay behind the newest segment, which is on air.
    x = starts.get("ffmpeg -prefer_x_start 1")
    check(x is None or DELAY - SEGMENT <= x <= DELAY + 2 * SEGMENT,
          f"ffmpeg -prefer_x_start 1 started {x:.1f}s behind air, not {DELAY}s")
    # Ignoring it: three segments from the end, far nearer air than the page's listeners.
    v = starts.get("ffmpeg")
    check(v is None or v < DELAY / 2, f"ffmpeg started {v:.1f}s behind air: does it honour EXT-X-START now?")
    # VLC is measured and printed, not judged: it started about its own live
    # delay (15 s) from the end in four runs out of five, once about the
    # station's delay (docs/listening.md).
    return starts


def settled(obs):
    playing = [o for o in obs if o["programTimeMs"]]
    return [o for o in playing if o["wallEpochMs"] - playing[0]["wallEpochMs"] >= SETTLE * 1000]


def measure_listener(l):
    obs = settled(l["observed"])
    check(len(obs) >= (LISTEN - SETTLE - 10) * 1000 / SAMPLE_MS * 0.8,
          f"{l['label']}: only {len(obs)} samples while playing")
    span = (obs[-1]["wallEpochMs"] - obs[0]["wallEpochMs"]) / 1000
    behind = [(o["wallEpochMs"] - o["programTimeMs"]) / 1000 for o in obs]
    sns = [f["sn"] for f in l["frags"] or []]
    snaps = [s for s in l["samples"] if "driverError" not in s]
    last = snaps[-1] if snaps else {}
    m = {"span": span, "rate": (obs[-1]["programTimeMs"] - obs[0]["programTimeMs"]) / 1000 / span,
         "behind": sum(behind) / len(behind), "behind_range": (min(behind), max(behind)),
         "stall": rt.longest_stall_ms(obs, still=0.01), "frags": len(sns),
         "skips": [(a, b) for a, b in zip(sns, sns[1:]) if b != a + 1],
         "fatal": [f for s in snaps for f in s.get("fatal", [])],
         "oldest": last.get("oldestPlaylist") or 0, "delay": last.get("delay"),
         "tracks": track_findings(snaps, obs[0]["wallEpochMs"]),
         "raised": len(last.get("delayRaises") or []), "seeks": last.get("seeks")}
    print(f"{l['label']}: rate {m['rate']:.4f} over {span:.0f}s, behind air {m['behind_range'][0]:.2f}.."
          f"{m['behind_range'][1]:.2f}s, longest stall {m['stall']} ms, oldest playlist {m['oldest']:.1f}s, "
          f"delay {m['delay']} (raised {m['raised']}x), seeks {m['seeks']}, {m['frags']} fragments")
    return m


def track_findings(snaps, since_ms):
    """What the page showed of the track playing (from the playlist's
    EXT-X-DATERANGE) against the EXTINF title of the fragment playing."""
    shown = [s for s in snaps if s.get("wallEpochMs", 0) >= since_ms]
    with_track = [s for s in shown if s.get("track")]
    wrong = [(s["track"], s["nowPlaying"]) for s in with_track
             if s["nowPlaying"] != "Now playing: " + s["track"]["title"]
             or not 0 <= s["track"]["elapsed"] < s["track"]["duration"]]
    return {"shown": len(with_track), "of": len(shown), "wrong": wrong}


def judge_listener(l, m):
    t = m["tracks"]
    check(t["shown"] >= 0.9 * t["of"], f"{l['label']}: the track playing shown in {t['shown']} of {t['of']} samples")
    # Near a track boundary the two sources may be a sample apart.
    check(len(t["wrong"]) <= 0.02 * t["of"], f"{l['label']}: the track shown disagrees: {t['wrong'][:3]}")
    check(not m["fatal"], f"{l['label']}: fatal hls.js errors {m['fatal'][:3]}")
    check(m["rate"] >= MIN_RATE, f"{l['label']}: programme time advanced at {m['rate']:.4f} of wall time")
    check(m["stall"] <= MAX_STALL_MS, f"{l['label']}: playback stood still for {m['stall']} ms")
    check(not m["skips"], f"{l['label']}: fragments skipped (from, to): {m['skips'][:5]}")
    check(abs(m["behind"] - DELAY) <= MAX_APART,
          f"{l['label']}: {m['behind']:.2f}s behind air, the station's delay is {DELAY}s")
    return m


def judge_apart(a, b):
    """Distance between two listeners' programme positions at the same
    wall-clock moment (samples of one round, a few ms apart, corrected)."""
    ob = settled(b["observed"])
    worst = 0.0
    n = 0
    for x in settled(a["observed"]):
        y = min(ob, key=lambda o: abs(o["wallEpochMs"] - x["wallEpochMs"]))
        if abs(y["wallEpochMs"] - x["wallEpochMs"]) > SAMPLE_MS / 2:
            continue
        d = ((x["programTimeMs"] - x["wallEpochMs"]) - (y["programTimeMs"] - y["wallEpochMs"])) / 1000
        worst = max(worst, abs(d))
        n += 1
    print(f"{a['label']} and {b['label']}: at most {worst:.2f}s apart over {n} moments")
    check(n >= 100, f"only {n} moments when {a['label']} and {b['label']} both played")
    check(worst <= MAX_APART, f"{a['label']} and {b['label']} {worst:.2f}s apart")
    return worst


def main():
    for installer in (os.path.join(ROOT, "web", "vendor", "install.sh"),
                      os.path.join(TESTS, "browser", "install.sh")):
        rt.run([installer])
    node = rt.Node(os.path.join(work, "node"))
    try:
        node.start()
    finally:
        if node.proc:
            procs.append(node.proc)
    page = make_station(node.api)
    cfg = rt.write_streamer_config(os.path.join(work, "streamer.json"), PROCESSED, STATE, node.api, node.gateway,
                                   window_segments=WINDOW, listen_delay_seconds=DELAY, ipns_ttl_seconds=SEGMENT)
    rt.spawn(procs, [STREAMER, "--config", cfg], os.path.join(work, "streamer.log"))
    name = rt.wait_for(lambda: rt.read_status(STATE).get("last_publish", {}).get("time")
                       and rt.read_status(STATE)["ipns_name"], 60, "the first publish")
    rt.wait_for(lambda: urllib.request.urlopen(f"{node.gateway}/ipns/{name}", timeout=10).status == 200, 30,
                "the name to resolve on the gateway")
    # A new station lists the delay from its first publish on (the
    # streamer's lead-in); this also makes sure of it.
    rt.wait_for(lambda: rt.read_status(STATE).get("newest_sequence", 0) * SEGMENT >= DELAY + 4 * SEGMENT,
                DELAY + 60, "a timeline longer than the delay")

    stale = nginx_cache.start(procs, os.path.join(work, "nginx-stale"), node.gateway, STALE_FOR)
    resolver = FaultProxy(node.gateway)
    resolver.rule("/ipns/", delay=RESOLVE_FOR)
    resolving = nginx_cache.start(procs, os.path.join(work, "nginx-resolving"), resolver.url, STALE_FOR)
    # Fill both caches now, so listeners meet answers that are already old
    # and keep aging, as they would on a busy public gateway.
    for front in (stale, resolving):
        urllib.request.urlopen(f"{front}/ipns/{name}", timeout=RESOLVE_FOR + 30).read()
    with urllib.request.urlopen(f"{node.gateway}/ipns/{name}", timeout=10) as r:
        text = r.read().decode()
    check(f"#EXT-X-START:TIME-OFFSET=-{DELAY}.000" in text, f"the playlist publishes no delay:\n{text[:400]}")
    # Old enough that the listeners start on a stale answer.
    time.sleep(STALE_FOR / 2)

    urls = [f"{front}/ipfs/{page}/?name={name}" for front in (node.gateway, stale, resolving)]
    out = os.path.join(work, "listen.json")
    driver = rt.spawn(procs, ["node", os.path.join(TESTS, "browser", "listen.mjs"), urls[0], str(LISTEN), "-1",
                              out, *urls[1:]], os.path.join(work, "listen.log"),
                      env={**os.environ, "LISTEN_SAMPLE_MS": str(SAMPLE_MS)})
    ff = {}
    ff_thread = threading.Thread(target=ffmpeg_listen, args=(f"{stale}/ipns/{name}", ff))
    ff_thread.start()
    ff_thread.join()
    driver.wait(timeout=LISTEN + 180)
    with open(out) as f:
        record = json.load(f)
    check(not record.get("driverError"), f"browser driver: {record.get('driverError')}")
    ls = record["listeners"]
    check(len(ls) == 3, f"{len(ls)} listeners")
    for l, label in zip(ls, ("direct", "stale", "resolving")):
        l["label"] = label
    # The fronts really served old playlists, and the resolving one made listeners wait.
    for root in ("nginx-stale", "nginx-resolving"):
        log = nginx_cache.access_log(os.path.join(work, root))
        hits = sum(1 for c, _, uri in log if uri.startswith("/ipns/") and c in ("HIT", "STALE", "UPDATING"))
        check(hits >= 20, f"{root} answered only {hits} playlist requests from its cache")
    delayed = sum(1 for _, path, _ in resolver.requests if path.startswith("/ipns/"))
    check(delayed >= 3, f"the resolving front resolved only {delayed} times")

    # Every listener's figures first, then the verdict, so a failing run
    # still shows how each one fared.
    measured = [(l, measure_listener(l)) for l in ls]
    results = {l["label"]: judge_listener(l, m) for l, m in measured}
    check(max(r["oldest"] for r in results.values()) >= STALE_FOR,
          f"no listener saw a playlist {STALE_FOR}s old: the fronts did not test staleness ({results})")
    apart = max(judge_apart(a, b) for a, b in ((ls[0], ls[1]), (ls[0], ls[2]), (ls[1], ls[2])))
    decoded, wall, dry = judge_ffmpeg(ff)
    starts = judge_players(node.gateway, name)
    print(f"ok: {DELAY}s behind air; listeners at most {apart:.2f}s apart; " +
          "; ".join(f"{k}: rate {v['rate']:.4f}, longest stall {v['stall']} ms, oldest playlist {v['oldest']:.1f}s"
                    for k, v in results.items()) +
          f"; ffmpeg through the stale front {decoded:.0f}s of audio in {wall:.0f}s; players start " +
          ", ".join(f"{k} {v:.1f}s" for k, v in starts.items()) + " behind air")


if __name__ == "__main__":
    rt.run_main(main, procs, work)
