"""Untrusted input: a loopback gateway feeds radio-healthmon truncated,
oversized and malformed playlists and segments. Every case must end in a
report naming the problem (never a crash, a hang or a sanitizer finding),
and the three kinds of segment URI (path-absolute, full URL, relative)
must all be followed. Needs no IPFS node: segments are served from memory
under the raw CIDs of their bytes."""
import json
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import healthmon_fakes as hf  # noqa: E402
import radiotest as rt  # noqa: E402

HEALTHMON = sys.argv[1]
work = tempfile.mkdtemp(prefix="radio-healthmon-robust-")


check = rt.check


TRACK = hf.make_track(work, "t", hf.music_source(220, -20, 12), 12, 2)
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


def serve_playlist(text):
    GW.body = text if isinstance(text, bytes) else text.encode()


def reset():
    GW.body, GW.playlist_status, GW.segment_status, GW.files = None, None, None, {}
    GW.blocks = dict(BLOCKS)


def test_valid_station_is_ok_first():
    reset()
    rc, g, doc = once()
    check(rc == 0, f"exit {rc}: {doc['reasons']}")


def test_truncated_playlists_are_reported_or_read_as_far_as_they_go():
    reset()
    text = STATION.playlist(time.time()).encode()
    for cut in sorted({1, 5, 7, 8, 20, len(text) // 3, len(text) // 2, len(text) - 30, len(text) - 1}):
        serve_playlist(text[:cut])
        rc, g, doc = once()
        check(g["status"] in ("ok", "degraded", "down"), json.dumps(g))
        if cut < len("#EXTM3U"):
            check("garbage" in hf.codes(g), f"cut {cut}: {g['problems']}")


def test_malformed_playlists_are_garbage_not_crashes():
    reset()
    good = STATION.playlist(time.time())
    rnd = random.Random(7)
    cases = {
        "binary": bytes(rnd.randrange(256) for _ in range(5000)),
        "nul bytes": good.replace("#EXT-X-VERSION:3", "#EXT-X-VERSION:\0\0").encode(),
        "long line": ("#EXTM3U\n#" + "A" * 20000 + "\n").encode(),
        "html": b"<!doctype html><title>502 Bad Gateway</title>",
        "json": b'{"Message": "could not resolve name", "Code": 0}',
        "empty": b"",
        "extinf nan": good.replace("#EXTINF:2.", "#EXTINF:nan", 1).encode(),
        "extinf huge": good.replace("#EXTINF:2.", "#EXTINF:1e400", 1).encode(),
        "negative sequence": good.replace("MEDIA-SEQUENCE:", "MEDIA-SEQUENCE:-", 1).encode(),
        "sequence overflow": good.replace("MEDIA-SEQUENCE:", "MEDIA-SEQUENCE:99999999999999999999", 1).encode(),
        "target huge": good.replace("TARGETDURATION:", "TARGETDURATION:9999999", 1).encode(),
        "date month 13": good.replace("-11-", "-13-", 1).replace("-12-", "-13-", 1).encode(),
        "date garbage": good.replace("PROGRAM-DATE-TIME:", "PROGRAM-DATE-TIME:yesterday", 1).encode(),
        "uri without extinf": b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n/ipfs/x\n",
    }
    for name, body in cases.items():
        serve_playlist(body)
        rc, g, doc = once()
        check(rc == 2 and "garbage" in hf.codes(g), f"{name}: exit {rc}, {g['problems']}")


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
    good = SEGS[2][2]
    middle = bytearray(good)
    for i in range(len(middle) // 3, len(middle) // 3 + 4000):
        middle[i] = rnd.randrange(256)
    bodies = {
        "random": bytes(rnd.randrange(256) for _ in range(60000)),
        "empty": b"",
        "truncated": good[: len(good) // 2],
        "cut mid-packet": good[:1000],
        "corrupt middle": bytes(middle),
        "nested playlist": b"#EXTM3U\n#EXTINF:2,\nhttp://gateway.invalid/evil.ts\n",
        "concat script": b"ffconcat version 1.0\nfile /etc/passwd\n",
    }
    for name, body in bodies.items():
        cid = hf.raw_cid(body)
        GW.blocks[cid] = body
        serve_playlist(playlist_of([f"/ipfs/{SEGS[1][0]}", f"/ipfs/{cid}"]))
        GW.requests.clear()
        rc, g, doc = once()
        seg = g["segments"][1]
        check(seg["integrity"] == "verified", f"{name}: {seg}")
        if name in ("truncated", "corrupt middle"):
            check(seg["decoded"], f"{name}: {seg}")
        elif name != "cut mid-packet":
            check(not seg["decoded"] and "undecodable" in hf.codes(g), f"{name}: {seg}")
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
