"""The streamer against a real IPFS node: it publishes, the name resolves
through the node's gateway, the playlist there parses (ours and hls-parser)
and its segments fetch and decode; a kill -9 and restart keeps the
sequence; a node stopped and started again (and one that comes back
wiped) is survived; a running order rewritten while live takes effect at
the next track boundary."""
import datetime
import json
import re
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import radiotest as rt  # noqa: E402
import hls_rules  # noqa: E402

SETUP, STREAMER = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
SEG = 2.0  # short segments keep the test short

work = tempfile.mkdtemp(prefix="radio-streamer-it-")
music = os.path.join(work, "music")
jingles = os.path.join(work, "jingles")
processed = os.path.join(work, "processed")
state = os.path.join(work, "state")
os.makedirs(music)
os.makedirs(jingles)
procs = []
check = rt.check
node = rt.Node(os.path.join(work, "node"))


def make_library():
    rt.tagged_songs(music, [(220, 7), (330, 5), (440, 9), (550, 3)])
    rt.ffmpeg("-f", "lavfi", "-i", "sine=f=880:d=1.5", "-c:a", "flac", os.path.join(jingles, "id.flac"))
    rt.run_setup(SETUP, work, music, processed_dir=processed, jingles_dir=jingles, ipfs_api=node.api,
                 segment_seconds=SEG, jingle_every=2, progress="lines")


def streamer_config(**over):
    keys = dict(window_segments=6, reload_check_seconds=0.5)
    keys.update(over)
    return rt.write_streamer_config(os.path.join(work, "streamer.json"), processed, state, node.api,
                                    node.gateway, **keys)


def start_streamer(**over):
    return rt.spawn(procs, [STREAMER, "--config", streamer_config(**over)], os.path.join(work, "streamer.log"))


def status():
    return rt.read_status(state)


def wait_for(pred, timeout, what):
    return rt.wait_for(pred, timeout, what,
                       diagnose=lambda: "streamer log:\n" + rt.file_tail(os.path.join(work, "streamer.log")))


def fetch_live(name):
    try:
        with urllib.request.urlopen(f"{node.gateway}/ipns/{name}", timeout=20) as r:
            return r.read().decode()
    except urllib.error.HTTPError as e:
        body = e.read().decode(errors="replace")[:300]
        try:
            resolved = rt.rpc(node.api, "name/resolve", arg=name)
        except urllib.error.HTTPError as e2:
            resolved = f"resolve failed: {e2.code} {e2.read().decode(errors='replace')[:300]}"
        except Exception as e2:  # noqa: BLE001 - diagnostics only
            resolved = f"resolve failed: {e2}"
        with open(os.path.join(work, "gateway-errors.log"), "a") as f:
            f.write(f"{time.time():.3f} HTTP {e.code}: {body} resolves to {resolved}\n")
        raise


parse = hls_rules.parse
# Every playlist polled is checked against all earlier ones; hls-parser reads the first in full.
rules = hls_rules.Rules(independent=False)
remember = rules.check_parsed


def test_publishes_a_live_playlist_that_resolves_and_plays():
    make_library()
    start_streamer()
    name = wait_for(lambda: status().get("last_publish", {}).get("time") and status()["ipns_name"], 60,
                    "the first publish")
    check(name.startswith("k51"), f"node-mode name {name}: Kubo names keys in base36 (k51...)")
    # A station with an empty state/ starts its timeline at 0: the sequence
    # floor (for a station that lost its state) is too large for hls.js 1.7.
    first = rt.read_status(state).get("media_sequence")
    check(first is not None and first < 1000, f"a new station's media sequence starts at {first}")
    pl = parse(wait_for(lambda: fetch_live(name), 30, "the name to resolve"))
    remember(pl)
    # Kubo's gateway lets caches keep an /ipns/ answer for the record's TTL (ipns_ttl_seconds,
    # 1 s here): listeners must get a fresh playlist within one target duration.
    with urllib.request.urlopen(f"{node.gateway}/ipns/{name}", timeout=20) as r:
        cc = r.headers.get("Cache-Control", "")
    ages = [int(v) for v in re.findall(r"max-age=(\d+)", cc)]
    check(ages and max(ages) <= SEG, f"/ipns/ answer cached beyond one target duration: {cc!r}")
    text = pl["text"]
    check("#EXT-X-ENDLIST" not in text and "#EXT-X-PLAYLIST-TYPE" not in text, "live playlist")
    check("#EXT-X-VERSION:3" in text and "#EXT-X-TARGETDURATION:2\n" in text, text[:300])
    check(all(s["pdt"] and s["pdt"].endswith("Z") for s in pl["segs"]), "PDT on every segment")
    hls_rules.Rules().check(text)  # hls-parser agrees with our reading, segment by segment
    with open(os.path.join(processed, "manifest.json")) as f:
        files = {s["cid"]: s["file"] for t in json.load(f)["tracks"] for s in t["segments"]}
    for s in pl["segs"][-2:]:
        check(s["uri"].startswith("/ipfs/") and s["uri"].endswith("?filename=segment.ts"), s["uri"])
        with urllib.request.urlopen(node.gateway + s["uri"], timeout=20) as r:
            data = r.read()
        cid = s["uri"][len("/ipfs/"):].split("?")[0]
        with open(os.path.join(processed, files[cid]), "rb") as f:
            check(f.read() == data, f"{cid}: gateway bytes differ")
        seg = os.path.join(work, "fetched.ts")
        with open(seg, "wb") as f:
            f.write(data)
        rt.decoded_duration(seg)  # raises on any decoder complaint


def test_the_schedule_lists_what_is_coming():
    """state/schedule.json against what the node serves: the track on air
    holds the newest published segment, and the tracks follow one another
    with no gap, up to the horizon (an hour by default)."""
    def read_both():
        # A track boundary may pass between the two reads: then read again.
        pl = parse(fetch_live(status()["ipns_name"]))
        with open(os.path.join(state, "schedule.json")) as f:
            sched = json.load(f)
        on, newest = sched["items"][0], pl["segs"][-1]
        return (pl, sched) if on["first_sequence"] <= newest["seq"] < on["first_sequence"] + on["segments"] else None
    pl, sched = wait_for(read_both, 4 * SEG, "the newest published segment within the track on air")
    check(sched["format"] == "ipfs-radio-schedule" and sched["version"] == 1, str(sched)[:300])
    items = sched["items"]
    on = items[0]
    def t(s):
        return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
    for seg in pl["segs"]:
        if seg["seq"] == on["first_sequence"]:
            check(abs(t(seg["pdt"]) - t(on["air_time"])) < 0.002, f"{seg} against {on}")
    for a, b in zip(items, items[1:]):
        check(b["first_sequence"] == a["first_sequence"] + a["segments"], f"{a} then {b}")
        check(abs(t(a["air_time"]) + a["duration_seconds"] - t(b["air_time"])) < 0.002, f"{a} then {b}")
    span = t(items[-1]["air_time"]) + items[-1]["duration_seconds"] - t(on["air_time"])
    check(span >= 3600, f"the schedule covers {span:.0f}s")


def test_media_sequence_advances_with_the_clock():
    first = status()["newest_sequence"]
    time.sleep(3 * SEG + 0.5)
    later = status()["newest_sequence"]
    check(later >= first + 2, f"newest sequence {first} -> {later} in {3 * SEG:.0f}s")
    remember(parse(fetch_live(status()["ipns_name"])))


def test_kill_9_and_restart_continues_the_sequence():
    before = status()["newest_sequence"]
    p = procs.pop()
    p.send_signal(signal.SIGKILL)
    p.wait()
    time.sleep(2 * SEG)
    start_streamer()
    wait_for(lambda: status().get("newest_sequence", -1) > before + 1, 30, "publishing after restart")
    name = wait_for(lambda: status().get("ipns_name"), 30, "the name in the status file")
    pl = wait_for(lambda: (lambda q: q if q["segs"][-1]["seq"] > before else None)(parse(fetch_live(name))),
                  90, "the restarted streamer's playlist on the gateway")
    remember(pl)


def test_sigterm_stops_cleanly_with_state_saved():
    p = procs.pop()
    p.send_signal(signal.SIGTERM)
    check(p.wait(timeout=15) == 0, "clean exit status")
    with open(os.path.join(state, "state.json")) as f:
        st = json.load(f)
    check(st["window"], "state remembers the last window")
    start_streamer()
    wait_for(lambda: status().get("node_reachable"), 30, "back on air")


def test_node_restart_and_wipe_are_survived():
    name = wait_for(lambda: status().get("ipns_name"), 30, "the name in the status file")
    node.stop()
    time.sleep(3 * SEG)
    check(procs[-1].poll() is None, "streamer still running while the node is down")
    wait_for(lambda: status().get("last_publish", {}).get("error"), 20, "a reported publish error")
    node.start()
    wait_for(lambda: not status().get("last_publish", {}).get("error") and status().get("node_reachable"),
             60, "recovery after the node came back")
    remember(parse(fetch_live(name)))
    # A node that comes back with an empty repository: segments re-added.
    node.stop(wipe=True)
    node.start()
    wait_for(lambda: status().get("counts", {}).get("segments_readded", 0) > 0, 90,
             "segments re-added to a wiped node")
    new_name = wait_for(lambda: status().get("node_reachable") and status().get("ipns_name"), 60, "name")
    pl = parse(wait_for(lambda: fetch_live(new_name), 60, "the wiped node to serve the station"))
    for s in pl["segs"][-2:]:
        with urllib.request.urlopen(node.gateway + s["uri"], timeout=20) as r:
            check(len(r.read()) > 0, "segment served after wipe")


def test_rewritten_running_order_starts_at_the_next_track_boundary():
    name = wait_for(lambda: status().get("ipns_name"), 30, "the name in the status file")
    m3u = os.path.join(processed, "playlist.m3u")
    with open(m3u) as f:
        lines = f.read().splitlines()
    entries = [(lines[i], lines[i + 1]) for i in range(1, len(lines) - 1, 2)]
    # A running order of the last music track only, written like another
    # program would: temp file, then rename.
    new = [entries[-1]]
    with open(m3u + ".tmp", "w") as f:
        f.write("#EXTM3U\n" + "".join(f"{a}\n{b}\n" for a, b in new))
    os.rename(m3u + ".tmp", m3u)
    only_title = new[0][0].split(",", 1)[1]
    before = status()["newest_sequence"]
    wait_for(lambda: status().get("counts", {}).get("reloads", 0) >= 1, 20, "the reload")
    # Every polled window is kept: the switch may scroll out between polls.
    heard = {}

    def switched():
        q = parse(fetch_live(name))
        remember(q)
        heard.update((s["seq"], s) for s in q["segs"])
        sw = [s for s in heard.values() if s["seq"] > before and s["disc"] and s["title"] == only_title]
        return sw and max(heard) >= min(s["seq"] for s in sw) + 2 and min(sw, key=lambda s: s["seq"])

    # The track on air when the order changed plays to its end (even when it
    # is the new order's only track); then only the new order, after a
    # discontinuity. The longest test track is 9 s, so this is a bound.
    switch = wait_for(switched, 120, "the new order on air")
    after = [heard[q] for q in sorted(heard) if q >= switch["seq"]]
    check([s["seq"] for s in after] == list(range(switch["seq"], switch["seq"] + len(after))), "no gap")
    check(all(s["title"] == only_title for s in after), "only the new order after the switch")
    tail = [heard[q] for q in sorted(heard) if before < q < switch["seq"]]
    check(len(tail) <= 2 * 9 / SEG + 2, f"{len(tail)} old-order segments after the reload")
    # An invalid running order is refused and the station plays on.
    with open(m3u + ".tmp", "w") as f:
        f.write("#EXTM3U\n#EXTINF:1,x\nno-such-track\n")
    os.rename(m3u + ".tmp", m3u)
    wait_for(lambda: status().get("running_order", {}).get("last_error"), 20, "the refusal")
    n = status()["newest_sequence"]
    time.sleep(2 * SEG + 0.5)
    check(status()["newest_sequence"] > n, "still on air after a bad running order")
    remember(parse(fetch_live(name)))


def test_old_playlists_do_not_pile_up():
    # keep_playlists is 5: the node must not hold more of ours than that.
    st = json.load(open(os.path.join(state, "state.json")))
    check(len(st["playlists"]) <= 5 + 1, f"{len(st['playlists'])} playlists kept")
    pins = rt.rpc(node.api, "pin/ls", type="recursive", **{"cid-base": "base32"})
    with open(os.path.join(processed, "manifest.json")) as f:
        seg_cids = {s["cid"] for t in json.load(f)["tracks"] for s in t["segments"]}
    others = [c for c in json.loads(pins)["Keys"] if c not in seg_cids]
    check(len(others) <= 5 + 1, f"{len(others)} non-segment pins on the node")
    # Unpinned is not enough: the blocks themselves must go, or the repository grows until a GC.
    held = 0
    for line in rt.rpc(node.api, "refs/local").splitlines():
        cid = json.loads(line)["Ref"]
        if cid in seg_cids:
            continue
        req = urllib.request.Request(f"{node.api}/api/v0/block/get?arg={cid}&offline=true", data=b"", method="POST")
        with urllib.request.urlopen(req, timeout=20) as r:
            held += r.read(7) == b"#EXTM3U"
    check(held <= 5 + 1, f"the node still holds {held} playlist blocks; keep_playlists is 5")


def write_order(track_ids):
    m3u = os.path.join(processed, "playlist.m3u")
    with open(os.path.join(processed, "manifest.json")) as f:
        dur = {t["id"]: t["duration"] for t in json.load(f)["tracks"]}
    with open(m3u + ".tmp", "w") as f:
        f.write("#EXTM3U\n" + "".join(f"#EXTINF:{dur[i]:.3f},{i}\n{i}\n" for i in track_ids))
    os.rename(m3u + ".tmp", m3u)


def test_sighup_reloads_at_once():
    """With the periodic check an hour apart, only SIGHUP can pick up a new running order."""
    with open(os.path.join(processed, "manifest.json")) as f:
        music_ids = [t["id"] for t in json.load(f)["tracks"] if t["kind"] == "music"]
    reloads = status()["counts"]["reloads"]
    write_order(music_ids[:2])  # a valid order again: the test before left a refused one
    wait_for(lambda: status()["counts"]["reloads"] > reloads, 20, "the valid order")
    p = procs.pop()
    p.send_signal(signal.SIGTERM)
    check(p.wait(timeout=15) == 0, "clean stop")
    before = status()["started"]
    start_streamer(reload_check_seconds=3600)
    wait_for(lambda: status().get("started") != before and status().get("node_reachable"), 30,
             "the new streamer's status")
    reloads = status()["counts"]["reloads"]
    write_order(music_ids[:2] * 2)
    time.sleep(2 * SEG)
    check(status()["counts"]["reloads"] == reloads, "reloaded without SIGHUP: the test proves nothing")
    procs[-1].send_signal(signal.SIGHUP)
    wait_for(lambda: status()["counts"]["reloads"] > reloads, SEG, "the reload SIGHUP asks for")


def stop_everything():
    rt.stop_all(procs, 15)
    node.stop()


if __name__ == "__main__":
    node.start()
    rt.run_tests(globals(), work, chain=True, cleanup=stop_everything)
