"""The listener page as a listener sees it. radio-setup cuts a small
library and adds the page with a station identity (a name full of markup,
a description, a link, a PNG artwork) to the test's own Kubo node;
radio-streamer publishes the live playlist. Through the node's gateway:

  - the page as served: the name is in <title>, the heading and the social
    preview tags (og:title, og:description, og:image, twitter:card) as
    text, never as markup; the artwork is in the page's directory;
  - headless Debian chromium (tests/browser/page_check.mjs) presses Play.
    Once a second for 25 s, the title shown, the window title, next up and
    the newest of recently played are compared with what the test itself
    computes from the playlists it read from the gateway (the
    EXT-X-DATERANGEs) at the programme time hls.js is playing;
  - at 1280x800 and 390x844 (screenshots desktop.png and phone.png): every
    element is visible, inside the page's width, none overlaps another, and
    now playing, Play and the status are on the first screen;
  - keyboard (Tab to Play shows a focus ring, k and space pause and play),
    volume, Media Session metadata, "N seconds behind live" and "go live"
    (back to air time minus the delay), and "Station off air" once the
    streamer is stopped.

Screenshots go to the work folder and, when RADIO_SCREENSHOTS names a
folder, there too.

usage: test_listener_page.py RADIO_SETUP RADIO_STREAMER SOURCE_DIR"""
import html
import html.parser
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import radiotest as rt  # noqa: E402

if len(sys.argv) != 4:
    sys.exit(__doc__)
SETUP, STREAMER, ROOT = sys.argv[1:4]
TESTS = os.path.join(ROOT, "tests")
SEGMENT = 4
DELAY = 20            # listen_delay_seconds: off air shows DELAY + 2 target durations after the last publish
WINDOW = 25
NAME = 'Night & Day <b>FM</b> "Ünïcode"'
DESCRIPTION = "Music all day <script>alert(1)</script> & night"
LINK = "https://radio.example/?a=1&b=2"
EDGE_S = 1.0          # samples this near a track boundary are not judged (the page refreshes twice a second)
MIN_JUDGED = 15
OFF_AIR_WITHIN_S = DELAY + 2 * SEGMENT + 30

work = tempfile.mkdtemp(prefix="radio-page-")
PROCESSED = os.path.join(work, "processed")
STATE = os.path.join(work, "state")
SHOTS = os.path.join(work, "shots")
procs = []
check = rt.check


def make_station(api):
    music, jingles = os.path.join(work, "music"), os.path.join(work, "jingles")
    os.makedirs(music)
    os.makedirs(jingles)
    # Tracks longer than the delay: for a while the next one is beyond the
    # playlist's end, named only by the streamer's announcement.
    rt.tagged_songs(music, [(220 + 110 * i, secs) for i, secs in enumerate((36, 40, 34, 38))])
    rt.ffmpeg("-f", "lavfi", "-i", "sine=f=880:d=3", "-metadata", "artist=Station",
              "-metadata", "title=Jingle", "-c:a", "flac", os.path.join(jingles, "id.flac"))
    art = os.path.join(work, "art.png")
    rt.ffmpeg("-f", "lavfi", "-i", "gradients=s=240x240:c0=0x3a2f8f:c1=0x0e7c86:d=1", "-frames:v", "1", art)
    p = rt.run_setup(SETUP, work, music, processed_dir=PROCESSED, jingles_dir=jingles,
                     page_dir=os.path.join(ROOT, "web"), ipfs_api=api, segment_seconds=SEGMENT,
                     jingle_every=2, progress="lines", station_name=NAME, station_description=DESCRIPTION,
                     station_link=LINK, station_artwork=art)
    check("listener page added" in p.stderr, p.stderr[-2000:])
    with open(os.path.join(PROCESSED, "page.json")) as f:
        page = json.load(f)
    names = {f["name"] for f in page["files"]}
    check({"index.html", "player.js", "nowplaying.js", "station-artwork.png"} <= names, f"page files {names}")
    check(not os.path.exists(os.path.join(PROCESSED, ".page-staging")), "the page's staging folder was left behind")
    return page["cid"], art


class Head(html.parser.HTMLParser):
    """The served page's <title>, meta tags and every start tag."""
    def __init__(self):
        super().__init__()
        self.title, self.meta, self.tags, self.h1, self._in = None, {}, [], "", None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "meta":
            self.meta[a.get("property") or a.get("name")] = a.get("content")
        self._in = tag if tag in ("title", "h1") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "title":
            self.title = (self.title or "") + data
        elif self._in == "h1":
            self.h1 += data


def judge_served_page(gateway, page_cid, art):
    with urllib.request.urlopen(f"{gateway}/ipfs/{page_cid}/", timeout=30) as r:
        text = r.read().decode()
    h = Head()
    h.feed(text)
    check(h.title == NAME and h.h1 == NAME, f"title {h.title!r}, heading {h.h1!r}")
    check(h.meta.get("og:title") == NAME, f"og:title {h.meta.get('og:title')!r}")
    check(h.meta.get("og:description") == DESCRIPTION, f"og:description {h.meta.get('og:description')!r}")
    check(h.meta.get("og:image") == "station-artwork.png", f"og:image {h.meta.get('og:image')!r}")
    check(h.meta.get("twitter:card") == "summary", f"twitter:card {h.meta.get('twitter:card')!r}")
    # The name's and description's markup stayed text: no <b>, and only the page's own scripts.
    check("b" not in h.tags, "the station name opened a <b> element")
    scripts = re.findall(r"<script[^>]*>", text)
    check(scripts == ['<script src="hls.light.min.js">', '<script src="airtime.js">',
                      '<script src="nowplaying.js">', '<script src="player.js">'], f"scripts {scripts}")
    check(html.escape(LINK, quote=True) in text, "the link is not in the page, escaped")
    with urllib.request.urlopen(f"{gateway}/ipfs/{page_cid}/station-artwork.png", timeout=30) as r:
        served = r.read()
    with open(art, "rb") as f:
        check(served == f.read(), "the artwork served is not the configured file")


def parse_ranges(text):
    """Every EXT-X-DATERANGE of a playlist: ID -> attributes."""
    out = {}
    for line in text.split("\n"):
        if not line.startswith("#EXT-X-DATERANGE:"):
            continue
        attrs = dict((k, v.strip('"')) for k, v in re.findall(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)', line[17:]))
        start = time.mktime(time.strptime(attrs["START-DATE"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        start += float("0" + attrs["START-DATE"][19:-1])
        out[attrs["ID"]] = {"id": attrs["ID"], "cls": attrs["CLASS"], "start": start * 1000, "end": (start + float(attrs["DURATION"])) * 1000,
                            "title": attrs["X-TITLE"], "artwork": attrs.get("X-ARTWORK")}
    return out


def poll_playlists(url, seen, stop):
    """The playlists as the gateway serves them, read by the test itself."""
    while not stop.is_set():
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                text = r.read().decode()
            seen.setdefault("texts", 0)
            seen["texts"] += 1
            for k, v in parse_ranges(text).items():
                seen.setdefault("ranges", {})[k] = v
                seen.setdefault("first", {}).setdefault(k, time.time() * 1000)
        except OSError:
            pass
        stop.wait(0.5)


def judge_titles(samples, ranges, first):
    tracks = [r for r in ranges.values() if r["cls"] == "org.ipfs-radio.track"]
    judged = announced = playing = 0
    for s in samples:
        t = s["programTimeMs"]
        if t is None:
            continue
        near = [r for r in tracks if abs(t - r["start"]) < EDGE_S * 1000 or abs(t - r["end"]) < EDGE_S * 1000]
        on = [r for r in tracks if r["start"] <= t < r["end"]]
        if near or len(on) != 1:
            continue
        want = on[0]["title"]
        check(s["now"] == want, f"at programme time {t}: the page shows {s['now']!r}, on air is {want!r}")
        check(s["docTitle"] == f"{want} – {NAME}", f"window title {s['docTitle']!r}")
        artist, _, title = want.partition(" - ")
        check(s["mediaSession"] and s["mediaSession"]["title"] == title and s["mediaSession"]["artist"] == artist
              and s["mediaSession"]["album"] == NAME, f"media session {s['mediaSession']} for {want!r}")
        coming = sorted((r for r in ranges.values() if r["start"] > t + EDGE_S * 1000),
                        key=lambda r: (r["start"], r["cls"] != "org.ipfs-radio.track"))
        if coming and coming[0]["start"] - t > EDGE_S * 1000:
            check(s["next"] == coming[0]["title"], f"next up {s['next']!r}, the playlists say {coming[0]['title']!r}")
            # Its own tag was not in any playlist yet: only the announcement named it.
            seq = coming[0]["id"].split("-")[1]
            announced += (first.get(f"track-{seq}", float("inf")) > s["wallEpochMs"] + 1000
                          and first.get(f"next-{seq}", float("inf")) < s["wallEpochMs"])
        aired = sorted((r for r in tracks if r["end"] <= t - EDGE_S * 1000), key=lambda r: -r["start"])
        if aired:
            check(s["recent"] and s["recent"][0] == aired[0]["title"],
                  f"recently played {s['recent']}, the playlists say {aired[0]['title']!r} ended last")
        want_art = "station-artwork.png" if not on[0]["artwork"] else on[0]["artwork"]
        check(s["cover"]["src"].endswith(want_art) and s["cover"]["loaded"], f"cover {s['cover']} for {want_art}")
        # Buffering only while the media element really lacks data (HAVE_FUTURE_DATA is 3).
        starved = s["seeking"] or s["readyState"] < 3
        check(s["status"] == "Playing" or (starved and s["status"] == "Buffering…"),
              f"status {s['status']!r} while playing (readyState {s['readyState']}, seeking {s['seeking']})")
        playing += s["status"] == "Playing"
        check(re.fullmatch(r"\d+ seconds behind live", s["behind"] or ""), f"behind live shows {s['behind']!r}")
        behind = int(s["behind"].split()[0])
        check(abs(behind - DELAY) <= 1, f"{s['behind']!r}: the page plays {DELAY} s behind air")
        check(0 < s["bar"]["value"] <= s["bar"]["max"] and abs(s["bar"]["max"] - (on[0]["end"] - on[0]["start"]) / 1000) < 0.01,
              f"progress {s['bar']} for a track of {(on[0]['end'] - on[0]['start']) / 1000}s")
        judged += 1
    check(judged >= MIN_JUDGED, f"only {judged} samples away from track boundaries")
    check(playing >= MIN_JUDGED, f"the status said Playing in only {playing} of {judged} samples")
    # Some of the time the next track is not in the playlist yet: only its announcement names it.
    check(announced > 0, "next up never came from the next-track date range")
    return judged, announced


def overlap(a, b):
    return a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]


def judge_layout(name, lay):
    vw, vh = lay["viewport"]["width"], lay["viewport"]["height"]
    check(lay["scrollWidth"] <= vw, f"{name}: the page is {lay['scrollWidth']} px wide in a {vw} px viewport")
    rects = lay["rects"]
    for sel, r in rects.items():
        check(r and r["visible"], f"{name}: {sel} is not visible ({r})")
        check(r["x"] >= 0 and r["x"] + r["w"] <= vw + 0.5, f"{name}: {sel} leaves the viewport sideways {r}")
    for sel in lay["firstScreen"]:
        r = rects[sel]
        check(r["y"] >= 0 and r["y"] + r["h"] <= vh, f"{name}: {sel} is not on the first screen {r}")
    sels = list(rects)
    for i, a in enumerate(sels):
        for b in sels[i + 1:]:
            check(not overlap(rects[a], rects[b]), f"{name}: {a} {rects[a]} overlaps {b} {rects[b]}")
    check(os.path.getsize(lay["screenshot"]) > 10000, f"{name}: screenshot too small")


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
    page_cid, art = make_station(node.api)
    judge_served_page(node.gateway, page_cid, art)
    cfg = rt.write_streamer_config(os.path.join(work, "streamer.json"), PROCESSED, STATE, node.api, node.gateway,
                                   window_segments=WINDOW, listen_delay_seconds=DELAY)
    streamer = rt.spawn(procs, [STREAMER, "--config", cfg], os.path.join(work, "streamer.log"))
    name = rt.wait_for(lambda: rt.read_status(STATE).get("last_publish", {}).get("time")
                       and rt.read_status(STATE)["ipns_name"], 60, "the first publish")
    playlist = f"{node.gateway}/ipns/{name}"
    rt.wait_for(lambda: urllib.request.urlopen(playlist, timeout=10).status == 200, 30, "the name to resolve")
    seen, stop = {}, threading.Event()
    poller = threading.Thread(target=poll_playlists, args=(playlist, seen, stop))
    poller.start()
    os.makedirs(SHOTS)
    url = f"{node.gateway}/ipfs/{page_cid}/?name={name}"
    print("listener page:", url)
    driver = rt.spawn(procs, ["node", os.path.join(TESTS, "browser", "page_check.mjs"), url, SHOTS],
                      os.path.join(work, "page_check.log"))
    try:
        rt.wait_for(lambda: os.path.exists(os.path.join(SHOTS, "ready-for-off-air")) or driver.poll() is not None,
                    400, "the page checks")
        stopped_at = time.time()
        streamer.send_signal(signal.SIGTERM)
        streamer.wait(timeout=30)
        driver.wait(timeout=200)
    finally:
        stop.set()
        poller.join()
    with open(os.path.join(SHOTS, "page.json")) as f:
        rec = json.load(f)
    check(not rec.get("driverError"), f"browser driver: {rec.get('driverError')}\n{rec.get('console')}")
    check(not [c for c in rec["console"] if c.startswith("pageerror")], f"page errors: {rec['console']}")
    if os.environ.get("RADIO_SCREENSHOTS"):
        os.makedirs(os.environ["RADIO_SCREENSHOTS"], exist_ok=True)
        for n in ("desktop.png", "phone.png"):
            shutil.copy(os.path.join(SHOTS, n), os.environ["RADIO_SCREENSHOTS"])

    judged, announced = judge_titles(rec["samples"], seen["ranges"], seen["first"])
    check(any(r["cls"] == "org.ipfs-radio.next" for r in seen["ranges"].values()), "no next-track date range")
    judge_layout("desktop 1280x800", rec["desktop"])
    judge_layout("phone 390x844", rec["phone"])
    f = rec["focus"]
    check(f and f["outline"] not in ("none", "") and f["width"] != "0px", f"Play's focus ring: {f}")
    check(abs(rec["afterVolume"]["volume"] - 0.8) < 0.01, f"volume after 4 steps down: {rec['afterVolume']['volume']}")
    k, p, g = rec["afterK"], rec["paused"], rec["afterGoLive"]
    check(k["paused"] and k["status"] == "Paused" and not k["goLiveDisabled"], f"after k: {k}")
    check(int(p["behind"].split()[0]) >= DELAY + 3, f"paused 4 s: {p['behind']!r}")
    check(not g["paused"] and abs(g["airError"]) < 0.5 and abs(int(g["behind"].split()[0]) - DELAY) <= 1
          and g["goLiveDisabled"], f"after go live: {g}")
    check(rec["afterSpace"]["paused"] and not rec["afterSpace2"]["paused"],
          f"space: {rec['afterSpace']['paused']} then {rec['afterSpace2']['paused']}")
    off = rec["offAir"]
    check(off is not None, f"the page never said off air after the streamer stopped; last {rec.get('beforeOffAir')}")
    check(off["afterMs"] / 1000 <= OFF_AIR_WITHIN_S, f"off air shown after {off['afterMs']} ms")
    bad = [s["status"] for s in rec["samples"] + [k, p, g, off] if re.search(r"ipns|gateway|degraded|error", s["status"], re.I)]
    check(not bad, f"operator words in the status: {bad}")
    print(f"ok: {judged} samples matched the playlists ({announced} with next up only announced), {seen['texts']} playlists read, go live aligned in "
          f"{g['alignedAfterMs']} ms, off air shown {off['afterMs'] / 1000:.0f} s after the streamer stopped; "
          f"screenshots in {SHOTS}")


if __name__ == "__main__":
    rt.run_main(main, procs, work)
