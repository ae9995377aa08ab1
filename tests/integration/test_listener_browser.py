"""Real listeners of a live station. radio-setup cuts a small library and
adds the listener page (web/) to the test's own Kubo node; radio-streamer
publishes the live playlist under its IPNS name; radio-healthmon serves
health. Then, through that node's gateway:

  - headless Debian chromium (driven by the pinned playwright-core) opens
    /ipfs/<page-cid>/?name=<ipns-name>&health=<url>, presses Play, and
    listens for three minutes, across track boundaries and a jingle, while
    the streamer is killed (SIGKILL) and started again in the middle.
    Judged from outside the page's own bookkeeping: hls.js plays fragment
    after fragment with no sequence number skipped, programme time
    (EXT-X-PROGRAM-DATE-TIME of the playing moment) advances at 0.99 to
    1.01 of wall time, the media element never stands still for over 2 s,
    no fatal hls.js error, and healthmon says ok at the end;
  - a second listener joins 20 s later; both must be playing the same
    moment of the programme (EXT-X-PROGRAM-DATE-TIME) within a second;
  - ffmpeg, an independent client, reads the live playlist from the
    gateway for a minute and decodes it without a single error.

usage: test_listener_browser.py RADIO_SETUP RADIO_STREAMER RADIO_HEALTHMON SOURCE_DIR"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import radiotest as rt  # noqa: E402

if len(sys.argv) != 5:
    sys.exit(__doc__)
SETUP, STREAMER, HEALTHMON, ROOT = sys.argv[1:5]
TESTS = os.path.join(ROOT, "tests")
SEGMENT = 4           # seconds; tracks of 20-32 s give a boundary every few segments
LISTEN = 185          # the first listener's time with the page, seconds
SECOND_AFTER = 20     # when the second listener joins
KILL_AFTER = 80       # when the streamer is killed, after the first listener joined
DOWN_FOR = 3          # seconds the streamer stays dead
FFMPEG_FOR = 60
LIVE_SYNC_SEGMENTS = 3  # the page's liveSyncDurationCount
MIN_RATE = 0.99
MAX_STALL_MS = 2000
MAX_APART = 1.0       # seconds between two listeners' programme positions (the page plays by air time)

work = tempfile.mkdtemp(prefix="radio-listener-")
PROCESSED = os.path.join(work, "processed")
STATE = os.path.join(work, "state")
procs = []
check = rt.check


def spawn(cmd, log_name, **kw):
    return rt.spawn(procs, cmd, os.path.join(work, log_name), **kw)


def start_node():
    """A node of this test's own: its IPNS key and load are nobody else's."""
    node = rt.Node(os.path.join(work, "node"))
    try:
        node.start()
    finally:
        if node.proc:
            procs.append(node.proc)
    return node.api, node.gateway


def make_station(api):
    music, jingles = os.path.join(work, "music"), os.path.join(work, "jingles")
    os.makedirs(music)
    os.makedirs(jingles)
    rt.tagged_songs(music, [(220 + 110 * i, secs) for i, secs in enumerate((20, 24, 28, 32))])
    rt.ffmpeg("-f", "lavfi", "-i", "sine=f=880:d=3", "-metadata", "artist=Station",
              "-metadata", "title=Jingle", "-c:a", "flac", os.path.join(jingles, "id.flac"))
    p = rt.run_setup(SETUP, work, music, processed_dir=PROCESSED, jingles_dir=jingles,
                     page_dir=os.path.join(ROOT, "web"), ipfs_api=api, segment_seconds=SEGMENT,
                     jingle_every=2, progress="lines")
    check("listener page added" in p.stderr, p.stderr[-2000:])
    p = rt.run([SETUP, "--config", os.path.join(work, "setup.json")])
    check("listener page unchanged" in p.stderr and "nothing uploaded" in p.stderr,
          f"a second setup run added the page again:\n{p.stderr[-2000:]}")
    with open(os.path.join(PROCESSED, "page.json")) as f:
        page = json.load(f)
    names = {f["name"] for f in page["files"]}
    check({"index.html", "player.js", "hls.light.min.js"} <= names, f"page files {names}")
    return page["cid"]


def write_streamer_config(api, gateway):
    return rt.write_streamer_config(os.path.join(work, "streamer.json"), PROCESSED, STATE, api, gateway,
                                    window_segments=10)


def status():
    return rt.read_status(STATE)


wait_for = rt.wait_for


def start_healthmon(gateway):
    cfg = {"state_dir": STATE, "local_gateway": gateway, "listen": "127.0.0.1:0",
           "public_gateways": [], "output_file": "", "interval_seconds": 15, "log_level": "info"}
    path = rt.write_json(os.path.join(work, "healthmon.json"), cfg)
    p = spawn([HEALTHMON, "--config", path], "healthmon.log")
    def port():
        with open(os.path.join(work, "healthmon.log")) as f:
            m = re.search(r"serving /health.* port=(\d+)", f.read())
        check(p.poll() is None, "radio-healthmon exited")
        return m and int(m.group(1))
    return f"http://127.0.0.1:{wait_for(port, 30, 'healthmon to serve')}/health"


def ffmpeg_listen(url, out):
    """Reads the live playlist for FFMPEG_FOR seconds of wall time, decoding
    every segment, with FFmpeg's default options: since 5.1.4/6.1 its HLS
    reader refuses segment URLs without a media file extension, which the
    streamer's segment_uri_suffix (?filename=segment.ts) provides."""
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
           "-f", "hls", "-live_start_index", "-3", "-i", url,
           "-map", "0:a", "-f", "s16le", "-ac", "1", "-ar", "8000", "-"]
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    procs.append(p)
    decoded = bytearray()
    reader = threading.Thread(target=lambda: decoded.extend(p.stdout.read()))
    reader.start()
    time.sleep(FFMPEG_FOR)
    p.send_signal(signal.SIGINT)
    try:
        _, err = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
    reader.join()
    out.update(seconds=len(decoded) / 2 / 8000, wall=time.time() - t0, stderr=err.decode(errors="replace"),
               rc=p.returncode)


def judge_first(first, kill_at, back_at, jingle):
    """Judged from outside the page's own bookkeeping: the fragments hls.js
    switched playback to, the media element's position, and hls.js's
    programme time (EXT-X-PROGRAM-DATE-TIME of the playing moment)."""
    obs, frags = first["observed"], first["frags"]
    check(obs and frags, "the observer recorded nothing")
    listened = (obs[-1]["wallEpochMs"] - obs[0]["wallEpochMs"]) / 1000
    check(listened >= 180, f"listened only {listened:.1f}s")
    sns = [f["sn"] for f in frags]
    skips = [(a, b) for a, b in zip(sns, sns[1:]) if b != a + 1]
    check(not skips, f"fragments not played in sequence (from, to): {skips[:5]}")
    check(len(sns) >= 0.9 * listened / SEGMENT, f"only {len(sns)} fragments in {listened:.0f}s")
    ccs = [f["cc"] for f in frags]
    check(all(b >= a for a, b in zip(ccs, ccs[1:])), f"discontinuity count went back: {ccs}")
    boundaries = sum(b != a for a, b in zip(ccs, ccs[1:]))
    check(boundaries >= 3, f"only {boundaries} track boundaries played")
    check(all(f["pdt"] for f in frags), "a fragment without EXT-X-PROGRAM-DATE-TIME")
    # Programme time keeps pace with wall time: no hole skipped, no seek, no drift.
    prog = [o for o in obs if o["programTimeMs"] and o["wallEpochMs"] - obs[0]["wallEpochMs"] >= 10000]
    rate = (prog[-1]["programTimeMs"] - prog[0]["programTimeMs"]) / (prog[-1]["wallEpochMs"] - prog[0]["wallEpochMs"])
    offsets = [(o["programTimeMs"] - o["wallEpochMs"]) / 1000 for o in prog]
    spread = max(offsets) - min(offsets)
    stall = rt.longest_stall_ms(obs)
    print(f"first listener: {len(sns)} fragments {sns[0]}..{sns[-1]}, {boundaries} boundaries, programme "
          f"rate {rate:.4f}, behind air {-offsets[-1]:.1f}s (spread {spread:.2f}s), longest stall {stall} ms")
    check(MIN_RATE <= rate <= 2 - MIN_RATE, f"programme time advanced at {rate:.4f} of wall time")
    check(spread <= MAX_STALL_MS / 1000, f"distance to air time moved by {spread:.2f}s")
    check(stall <= MAX_STALL_MS, f"playback stood still for {stall} ms")
    # What the page shows a person.
    s = [x for x in first["samples"] if "driverError" not in x]
    last = s[-1]
    fatal = [f for x in s for f in x["fatal"]]
    check(not fatal, f"fatal hls.js errors: {fatal[:3]}")
    check(jingle in last["titles"], f"no jingle ({jingle!r}) among {last['titles']}")
    check(last["nowPlaying"].startswith("Now playing: "), last["nowPlaying"])
    # The restart really happened while this listener played, and playback went on past it.
    during = [f for f in frags if kill_at * 1000 <= f["wallEpochMs"] <= back_at * 1000 + 30000]
    after = [f for f in frags if f["wallEpochMs"] >= back_at * 1000 + 30000]
    check(during and after and after[-1]["sn"] > during[-1]["sn"],
          "the streamer restart was not inside the listening time")
    return rate, stall


def judge_together(first, second):
    """Offset between the two listeners' programme positions at the same
    wall-clock moment (samples a few ms apart, corrected by their clocks)."""
    by_wall = [x for x in first["observed"] if x.get("programTimeMs")]
    t0 = second["observed"][0]["wallEpochMs"] if second["observed"] else 0
    offsets = []
    for b in second["observed"]:
        if not b.get("programTimeMs") or b["wallEpochMs"] - t0 < 5000:
            continue
        a = min(by_wall, key=lambda x: abs(x["wallEpochMs"] - b["wallEpochMs"]))
        if abs(a["wallEpochMs"] - b["wallEpochMs"]) > 500:
            continue
        offsets.append(((a["programTimeMs"] - a["wallEpochMs"]) - (b["programTimeMs"] - b["wallEpochMs"])) / 1000)
    check(len(offsets) >= 60, f"only {len(offsets)} moments when both listeners played")
    worst = max(offsets, key=abs)
    print(f"listeners apart: worst {worst:+.2f}s over {len(offsets)} moments")
    check(abs(worst) <= MAX_APART, f"listeners {worst:+.2f}s apart, more than {MAX_APART}s")
    return worst


def main():
    for installer in (os.path.join(ROOT, "web", "vendor", "install.sh"),
                      os.path.join(TESTS, "browser", "install.sh")):
        rt.run([installer])
    api, gateway = start_node()
    page_cid = make_station(api)
    with open(os.path.join(PROCESSED, "playlist.m3u")) as f:
        # The running order starts with the jingle; its label is the title the page shows.
        jingle = next(line.split(",", 1)[1].strip() for line in f if line.startswith("#EXTINF:"))
    streamer_cfg = write_streamer_config(api, gateway)
    streamer = spawn([STREAMER, "--config", streamer_cfg], "streamer.log")
    name = wait_for(lambda: status().get("last_publish", {}).get("time") and status()["ipns_name"],
                    60, "the first publish")
    wait_for(lambda: urllib.request.urlopen(f"{gateway}/ipns/{name}", timeout=10).status == 200, 30,
             "the name to resolve on the gateway")
    # A new station's first playlists are shorter than the distance hls.js
    # keeps from the live edge (3 segments), so a listener starting then sits
    # nearer the edge than everyone after it. Listen once the window is longer.
    wait_for(lambda: status().get("newest_sequence", 0) >= LIVE_SYNC_SEGMENTS + 2, 60,
             "a window longer than the player's live distance")
    health = start_healthmon(gateway)
    url = f"{gateway}/ipfs/{page_cid}/?name={name}&health={urllib.parse.quote(health, safe='')}"
    print("listener page:", url)

    out = os.path.join(work, "listen.json")
    t_listen = time.time()
    driver = spawn(["node", os.path.join(TESTS, "browser", "listen.mjs"), url, str(LISTEN),
                    str(SECOND_AFTER), out], "listen.log")
    ff = {}
    ff_thread = threading.Thread(target=ffmpeg_listen, args=(f"{gateway}/ipns/{name}", ff))
    ff_thread.start()

    time.sleep(max(0, t_listen + KILL_AFTER - time.time()))
    check(driver.poll() is None, "the browser driver ended early; see listen.log")
    kill_at = time.time()
    streamer.send_signal(signal.SIGKILL)
    streamer.wait()
    time.sleep(DOWN_FOR)
    back_at = time.time()
    spawn([STREAMER, "--config", streamer_cfg], "streamer.log")

    ff_thread.join()
    driver.wait(timeout=LISTEN + 120)
    with open(out) as f:
        record = json.load(f)
    check(record["codecs"]["aac"], "chromium cannot decode AAC in MP4 (MediaSource)")
    check(not record.get("driverError"), f"browser driver: {record.get('driverError')}")
    first, second = record["listeners"]
    check(first["pageStatus"] == 200 and first["pageContentType"].startswith("text/html"),
          f"page served as {first['pageStatus']} {first['pageContentType']}")
    rate, stall = judge_first(first, kill_at, back_at, jingle)
    apart = judge_together(first, second)
    s2 = [x for x in second["samples"] if "driverError" not in x]
    check(not [f for x in s2 for f in x["fatal"]], "the second listener hit a fatal hls.js error")
    sns2 = [f["sn"] for f in second["frags"]]
    check(sns2 and all(b == a + 1 for a, b in zip(sns2, sns2[1:])), f"second listener's fragments: {sns2}")
    with urllib.request.urlopen(health, timeout=20) as r:
        h = json.load(r)
    check(h["status"] == "ok", f"health at the end: {h['status']} {h.get('reasons')}")

    print(f"ffmpeg: decoded {ff['seconds']:.1f}s of audio in {ff['wall']:.1f}s, exit {ff['rc']}")
    check(ff["stderr"].strip() == "", f"ffmpeg complained:\n{ff['stderr'][-3000:]}")
    check(ff["seconds"] >= 0.9 * FFMPEG_FOR, f"ffmpeg decoded only {ff['seconds']:.1f}s")
    print(f"ok: played at {rate:.3f} of wall time, longest stall {stall:.0f} ms, "
          f"listeners {apart:+.2f}s apart")


if __name__ == "__main__":
    rt.run_main(main, procs, work)
