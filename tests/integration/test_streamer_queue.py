"""The program that decides what plays, played by this script: it reads
state/schedule.json, adds a track cut elsewhere to processed/ (segments on
the node, its manifest entry), and writes processed/queue.json asking for
that track, a track of the library and a jingle. From outside, reading
what the node's gateway serves under the station's name (hls_rules, with
hls-parser, over every playlist), it checks that what it asked for aired
at the boundaries status.json acknowledged, in order, each a
discontinuity, date-times running on without a gap, and that the loop
then resumed with the track it would have played there. The streamer is
killed (-9) after accepting the queue and before it airs: the restart
neither loses nor repeats a request. A malformed queue, one naming an
unknown track and one whose segments the node lacks are refused as a
whole, once in the log and in status.json, the station on air throughout."""
import base64
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import radiotest as rt  # noqa: E402
import hls_rules  # noqa: E402

SETUP, STREAMER = sys.argv[1], sys.argv[2]
SEG = 1.0

work = tempfile.mkdtemp(prefix="radio-queue-it-")
music = os.path.join(work, "music")
jingles = os.path.join(work, "jingles")
elsewhere = os.path.join(work, "elsewhere")
processed = os.path.join(work, "processed")
state = os.path.join(work, "state")
log = os.path.join(work, "streamer.log")
for d in (music, jingles, os.path.join(elsewhere, "music"), os.path.join(elsewhere, "no-jingles")):
    os.makedirs(d)
check = rt.check
api, gateway = rt.node_urls()
procs = []
validator = None
ctx = {}


def status():
    return rt.read_status(state)


wait_for = rt.log_waiter(log)


def write_queue(items):
    rt.replace_in(processed, "queue.json", json.dumps({"format": "ipfs-radio-queue", "version": 1,
                                      "items": [{"id": i, "track": t} for i, t in items]}).encode())



def start():
    cfg = rt.write_streamer_config(os.path.join(work, "streamer.json"), processed, state, api, gateway,
                                   window_segments=8, reload_check_seconds=0.3)
    return rt.spawn(procs, [STREAMER, "--config", cfg], log)


def alive():
    check(procs[-1].poll() is None, f"the streamer exited ({procs[-1].returncode}):\n{rt.file_tail(log)}")


def cids_of(manifest, track):
    t = next(t for t in manifest["tracks"] if t["id"] == track)
    return [s["cid"] for s in t["segments"]]


def test_station_on_air():
    rt.tagged_songs(music, [(220 + 55 * i, 5 + i % 2) for i in range(5)])
    rt.ffmpeg("-f", "lavfi", "-i", "sine=f=880:d=2", "-metadata", "artist=Station", "-metadata", "title=Ident",
              "-c:a", "flac", os.path.join(jingles, "id.flac"))
    rt.run_setup(SETUP, work, music, processed_dir=processed, jingles_dir=jingles, ipfs_api=api,
                 segment_seconds=SEG, jingle_every=2, progress="lines")
    start()
    name = wait_for(lambda: status().get("last_publish", {}).get("time") and status().get("ipns_name"), 60,
                    "the first publish")
    global validator
    validator = hls_rules.GatewayValidator(gateway, name)
    validator.start()
    wait_for(lambda: validator.rules.checked >= 2, 30, "the gateway to serve the station")


def test_a_track_cut_elsewhere_is_added_without_setup():
    # Cut by another setup, on its own folder; it adds and pins the
    # segments on the node. This program then copies the segment files
    # and merges the manifest entry into processed/, by rename.
    rt.lavfi_song(os.path.join(elsewhere, "music", "request.ogg"), 1320, 4, "-metadata", "artist=Guest",
                  "-metadata", "title=Request", "-c:a", "libvorbis")
    other = os.path.join(elsewhere, "processed")
    rt.run_setup(SETUP, elsewhere, os.path.join(elsewhere, "music"), processed_dir=other,
                 jingles_dir=os.path.join(elsewhere, "no-jingles"), ipfs_api=api, segment_seconds=SEG,
                 progress="lines")
    entry = rt.read_json(os.path.join(other, "manifest.json"))["tracks"][0]
    manifest = rt.read_json(os.path.join(processed, "manifest.json"))
    check(entry["id"] not in {t["id"] for t in manifest["tracks"]}, "the guest track is already in the library")
    shutil.copytree(os.path.join(other, "segments", entry["id"]),
                    os.path.join(processed, "segments", entry["id"]))
    manifest["tracks"].append(entry)
    rt.replace_in(processed, "manifest.json", json.dumps(manifest, indent=1).encode())
    ctx["guest"] = entry["id"]
    # A new manifest with the same running order changes nothing on air.
    time.sleep(1)
    alive()
    check(not status()["running_order"].get("last_error"), status()["running_order"])


def test_the_program_queues_two_tracks_and_a_jingle():
    manifest = rt.read_json(os.path.join(processed, "manifest.json"))
    jingle = next(t["id"] for t in manifest["tracks"] if t["kind"] == "jingle")
    with open(os.path.join(processed, "playlist.m3u")) as f:
        top = [line for line in f.read().splitlines() if line and not line.startswith("#")][0]
    # Wait for a moment early in a track, so the queue is accepted before
    # the next boundary, with time to kill the streamer before it airs;
    # and one where the loop goes on with music that is not the order's
    # top, so that resuming "where it was" is told apart from restarting.
    def early():
        sched = rt.read_json(os.path.join(state, "schedule.json"))
        on, nxt = sched["items"][0], sched["items"][1]
        left = rt.pdt(nxt["air_time"]) - time.time()
        return sched if left > 3 and on["track"] != jingle and nxt["track"] not in (jingle, top) else None
    sched = wait_for(early, 90, "a track with time left")
    on_air, coming = sched["items"][0], sched["items"][1]
    library = next(i["track"] for i in sched["items"][2:] if i["track"] not in (jingle, coming["track"]))
    asked = [("req-1", ctx["guest"]), ("req-2", library), ("req-3", jingle)]
    write_queue(asked)
    acked = wait_for(lambda: len(status().get("queue", {}).get("items", [])) == 3 and status()["queue"], 10,
                     "the queue's acknowledgement")
    started = status()["started"]
    # Killed before the queue airs; what state/ holds is all that survives.
    procs[-1].send_signal(signal.SIGKILL)
    procs[-1].wait(timeout=10)
    check(acked["refused"] == 0 and not acked["last_error"], acked)
    items = acked["items"]
    check([(i["id"], i["track"]) for i in items] == asked, items)
    check(all(i["state"] == "scheduled" for i in items), items)
    # At the next track boundary: where the forecast had the next track.
    check(items[0]["first_sequence"] == coming["first_sequence"] and items[0]["air_time"] == coming["air_time"],
          f"queue at {items[0]}, the next boundary was {coming}")
    check(acked["took_effect"] == {"first_sequence": items[0]["first_sequence"], "air_time": items[0]["air_time"]},
          acked["took_effect"])
    ctx.update(asked=asked, items=items, resume=coming["track"], on_air=on_air, manifest=manifest)
    start()
    wait_for(lambda: status().get("started") != started and status().get("queue", {}).get("items"), 30,
             "the restarted streamer's status")
    st = status()["queue"]
    check(st["accepted"] == 0 and [(i["id"], i["first_sequence"]) for i in st["items"]] ==
          [(i["id"], i["first_sequence"]) for i in items], f"after the restart: {st}")


def test_schedule_json_shows_the_queue():
    items = ctx["items"]
    def listed():
        sched = rt.read_json(os.path.join(state, "schedule.json"))
        seqs = {i["first_sequence"]: i["track"] for i in sched["items"]}
        return sched if all(seqs.get(i["first_sequence"]) == i["track"] for i in items) else None
    sched = wait_for(listed, 10, "schedule.json to list the queued tracks")
    after = [i for i in sched["items"] if i["first_sequence"] > items[-1]["first_sequence"]]
    check(after and after[0]["track"] == ctx["resume"], f"after the queue, schedule.json has {after[:1]}")


def test_what_was_asked_aired_where_acknowledged_then_the_loop_resumed():
    items, manifest = ctx["items"], ctx["manifest"]
    want = [(i, cids_of(manifest, i["track"])) for i in items]
    resume_cids = cids_of(manifest, ctx["resume"])
    end = items[-1]["first_sequence"] + len(want[-1][1])
    last = end + len(resume_cids) - 1
    wait_for(lambda: validator.segs.get(last), 90, f"the gateway to serve sequence {last}")
    segs = validator.segs
    seq = items[0]["first_sequence"]
    for item, cids in want + [({"track": ctx["resume"], "first_sequence": end}, resume_cids)]:
        check(seq == item["first_sequence"], f"{item['track']} at {seq}, acknowledged at {item['first_sequence']}")
        if "air_time" in item:
            check(segs[seq]["pdt"] == item["air_time"], f"{segs[seq]['pdt']} served, {item['air_time']} acknowledged")
        for k, cid in enumerate(cids):
            s = segs.get(seq)
            check(s is not None, f"sequence {seq} was never served")
            check(cid in s["uri"], f"sequence {seq}: {s['uri']}, wanted {item['track']} segment {k} ({cid})")
            check(s["disc"] == (k == 0), f"sequence {seq}: discontinuity {s['disc']}")
            seq += 1
    # Date-times run on from the track before the queue to the one after it.
    for q in range(items[0]["first_sequence"] - 1, last):
        a, b = segs[q], segs[q + 1]
        gap = rt.pdt(b["pdt"]) - rt.pdt(a["pdt"]) - a["dur"]
        check(abs(gap) < 0.002, f"sequence {q + 1} airs {gap:+.3f} s after {q} ends")
    st = status()["queue"]
    check(all(i["state"] == "aired" for i in st["items"]), st["items"])
    # Each request aired once: the guest track never again after the queue.
    guest = set(cids_of(manifest, ctx["guest"]))
    aired = sorted(q for q, s in segs.items() if any(c in s["uri"] for c in guest))
    check(aired == list(range(items[0]["first_sequence"], items[0]["first_sequence"] + len(guest))),
          f"the guest track aired at {aired}")


def refusals():
    with open(log) as f:
        return [kv for level, msg, kv in rt.log_events(f.read()) if msg.startswith("queue refused")]


def fake_cid(data):
    return "b" + base64.b32encode(bytes([1, 0x55, 0x12, 0x20]) + hashlib.sha256(data).digest()).decode().lower().rstrip("=")


def test_bad_queues_are_refused_and_the_station_plays_on():
    manifest = rt.read_json(os.path.join(processed, "manifest.json"))
    # A track whose segments were never added to the node.
    ghost = json.loads(json.dumps(next(t for t in manifest["tracks"] if t["id"] == ctx["guest"])))
    ghost["id"] = "ghost-track"
    for k, s in enumerate(ghost["segments"]):
        s["cid"] = fake_cid(f"never added {k}".encode())
        s["file"] = f"segments/ghost-track/{k}.ts"  # nowhere in processed/ either
    manifest["tracks"].append(ghost)
    rt.replace_in(processed, "manifest.json", json.dumps(manifest, indent=1).encode())
    before = status()["queue"]
    cases = [
        (b'{"format": "ipfs-radio-queue", "version": 1, "items": [', "not JSON"),
        (json.dumps({"format": "ipfs-radio-queue", "version": 9, "items": [{"id": "x", "track": "y"}]}).encode(),
         "unknown version"),
        (json.dumps({"format": "ipfs-radio-queue", "version": 1,
                     "items": [{"id": "bad-1", "track": ctx["resume"]}, {"id": "bad-2", "track": "no-such-track"}]}).encode(),
         "which manifest.json lacks"),
        (json.dumps({"format": "ipfs-radio-queue", "version": 1,
                     "items": [{"id": "bad-3", "track": "ghost-track"}]}).encode(), "the node lacks"),
    ]
    for text, why in cases:
        n = len(refusals())
        seq = status()["newest_sequence"]
        for _ in range(3):  # written again and again: said once
            rt.replace_in(processed, "queue.json", text)
            time.sleep(0.5)
        wait_for(lambda: why in (status()["queue"].get("last_error") or ""), 10, f"the refusal ({why})")
        new = refusals()[n:]
        check(len(new) == 1 and why in new[0].get("error", ""), f"log for {why}: {new}")
        wait_for(lambda: status()["newest_sequence"] > seq + 1, 10, "the station to play on")
        alive()
    st = status()["queue"]
    check(st["items"] == before["items"] or [i["id"] for i in st["items"]] == [i["id"] for i in before["items"]],
          f"a refused queue changed what is queued: {st['items']}")
    check(st["refused"] >= before["refused"] + len(cases), st)


def test_a_queue_written_before_its_manifest_entry_is_taken_once_the_entry_is_there():
    write_queue([("late-1", "late-track")])
    wait_for(lambda: "late-track" in (status()["queue"].get("last_error") or ""), 10, "the refusal")
    manifest = rt.read_json(os.path.join(processed, "manifest.json"))
    late = json.loads(json.dumps(next(t for t in manifest["tracks"] if t["id"] == ctx["guest"])))
    late["id"] = "late-track"
    manifest["tracks"].append(late)
    rt.replace_in(processed, "manifest.json", json.dumps(manifest, indent=1).encode())
    st = wait_for(lambda: status()["queue"]["items"][-1]["id"] == "late-1" and status()["queue"], 10,
                  "the queue to be taken without being rewritten")
    check(not st["last_error"], st)


def test_a_new_running_order_is_acknowledged_where_it_took_effect():
    with open(os.path.join(processed, "playlist.m3u")) as f:
        lines = f.read().splitlines()
    entries = [lines[i:i + 2] for i in range(1, len(lines) - 1, 2)]
    # Segments neither pinned on the node nor in processed/: refused.
    rt.replace_in(processed, "playlist.m3u", ("#EXTM3U\n#EXTINF:4,x\nghost-track\n" + "".join(f"{a}\n{b}\n" for a, b in entries)).encode())
    wait_for(lambda: "the node lacks" in (status()["running_order"].get("last_error") or ""), 10,
             "the refusal of an order whose segments the node lacks")
    # The library's order reversed: taken at a track boundary.
    new = list(reversed(entries))
    rt.replace_in(processed, "playlist.m3u", ("#EXTM3U\n" + "".join(f"{a}\n{b}\n" for a, b in new)).encode())
    took = wait_for(lambda: not status()["running_order"].get("last_error") and status()["running_order"]["took_effect"],
                    10, "the new order's acknowledgement")
    first = new[0][1]
    cids = cids_of(rt.read_json(os.path.join(processed, "manifest.json")), first)
    seq = took["first_sequence"]
    wait_for(lambda: validator.segs.get(seq + len(cids) - 1), 60, f"the gateway to serve sequence {seq + len(cids) - 1}")
    s = validator.segs[seq]
    check(s["disc"] and s["pdt"] == took["air_time"], f"served at {seq}: {s}, acknowledged {took}")
    for k, cid in enumerate(cids):
        check(cid in validator.segs[seq + k]["uri"], f"sequence {seq + k} is not {first} segment {k}")


def test_every_playlist_served_kept_the_players_rules():
    time.sleep(3 * SEG)
    validator.finish(20)


def stop_everything():
    if validator:
        validator.stop.set()
    rt.stop_all(procs, 15)


if __name__ == "__main__":
    rt.run_tests(globals(), work, chain=True, cleanup=stop_everything)
