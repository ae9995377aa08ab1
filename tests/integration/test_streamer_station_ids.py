"""Station IDs on the clock, from outside. Setup is given a running order
of music with a jingle only every 1000 tracks and `station_id_every_minutes`
of 0.3 (18 s); the streamer then puts a jingle of the rotation at track
boundaries so that one starts at least every 18 s. Read from the node's
gateway under the station's name (hls_rules, hls-parser over every
playlist): every ID starts a track (a discontinuity) right after a music
track that played whole, IDs come at most 18 s apart (start to start, by
the date-times players see) and never two in a row, schedule.json lists an
ID before it airs at the sequence it then airs at, and a streamer killed
(-9) and started again goes on with the same rule and no violation."""
import os
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import radiotest as rt  # noqa: E402
import hls_rules  # noqa: E402

SETUP, STREAMER = sys.argv[1], sys.argv[2]
SEG = 1.0
EVERY_MIN = 0.3
EVERY = EVERY_MIN * 60

work = tempfile.mkdtemp(prefix="radio-ids-it-")
music = os.path.join(work, "music")
jingles = os.path.join(work, "jingles")
processed = os.path.join(work, "processed")
state = os.path.join(work, "state")
log = os.path.join(work, "streamer.log")
for d in (music, jingles):
    os.makedirs(d)
check = rt.check
api, gateway = rt.node_urls()
procs = []
validator = None
ctx = {}


def status():
    return rt.read_status(state)


wait_for = rt.log_waiter(log)


def start():
    cfg = rt.write_streamer_config(os.path.join(work, "streamer.json"), processed, state, api, gateway,
                                   window_segments=20, reload_check_seconds=0.3)
    return rt.spawn(procs, [STREAMER, "--config", cfg], log)


def test_setup_writes_the_rule_into_processed():
    rt.tagged_songs(music, [(220 + 55 * i, 5 + i % 3) for i in range(6)])
    for k, f in enumerate((660, 990)):
        rt.ffmpeg("-f", "lavfi", "-i", f"sine=f={f}:d=2", "-metadata", "artist=Station", "-metadata",
                  f"title=Ident {k}", "-c:a", "flac", os.path.join(jingles, f"id{k}.flac"))
    pc = rt.write_json(os.path.join(work, "playlist.json"),
                       {"source": music, "station_id_every_minutes": EVERY_MIN, "station_id_top_of_hour": False})
    rt.run([SETUP, "--config", rt.write_json(os.path.join(work, "setup.json"), {
        "playlist_config": pc, "processed_dir": processed, "jingles_dir": jingles, "ipfs_api": api,
        "segment_seconds": SEG, "jingle_every": 1000, "progress": "lines"})])
    clock = rt.read_json(os.path.join(processed, "clock.json"))
    manifest = rt.read_json(os.path.join(processed, "manifest.json"))
    ids = sorted(t["id"] for t in manifest["tracks"] if t["kind"] == "jingle")
    check(clock["format"] == "ipfs-radio-clock" and clock["version"] == 1, clock)
    check(abs(clock["station_ids"]["every_seconds"] - EVERY) < 1e-9, clock)
    check(sorted(clock["station_ids"]["jingles"]) == ids and len(ids) == 2, clock)
    ctx["manifest"] = manifest
    ctx["jingle_cids"] = {s["cid"]: t["id"] for t in manifest["tracks"] if t["kind"] == "jingle" for s in t["segments"]}


def test_station_on_air():
    start()
    name = wait_for(lambda: status().get("last_publish", {}).get("time") and status().get("ipns_name"), 60,
                    "the first publish")
    global validator
    # The first playlist lists a lead-in already on air: the rule holds
    # from the first boundary after it (docs/programming.md).
    ctx["lead_in_end"] = status()["newest_sequence"]
    validator = hls_rules.GatewayValidator(gateway, name)
    validator.start()
    wait_for(lambda: validator.rules.checked >= 2, 30, "the gateway to serve the station")


def test_schedule_json_forecasts_the_next_station_id():
    jingle_ids = set(ctx["jingle_cids"].values())
    # The next boundary is decided once the track before it is on air:
    # from then on the forecast holds (further ahead, an ID inserted later
    # moves the order's own jingles, as a queue would).
    def forecast():
        sched = rt.read_json(os.path.join(state, "schedule.json"))
        now = time.time()
        on, nxt = sched["items"][0], sched["items"][1]
        return nxt if nxt["track"] in jingle_ids and rt.pdt(nxt["air_time"]) > now + 1 and rt.pdt(on["air_time"]) < now else None
    item = wait_for(forecast, 3 * EVERY, "schedule.json to list a station ID still to come")
    seq = item["first_sequence"]
    wait_for(lambda: validator.segs.get(seq), 3 * EVERY, f"the gateway to serve sequence {seq}")
    s = validator.segs[seq]
    check(s["disc"] and s["pdt"] == item["air_time"], f"forecast {item}, served {s}")
    check(ctx["jingle_cids"].get(s["uri"].rsplit("/", 1)[-1].split("?")[0]) == item["track"],
          f"sequence {seq} is {s['uri']}, forecast {item['track']}")


def test_a_restart_keeps_the_rule():
    time.sleep(EVERY * 0.7)
    started = status()["started"]
    procs[-1].send_signal(signal.SIGKILL)
    procs[-1].wait(timeout=10)
    start()
    wait_for(lambda: status().get("started") != started and status().get("last_publish", {}).get("time"), 30,
             "the restarted streamer's first publish")
    ctx["restart_seq"] = status()["newest_sequence"]



def test_ids_at_least_every_m_minutes_at_boundaries_never_twice_in_a_row():
    last = ctx["restart_seq"] + int(3 * EVERY / SEG)
    wait_for(lambda: validator.segs.get(last), 6 * EVERY, f"the gateway to serve sequence {last}")
    segs = validator.segs
    first = min(segs)
    missing = sorted(set(range(first, max(segs) + 1)) - set(segs))
    check(not missing, f"sequence numbers missing from what was served: {missing}")
    by_cid = {s["cid"]: (t["id"], k, len(t["segments"])) for t in ctx["manifest"]["tracks"]
              for k, s in enumerate(t["segments"])}
    ts = rt.served_tracks(segs)
    ids = []
    for i, (q, at, cids) in enumerate(ts):
        kinds = {ctx["jingle_cids"].get(c) is not None for c in cids}
        check(len(kinds) == 1, f"track at {q} mixes a jingle and music: {cids}")
        tid, k0, n = by_cid[cids[0]]
        check(all(by_cid[c][0] == tid for c in cids), f"track at {q} mixes tracks")
        # Whole: every segment of it in order (bar the first and last seen, cut by the reading).
        if 0 < i < len(ts) - 1:
            check([by_cid[c][1] for c in cids] == list(range(n)), f"{tid} at {q} did not play whole")
        if tid in ctx["jingle_cids"].values():
            check(not ids or ids[-1][0] != i - 1, f"two station IDs in a row at {q}")
            ids.append((i, at, q))
    ids = [x for x in ids if x[2] > ctx["lead_in_end"]]
    check(len(ids) >= 4, f"only {len(ids)} station IDs served after the lead-in: {ids}")
    for (_, a, qa), (_, b, qb) in zip(ids, ids[1:]):
        check(b - a <= EVERY + 0.002, f"station IDs at {qa} and {qb} are {b - a:.3f} s apart, more than {EVERY}")
    check(any(q > ctx["restart_seq"] for _, _, q in ids), "no station ID after the restart")


def test_every_playlist_served_kept_the_players_rules():
    validator.finish(20)


def stop_everything():
    if validator:
        validator.stop.set()
    rt.stop_all(procs, 15)


if __name__ == "__main__":
    rt.run_tests(globals(), work, chain=True, cleanup=stop_everything)
