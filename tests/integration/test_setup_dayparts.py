"""Day-parts against the real test IPFS node: radio-setup with two parts
writes processed/dayparts.json (read here with json and the documented
rules, not the program's own reader) and one playlist per part, each the
order its config asks (a shuffle checked with an independent SplitMix64,
an explicit list with an explicit jingle); clock.json carries the time
zone; changing only the parts re-encodes nothing and a second run writes
nothing; a part removed takes its playlist with it, no parts take
dayparts.json and the folder; a bad part is refused with processed/
untouched."""
import json
import os
import shutil
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import radiotest as rt  # noqa: E402
import splitmix  # noqa: E402

SETUP = sys.argv[1]
API, _ = rt.node_urls()
check = rt.check

work = tempfile.mkdtemp(prefix="radio-setup-dayparts-it-")
music = os.path.join(work, "music")
jingles = os.path.join(work, "jingles")
processed = os.path.join(work, "processed")
config_path = os.path.join(work, "setup.json")
playlist_config = os.path.join(work, "playlist.json")
SONGS = sorted(["a.ogg", "b.ogg", "c.ogg", "d.ogg", "X/e.ogg", "Y/e.ogg"])  # by path, as the scan has them
JINGLES = ["j1.flac", "j2.flac"]
EVERY = 2
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEK = 7 * 86400

# A zoneinfo folder of the test's own, holding one real zone (tzdata is
# installed with the project): setup reads the zone as the streamer will.
tzdir = os.path.join(work, "zoneinfo")
os.makedirs(os.path.join(tzdir, "Europe"))
shutil.copy("/usr/share/zoneinfo/Europe/Berlin", os.path.join(tzdir, "Europe", "Berlin"))
os.environ["TZDIR"] = tzdir

NIGHT = {"name": "night", "days": ["daily"], "start": "00:00", "end": "06:00", "mode": "shuffle", "seed": 5}
BRUNCH = {"name": "brunch", "days": ["sun", "sat"], "start": "10:00", "end": "14:00:30",
          "tracks": ["c.ogg", "a.ogg", "c.ogg"], "jingles": ["j2.flac"]}


def write_playlist_config(**keys):
    rt.write_json(playlist_config, {"source": music, **keys})


def setup_run(expect_status):
    return rt.setup_run(SETUP, config_path, expect_status)


def refusal(p):
    """The error of a run that exit status 2 ended: a config check's line, or setup's log event."""
    failed = [kv["error"] for _, msg, kv in rt.log_events(p.stderr) if msg.startswith("setup failed")]
    return failed[-1] if failed else p.stderr


def done_of(p):
    return rt.last_event(p.stderr, "setup done")


def load(rel):
    with open(os.path.join(processed, rel)) as f:
        return json.load(f)


def m3u_order(rel):
    """A playlist file as (kind, source path) pairs, through the manifest."""
    by_id = {t["id"]: t for t in load("manifest.json")["tracks"]}
    with open(os.path.join(processed, rel)) as f:
        ids = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    return [(by_id[i]["kind"], by_id[i]["source"]["path"]) for i in ids]


def interleave(music_order, jingle_order):
    """The documented rotation: a jingle, then `jingle_every` music entries,
    then the next jingle; with too little music for a group per jingle,
    whole groups of music repeat."""
    if not jingle_order:
        return [("music", m) for m in music_order]
    groups = -(-len(music_order) // EVERY)
    repeat = groups < len(jingle_order)
    groups = max(groups, len(jingle_order))
    out, pos = [], 0
    for g in range(groups):
        out.append(("jingle", jingle_order[g % len(jingle_order)]))
        for _ in range(min(EVERY, len(music_order)) if repeat else min(EVERY, len(music_order) - pos)):
            out.append(("music", music_order[pos % len(music_order)]))
            pos += 1
    return out


def seconds(t):
    m = re.fullmatch(r"(\d\d):(\d\d)(?::(\d\d))?", t)
    check(m is not None, f"time {t!r} is not HH:MM or HH:MM:SS")
    h, mi, s = int(m[1]), int(m[2]), int(m[3] or 0)
    check(h <= 24 and mi < 60 and s < 60 and h * 3600 + mi * 60 + s <= 86400, f"time {t!r} out of range")
    return h * 3600 + mi * 60 + s


def check_index(doc, want_zone, want_parts):
    """dayparts.json by the contract's rules, independently of setup's code."""
    check(doc["format"] == "ipfs-radio-dayparts" and doc["version"] == 1, f"header {doc}")
    check(doc["time_zone"] == want_zone, f"time_zone {doc['time_zone']}")
    check(set(doc) == {"format", "version", "time_zone", "parts"}, f"keys {sorted(doc)}")
    spans, names = [], set()
    for p in doc["parts"]:
        check(set(p) == {"name", "playlist", "days", "start", "end"}, f"part keys {sorted(p)}")
        check(re.fullmatch(r"[A-Za-z0-9._-]{1,64}", p["name"]) and p["name"] not in names, f"name {p['name']}")
        names.add(p["name"])
        check(p["playlist"] == f"dayparts/{p['name']}.m3u", f"playlist path {p['playlist']}")
        check(os.path.isfile(os.path.join(processed, p["playlist"])), f"{p['playlist']} missing")
        check(p["days"] and len(set(p["days"])) == len(p["days"]) and
              p["days"] == sorted(p["days"], key=DAYS.index), f"days not in week order: {p['days']}")
        start, end = seconds(p["start"]), seconds(p["end"])
        check(start < 86400 and end > 0 and start != end, f"bounds {p['start']} {p['end']}")
        length = end - start if end > start else 86400 - start + end
        for d in p["days"]:
            s = DAYS.index(d) * 86400 + start
            for a, b in ((s, min(s + length, WEEK)), (0, s + length - WEEK)):
                if b > a:
                    spans.append((a, b, p["name"]))
    for i, (a1, b1, n1) in enumerate(spans):
        for a2, b2, n2 in spans[i + 1:]:
            check(n1 == n2 or b1 <= a2 or b2 <= a1, f"parts {n1} and {n2} overlap")
    got = [(p["name"], p["days"], p["start"], p["end"]) for p in doc["parts"]]
    check(got == want_parts, f"parts {got} != {want_parts}")


def test_a_station_without_parts_has_no_dayparts_file():
    for i, name in enumerate(SONGS):
        os.makedirs(os.path.dirname(os.path.join(music, name)), exist_ok=True)
        rt.lavfi_song(os.path.join(music, name), 300 + 70 * i, 2 + i % 2, "-c:a", "libvorbis")
    os.makedirs(jingles)
    for i, name in enumerate(JINGLES):
        rt.ffmpeg("-f", "lavfi", "-i", f"sine=f={900 + 200 * i}:d=1", "-c:a", "flac", os.path.join(jingles, name))
    rt.write_json(config_path, {"processed_dir": processed, "jingles_dir": jingles, "playlist_config": playlist_config,
                                "ipfs_api": API, "jobs": 2, "jingle_every": EVERY, "progress": "lines",
                                "segment_seconds": 2.0})
    write_playlist_config()
    done = done_of(setup_run(0))
    check(done["encoded"] == str(len(SONGS) + len(JINGLES)), f"{done}")
    check(not os.path.exists(os.path.join(processed, "dayparts.json")), "dayparts.json without parts")
    check(not os.path.exists(os.path.join(processed, "dayparts")), "dayparts/ without parts")
    check(load("clock.json").get("time_zone") == "UTC", f"clock.json {load('clock.json')}")


def test_two_parts_write_their_playlists_and_encode_nothing():
    before = {k: v for k, v in rt.tree_state(processed).items() if k.startswith("segments/")}
    main_before = m3u_order("playlist.m3u")
    write_playlist_config(time_zone="Europe/Berlin", dayparts=[NIGHT, BRUNCH])
    done = done_of(setup_run(0))
    check(done["encoded"] == "0" and done["segments_readded"] == "0", f"re-encoded: {done}")
    check({k: v for k, v in rt.tree_state(processed).items() if k.startswith("segments/")} == before,
          "segments touched by a day-parts change")
    check_index(load("dayparts.json"), "Europe/Berlin",
                [("night", DAYS, "00:00", "06:00"), ("brunch", ["sat", "sun"], "10:00", "14:00:30")])
    night = m3u_order("dayparts/night.m3u")
    want_night = interleave(splitmix.shuffle(SONGS, 5), JINGLES)
    check(night == want_night, f"night {night} != {want_night}")
    check([p for k, p in night if k == "music"] != SONGS, "the shuffle left the order as it was: no proof")
    brunch = m3u_order("dayparts/brunch.m3u")
    want_brunch = [("jingle", "j2.flac"), ("music", "c.ogg"), ("music", "a.ogg"), ("jingle", "j2.flac"),
                   ("music", "c.ogg")]
    check(brunch == want_brunch, f"brunch {brunch} != {want_brunch}")
    check(m3u_order("playlist.m3u") == main_before, "the main order changed")
    check(load("clock.json").get("time_zone") == "Europe/Berlin", f"clock.json {load('clock.json')}")
    opts = load("manifest.json")["playlist_options"]
    check(opts.get("time_zone") == "Europe/Berlin" and [p["name"] for p in opts.get("dayparts", [])] ==
          ["night", "brunch"] and opts["dayparts"][1]["tracks"] == BRUNCH["tracks"], f"playlist_options {opts}")
    check(load("clock.json")["format"] == "ipfs-radio-clock" and load("clock.json")["version"] == 1, "clock header")
    # The same config again writes nothing.
    state = rt.tree_state(processed)
    done = done_of(setup_run(0))
    check(done["playlist"] == "unchanged" and done["manifest"] == "unchanged", f"{done}")
    check(rt.tree_state(processed) == state, "a second run with the same parts changed processed/")


def test_a_bad_part_is_refused_and_nothing_changes():
    state = rt.tree_state(processed)
    bad = [
        ([NIGHT, dict(BRUNCH, days=["sat"], start="05:00", end="07:00")], ('"night"', '"brunch"', "overlap")),
        ([NIGHT, dict(BRUNCH, colour="red")], ('"brunch"', '"colour"')),
        ([NIGHT, dict(BRUNCH, start="7:00")], ('"brunch"', '"start"')),
        ([NIGHT, dict(BRUNCH, name="night")], ('"night"', '"name"')),
        ([NIGHT, dict(BRUNCH, tracks=["a.ogg", "e.ogg"])], ('"brunch"', '"tracks"', '"e.ogg"', "X/e.ogg", "Y/e.ogg")),
        ([dict(NIGHT, days=["sun"], start="23:00", end="00:30"), dict(BRUNCH, days=["mon"], start="00:00")],
         ('"night"', '"brunch"', "overlap")),
        ([NIGHT, dict(BRUNCH, tracks=["nothing-like-it.ogg", "a.ogg"], jingles=["j9.flac", "j1.flac"])], None),
    ]
    for parts, needles in bad[:-1]:
        write_playlist_config(time_zone="Europe/Berlin", dayparts=parts)
        msg = refusal(setup_run(2))
        for want in needles + (playlist_config,):
            check(want in msg, f"{want} not in the refusal: {msg}")
        check(rt.tree_state(processed) == state, f"processed/ changed although {parts} was refused")
    write_playlist_config(time_zone="Europe/Atlantis", dayparts=[NIGHT])
    msg = refusal(setup_run(2))
    check('"time_zone"' in msg and "Europe/Atlantis" in msg, msg)
    check(rt.tree_state(processed) == state, "processed/ changed although the zone was refused")
    # A missing entry in a part is reported and left out, as in the main order.
    write_playlist_config(time_zone="Europe/Berlin", dayparts=bad[-1][0])
    p = setup_run(3)
    check(done_of(p)["missing"] == "2", f"{done_of(p)}")
    missing = [(kv["entry"], kv.get("daypart")) for _, msg, kv in rt.log_events(p.stderr)
               if msg.startswith("listed file not found")]
    check(missing == [("nothing-like-it.ogg", "brunch"), ("j9.flac", "brunch")], f"{missing}")
    check(m3u_order("dayparts/brunch.m3u") == [("jingle", "j1.flac"), ("music", "a.ogg")],
          f"{m3u_order('dayparts/brunch.m3u')}")


def test_a_removed_part_takes_its_playlist_and_no_parts_take_the_folder():
    write_playlist_config(time_zone="Europe/Berlin", dayparts=[dict(BRUNCH, days=["weekends"])])
    done = done_of(setup_run(0))
    check(done["encoded"] == "0", f"{done}")
    check_index(load("dayparts.json"), "Europe/Berlin", [("brunch", ["sat", "sun"], "10:00", "14:00:30")])
    check(sorted(os.listdir(os.path.join(processed, "dayparts"))) == ["brunch.m3u"],
          f"stale playlists left: {os.listdir(os.path.join(processed, 'dayparts'))}")
    write_playlist_config()
    done = done_of(setup_run(0))
    check(done["encoded"] == "0", f"{done}")
    check(not os.path.exists(os.path.join(processed, "dayparts.json")), "dayparts.json left")
    check(not os.path.exists(os.path.join(processed, "dayparts")), "dayparts/ left")
    check(load("clock.json").get("time_zone") == "UTC", "time_zone not back to UTC")



def read(rel):
    with open(os.path.join(processed, rel), "rb") as f:
        return f.read()


def test_a_failed_switch_puts_the_files_back():
    """A write that fails half way (here: a folder where a file goes) leaves
    what a reader can meet as it was."""
    files = ("manifest.json", "playlist.m3u", "clock.json")
    before = {f: read(f) for f in files}
    # dayparts/ cannot be made: the manifest, already written, goes back.
    with open(os.path.join(processed, "dayparts"), "w") as f:
        f.write("in the way")
    write_playlist_config(time_zone="Europe/Berlin", dayparts=[NIGHT, BRUNCH])
    setup_run(1)
    check({f: read(f) for f in files} == before, "a file a reader meets was not put back")
    check(not os.path.exists(os.path.join(processed, "dayparts.json")), "dayparts.json written")
    os.unlink(os.path.join(processed, "dayparts"))
    # dayparts.json cannot be written: the parts' playlists written before it go again.
    os.makedirs(os.path.join(processed, "dayparts.json", "in-the-way"))
    setup_run(1)
    check({f: read(f) for f in files} == before, "a file a reader meets was not put back")
    check(not os.path.exists(os.path.join(processed, "dayparts")), "the parts' playlists were left")
    os.rmdir(os.path.join(processed, "dayparts.json", "in-the-way"))
    os.rmdir(os.path.join(processed, "dayparts.json"))
    done = done_of(setup_run(0))
    check(done["encoded"] == "0" and os.path.isfile(os.path.join(processed, "dayparts", "night.m3u")), f"{done}")
    # playlist.m3u cannot be written: the parts' playlists and dayparts.json
    # written before it are put back as they were.
    parts_before = {f: read(f) for f in ("dayparts.json", "dayparts/night.m3u", "dayparts/brunch.m3u", "manifest.json")}
    main_text = read("playlist.m3u")
    os.unlink(os.path.join(processed, "playlist.m3u"))
    os.makedirs(os.path.join(processed, "playlist.m3u", "in-the-way"))
    write_playlist_config(time_zone="Europe/Berlin", dayparts=[dict(NIGHT, seed=6, start="01:00"),
                                                               dict(BRUNCH, tracks=["b.ogg"])])
    setup_run(1)
    check({f: read(f) for f in parts_before} == parts_before, "the parts' files were not put back")
    os.rmdir(os.path.join(processed, "playlist.m3u", "in-the-way"))
    os.rmdir(os.path.join(processed, "playlist.m3u"))
    with open(os.path.join(processed, "playlist.m3u"), "wb") as f:
        f.write(main_text)


if __name__ == "__main__":
    rt.run_tests(globals(), work, chain=True)
