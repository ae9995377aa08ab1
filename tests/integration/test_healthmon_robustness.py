"""Untrusted input: a loopback gateway feeds radio-healthmon truncated,
oversized and malformed playlists and segments. Every case must end in a
report naming the problem (never a crash, a hang or a sanitizer finding),
and the three kinds of segment URI (path-absolute, full URL, relative)
must all be followed. Needs no IPFS node: segments are served from memory
under the raw CIDs of their bytes."""
import json
import os
import random
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import healthmon_fakes as hf  # noqa: E402
import radiotest as rt  # noqa: E402

HEALTHMON = sys.argv[1]
work = tempfile.mkdtemp(prefix="radio-healthmon-robust-")


check = rt.check


# Bits per second of the test audio: a cut segment cannot hold more audio
# than its bytes carry at this rate.
BITRATE = 128000
# One AAC frame at 48 kHz: what a decoder may emit beyond that, rounded.
AAC_FRAME_SECONDS = 1024 / 48000
TRACK = hf.make_track(work, "t", hf.music_source(220, -20, 12), 12, 2, bitrate=str(BITRATE))
SEGS = []
for path, dur in TRACK:
    with open(path, "rb") as f:
        data = f.read()
    SEGS.append((hf.raw_cid(data), dur, data))
BLOCKS = {c: d for c, _, d in SEGS}
STATION = hf.Station([(c, d, 0) for c, d, _ in SEGS], epoch=time.time() - 60, window=4)

GW = hf.Gateway(playlist=lambda: STATION.playlist(time.time()), blocks=BLOCKS)


def once(**keys):
    base = {"ipns_name": "s", "local_gateway": GW.url, "local_timeout_seconds": 5}
    base.update(keys)
    path = hf.write_config(os.path.join(work, "c.json"), **base)
    rc, doc, err = hf.run_once(HEALTHMON, path, timeout=60)
    check(rc in (0, 1, 2), f"exit {rc}:\n{err[-3000:]}")
    return rc, doc["gateways"][0], doc


def edited(text, pattern, repl):
    """text with the first match of `pattern` (a line-wise regex) replaced;
    a case whose edit finds nothing to change would test the valid
    playlist instead (as a month rewrite did in ten months of the year)."""
    out, n = re.subn(pattern, repl, text, count=1, flags=re.M)
    check(n == 1, f"{pattern!r} not in the playlist:\n{text}")
    return out


def garbage_message(g):
    return " ".join(p["message"] for p in g["problems"] if p["code"] == "garbage")


def serve_playlist(text):
    GW.body = text if isinstance(text, bytes) else text.encode()


def reset():
    GW.body, GW.playlist_status, GW.segment_status, GW.files = None, None, None, {}
    GW.blocks = dict(BLOCKS)


def test_valid_station_is_ok_first():
    reset()
    rc, g, doc = once()
    check(rc == 0, f"exit {rc}: {doc['reasons']}")


PDT = "#EXT-X-PROGRAM-DATE-TIME:"


def truncation_cases(text):
    """Where a cut falls in the live playlist `text`, and what the report
    must then say: {name: (cut, check(rc, g))}."""
    first_pdt, last_uri = text.index(PDT), text.rindex("/ipfs/")
    segments = text.count(PDT)
    return {
        "one byte": (1, lambda rc, g: rc == 2 and "does not start with #EXTM3U" in garbage_message(g)),
        "inside #EXTM3U": (5, lambda rc, g: rc == 2 and "does not start with #EXTM3U" in garbage_message(g)),
        "#EXTM3U alone": (len("#EXTM3U"), lambda rc, g: rc == 2 and hf.codes(g) == {"not_live"}),
        "header tags only": (first_pdt, lambda rc, g: rc == 2 and hf.codes(g) == {"not_live"}),
        "inside a date-time": (first_pdt + len(PDT + "YYYY-M"),
                               lambda rc, g: rc == 2 and "bad EXT-X-PROGRAM-DATE-TIME" in garbage_message(g)),
        # The last EXTINF without its URI: the segments before it are read.
        "before the last URI": (last_uri, lambda rc, g: "garbage" not in hf.codes(g)
                                and g["playlist"].get("segments") == segments - 1),
        "inside the last URI": (last_uri + len("/ipfs/b"),
                                lambda rc, g: rc == 2 and hf.codes(g) == {"segment_unavailable"}
                                and g["playlist"].get("segments") == segments),
        "only the last newline": (len(text) - 1, lambda rc, g: rc == 0 and g["status"] == "ok"),
    }


def test_truncated_playlists_are_reported_or_read_as_far_as_they_go():
    reset()
    for name in truncation_cases(STATION.playlist(time.time())):
        # A fresh window each time, so that only the cut can make it fail.
        text = STATION.playlist(time.time())
        cut, expected = truncation_cases(text)[name]
        serve_playlist(text[:cut])
        rc, g, doc = once()
        check(expected(rc, g), f"{name} (cut at {cut}): exit {rc}, {g['status']}, "
                               f"{g['playlist']}, {g['problems']}")


def test_malformed_playlists_are_garbage_not_crashes():
    reset()
    good = STATION.playlist(time.time())
    rnd = random.Random(7)
    # Each case with what the parser must name (one of, for random bytes),
    # so that a refusal for another reason, or none, fails.
    cases = {
        "binary": (bytes(rnd.randrange(256) for _ in range(5000)),
                   ("contains a NUL byte", "does not start with #EXTM3U")),
        "nul bytes": (edited(good, "#EXT-X-VERSION:3", "#EXT-X-VERSION:\0\0"), "line 2 contains a NUL byte"),
        "long line": ("#EXTM3U\n#" + "A" * 20000 + "\n", "line 2 longer than"),
        "html": (b"<!doctype html><title>502 Bad Gateway</title>", "does not start with #EXTM3U"),
        "json": (b'{"Message": "could not resolve name", "Code": 0}', "does not start with #EXTM3U"),
        "empty": (b"", "empty playlist"),
        "extinf nan": (edited(good, r"^#EXTINF:[^,]*,", "#EXTINF:nan,"), "bad EXTINF"),
        "extinf huge": (edited(good, r"^#EXTINF:[^,]*,", "#EXTINF:1e400,"), "bad EXTINF"),
        "negative sequence": (edited(good, "MEDIA-SEQUENCE:", "MEDIA-SEQUENCE:-"),
                              "bad or misplaced EXT-X-MEDIA-SEQUENCE"),
        "sequence overflow": (edited(good, "MEDIA-SEQUENCE:", "MEDIA-SEQUENCE:99999999999999999999"),
                              "bad or misplaced EXT-X-MEDIA-SEQUENCE"),
        "target huge": (edited(good, "TARGETDURATION:", "TARGETDURATION:9999999"),
                        "bad EXT-X-TARGETDURATION"),
        "date month 13": (edited(good, f"^({PDT}\\d{{4}}-)\\d\\d-", r"\g<1>13-"),
                          "bad EXT-X-PROGRAM-DATE-TIME"),
        "date garbage": (edited(good, f"^{PDT}", PDT + "yesterday"), "bad EXT-X-PROGRAM-DATE-TIME"),
        "uri without extinf": (b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n/ipfs/x\n", "URI without EXTINF"),
    }
    for name, (body, reasons) in cases.items():
        serve_playlist(body)
        rc, g, doc = once()
        reasons = reasons if isinstance(reasons, tuple) else (reasons,)
        check(rc == 2 and g["status"] == "down" and any(r in garbage_message(g) for r in reasons),
              f"{name}: exit {rc}, {g['status']}, {g['problems']}")


def test_oversized_answers_are_refused_at_the_limit():
    reset()
    good = STATION.playlist(time.time())
    serve_playlist(good + ("# padding comment\n" * 4000))
    rc, g, doc = once(max_playlist_kib=16)
    check(rc == 2 and hf.codes(g) == {"garbage"} and "larger than" in doc["reasons"][0],
          f"exit {rc}: {doc['reasons']}")
    # Many segments: parsed within bounds, only the newest two fetched.
    lines = ["#EXTM3U", "#EXT-X-TARGETDURATION:2", "#EXT-X-MEDIA-SEQUENCE:5"]
    for i in range(20000):
        c, d, _ = SEGS[i % len(SEGS)]
        lines += [f"#EXTINF:{d:.3f},", f"/ipfs/{c}"]
    serve_playlist("\n".join(lines) + "\n")
    rc, g, doc = once(max_playlist_kib=4096)
    check(g["playlist"].get("segments") == 20000 and len(g["segments"]) == 2, json.dumps(g["playlist"]))
    # A segment over the segment limit.
    reset()
    big = SEGS[1][2] * 4
    GW.blocks[hf.raw_cid(big)] = big
    serve_playlist(playlist_of([f"/ipfs/{SEGS[1][0]}", f"/ipfs/{hf.raw_cid(big)}"]))
    rc, g, doc = once(max_segment_kib=64)
    check(len(big) > 65536 and rc == 2 and "garbage" in hf.codes(g), f"exit {rc}: {doc['reasons']}")


def playlist_of(uris):
    now = time.time()
    lines = ["#EXTM3U", "#EXT-X-TARGETDURATION:2", "#EXT-X-MEDIA-SEQUENCE:1"]
    for i, u in enumerate(uris):
        lines += [f"#EXT-X-PROGRAM-DATE-TIME:{hf.iso(now - 2 * (len(uris) - i))}", "#EXTINF:2.000,", u]
    return "\n".join(lines) + "\n"


def test_malformed_segments_are_undecodable_or_partial_never_fatal():
    reset()
    rnd = random.Random(11)
    good, good_seconds = SEGS[2][2], SEGS[2][1]
    middle = bytearray(good)
    for i in range(len(middle) // 3, len(middle) // 3 + 4000):
        middle[i] = rnd.randrange(256)
    not_media = "not a media segment FFmpeg can read"
    # Bytes that are not audio: undecodable, with the reason.
    broken = {
        "random": (bytes(rnd.randrange(256) for _ in range(60000)), not_media),
        "empty": (b"", "empty"),
        "nested playlist": (b"#EXTM3U\n#EXTINF:2,\nhttp://gateway.invalid/evil.ts\n", not_media),
        "concat script": (b"ffconcat version 1.0\nfile /etc/passwd\n", not_media),
    }
    # Damaged audio: what is left plays, and no more than the bytes hold.
    partial = {
        "truncated": good[: len(good) // 2],
        "cut mid-packet": good[:1000],
        "corrupt middle": bytes(middle),
    }
    for name, body in [(n, b) for n, (b, _) in broken.items()] + list(partial.items()):
        cid = hf.raw_cid(body)
        GW.blocks[cid] = body
        serve_playlist(playlist_of([f"/ipfs/{SEGS[1][0]}", f"/ipfs/{cid}"]))
        GW.requests.clear()
        rc, g, doc = once()
        seg = g["segments"][1]
        check(seg["integrity"] == "verified", f"{name}: {seg}")
        if name in broken:
            check(rc == 2 and not seg["decoded"] and hf.codes(g) == {"undecodable"}
                  and seg["error"].startswith(broken[name][1]), f"{name}: exit {rc}, {seg}, {g['problems']}")
        else:
            most = min(len(body) * 8 / BITRATE, good_seconds) + AAC_FRAME_SECONDS
            check(seg["decoded"] and 0 < seg["decoded_seconds"] <= most
                  and "undecodable" not in hf.codes(g), f"{name}: at most {most:.3f} s: {seg}")
            # Less audio than its EXTINF promised is a finding of its own.
            short = seg["listed_seconds"] - seg["decoded_seconds"] > 0.1
            check(short == ("short_audio" in hf.codes(g)), f"{name}: {seg}, {g['problems']}")
            check(name == "corrupt middle" or short, f"{name} decoded whole: {seg}")
        # Nothing a segment says makes us fetch anything else.
        check(all(r.startswith(("/ipns/", "/ipfs/")) for r in GW.requests), GW.requests)


def test_odd_segment_uris_are_reported_not_followed_blindly():
    reset()
    c = SEGS[1][0]
    for uri in ("file:///etc/passwd", "ftp://127.0.0.1/x.ts", "http://bad host/x.ts",
                "/ipfs/" + "b" * 5000, "gopher://x/", "\x01\x02"):
        serve_playlist(playlist_of([f"/ipfs/{c}", uri]))
        rc, g, doc = once()
        check(rc == 2 and hf.codes(g) & {"segment_unavailable", "garbage", "unreachable"},
              f"{uri[:40]!r}: exit {rc}, {g['problems']}")


def test_path_absolute_full_and_relative_uris_are_all_followed():
    reset()
    a, b = SEGS[1][0], SEGS[2][0]
    serve_playlist(playlist_of([f"/ipfs/{a}", f"{GW.url}/ipfs/{b}"]))
    rc, g, doc = once()
    check(rc == 0 and all(s["integrity"] == "verified" for s in g["segments"]),
          f"exit {rc}: {doc['reasons']} {g['segments']}")
    # Directory mode: the name holds the playlist and the segments beside it.
    GW.files = {"seg1.ts": BLOCKS[a], "seg2.ts": BLOCKS[b]}
    serve_playlist(playlist_of(["seg1.ts", "seg2.ts"]))
    rc, g, doc = once(playlist_path="/live.m3u8")
    check(rc == 0 and all(s["decoded"] for s in g["segments"]), f"exit {rc}: {doc['reasons']}")
    check(all(s["integrity"] == "unverified" and "no CID" in s["integrity_detail"]
              for s in g["segments"]), json.dumps(g["segments"]))
    check(g["url"].endswith("/ipns/s/live.m3u8"), g["url"])


def test_gateway_errors_on_segments_are_reported():
    reset()
    GW.segment_status = 504
    rc, g, doc = once()
    check(rc == 2 and "segment_unavailable" in hf.codes(g), f"exit {rc}: {doc['reasons']}")
    reset()
    GW.blocks = {}
    rc, g, doc = once()
    check(rc == 2 and "segment_unavailable" in hf.codes(g) and "pinned" in doc["reasons"][0],
          f"exit {rc}: {doc['reasons']}")


if __name__ == "__main__":
    rt.run_tests(globals(), work, cleanup=GW.close)
