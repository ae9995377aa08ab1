"""setup against the real test IPFS node, on a library generated here with
ffmpeg's lavfi sources: every format and failure the issue lists, then the
cache behaviours, a node that lost its blocks, and a node that is down."""
import glob
import json
import math
import os
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import radiotest as rt  # noqa: E402

check = rt.check

SETUP = sys.argv[1]
API, GATEWAY = rt.node_urls()
RATE = 48000
FRAME = rt.AAC_FRAME / RATE
TARGET = -16.0

work = tempfile.mkdtemp(prefix="radio-setup-it-")
music = os.path.join(work, "music")
jingles = os.path.join(work, "jingles")
processed = os.path.join(work, "processed")
os.makedirs(os.path.join(music, "Sub Folder"))
os.makedirs(jingles)


def lavfi_music(seconds, base=220, gain_db=-20):
    """A chord with a slow tremolo and a little noise: music-like, not a bare sine."""
    return ["-f", "lavfi", "-i",
            f"aevalsrc=(sin(2*PI*{base}*t)+0.6*sin(2*PI*{base*1.25}*t)+0.5*sin(2*PI*{base*1.5}*t))"
            f"*(0.6+0.4*sin(2*PI*0.5*t))*pow(10\\,{gain_db}/20):s=44100:d={seconds}",
            "-f", "lavfi", "-i", f"anoisesrc=d={seconds}:c=pink:a=0.02:r=44100"]


MIX = ["-filter_complex", "[0:a][1:a]amix=inputs=2:normalize=0[a]", "-map", "[a]"]

# Valid sources, each a different container, codec, rate or layout.
rt.ffmpeg(*lavfi_music(20, 220, -30), "-f", "lavfi", "-i", "color=c=red:s=64x64:d=1",
          "-filter_complex", "[0:a][1:a]amix=inputs=2:normalize=0[a]", "-map", "[a]", "-map", "2:v",
          "-frames:v", "1", "-c:v", "mjpeg", "-disposition:v", "attached_pic",
          "-metadata", "artist=Cover Artist", "-metadata", "title=With Cover",
          "-c:a", "libmp3lame", "-b:a", "192k", "-id3v2_version", "3",
          os.path.join(music, "01 cover.mp3"))
rt.ffmpeg(*lavfi_music(14, 330, -12), *MIX, "-ar", "96000", "-c:a", "flac",
          "-sample_fmt", "s32", "-bits_per_raw_sample", "24", os.path.join(music, "02 hires.flac"))
rt.ffmpeg(*lavfi_music(9, 440, -25), *MIX, "-ar", "8000", "-ac", "1", "-c:a", "pcm_s16le",
          os.path.join(music, "03 mono 8k.wav"))
rt.ffmpeg(*lavfi_music(12, 262, -18), *MIX, "-c:a", "libvorbis", "-q:a", "4",
          os.path.join(music, "Sub Folder", "04 vorbis.ogg"))
rt.ffmpeg(*lavfi_music(11, 294, -22), *MIX, "-c:a", "libopus", "-b:a", "96k",
          os.path.join(music, "05 opus.opus"))
rt.ffmpeg(*lavfi_music(13, 349, -14), *MIX, "-c:a", "aac", "-b:a", "160k",
          "-metadata", "artist=M4A Artist", "-metadata", "title=M4A Title",
          os.path.join(music, "06 aac.m4a"))
rt.ffmpeg(*lavfi_music(10, 392, -20), *MIX, "-c:a", "libvorbis",
          os.path.join(music, "Ünïcödé Ärtist - Sóng with spaces.ogg"))
rt.ffmpeg(*lavfi_music(2, 523, -20), *MIX, "-c:a", "libmp3lame", os.path.join(music, "07 short.mp3"))
# A 6.021 s file: one grid segment and a 0.027 s tail, which must not air
# as a segment of its own.
rt.ffmpeg(*lavfi_music(6.021, 370, -20), *MIX, "-c:a", "pcm_s16le", os.path.join(music, "12 tail.wav"))
# A quiet tone under loud clicks: the gain to the target would push its true
# peak far over the ceiling, so the ceiling, not the target, decides.
rt.ffmpeg("-f", "lavfi", "-i", "aevalsrc=0.01*sin(2*PI*440*t)+0.7*lt(mod(t\\,0.5)\\,0.002):s=44100:d=8",
          "-c:a", "flac", os.path.join(music, "11 spiky.flac"))
# A Latin-1 file name (not UTF-8), as an old disk or archive leaves them.
LATIN1_NAME = b"13 caf\xe9.wav"
rt.ffmpeg(*lavfi_music(5, 415, -20), *MIX, "-c:a", "pcm_s16le",
          os.path.join(os.fsencode(music), LATIN1_NAME).decode("utf-8", "surrogateescape"))
# Jingles.
for i, f in enumerate((660, 880)):
    rt.ffmpeg(*lavfi_music(3, f, -10), *MIX, "-c:a", "flac", os.path.join(jingles, f"jingle {i + 1}.flac"))

# Bad sources: each must be named, skipped, and reported in the exit status.
with open(os.path.join(music, "08 corrupt.flac"), "wb") as f:
    f.write(b"fLaC" + os.urandom(20000))
open(os.path.join(music, "09 empty.mp3"), "wb").close()
with open(os.path.join(music, "10 not audio.mp3"), "w") as f:
    f.write("this is a text file, not an mp3\n" * 50)
with open(os.path.join(music, "cover.jpg"), "wb") as f:
    f.write(b"\xff\xd8 not part of the library")
BAD = {"08 corrupt.flac", "09 empty.mp3", "10 not audio.mp3"}
GOOD_MUSIC = 11
LOUDNESS_ON_TARGET = 9

config_path = os.path.join(work, "setup.json")
playlist_config = os.path.join(work, "playlist.json")
with open(playlist_config, "w") as f:
    json.dump({"source": music}, f)


def write_config(**over):
    cfg = {"processed_dir": processed, "jingles_dir": jingles, "playlist_config": playlist_config,
           "ipfs_api": API, "jobs": 2, "jingle_every": 3, "progress": "lines", "ipfs_retries": 1,
           "ipfs_retry_backoff_seconds": 0.1}
    cfg.update(over)
    with open(config_path, "w") as f:
        json.dump(cfg, f)


def setup_run(expect_status):
    return rt.setup_run(SETUP, config_path, expect_status)


def tree_state():
    return rt.tree_state(processed)


def manifest():
    with open(os.path.join(processed, "manifest.json")) as f:
        return json.load(f)


def test_first_run_cuts_everything_and_names_bad_files():
    write_config()
    p = setup_run(3)
    events = rt.log_events(p.stderr)
    skipped = {os.path.basename(kv.get("file", "")) for lvl, msg, kv in events if msg.startswith("skipping file")}
    check(skipped == BAD, f"skipped files {skipped} != {BAD}")
    done = rt.last_event(p.stderr, "setup done")
    check(done["encoded"] == str(GOOD_MUSIC + 2), f"encoded {done}")
    check(done["skipped"] == "3", f"skipped {done}")
    m = manifest()
    kinds = [t["kind"] for t in m["tracks"]]
    check(kinds.count("music") == GOOD_MUSIC and kinds.count("jingle") == 2, f"kinds {kinds}")
    check(len(m["skipped"]) == 3, "manifest remembers the skipped files")


def test_playlist_interleaves_jingles_and_names_tracks():
    m = manifest()
    by_id = {t["id"]: t for t in m["tracks"]}
    with open(os.path.join(processed, "playlist.m3u")) as f:
        lines = [l.rstrip("\n") for l in f]
    check(lines[0] == "#EXTM3U", "extended M3U header")
    ids = [l for l in lines[1:] if l and not l.startswith("#")]
    extinf = [l for l in lines if l.startswith("#EXTINF:")]
    check(len(ids) == len(extinf), "one EXTINF per entry")
    kinds = [by_id[i]["kind"] for i in ids]
    # J1, 3 music, J2, 3 music, J1, 3 music, J2, 2 music
    check(kinds == (["jingle"] + ["music"] * 3) * 3 + ["jingle", "music", "music"], f"rotation {kinds}")
    check(ids[0] != ids[4] and ids[0] == ids[8], "jingles rotate in order")
    for line, i in zip(extinf, ids):
        secs = float(line[len("#EXTINF:"):].split(",", 1)[0])
        check(secs == round(by_id[i]["duration"], 3), f"{line}: track {i} lasts {by_id[i]['duration']}")
    labels = " | ".join(extinf)
    with open(os.path.join(processed, "playlist.m3u"), "rb") as f:
        f.read().decode("utf-8")  # raises on a raw Latin-1 byte
    for want in ("Cover Artist - With Cover", "M4A Artist - M4A Title", "Ünïcödé Ärtist - Sóng with spaces",
                 "13 café"):
        check(want in labels, f"label {want!r} missing from {labels}")


def source_file(t):
    p = t["source"]["path"]
    if p == "13 café.wav":
        # ffmpeg prints the name it opens; the helpers read its output as UTF-8.
        link = os.path.join(work, "latin1-source.wav")
        if not os.path.lexists(link):
            os.symlink(os.path.join(os.fsencode(music), LATIN1_NAME), os.fsencode(link))
        return link
    for base in ("", music, jingles):
        if os.path.exists(os.path.join(base, p)):
            return os.path.join(base, p)
    raise AssertionError(f"source {p} not found")


SEGMENT = 6.0
MIN_TAIL = 0.5        # min_tail_seconds' default


def packet_count(path):
    """AAC packets in a file, counted by ffprobe (an independent demuxer)."""
    p = rt.run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "packet=pts",
                "-of", "csv=p=0", path])
    return len([l for l in p.stdout.splitlines() if l.strip()])


def expected_cut(source_samples):
    """segmenter.h's rule: the grid over ceil((N + 1024) / 1024) packets, a
    tail under MIN_TAIL joined to the segment before while it rounds to the
    target, else topped up from it."""
    frames = rt.AAC_FRAME
    packets = -(-(source_samples + frames) // frames)
    per = SEGMENT * RATE / frames
    bound = lambda k: int(k * per + 0.5)  # noqa: E731
    lens, k = [], 0
    while bound(k) < packets:
        lens.append(min(bound(k + 1), packets) - bound(k))
        k += 1
    tail_min = math.ceil(MIN_TAIL * RATE / frames)
    target = int(math.ceil(per) * frames / RATE + 0.5)
    if len(lens) >= 2 and lens[-1] < tail_min:
        both = lens[-2] + lens[-1]
        if int(both * frames / RATE + 0.5) <= target:
            lens[-2:] = [both]
        else:
            lens[-2:] = [both - tail_min, tail_min]
    return lens


def test_a_name_that_is_not_utf8_is_a_track_like_any_other():
    """Read leniently (Latin-1) for the manifest and the title; the id comes
    from the bytes, so it is stable; the second run (below) re-encodes nothing."""
    m = manifest()
    found = [t for t in m["tracks"] if t["source"]["path"] == "13 café.wav"]
    check(len(found) == 1, f"no track for {LATIN1_NAME!r}: {[t['source']['path'] for t in m['tracks']]}")
    t = found[0]
    check(t["title"] == "13 café" and t["id"].startswith("13-caf-"), f"{t['title']!r} {t['id']!r}")


def test_segments_decode_alone_and_durations_are_exact():
    """What every segment declares is what it holds, to the sample: ffprobe's
    packet count and a decoder's sample count both agree with the manifest."""
    m = manifest()
    for t in m["tracks"]:
        total = 0
        segs = t["segments"]
        for i, s in enumerate(segs):
            path = os.path.join(processed, s["file"])
            check(os.path.getsize(path) == s["bytes"], f"{path} size")
            with open(path, "rb") as f:
                data = f.read()
            check(data[0] == 0x47, f"{path}: not MPEG-TS")
            st = rt.ffprobe_stream(path)
            check(st["codec_name"] == "aac" and st.get("profile") == "LC", f"{path}: {st.get('codec_name')} {st.get('profile')}")
            check(int(st["sample_rate"]) == RATE and int(st["channels"]) == 2, f"{path}: format")
            packets = packet_count(path)
            check(packets * rt.AAC_FRAME == s["samples"],
                  f"{path}: {packets} packets hold {packets * rt.AAC_FRAME} samples, manifest says {s['samples']}")
            got = rt.decoded_duration(path)  # also fails on any decoder complaint
            check(abs(got - s["duration"]) < 1e-6,
                  f"{path}: decoded {got:.6f}s, manifest says {s['duration']:.6f}s")
            check(s["duration"] == round(s["samples"] / RATE, 6), f"{path}: duration is samples/rate")
            check(round(s["duration"]) <= SEGMENT, f"{path}: {s['duration']}s rounds above the target")
            check(len(segs) == 1 or s["duration"] >= MIN_TAIL, f"{path}: a {s['duration']}s segment")
            total += s["samples"]
        check(total == t["samples"] and abs(total / RATE - t["duration"]) < 1e-6,
              f"{t['id']}: segment sum {total} != {t['samples']}")
        # What a decoder gets out of the source, sample-exact (a container's
        # stated duration may include encoder padding).
        src = rt.decoded_duration(source_file(t))
        check(abs(t["source_samples"] / RATE - src) <= FRAME,
              f"{t['source']['path']}: source_samples {t['source_samples']} vs decoded {src:.4f}s")
        want = expected_cut(t["source_samples"])
        check([s["samples"] // rt.AAC_FRAME for s in segs] == want,
              f"{t['id']}: packets per segment {[s['samples'] // rt.AAC_FRAME for s in segs]} != {want}")
    tail = [t for t in m["tracks"] if t["source"]["path"] == "12 tail.wav"][0]
    check(len(tail["segments"]) == 1, f"6.021 s file cut into {len(tail['segments'])} segments")


LONG_ENOUGH = 3       # seconds: the integrated measure needs a few 400 ms blocks
CEILING = -1.0        # true_peak_ceiling_dbtp's default
BORDER = 0.5          # dB around the ceiling where two meters may disagree on limiting


def test_loudness_lands_on_target_by_an_independent_meter():
    """ffmpeg's meter on each source decides what the output must be: on
    target, or (when the gain would push the true peak over the ceiling)
    limited by exactly that overshoot; then the same meter checks it."""
    counts = {"on target": 0, "limited": 0, "border": 0}
    long_tracks = [t for t in manifest()["tracks"] if t["duration"] >= LONG_ENOUGH]
    for t in long_tracks:
        joined = os.path.join(work, "joined.ts")
        with open(joined, "wb") as out:
            for s in t["segments"]:
                with open(os.path.join(processed, s["file"]), "rb") as f:
                    out.write(f.read())
        lufs, peak = rt.ebur128(joined)
        src_lufs, src_peak = rt.ebur128(source_file(t))
        headroom = CEILING - (src_peak + TARGET - src_lufs)
        name = t["source"]["path"]
        if headroom > BORDER:
            counts["on target"] += 1
            check(abs(lufs - TARGET) <= 1.0, f"{name}: {lufs} LUFS, target {TARGET}")
        elif headroom < -BORDER:
            counts["limited"] += 1
            check(TARGET + headroom - 1.0 <= lufs <= TARGET + 0.5,
                  f"{name}: {lufs} LUFS; the ceiling should hold it near {TARGET + headroom:.1f}")
        else:
            counts["border"] += 1
        check(peak <= CEILING + 0.6, f"{name}: true peak {peak} dBTP above the ceiling")
    print(f"     loudness: {counts}")
    check(len(long_tracks) == GOOD_MUSIC - 1 + 2, f"{len(long_tracks)} tracks long enough to measure")
    check(counts["on target"] >= LOUDNESS_ON_TARGET and counts["limited"] >= 1,
          f"tracks checked: {counts}, expected {LOUDNESS_ON_TARGET} on target and the spiky one limited")


def test_every_cid_comes_back_through_the_gateway_byte_for_byte():
    m = manifest()
    for t in m["tracks"]:
        for s in t["segments"]:
            with open(os.path.join(processed, s["file"]), "rb") as f:
                want = f.read()
            with urllib.request.urlopen(f"{GATEWAY}/ipfs/{s['cid']}", timeout=60) as r:
                got = r.read()
            check(got == want, f"{s['cid']}: gateway bytes differ from {s['file']}")
            check(s["cid"].startswith("bafkrei"), f"{s['cid']}: expected a CIDv1 raw leaf")


def test_second_run_changes_nothing():
    before = tree_state()
    p = setup_run(3)
    done = rt.last_event(p.stderr, "setup done")
    check(done["encoded"] == "0" and done["segments_readded"] == "0", f"second run did work: {done}")
    check(done["playlist"] == "unchanged" and done["manifest"] == "unchanged", f"{done}")
    check("nothing decoded, nothing uploaded" in p.stderr, "says that nothing changed")
    skipped = [kv for lvl, msg, kv in rt.log_events(p.stderr) if msg.startswith("skipping file")]
    check(len(skipped) == 3, "bad files are still reported")
    check(tree_state() == before, "processed/ changed on a run with nothing to do")


def test_jingle_cycle_change_rewrites_only_the_playlist():
    before = tree_state()
    write_config(jingle_every=2)
    p = setup_run(3)
    done = rt.last_event(p.stderr, "setup done")
    check(done["encoded"] == "0" and done["playlist"] == "written", f"{done}")
    after = tree_state()
    seg_before = {k: v for k, v in before.items() if k.startswith("segments/")}
    seg_after = {k: v for k, v in after.items() if k.startswith("segments/")}
    check(seg_before == seg_after, "segments were touched by a jingle cycle change")


def test_adding_one_track_encodes_only_it():
    rt.ffmpeg(*lavfi_music(7, 600, -20), *MIX, "-c:a", "flac", os.path.join(music, "11 added.flac"))
    p = setup_run(3)
    done = rt.last_event(p.stderr, "setup done")
    check(done["encoded"] == "1" and done["music"] == str(GOOD_MUSIC + 1), f"{done}")


def test_touching_a_source_does_not_reencode_it():
    os.utime(os.path.join(music, "02 hires.flac"))
    p = setup_run(3)
    done = rt.last_event(p.stderr, "setup done")
    check(done["encoded"] == "0", f"a touched file was re-encoded: {done}")


def test_removing_one_track_drops_it_and_its_segments():
    m = manifest()
    gone = next(t for t in m["tracks"] if t["source"]["path"] == "11 added.flac")
    os.remove(os.path.join(music, "11 added.flac"))
    p = setup_run(3)
    done = rt.last_event(p.stderr, "setup done")
    check(done["encoded"] == "0" and done["removed"] == "1", f"{done}")
    check(not os.path.exists(os.path.join(processed, "segments", gone["id"])), "segments left behind")
    check(all(t["id"] != gone["id"] for t in manifest()["tracks"]), "still in the manifest")


def test_damaged_segment_file_recuts_that_track_only():
    m = manifest()
    t = m["tracks"][0]
    with open(os.path.join(processed, t["segments"][0]["file"]), "ab") as f:
        f.write(b"junk")
    p = setup_run(3)
    done = rt.last_event(p.stderr, "setup done")
    check(done["encoded"] == "1", f"{done}")


def test_node_that_lost_its_blocks_gets_them_back_without_reencoding():
    m = manifest()
    cids = [s["cid"] for t in m["tracks"] for s in t["segments"]]
    for c in cids:
        rt.rpc(API, "pin/rm", arg=c)
    rt.rpc(API, "repo/gc")
    p = setup_run(3)
    done = rt.last_event(p.stderr, "setup done")
    check(done["encoded"] == "0", f"{done}")
    check(int(done["segments_readded"]) == len(cids), f"re-added {done['segments_readded']} of {len(cids)}")
    pins = rt.rpc(API, "pin/ls", type="recursive", **{"cid-base": "base32"})
    missing = [c for c in cids if c not in pins]
    check(not missing, f"not pinned again: {missing[:3]}")


def test_bitrate_change_recuts_everything():
    write_config(jingle_every=2, bitrate_kbps=96)
    p = setup_run(3)
    done = rt.last_event(p.stderr, "setup done")
    check(done["encoded"] == str(GOOD_MUSIC + 2), f"{done}")
    check(manifest()["encoding"]["bitrate"] == 96000, "bitrate recorded")


def test_node_with_other_import_defaults_gets_the_cids_setup_computed():
    """Kubo's Import.* settings change what a bare add produces; setup names
    every import parameter, so the node's CIDs are the ones it computed (a
    differing CID fails the run)."""
    node = rt.Node(os.path.join(work, "import-node"), "import", config={
        "Import.CidVersion": 0, "Import.UnixFSRawLeaves": False,
        "Import.UnixFSChunker": "size-65536", "Import.HashFunction": "sha2-512"})
    other = os.path.join(work, "processed-import")
    try:
        node.start()
        write_config(processed_dir=other, ipfs_api=node.api)
        setup_run(3)
        with open(os.path.join(other, "manifest.json")) as f:
            segs = [s for t in json.load(f)["tracks"] for s in t["segments"]]
        check(any(s["bytes"] > 65536 for s in segs), "no segment above the node's chunk size")
        for s in segs:
            check(s["cid"].startswith("bafkrei"), f"segment CID {s['cid']} is not a raw sha2-256 block")
            stat = json.loads(rt.rpc(node.api, "block/stat", arg=s["cid"], offline="true"))
            check(stat["Size"] == s["bytes"], f"node holds {stat} for {s}")
    finally:
        node.stop(wipe=True)
        write_config()


def test_node_down_fails_clearly_and_leaves_processed_alone():
    before = tree_state()
    write_config(jingle_every=2, bitrate_kbps=112, ipfs_api="http://127.0.0.1:9", ipfs_retries=1)
    p = setup_run(1)
    check("127.0.0.1:9" in p.stderr and "unreachable" in p.stderr, f"unclear message:\n{p.stderr[-2000:]}")
    check(tree_state() == before, "processed/ changed although setup failed")
    check(not glob.glob(os.path.join(processed, ".staging-*")), "staging left behind")


def test_no_music_is_a_clear_error():
    empty = os.path.join(work, "empty-music")
    os.makedirs(empty)
    with open(playlist_config, "w") as f:
        json.dump({"source": empty}, f)
    write_config()
    p = setup_run(1)
    check("no music" in p.stderr, p.stderr[-2000:])
    with open(playlist_config, "w") as f:
        json.dump({"source": music}, f)


def test_bad_config_names_the_key():
    with open(config_path, "w") as f:
        json.dump({"segment_seconds": "six"}, f)
    p = setup_run(2)
    check("segment_seconds" in p.stderr and config_path in p.stderr, p.stderr)


if __name__ == "__main__":
    rt.run_tests(globals(), work)
