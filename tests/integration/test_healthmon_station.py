"""radio-healthmon against a fake live station on the real test node: real
AAC segments added to the node, a live playlist republished under an IPNS
name every second (date-times track the wall clock), and loopback gateways
that misbehave on purpose. Proves ok / degraded / down and their exit codes,
freshness with the publisher stopped and restarted, integrity against CIDs
(single-block and multi-block), silence, clipping, loudness drift, slow and
unreachable gateways, and the HTTP endpoints."""
import datetime
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import healthmon_fakes as hf  # noqa: E402
import radiotest as rt  # noqa: E402

HEALTHMON = sys.argv[1]
API, GATEWAY = rt.node_urls()
NODE = hf.Node(API, GATEWAY)
work = tempfile.mkdtemp(prefix="radio-healthmon-it-")
SEG = 2            # segment seconds: short, so staleness shows in seconds
INTERVAL = 1.5


check = rt.check


def add_track(name, source, seconds, track, seg=SEG, **kw):
    out = []
    for path, dur in hf.make_track(work, name, source, seconds, seg, **kw):
        with open(path, "rb") as f:
            data = f.read()
        cid = NODE.add(os.path.basename(path), data)
        out.append((cid, dur, track, data))
    return out


# Two music tracks, so the timeline has discontinuities at track boundaries.
TRACK_A = add_track("a", hf.music_source(220, -20, 12), 12, 0)
TRACK_B = add_track("b", hf.music_source(330, -18, 8), 8, 1)
MUSIC = [(c, d, t) for c, d, t, _ in TRACK_A + TRACK_B]
BYTES = {c: b for c, _, _, b in TRACK_A + TRACK_B}
STATION = hf.Station(MUSIC, epoch=time.time() - 30, window=6)
PUBLISHER = hf.Publisher(NODE, STATION, period=1.0)
PUBLISHER.start()
TD = STATION.target


def unix(iso_time):
    return datetime.datetime.strptime(iso_time, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def config(name, **keys):
    base = {"ipns_name": PUBLISHER.name, "local_gateway": GATEWAY, "interval_seconds": INTERVAL,
            "loudness_drift_rounds": 1000}
    base.update(keys)
    return hf.write_config(os.path.join(work, name + ".json"), **base)


def fake_local(station, **attrs):
    gw = hf.Gateway(playlist=lambda: station.playlist(time.time()), node=NODE)
    for k, v in attrs.items():
        setattr(gw, k, v)
    return gw


def test_live_station_is_ok_with_a_media_sequence_that_advances():
    out = os.path.join(work, "out", "health.json")
    mon = hf.Monitor(HEALTHMON, config("daemon", output_file=out), work)
    try:
        status, first = mon.wait_round(0)
        seen_advance, last = False, first
        for _ in range(4):
            status, last = mon.wait_round(last["round"])
            check(status == 200 and last["status"] == "ok",
                  f"round {last['round']}: HTTP {status}, {last['status']}: {last['reasons']}")
            seen_advance |= last["gateways"][0]["playlist"]["sequence_advanced"] is True
        local = last["gateways"][0]
        pl = local["playlist"]
        check(seen_advance, "media sequence never advanced between rounds")
        check(pl["media_sequence"] > first["gateways"][0]["playlist"]["media_sequence"],
              "media sequence did not grow over the rounds")
        check(pl["target_duration"] == TD and 0 <= pl["age_seconds"] < 3 * TD, json.dumps(pl))
        check(len(local["segments"]) == 2, json.dumps(local["segments"]))
        for s in local["segments"]:
            check(s["integrity"] == "verified" and s["decoded"], json.dumps(s))
        a = local["audio"]
        check(a and -35 < a["integrated_lufs"] < -10 and a["silent_seconds"] == 0 and a["clips"] == 0,
              json.dumps(a))
        check(len(last["history"]) == last["round"] and last["history"][-1]["round"] == last["round"],
              "history does not list every round so far")
        # The endpoints as a dashboard and Prometheus read them.
        status, headers, body = mon.get("/health")
        check(headers.get("Access-Control-Allow-Origin") == "*", f"no CORS header: {headers}")
        status, headers, metrics = mon.get("/metrics")
        check(status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4"),
              headers)
        for want in ("radio_healthmon_status 0", 'radio_healthmon_rounds_total{status="ok"}',
                     "radio_healthmon_loudness_integrated_lufs{", "radio_healthmon_playlist_age_seconds{",
                     "radio_healthmon_playlist_fetch_seconds{", "radio_healthmon_sample_peak_dbfs{"):
            check(want in metrics, f"metrics lack {want}:\n{metrics}")
        with open(out) as f:
            check(json.load(f)["status"] == "ok", "health.json does not say ok")

        # The streamer stops: down (stale) within three target durations
        # plus one interval; the HTTP answer turns 503.
        PUBLISHER.stop()
        stopped = time.time()
        while True:
            status, doc = mon.wait_round(last["round"])
            last = doc
            if doc["status"] == "down":
                break
            check(time.time() - stopped < 3 * TD + INTERVAL + 10, "never turned down")
        # When the round that said so looked, not when we got to read it.
        took = unix(doc["checked_at"]) - stopped
        check("stale" in hf.codes(doc["gateways"][0]), json.dumps(doc["reasons"]))
        check(status == 503, f"down answered HTTP {status}")
        check(took <= 3 * TD + INTERVAL,
              f"down {took:.1f}s after the stop, limit {3 * TD + INTERVAL:.1f}s")
        print(f"     stale detected {took:.1f}s after the publisher stopped "
              f"(limit 3 x {TD}s + {INTERVAL}s = {3 * TD + INTERVAL}s)")
        seq_stopped = doc["gateways"][0]["playlist"]["media_sequence"]

        # Back on air: ok again, the sequence having moved on.
        PUBLISHER.start()
        restarted = time.time()
        while doc["status"] != "ok":
            check(time.time() - restarted < 5 * INTERVAL + 5, f"not ok again: {doc['reasons']}")
            status, doc = mon.wait_round(doc["round"])
        check(status == 200, f"ok answered HTTP {status}")
        check(doc["gateways"][0]["playlist"]["media_sequence"] > seq_stopped,
              "sequence did not move on after the restart")
    finally:
        rc = mon.stop()
    check(rc == 0, f"SIGTERM: exit {rc}\n{mon.stderr()[-2000:]}")


def test_unreachable_public_gateways_make_it_degraded_not_broken():
    path = config("public", public_gateways=[hf.refused_url(), "http://gateway.invalid",
                                             "https://ipfs.io"], public_timeout_seconds=5)
    t0 = time.time()
    rc, doc, err = hf.run_once(HEALTHMON, path)
    took = time.time() - t0
    check(rc == 1 and doc["status"] == "degraded", f"exit {rc}, {doc['status']}: {doc['reasons']}")
    check(doc["gateways"][0]["status"] == "ok", json.dumps(doc["gateways"][0]["problems"]))
    for g in doc["gateways"][1:3]:
        check(hf.codes(g) == {"unreachable"}, f"{g['name']}: {g['problems']}")
    # ipfs.io: unreachable on machines without the internet; elsewhere the
    # name does not exist there. Either way a finding, not a monitor error.
    ipfs = doc["gateways"][3]
    check(ipfs["status"] == "degraded" and hf.codes(ipfs) & {"unreachable", "timeout", "http_error"},
          json.dumps(ipfs["problems"]))
    check(took < 5 * 5 + 5, f"round took {took:.1f}s")
    check(len(doc["reasons"]) >= 3 and all(r.startswith("public ") for r in doc["reasons"]),
          doc["reasons"])


def test_gateway_serving_wrong_bytes_for_a_cid_is_flagged():
    # Every segment is answered with another one's bytes (still audio), or
    # with its own bytes cut short, so whatever the window holds is wrong.
    cids = list(BYTES)
    fake = fake_local(STATION)
    fake.wrong = {c: BYTES[cids[(i + 1) % len(cids)]] if i % 2 else BYTES[c][:-100]
                  for i, c in enumerate(cids)}
    try:
        rc, doc, err = hf.run_once(HEALTHMON, config("wrong-public", public_gateways=[fake.url]))
        check(rc == 1 and doc["status"] == "degraded", f"exit {rc}: {doc['reasons']}")
        g = hf.gateway(doc, fake.url)
        check("integrity" in hf.codes(g), json.dumps(g["problems"]))
        check(all(s["integrity"] == "mismatch" for s in g["segments"]), json.dumps(g["segments"]))
        check(g["audio"] is None, "audio was measured from bytes that are not the station's")
        # The same on the station's own gateway takes it down.
        rc, doc, err = hf.run_once(HEALTHMON, config("wrong-local", local_gateway=fake.url,
                                                     ipns_name="station"))
        check(rc == 2 and "integrity" in hf.codes(doc["gateways"][0]), f"exit {rc}: {doc['reasons']}")
    finally:
        fake.close()


def test_multi_block_segments_are_verified_through_raw_blocks():
    # 320 kb/s for 8 s is over one 256 KiB chunk: the node makes a dag-pb file.
    noisy = "anoisesrc=r=48000:a=0.3:c=pink"
    big = add_track("big", noisy, 10, 0, seg=10, bitrate="320k")
    big = [x for x in big if len(x[3]) > 262144]
    check(big, "no segment larger than one chunk")
    cid = big[0][0]
    check(cid.startswith("bafybei"), f"expected a dag-pb CID, got {cid}")
    station = hf.Station([(c, d, t) for c, d, t, _ in big], epoch=time.time() - 5, window=1)
    fake = fake_local(station, raw_blocks=True)
    try:
        rc, doc, err = hf.run_once(HEALTHMON, config("dag", local_gateway=fake.url, ipns_name="s",
                                                     stale_target_durations=100))
        seg = doc["gateways"][0]["segments"][0]
        check(seg["integrity"] == "verified" and "leaves" in seg["integrity_detail"], json.dumps(seg))
        check(any("format=raw" in r for r in fake.requests), fake.requests)
        # Flip one byte in the middle: caught by the leaf hashes.
        data = bytearray(big[0][3])
        data[len(data) // 2] ^= 0xFF
        fake.wrong = {cid: bytes(data)}
        rc, doc, err = hf.run_once(HEALTHMON, config("dag", local_gateway=fake.url, ipns_name="s",
                                                     stale_target_durations=100))
        seg = doc["gateways"][0]["segments"][0]
        check(seg["integrity"] == "mismatch" and rc == 2, f"exit {rc}: {json.dumps(seg)}")
        # A gateway that serves no raw blocks: unverified, said why, not failed.
        fake.wrong, fake.raw_blocks = {}, False
        rc, doc, err = hf.run_once(HEALTHMON, config("dag", local_gateway=fake.url, ipns_name="s",
                                                     stale_target_durations=100))
        seg = doc["gateways"][0]["segments"][0]
        check(seg["integrity"] == "unverified" and "raw blocks" in seg["integrity_detail"]
              and rc == 0, f"exit {rc}: {json.dumps(seg)} {doc['reasons']}")
    finally:
        fake.close()


def once_against(station, name, **keys):
    fake = fake_local(station)
    try:
        return hf.run_once(HEALTHMON, config(name, local_gateway=fake.url, ipns_name="s", **keys))
    finally:
        fake.close()


def one_track_station(name, source, seconds=8):
    segs = add_track(name, source, seconds, 0)
    return hf.Station([(c, d, t) for c, d, t, _ in segs], epoch=time.time() - 60, window=3)


def test_dead_air_and_very_quiet_noise_take_the_station_down():
    for name, src in (("silence", "anullsrc=r=48000:cl=stereo"),
                      ("hiss", "anoisesrc=r=48000:a=0.0003:c=white")):
        station = one_track_station(name, src)
        rc, doc, err = once_against(station, name, silence_hold_seconds=3)
        local = doc["gateways"][0]
        check(rc == 2 and "silence" in hf.codes(local), f"{name}: exit {rc}: {doc['reasons']}")
        check(local["audio"]["silent_seconds"] >= 3, json.dumps(local["audio"]))


def test_clipping_and_loudness_drift_make_it_degraded():
    # Float input over full scale survives AAC: the decoded audio goes over
    # 0 dBFS, which a player's output clips.
    loud = one_track_station("hot", "aevalsrc=1.6*sin(2*PI*440*t):s=48000")
    rc, doc, err = once_against(loud, "hot")
    check(rc == 1 and "clipping" in hf.codes(doc["gateways"][0]), f"exit {rc}: {doc['reasons']}")
    quiet = one_track_station("quiet", hf.music_source(220, -40, 8))
    rc, doc, err = once_against(quiet, "quiet", loudness_drift_rounds=1)
    local = doc["gateways"][0]
    check(rc == 1 and hf.codes(local) == {"loudness_drift"}, f"exit {rc}: {doc['reasons']}")
    check(local["audio"]["drift_lufs"] < -16 - 4, json.dumps(local["audio"]))


def test_stale_or_garbage_local_playlist_is_down():
    frozen = hf.Station(MUSIC, epoch=time.time() - 300, window=6)
    fake = hf.Gateway(playlist=lambda: frozen.playlist(time.time() - 60), node=NODE)
    try:
        rc, doc, err = hf.run_once(HEALTHMON, config("frozen", local_gateway=fake.url, ipns_name="s"))
        check(rc == 2 and "stale" in hf.codes(doc["gateways"][0]), f"exit {rc}: {doc['reasons']}")
        check("radio-streamer" in doc["reasons"][0], doc["reasons"][0])
        fake.body = b"<html><body>504 Gateway Time-out</body></html>"
        rc, doc, err = hf.run_once(HEALTHMON, config("html", local_gateway=fake.url, ipns_name="s"))
        check(rc == 2 and hf.codes(doc["gateways"][0]) == {"garbage"}, f"exit {rc}: {doc['reasons']}")
        fake.body, fake.playlist_status = None, 504
        rc, doc, err = hf.run_once(HEALTHMON, config("504", local_gateway=fake.url, ipns_name="s"))
        check(rc == 2 and hf.codes(doc["gateways"][0]) == {"http_error"}, f"exit {rc}: {doc['reasons']}")
    finally:
        fake.close()


def test_slow_gateway_times_out_without_holding_up_the_round():
    slow = fake_local(STATION, delay=4)
    try:
        t0 = time.time()
        rc, doc, err = hf.run_once(HEALTHMON, config("slow", public_gateways=[slow.url],
                                                     public_timeout_seconds=1))
        took = time.time() - t0
        g = hf.gateway(doc, slow.url)
        check(rc == 1 and hf.codes(g) == {"timeout"}, f"exit {rc}: {doc['reasons']}")
        check(took < 3, f"the round waited {took:.1f}s for a 1s time limit")
        check(doc["gateways"][0]["status"] == "ok", doc["reasons"])
    finally:
        slow.close()


def test_slow_and_typed_playlists_are_findings():
    """A gateway answering inside its time limit but slower than slow_fraction
    of it is slow; a live playlist that declares EXT-X-PLAYLIST-TYPE breaks
    an HLS rule. Both degrade, neither is down."""
    slow = fake_local(STATION)
    slow.playlist = lambda: (time.sleep(1.5), STATION.playlist(time.time()))[1]  # segments at full speed
    typed = fake_local(STATION)
    typed.playlist = lambda: STATION.playlist(time.time()).replace(
        "#EXT-X-TARGETDURATION", "#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-TARGETDURATION", 1)
    try:
        rc, doc, err = hf.run_once(HEALTHMON, config("slow-typed", public_gateways=[slow.url, typed.url],
                                                     public_timeout_seconds=2.5, slow_fraction=0.4))
        g_slow, g_typed = hf.gateway(doc, slow.url), hf.gateway(doc, typed.url)
        check(hf.codes(g_slow) == {"slow"} and g_slow["status"] == "degraded", json.dumps(g_slow)[:1500])
        check("playlist_type" in hf.codes(g_typed) and g_typed["status"] == "degraded", json.dumps(g_typed)[:1500])
        check(rc == 1 and doc["status"] == "degraded", f"exit {rc}: {doc['reasons']}")
    finally:
        slow.close()
        typed.close()


def test_ipns_name_is_read_from_the_streamer_state_directory():
    state = os.path.join(work, "state")
    os.makedirs(state, exist_ok=True)
    path = config("state", ipns_name="", state_dir=state)
    rc, doc, err = hf.run_once(HEALTHMON, path)
    check(rc == 2 and "status.json" in doc["reasons"][0], f"exit {rc}: {doc['reasons']}")
    with open(os.path.join(state, "status.json"), "w") as f:
        json.dump({"ipns_name": PUBLISHER.name, "target_duration": TD}, f)
    rc, doc, err = hf.run_once(HEALTHMON, path)
    check(rc == 0 and doc["ipns_name"] == PUBLISHER.name, f"exit {rc}: {doc['reasons']}")


def test_bad_config_is_refused_with_the_key_named():
    path = os.path.join(work, "bad.json")
    with open(path, "w") as f:
        json.dump({"interval_seconds": "ten"}, f)
    p = rt.run([HEALTHMON, "--config", path, "--once"], check=False)
    check(p.returncode == 2 and "interval_seconds" in p.stderr and path in p.stderr
          and len(p.stderr.strip().splitlines()) == 1, f"exit {p.returncode}: {p.stderr}")


def stop_publisher():
    PUBLISHER.stop()
    if PUBLISHER.error:
        print(f"publisher error (last): {PUBLISHER.error}")


if __name__ == "__main__":
    rt.run_tests(globals(), work, cleanup=stop_publisher)
