"""The running-order options of playlist.config.json against the real test
IPFS node: the default order by path; shuffle, a new seed and alphabetical
rewriting only the playlist (and matching an independent SplitMix64 +
Fisher-Yates); an explicit list with duplicates, a missing and an
undecodable entry; an ambiguous bare name refused; an explicit jingle
order; exclusions and a top-folder-only scan. Then the real radio-streamer
on air while the order switches from ordered to shuffle: nothing is
re-encoded, and the new order starts at the next track boundary, after a
discontinuity, with every earlier sequence number unchanged."""
import json
import os
import re
import sys
import tempfile
import threading
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import radiotest as rt  # noqa: E402
import splitmix  # noqa: E402

SETUP, STREAMER = sys.argv[1], sys.argv[2]
API, GATEWAY = rt.node_urls()
SEG = 2.0  # short segments keep the on-air part short

work = tempfile.mkdtemp(prefix="radio-setup-order-it-")
music = os.path.join(work, "music")
jingles = os.path.join(work, "jingles")
processed = os.path.join(work, "processed")
state = os.path.join(work, "state")
config_path = os.path.join(work, "setup.json")
playlist_config = os.path.join(work, "playlist.json")
procs = []
check = rt.check

# relative path -> (artist, title) tags, None for an untagged file
LIBRARY = {
    "01 first.ogg": ("Beta", "Alpha Song"),
    "02 second.flac": ("alpha", "Zed"),
    "03 untagged.wav": None,
    "Drafts/06 demo.wav": None,
    "Other/dup.ogg": ("Delta", "Dup B"),
    "Sub/04 deep.mp3": ("Gamma", "Deep"),
    "Sub/dup.ogg": ("Delta", "Dup A"),
    "Zed Band - Last.ogg": None,
}
CORRUPT = "05 corrupt.flac"
CODECS = {".ogg": ["-c:a", "libvorbis"], ".flac": ["-c:a", "flac"], ".wav": ["-c:a", "pcm_s16le"],
          ".mp3": ["-c:a", "libmp3lame"]}


def make_library():
    for i, (rel, tags) in enumerate(sorted(LIBRARY.items())):
        path = os.path.join(music, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        meta = ["-metadata", f"artist={tags[0]}", "-metadata", f"title={tags[1]}"] if tags else []
        rt.lavfi_song(path, 220 + 55 * i, 3 + i % 3, *meta, *CODECS[os.path.splitext(rel)[1]])
    with open(os.path.join(music, CORRUPT), "wb") as f:
        f.write(b"fLaC" + os.urandom(5000))
    os.makedirs(jingles)
    for i, name in enumerate(("j1 station.flac", "j2 news.flac")):
        rt.ffmpeg("-f", "lavfi", "-i", f"sine=f={880 + 220 * i}:d=1.5", "-c:a", "flac",
                  os.path.join(jingles, name))


def write_config(**over):
    cfg = {"processed_dir": processed, "jingles_dir": jingles, "playlist_config": playlist_config,
           "ipfs_api": API, "jobs": 2, "jingle_every": 2, "progress": "lines", "segment_seconds": SEG}
    cfg.update(over)
    with open(config_path, "w") as f:
        json.dump(cfg, f)


def write_playlist_config(**keys):
    with open(playlist_config, "w") as f:
        json.dump({"source": music, **keys}, f)


def setup_run(expect_status):
    return rt.setup_run(SETUP, config_path, expect_status)


def tree_state():
    return rt.tree_state(processed)


def segments_of(tree):
    return {k: v for k, v in tree.items() if k.startswith("segments/")}


def manifest():
    with open(os.path.join(processed, "manifest.json")) as f:
        return json.load(f)


def running_order():
    """The playlist as (kind, source path) pairs."""
    by_id = {t["id"]: t for t in manifest()["tracks"]}
    with open(os.path.join(processed, "playlist.m3u")) as f:
        ids = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    return [(by_id[i]["kind"], by_id[i]["source"]["path"]) for i in ids]


def music_order():
    return [p for kind, p in running_order() if kind == "music"]


ALL_MUSIC = sorted(list(LIBRARY) + [CORRUPT])   # what the scan sees, by path
PLAYABLE = [p for p in ALL_MUSIC if p != CORRUPT]


def expected_shuffle(seed):
    # The corrupt file takes its place in the shuffle, then drops out.
    return [p for p in splitmix.shuffle(ALL_MUSIC, seed) if p != CORRUPT]


def test_default_order_is_by_path_with_the_jingle_rotation():
    make_library()
    write_config()
    write_playlist_config()
    p = setup_run(3)
    done = rt.last_event(p.stderr, "setup done")
    check(done["encoded"] == str(len(LIBRARY) + 2) and done["skipped"] == "1", f"{done}")
    check(music_order() == PLAYABLE, f"order {music_order()}")
    kinds = [k for k, _ in running_order()]
    check(kinds[:7] == ["jingle", "music", "music", "jingle", "music", "music", "jingle"], f"{kinds}")
    opts = manifest()["playlist_options"]
    check(opts["mode"] == "ordered" and opts["tracks"] == [] and opts["scan_subdirectories"] is True
          and "seed" not in opts, f"{opts}")


def test_shuffle_rewrites_only_the_playlist_and_is_stable():
    before = tree_state()
    ordered = music_order()
    write_playlist_config(mode="shuffle", seed=7)
    p = setup_run(3)
    done = rt.last_event(p.stderr, "setup done")
    check(done["encoded"] == "0" and done["segments_readded"] == "0", f"re-encoded: {done}")
    check(done["playlist"] == "written" and done["manifest"] == "written", f"{done}")
    after = tree_state()
    check(segments_of(after) == segments_of(before), "segments touched by a mode change")
    shuffled = music_order()
    check(sorted(shuffled) == sorted(ordered) and shuffled != ordered, f"not a reshuffle: {shuffled}")
    check(shuffled == expected_shuffle(7), f"{shuffled} != independent SplitMix64 {expected_shuffle(7)}")
    opts = manifest()["playlist_options"]
    check(opts["mode"] == "shuffle" and opts["seed"] == 7, f"{opts}")
    # The same config again: the same order, nothing written.
    p = setup_run(3)
    done = rt.last_event(p.stderr, "setup done")
    check(done["playlist"] == "unchanged" and done["manifest"] == "unchanged", f"{done}")
    check(tree_state() == after, "a second run with the same seed changed processed/")


def test_a_new_seed_reshuffles_without_encoding():
    first = music_order()
    before = segments_of(tree_state())
    write_playlist_config(mode="shuffle", seed=8)
    p = setup_run(3)
    done = rt.last_event(p.stderr, "setup done")
    check(done["encoded"] == "0" and done["playlist"] == "written", f"{done}")
    check(segments_of(tree_state()) == before, "segments touched by a seed change")
    check(music_order() == expected_shuffle(8) and music_order() != first, f"{music_order()}")


def test_alphabetical_sorts_by_artist_then_title_or_file_name():
    write_playlist_config(mode="alphabetical")
    p = setup_run(3)
    done = rt.last_event(p.stderr, "setup done")
    check(done["encoded"] == "0", f"{done}")
    want = ["03 untagged.wav", "Drafts/06 demo.wav", "02 second.flac", "01 first.ogg", "Sub/dup.ogg",
            "Other/dup.ogg", "Sub/04 deep.mp3", "Zed Band - Last.ogg"]
    check(music_order() == want, f"{music_order()}")


def test_track_list_plays_exactly_it_and_reports_missing_entries():
    listed = ["Zed Band - Last.ogg", "04 deep.mp3", "01 first.ogg", "missing.mp3", CORRUPT,
              "04 deep.mp3", "Sub/nothing.mp3"]
    write_playlist_config(tracks=listed)
    p = setup_run(3)
    done = rt.last_event(p.stderr, "setup done")
    check(done["encoded"] == "0" and done["missing"] == "2" and done["music"] == "4", f"{done}")
    missing = [kv["entry"] for lvl, msg, kv in rt.log_events(p.stderr) if msg.startswith("listed file not found")]
    check(missing == ["missing.mp3", "Sub/nothing.mp3"], f"reported missing {missing}")
    check(any(msg.startswith("skipping file") and kv.get("file", "").endswith(CORRUPT)
              for lvl, msg, kv in rt.log_events(p.stderr)), "the undecodable entry is named")
    check(music_order() == ["Zed Band - Last.ogg", "Sub/04 deep.mp3", "01 first.ogg", "Sub/04 deep.mp3"],
          f"{music_order()}")
    check(manifest()["playlist_options"]["tracks"] == listed, "the list is recorded in the manifest")
    # Unlisted files stay cut, so the next edit of the list costs nothing.
    check(len([t for t in manifest()["tracks"] if t["kind"] == "music"]) == len(LIBRARY), "library kept")


def test_ambiguous_bare_name_is_refused_and_nothing_changes():
    before = tree_state()
    write_playlist_config(tracks=["01 first.ogg", "dup.ogg"])
    p = setup_run(2)
    msg = rt.last_event(p.stderr, "setup failed")["error"]
    for want in ('"dup.ogg"', "Other/dup.ogg", "Sub/dup.ogg", '"tracks"', playlist_config):
        check(want in msg, f"{want} not in the refusal: {msg}")
    check(tree_state() == before, "processed/ changed although the list was refused")


def test_jingle_list_sets_the_rotation_order():
    write_playlist_config(jingles=["j2 news.flac", "j1 station.flac"])
    p = setup_run(3)
    check(rt.last_event(p.stderr, "setup done")["encoded"] == "0", "re-encoded")
    js = [p for k, p in running_order() if k == "jingle"]
    check(js[:3] == ["j2 news.flac", "j1 station.flac", "j2 news.flac"], f"{js}")


def test_exclusions_and_a_top_folder_scan_drop_files_without_encoding():
    write_playlist_config(exclude=["Drafts", "*untagged*"])
    p = setup_run(3)
    done = rt.last_event(p.stderr, "setup done")
    check(done["encoded"] == "0" and done["removed"] == "2", f"{done}")
    check(music_order() == [x for x in PLAYABLE if x not in ("Drafts/06 demo.wav", "03 untagged.wav")],
          f"{music_order()}")
    write_playlist_config(scan_subdirectories=False)
    p = setup_run(3)
    done = rt.last_event(p.stderr, "setup done")
    check(done["encoded"] == "1", f"{done}")  # 03 untagged.wav is back
    check(music_order() == ["01 first.ogg", "02 second.flac", "03 untagged.wav", "Zed Band - Last.ogg"],
          f"{music_order()}")


def test_bad_playlist_config_is_refused_naming_the_key():
    for keys, name in (({"mode": "random"}, "mode"), ({"shuffle_seed": 3}, "shuffle_seed"),
                       ({"tracks": "01 first.ogg"}, "tracks"), ({"exclude": [""]}, "exclude")):
        write_playlist_config(**keys)
        p = setup_run(2)
        check(f'"{name}"' in p.stderr and playlist_config in p.stderr, p.stderr[-2000:])


# --- on air: the streamer picks the new order up at the next track boundary ---

def streamer_config():
    return rt.write_streamer_config(os.path.join(work, "streamer.json"), processed, state, API, GATEWAY,
                                    window_segments=6, reload_check_seconds=0.5)


def status():
    return rt.read_status(state)


def streamer_log():
    with open(os.path.join(work, "streamer.log")) as f:
        return f.read()


def wait_for(pred, timeout, what):
    return rt.wait_for(pred, timeout, what, diagnose=lambda: f"streamer log:\n{streamer_log()[-3000:]}")


def fetch_live(name):
    with urllib.request.urlopen(f"{GATEWAY}/ipns/{name}", timeout=5) as r:
        return r.read().decode()


def parse(text):
    seq = int(re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", text).group(1))
    dnum = int(re.search(r"#EXT-X-DISCONTINUITY-SEQUENCE:(\d+)", text).group(1))
    segs, disc, pdt = [], False, None
    for line in text.splitlines():
        if line == "#EXT-X-DISCONTINUITY":
            disc = True
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            pdt = line.split(":", 1)[1]
        elif line and not line.startswith("#"):
            dnum += disc
            segs.append({"seq": seq, "uri": line, "disc": disc, "dnum": dnum, "pdt": pdt})
            seq += 1
            disc = False
    return segs


def loop_segments():
    """The running order flattened to one loop of (cid, is a track start)."""
    by_id = {t["id"]: t for t in manifest()["tracks"]}
    with open(os.path.join(processed, "playlist.m3u")) as f:
        ids = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    return [(s["cid"], k == 0) for i in ids for k, s in enumerate(by_id[i]["segments"])]


def find_in_loop(loop, cids):
    """Where in the loop (wrapping) cids appear in a row, or None."""
    for start in range(len(loop)):
        if all(loop[(start + k) % len(loop)][0] == c for k, c in enumerate(cids)):
            return start
    return None


def test_streamer_switches_from_ordered_to_shuffle_at_a_track_boundary():
    write_playlist_config()
    setup_run(3)
    old_loop = loop_segments()
    last_segment = {t["segments"][-1]["cid"] for t in manifest()["tracks"]}
    rt.spawn(procs, [STREAMER, "--config", streamer_config()], os.path.join(work, "streamer.log"))
    name = wait_for(lambda: status().get("last_publish", {}).get("time") and status()["ipns_name"], 90,
                    "the first publish")
    # Heard from a thread of its own, so a slow setup (sanitizers, a loaded
    # machine) cannot let the window slide past unheard segments. The
    # node's gateway is the listener; its answers can stall for longer
    # than the window under load, so the playlist the streamer wrote last
    # (state/live.m3u8) fills such gaps, and both must agree wherever they
    # overlap.
    heard, changed, stop = {}, [], threading.Event()
    from_gateway = set()

    def take(segs, gateway):
        for s in segs:
            old = heard.get(s["seq"])
            if old and (old["uri"], old["dnum"], old["pdt"]) != (s["uri"], s["dnum"], s["pdt"]):
                changed.append(f"seq {s['seq']} changed: {old} -> {s}")
            heard[s["seq"]] = s
            if gateway:
                from_gateway.add(s["seq"])

    def listen():
        while not stop.is_set():
            try:
                take(parse(fetch_live(name)), True)
            except OSError:
                pass
            try:
                with open(os.path.join(state, "live.m3u8")) as f:
                    take(parse(f.read()), False)
            except OSError:
                pass
            stop.wait(0.3)

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    # On air for a while, not only the first playlist's lead-in.
    first = wait_for(lambda: heard and max(heard), 60, "the first playlist")
    wait_for(lambda: max(heard) >= first + 2, 60, "a few segments on air")

    before = segments_of(tree_state())
    write_playlist_config(mode="shuffle", seed=7)
    p = setup_run(3)
    done = rt.last_event(p.stderr, "setup done")
    check(done["encoded"] == "0" and done["segments_readded"] == "0" and done["playlist"] == "written",
          f"the switch re-encoded: {done}")
    check(segments_of(tree_state()) == before, "segments touched by the switch")
    new_loop = loop_segments()
    check(new_loop != old_loop and new_loop[0][1], "the shuffled loop differs and starts a track")

    def loaded():
        ev = [kv for lvl, msg, kv in rt.log_events(streamer_log()) if msg.startswith("running order loaded")]
        return ev and int(ev[-1]["from_sequence"])

    switch = wait_for(loaded, 30, "the streamer to load the new order")
    # The track on air plays to its end (at most 5 s here), then 8 segments of the new order.
    wait_for(lambda: max(heard) >= switch + 8, 90, "the new order on air")
    stop.set()
    listener.join()
    check(not changed, "; ".join(changed[:3]))
    check(any(q >= switch for q in from_gateway), "the node's gateway never served the new order")

    check(all(q in heard for q in range(switch - 1, switch + 9)),
          f"gap around the switch at {switch}: heard {sorted(heard)}; streamer log:\n{streamer_log()[-3000:]}")
    old_part = [heard[q]["uri"][len("/ipfs/"):].split("?")[0] for q in sorted(heard) if q < switch]
    at = find_in_loop(old_loop, old_part)
    check(at is not None, f"before the switch: the old order, unbroken: heard {old_part}, loop {old_loop}")
    would_have = [old_loop[(at + len(old_part) + k) % len(old_loop)][0] for k in range(9)]
    check(would_have != [c for c, _ in new_loop[:9]], "the old order would have played the same: no proof")
    check(old_part[-1] in last_segment, "the switch cut a track short: the segment before it is not a last one")
    for k in range(9):
        s = heard[switch + k]
        cid, starts = new_loop[k % len(new_loop)]
        check(s["uri"] == f"/ipfs/{cid}?filename=segment.ts", f"seq {switch + k}: {s['uri']} is not the new order's segment {k}")
        check(s["disc"] == starts, f"seq {switch + k}: discontinuity {s['disc']}, track start {starts}")
    check(heard[switch]["disc"] and heard[switch]["dnum"] == heard[switch - 1]["dnum"] + 1,
          "no discontinuity at the switch")
    print(f"     new order from sequence {switch}; heard {min(heard)}..{max(heard)}, "
          f"{len(old_part)} old-order segments, {len(from_gateway)} of {len(heard)} through the gateway", flush=True)


if __name__ == "__main__":
    rt.run_tests(globals(), work, chain=True, cleanup=lambda: rt.stop_all(procs, 15))
