"""Track artwork against the real test IPFS node: pictures embedded by
ffmpeg (mp3 APIC, FLAC picture, m4a covr), a folder cover, and damaged,
absurd and empty covers. Judged from outside: every stored image is read
back through the node's gateway and probed by ffprobe; an unchanged
library encodes nothing; a changed cover redoes only its track's artwork;
the live playlist of a running streamer names the artwork in the track's
EXT-X-DATERANGE, and hls-parser reads it."""
import base64
import hashlib
import json
import os
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import radiotest as rt  # noqa: E402
import hls_rules  # noqa: E402

check = rt.check
SETUP, STREAMER = sys.argv[1], sys.argv[2]
API, GATEWAY = rt.node_urls()
SIZES = [96, 256, 512]
SEG = 2.0

work = tempfile.mkdtemp(prefix="radio-artwork-it-")
music = os.path.join(work, "music")
jingles = os.path.join(work, "jingles")
processed = os.path.join(work, "processed")
state = os.path.join(work, "state")
pics = os.path.join(work, "pics")
for d in (music, jingles, pics, os.path.join(music, "album"), os.path.join(music, "damaged"),
          os.path.join(music, "huge"), os.path.join(music, "empty"), os.path.join(music, "bmp"),
          os.path.join(music, "bmp-only")):
    os.makedirs(d)
procs = []
config_path = os.path.join(work, "setup.json")


def picture(name, colour, w, h, codec="mjpeg"):
    """A solid picture of one colour (so a rendering shows which picture it came from)."""
    path = os.path.join(pics, name)
    rt.ffmpeg("-f", "lavfi", "-i", f"color=c={colour}:s={w}x{h}:d=1", "-frames:v", "1", "-c:v", codec,
              "-update", "1", path)
    return path


def song(path, freq, *out_args, pic=None):
    """A short song; with pic, the picture embedded as its attached picture stream."""
    if pic is None:
        rt.lavfi_song(path, freq, 5, *out_args)
        return
    rt.ffmpeg("-f", "lavfi", "-i", f"sine=f={freq}:d=5", "-i", pic, "-map", "0:a", "-map", "1:v",
              "-c:v", "copy", "-disposition:v", "attached_pic", *out_args, path)


# Source picture: (colour as RGB, width, height) per track that gets artwork.
RED, GREEN, BLUE, YELLOW, CYAN = (255, 0, 0), (0, 128, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)
EXPECT = {
    "01 apic.mp3": (RED, 600, 400, "embedded"),
    "02 picture.flac": (GREEN, 200, 200, "embedded"),
    "03 covr.m4a": (BLUE, 300, 300, "embedded"),
    "album/04 folder.ogg": (YELLOW, 400, 400, "file"),
    # An embedded picture setup cannot use (BMP) gives way to the cover file beside it.
    "bmp/09 bmp.mp3": (CYAN, 120, 90, "file"),
}
BROKEN = {"damaged/05 truncated.wav": "truncated", "huge/06 huge.wav": "artwork_max_pixels",
          "empty/07 empty.wav": "empty", "bmp-only/10 bmp only.mp3": "neither JPEG nor PNG"}


def absurd_jpeg(src, dst, w, h):
    """src with its frame header (SOF0) declaring w x h: a valid file that would ask for gigabytes."""
    data = bytearray(open(src, "rb").read())
    i = data.index(b"\xff\xc0")
    data[i + 5:i + 9] = h.to_bytes(2, "big") + w.to_bytes(2, "big")
    open(dst, "wb").write(bytes(data))


def make_library():
    song(os.path.join(music, "01 apic.mp3"), 220, "-c:a", "libmp3lame", "-id3v2_version", "3",
         pic=picture("red.jpg", "red", 600, 400))
    song(os.path.join(music, "02 picture.flac"), 330, "-c:a", "flac",
         pic=picture("green.png", "0x008000", 200, 200, "png"))
    song(os.path.join(music, "03 covr.m4a"), 440, "-c:a", "aac", pic=picture("blue.jpg", "blue", 300, 300))
    song(os.path.join(music, "album", "04 folder.ogg"), 550, "-c:a", "libvorbis")
    picture("yellow.jpg", "yellow", 400, 400)
    os.rename(os.path.join(pics, "yellow.jpg"), os.path.join(music, "album", "Cover.JPG"))
    song(os.path.join(music, "damaged", "05 truncated.wav"), 660, "-c:a", "pcm_s16le")
    whole = open(picture("cut.jpg", "white", 300, 300), "rb").read()
    open(os.path.join(music, "damaged", "cover.jpg"), "wb").write(whole[:len(whole) // 2])
    song(os.path.join(music, "huge", "06 huge.wav"), 770, "-c:a", "pcm_s16le")
    absurd_jpeg(picture("small.jpg", "white", 64, 64), os.path.join(music, "huge", "folder.jpg"), 30000, 30000)
    song(os.path.join(music, "empty", "07 empty.wav"), 880, "-c:a", "pcm_s16le")
    open(os.path.join(music, "empty", "front.jpg"), "wb").close()
    song(os.path.join(music, "08 plain.wav"), 990, "-c:a", "pcm_s16le")
    bmp = picture("white.bmp", "white", 64, 64, "bmp")
    song(os.path.join(music, "bmp", "09 bmp.mp3"), 1200, "-c:a", "libmp3lame", "-id3v2_version", "3", pic=bmp)
    os.rename(picture("cyan.png", "cyan", 120, 90, "png"), os.path.join(music, "bmp", "front.png"))
    song(os.path.join(music, "bmp-only", "10 bmp only.mp3"), 1300, "-c:a", "libmp3lame", "-id3v2_version", "3",
         pic=bmp)
    song(os.path.join(jingles, "id.flac"), 1100, "-c:a", "flac", pic=picture("jingle.png", "white", 100, 100, "png"))


def write_config(**over):
    cfg = {"processed_dir": processed, "jingles_dir": jingles, "ipfs_api": API, "segment_seconds": SEG,
           "jingle_every": 2, "progress": "lines", "artwork_sizes": ",".join(map(str, SIZES)),
           "playlist_config": rt.write_json(os.path.join(work, "playlist.json"), {"source": music})}
    cfg.update(over)
    rt.write_json(config_path, cfg)


def manifest():
    with open(os.path.join(processed, "manifest.json")) as f:
        return json.load(f)


def by_source(m):
    return {t["source"]["path"]: t for t in m["tracks"]}


def raw_cid(data):
    return "b" + base64.b32encode(b"\x01\x55\x12\x20" + hashlib.sha256(data).digest()).decode().lower().rstrip("=")


def gateway_image(cid):
    with urllib.request.urlopen(f"{GATEWAY}/ipfs/{cid}", timeout=30) as r:
        return r.read()


def probe_image(data):
    """(codec, width, height, average RGB) of an image, by ffprobe and ffmpeg."""
    path = os.path.join(work, "probe.jpg")
    open(path, "wb").write(data)
    p = rt.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "json", path])
    st = json.loads(p.stdout)["streams"][0]
    px = rt.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-vf", "scale=1:1:flags=area", "-f", "rawvideo",
                 "-pix_fmt", "rgb24", "-"], text=False).stdout
    return st["codec_name"], st["width"], st["height"], tuple(px[:3])


def expected_dims(w, h):
    longer = max(w, h)
    out = []
    for s in SIZES:
        s = min(s, longer)
        if out and out[-1][0] == s:
            break
        out.append((s, round(w * s / longer), round(h * s / longer)))
    return out


first = {}


def test_first_run_renders_every_picture_and_reports_the_broken_ones():
    write_config()
    p = rt.setup_run(SETUP, config_path, 3)
    events = rt.log_events(p.stderr)
    bad = {kv["file"][len(music) + 1:]: kv["reason"] for _, msg, kv in events
           if msg.startswith("artwork unusable")}
    check(set(bad) == set(BROKEN), f"artwork errors for {sorted(bad)}, expected {sorted(BROKEN)}")
    for f, word in BROKEN.items():
        check(word in bad[f], f"{f}: reason {bad[f]!r} does not say {word!r}")
    done = rt.last_event(p.stderr, "setup done")
    check(done["skipped"] == "0" and done["artwork_errors"] == str(len(BROKEN)), f"summary {done}")
    check(done["artwork_made"] == "10", f"artwork made for every music track: {done}")
    tracks = by_source(manifest())
    # The tracks with broken covers still air.
    for f in list(BROKEN) + ["08 plain.wav"]:
        check(f in tracks and tracks[f]["segments"], f"{f} airs")
        check("artwork" not in tracks[f], f"{f} has no artwork: {tracks[f].get('artwork')}")
    jingle = [t for t in manifest()["tracks"] if t["kind"] == "jingle"]
    check(len(jingle) == 1 and "artwork" not in jingle[0], "the jingle has no track artwork")
    check(tracks["08 plain.wav"]["artwork_source"]["from"] == "none", "no picture recorded as none")
    first.update({f: tracks[f] for f in EXPECT})


def test_stored_images_read_back_through_the_gateway():
    for f, (rgb, w, h, origin) in EXPECT.items():
        t = first[f]
        check(t["artwork_source"]["from"] == origin, f"{f}: from {t['artwork_source']}")
        want = expected_dims(w, h)
        got = [(a["size"], a["width"], a["height"]) for a in t["artwork"]]
        check(got == want, f"{f}: renderings {got}, expected {want}")
        for a in t["artwork"]:
            data = gateway_image(a["cid"])
            check(len(data) == a["bytes"], f"{f}: {a['cid']} has {len(data)} bytes, manifest says {a['bytes']}")
            check(raw_cid(data) == a["cid"], f"{f}: gateway bytes do not hash to {a['cid']}")
            with open(os.path.join(processed, a["file"]), "rb") as fh:
                check(fh.read() == data, f"{f}: {a['file']} differs from what the node serves")
            codec, pw, ph, avg = probe_image(data)
            check(codec == "mjpeg", f"{f}: {a['cid']} is {codec}, not JPEG")
            check((pw, ph) == (a["width"], a["height"]), f"{f}: ffprobe says {pw}x{ph}, manifest {a}")
            check(all(abs(x - y) <= 24 for x, y in zip(avg, rgb)), f"{f}: colour {avg}, picture was {rgb}")


def test_unchanged_library_encodes_nothing():
    before = rt.tree_state(processed)
    p = rt.setup_run(SETUP, config_path, 3)
    done = rt.last_event(p.stderr, "setup done")
    check(done["artwork_made"] == "0" and done["encoded"] == "0", f"summary {done}")
    check("nothing decoded, nothing uploaded" in p.stderr, "says that nothing changed")
    check(done["artwork_errors"] == str(len(BROKEN)), f"broken covers reported again: {done}")
    check(rt.tree_state(processed) == before, "processed/ untouched")


def test_changed_cover_redoes_only_that_artwork():
    cover = os.path.join(music, "album", "Cover.JPG")
    old = first["album/04 folder.ogg"]["artwork"]
    os.replace(picture("magenta.jpg", "magenta", 400, 400), cover)
    p = rt.setup_run(SETUP, config_path, 3)
    done = rt.last_event(p.stderr, "setup done")
    check(done["artwork_made"] == "1" and done["encoded"] == "0", f"summary {done}")
    tracks = by_source(manifest())
    for f in EXPECT:
        if f != "album/04 folder.ogg":
            check(tracks[f]["artwork"] == first[f]["artwork"], f"{f}: artwork changed")
    new = tracks["album/04 folder.ogg"]["artwork"]
    check({a["cid"] for a in new}.isdisjoint({a["cid"] for a in old}), "new cover, new images")
    check(all(probe_image(gateway_image(a["cid"]))[3][1] < 40 for a in new), "the new cover is magenta")
    for a in old:
        check(not os.path.exists(os.path.join(processed, a["file"])), f"old {a['file']} left behind")
    pins = rt.rpc(API, "pin/ls", type="recursive")
    check(not any(a["cid"] in pins for a in old), "old artwork still pinned")
    first["album/04 folder.ogg"] = tracks["album/04 folder.ogg"]


def test_a_cover_file_that_appears_gives_artwork_to_that_track_only():
    """08 plain.wav had no picture; the mp3 and flac beside it have embedded ones, which win."""
    os.rename(picture("folder.jpg", "white", 150, 150), os.path.join(music, "folder.jpg"))
    p = rt.setup_run(SETUP, config_path, 3)
    done = rt.last_event(p.stderr, "setup done")
    check(done["artwork_made"] == "1" and done["encoded"] == "0", f"summary {done}")
    tracks = by_source(manifest())
    plain = tracks["08 plain.wav"]
    check(plain["artwork_source"]["from"] == "file" and plain["artwork_source"]["path"] == "folder.jpg",
          f"08 plain.wav: {plain['artwork_source']}")
    check([(a["width"], a["height"]) for a in plain["artwork"]] == [(96, 96), (150, 150)], f"{plain['artwork']}")
    for f in EXPECT:
        check(tracks[f]["artwork"] == first[f]["artwork"], f"{f}: artwork changed")
    first["08 plain.wav"] = plain
    EXPECT["08 plain.wav"] = ((255, 255, 255), 150, 150, "file")


def test_live_playlist_names_the_artwork():
    cfg = rt.write_streamer_config(os.path.join(work, "streamer.json"), processed, state, API, GATEWAY,
                                   window_segments=30, reload_check_seconds=0.5)
    rt.spawn(procs, [STREAMER, "--config", cfg], os.path.join(work, "streamer.log"))
    log = os.path.join(work, "streamer.log")
    name = rt.wait_for(lambda: rt.read_status(state).get("last_publish", {}).get("time")
                       and rt.read_status(state).get("ipns_name"), 60, "a first publish",
                       diagnose=lambda: rt.file_tail(log))
    want = {}
    for f, t in first.items():
        best = max((a for a in t["artwork"] if a["size"] <= 512), key=lambda a: a["size"])
        want[t["title"]] = f"/ipfs/{best['cid']}"

    def playlist_with_all():
        with urllib.request.urlopen(f"{GATEWAY}/ipns/{name}", timeout=20) as r:
            text = r.read().decode()
        seen = {}
        for line in text.splitlines():
            if line.startswith("#EXT-X-DATERANGE:"):
                attrs = dict(kv.split("=", 1) for kv in hls_rules_split(line[len("#EXT-X-DATERANGE:"):]))
                seen[attrs["X-TITLE"].strip('"')] = attrs.get("X-ARTWORK", "").strip('"')
        return (text, seen) if seen else None

    text, seen = rt.wait_for(playlist_with_all, 60, "a playlist with track DATERANGEs",
                             diagnose=lambda: rt.file_tail(log))
    check(seen, "no DATERANGE")
    named = {title: art for title, art in seen.items() if art}
    for title, art in named.items():
        check(want.get(title) == art, f"{title}: X-ARTWORK {art}, expected {want.get(title)}")
    for title, art in seen.items():
        check(title in want or not art, f"{title} names artwork it has none of: {art}")
    check(any(t in seen for t in want), f"none of the tracks with artwork in the window: {sorted(seen)}")
    check(any(named.get(t) for t in want if t in seen), "no X-ARTWORK on a track that has artwork")
    hls_rules.hls_parser(text)
    # hls-parser keeps one date range per segment (the last tag before it):
    # each range is read from the playlist with the other ranges left out.
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("#EXT-X-DATERANGE:") or "X-ARTWORK" not in line:
            continue
        alone = [x for k, x in enumerate(lines) if k == i or not x.startswith("#EXT-X-DATERANGE:")]
        ranges = hls_rules.hls_parser("\n".join(alone) + "\n")["dateRanges"]
        check(len(ranges) == 1, f"hls-parser read {ranges}")
        attrs = ranges[0]["attributes"]
        check(named.get(attrs.get("X-TITLE")) == attrs.get("X-ARTWORK"),
              f"hls-parser reads {attrs}, the playlist says {named}")


def hls_rules_split(attrs):
    """An attribute list split at the commas outside quotes."""
    out, cur, quoted = [], "", False
    for ch in attrs:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    return out + [cur]


if __name__ == "__main__":
    make_library()
    rt.run_tests(globals(), work, chain=True, cleanup=lambda: rt.stop_all(procs, 15))
