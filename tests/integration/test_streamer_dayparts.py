"""Day-parts from outside. Setup is given a main running order and a
day-part (two other songs, in Asia/Kolkata time, UTC+05:30) starting about
a minute after the test's start and lasting 40 s; the streamer plays it
beside a real Kubo node. Read from the node's gateway under the station's
name (hls_rules, hls-parser over every playlist), with the schedule worked
out independently here (Python's zoneinfo): every track that starts before
the part's start, or at or after its end, is the main order's and every
one between is the part's, so the switches fall on the first track
boundaries at or after the scheduled times and never cut a track; the
part's order starts from its top and the main order goes on after it
where it left off. status.json names the part in force. A streamer killed
(-9) during the part and started again keeps all of it."""
import datetime
import math
import os
import signal
import sys
import tempfile
import time
import zoneinfo

sys.path.insert(0, os.path.dirname(__file__))
import radiotest as rt  # noqa: E402
import hls_rules  # noqa: E402

SETUP, STREAMER = sys.argv[1], sys.argv[2]
SEG = 1.0
ZONE = "Asia/Kolkata"
LEAD = 40.0       # from setup's day-part run to the part's start: the first publishes fit in it
LENGTH = 40.0     # the part's length: several tracks of it
MAIN = ["00 song.ogg", "01 song.ogg", "02 song.ogg", "03 song.ogg"]
PART = ["04 song.ogg", "05 song.ogg"]

work = tempfile.mkdtemp(prefix="radio-dayparts-it-")
music = os.path.join(work, "music")
jingles = os.path.join(work, "jingles")
processed = os.path.join(work, "processed")
state = os.path.join(work, "state")
log = os.path.join(work, "streamer.log")
os.makedirs(music)
os.makedirs(jingles)
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


def setup(playlist):
    pc = rt.write_json(os.path.join(work, "playlist.json"), playlist)
    out = rt.run([SETUP, "--config", rt.write_json(os.path.join(work, "setup.json"), {
        "playlist_config": pc, "processed_dir": processed, "jingles_dir": jingles, "ipfs_api": api,
        "segment_seconds": SEG, "progress": "lines"})])
    return out.stdout + out.stderr


def test_setup_writes_the_day_part():
    rt.tagged_songs(music, [(220 + 55 * i, 5 + i % 3) for i in range(6)])
    setup({"source": music, "tracks": MAIN})
    # The times are set once the songs are cut: a day-part costs no encoding.
    # Whole seconds: the part's times are written to the second.
    begin = math.ceil(time.time() + LEAD)
    local = datetime.datetime.fromtimestamp(begin, zoneinfo.ZoneInfo(ZONE))
    end_local = local + datetime.timedelta(seconds=LENGTH)
    ctx["begin"], ctx["end"] = float(begin), begin + LENGTH
    day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][local.weekday()]
    out = setup({"source": music, "tracks": MAIN, "time_zone": ZONE,
                 "dayparts": [{"name": "drive", "days": [day], "start": local.strftime("%H:%M:%S"),
                               "end": end_local.strftime("%H:%M:%S"), "tracks": PART}]})
    check("encoded=0" in out, f"a day-part re-encoded something:\n{out[-2000:]}")
    check(time.time() < begin - LEAD / 2, "setup took too long for the part's start time")
    parts = rt.read_json(os.path.join(processed, "dayparts.json"))
    check(parts["time_zone"] == ZONE and [p["name"] for p in parts["parts"]] == ["drive"], parts)
    manifest = rt.read_json(os.path.join(processed, "manifest.json"))
    by_source = {os.path.basename(t["source"]["path"]): t["id"] for t in manifest["tracks"]}
    ctx["main"] = [by_source[f] for f in MAIN]
    ctx["part"] = [by_source[f] for f in PART]
    ctx["by_cid"] = {s["cid"]: (t["id"], k, len(t["segments"])) for t in manifest["tracks"]
                     for k, s in enumerate(t["segments"])}


def test_station_on_air_before_the_part():
    start()
    name = wait_for(lambda: status().get("last_publish", {}).get("time") and status().get("ipns_name"), 60,
                    "the first publish")
    global validator
    validator = hls_rules.GatewayValidator(gateway, name)
    validator.start()
    wait_for(lambda: validator.rules.checked >= 2, 30, "the gateway to serve the station")
    ro = status()["running_order"]
    check(ro.get("time_zone") == ZONE and ro.get("day_part") is None, f"before the part: {ro}")


def test_schedule_json_forecasts_the_part_before_it_begins():
    def forecast():
        items = rt.read_json(os.path.join(state, "schedule.json"))["items"]
        return items if any(rt.pdt(i["air_time"]) >= ctx["begin"] for i in items) else None
    items = wait_for(forecast, 30, "schedule.json to reach past the part's start")
    check(time.time() < ctx["begin"] - 5, "the forecast came too late to be one")
    ctx["forecast"] = [i for i in items if rt.pdt(i["air_time"]) >= ctx["begin"]]
    check(ctx["forecast"][0]["track"] == ctx["part"][0], f"the part's first track not forecast: {ctx['forecast'][:2]}")


def test_status_names_the_part_in_force_and_a_kill_during_it_keeps_it():
    wait_for(lambda: status()["running_order"].get("day_part") == "drive", LEAD + 30,
             "status.json to name the part in force")
    time.sleep(LENGTH / 3)
    started = status()["started"]
    procs[-1].send_signal(signal.SIGKILL)
    procs[-1].wait(timeout=10)
    start()
    wait_for(lambda: status().get("started") != started and status().get("last_publish", {}).get("time"), 30,
             "the restarted streamer's first publish")
    wait_for(lambda: status()["running_order"].get("day_part") is None and time.time() > ctx["end"], LENGTH + 30,
             "status.json to show the part over")



def test_the_gateway_served_the_part_at_its_times():
    # Two main tracks after the part's end, at least.
    wait_for(lambda: validator.segs and rt.pdt(validator.segs[max(validator.segs)]["pdt"]) > ctx["end"] + 20, 60,
             "the gateway to serve past the part's end")
    segs = validator.segs
    missing = sorted(set(range(min(segs), max(segs) + 1)) - set(segs))
    check(not missing, f"sequence numbers missing from what was served: {missing}")
    ts = rt.served_tracks(segs)
    nxt = {"main": 0, "part": 0}
    seen = {"main": [], "part": []}
    for i, (q, at, cids) in enumerate(ts):
        tid, k0, n = ctx["by_cid"][cids[0]]
        check(all(ctx["by_cid"][c][0] == tid for c in cids), f"track at {q} mixes tracks")
        if i == 0:
            continue  # the lead-in: cut by the first playlist
        if i < len(ts) - 1:
            check([ctx["by_cid"][c][1] for c in cids] == list(range(n)), f"{tid} at {q} did not play whole")
        which = "part" if ctx["begin"] <= at < ctx["end"] else "main"
        order = ctx[which]
        if i == 1 and which == "main":
            nxt["main"] = order.index(tid)  # where the lead-in's next track stands
        want = order[nxt[which] % len(order)]
        check(tid == want, f"the track starting at sequence {q} ({at:.3f}, part {ctx['begin']}..{ctx['end']}) is "
              f"{tid}; the {which} order goes on with {want}")
        nxt[which] += 1
        seen[which].append(at)
    check(len(seen["part"]) >= 3, f"only {len(seen['part'])} tracks of the part served")
    before = [a for a in seen["main"] if a < ctx["begin"]]
    after = [a for a in seen["main"] if a >= ctx["end"]]
    check(before and after, "main-order tracks on both sides of the part")
    # The first boundary at or after each scheduled time: the tracks of
    # the other order ran up to it, none started after it.
    check(min(seen["part"]) - ctx["begin"] < 8 and min(after) - ctx["end"] < 8,
          f"switches at {min(seen['part']) - ctx['begin']:.3f} and {min(after) - ctx['end']:.3f} s after schedule")
    # What schedule.json forecast before the part is what aired, where it
    # said (the switch back included), as far as the reading went.
    served = [i for i in ctx["forecast"] if i["first_sequence"] + i["segments"] <= max(segs)]
    check(any(rt.pdt(i["air_time"]) >= ctx["end"] for i in served), f"no forecast item past the part's end: {served}")
    for item in served:
        s = segs.get(item["first_sequence"])
        check(s and s["disc"] and s["pdt"] == item["air_time"] and
              ctx["by_cid"][s["uri"].rsplit("/", 1)[-1].split("?")[0]][0] == item["track"],
              f"forecast {item}, served {s}")


def test_every_playlist_served_kept_the_players_rules():
    validator.finish(20)


def stop_everything():
    if validator:
        validator.stop.set()
    rt.stop_all(procs, 15)


if __name__ == "__main__":
    rt.run_tests(globals(), work, chain=True, cleanup=stop_everything)
