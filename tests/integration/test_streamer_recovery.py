"""The streamer comes back on air, on its own timeline, whatever it finds
at start: processed/ broken by another program (it plays the last running
order it accepted, kept in state/), no good order anywhere (it refuses,
saying why), state/ lost entirely (it continues after the playlist its
name points at on the node, not from 0 nor from the sequence floor), and
a name/publish the node did but reported as failed (the playlist the name
may point at stays on the node). A validator reads every playlist the
node serves under the name throughout (hls_rules: hls-parser strict and
the cross-publish rules)."""
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import radiotest as rt  # noqa: E402
import hls_rules  # noqa: E402
from fault_proxy import FaultProxy  # noqa: E402

SETUP, STREAMER = sys.argv[1], sys.argv[2]
SEG = 1.0
FLOOR_2020 = 10 * 1577836800  # the sequence floor counts ten a second since 2020: far above this run's numbers

work = tempfile.mkdtemp(prefix="radio-recovery-it-")
music = os.path.join(work, "music")
processed = os.path.join(work, "processed")
state = os.path.join(work, "state")
log = os.path.join(work, "streamer.log")
os.makedirs(music)
os.makedirs(os.path.join(work, "no-jingles"))
check = rt.check
api, gateway = rt.node_urls()
proxy = FaultProxy(api)
procs = []
good = {}
validator = None


def status():
    return rt.read_status(state)


wait_for = rt.log_waiter(log)


def config():
    return rt.write_streamer_config(os.path.join(work, "streamer.json"), processed, state, proxy.url, gateway,
                                    window_segments=6, reload_check_seconds=0.5, ipfs_timeout_seconds=3)


def start():
    return rt.spawn(procs, [STREAMER, "--config", config()], log)


def stop():
    p = procs[-1]
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=30)


def alive():
    p = procs[-1]
    check(p.poll() is None, f"the streamer exited ({p.returncode}):\n{rt.file_tail(log)}")


def served(name):
    with urllib.request.urlopen(f"{gateway}/ipns/{name}", timeout=10) as r:
        return r.read().decode()


def test_no_good_order_anywhere_refuses_clearly():
    rt.tagged_songs(music, [(220, 4), (330, 3), (440, 5)])
    rt.run_setup(SETUP, work, music, processed_dir=processed, jingles_dir=os.path.join(work, "no-jingles"),
                 ipfs_api=api, segment_seconds=SEG, progress="lines")
    for n in ("manifest.json", "playlist.m3u"):
        with open(os.path.join(processed, n), "rb") as f:
            good[n] = f.read()
    rt.replace_in(processed, "playlist.m3u", b"#EXTM3U\n#EXTINF:1,x\nno-such-track\n")
    p = rt.run([STREAMER, "--config", config()], check=False, timeout=60)
    check(p.returncode != 0, "a streamer with no valid running order at all started")
    check("no-such-track" in p.stderr and "no earlier one kept" in p.stderr, p.stderr[-800:])
    rt.replace_in(processed, "playlist.m3u", good["playlist.m3u"])


def test_station_goes_on_air():
    global validator
    start()
    name = wait_for(lambda: status().get("last_publish", {}).get("time") and status().get("ipns_name"), 60,
                    "the first publish")
    validator = hls_rules.GatewayValidator(gateway, name)
    validator.start()
    wait_for(lambda: validator.rules.checked >= 2, 30, "the validator's first playlists")


def test_processed_broken_at_start_plays_the_last_order():
    stop()
    before = rt.published_seq(state)
    rt.replace_in(processed, "manifest.json", b"{ not json")
    start()
    wait_for(lambda: rt.published_seq(state) > before + 2, 30, "publishing with processed/ broken at start")
    alive()
    e = status().get("running_order", {}).get("last_error") or ""
    check("manifest.json" in e, f"status.json does not show the refused processed/: {e!r}")
    check(status()["running_order"]["id"], "no running order on air")
    rt.replace_in(processed, "manifest.json", good["manifest.json"])
    wait_for(lambda: not status().get("running_order", {}).get("last_error"), 10,
             "the refusal to clear once processed/ is valid again")


def test_lost_state_continues_the_names_timeline():
    stop()
    last = hls_rules.parse(served(validator.name))
    newest = last["segs"][-1]["seq"]
    shutil.rmtree(state)
    start()
    wait_for(lambda: status().get("last_publish", {}).get("time"), 30, "publishing after state/ was lost")
    alive()
    first, msn = rt.published_seq(state), status()["media_sequence"]
    # Its first playlist already continues the name's: not from 0, not from the floor.
    check(newest < first < newest + 60,
          f"after state/ was lost the timeline went from {newest} to {first}; streamer log:\n{rt.file_tail(log)}")
    check(last["msn"] <= msn < FLOOR_2020, f"media sequence {last['msn']} -> {msn} after state/ was lost")
    wait_for(lambda: validator.last_text and hls_rules.parse(validator.last_text)["segs"][-1]["seq"] > newest, 20,
             "the validator to see the new instance's playlists")


def pinned(cid):
    try:
        out = rt.rpc(api, "pin/ls", arg=cid, type="recursive")
    except urllib.error.HTTPError:
        return False
    return cid in out


def test_a_publish_the_node_did_but_reported_failed_keeps_its_playlist():
    rule = proxy.rule("/api/v0/name/publish", status_after_forward=500)
    wait_for(lambda: rule.fired >= 2, 20, "name/publish answered with an error after the node did it")
    deadline = time.time() + 4 * SEG
    seen = set()
    while time.time() < deadline:
        target = json.loads(rt.rpc(api, "name/resolve", arg=f"/ipns/{validator.name}", nocache="true"))["Path"]
        cid = target.removeprefix("/ipfs/")
        seen.add(cid)
        check(pinned(cid), f"the playlist the name points at, {cid}, was unpinned after a failed publish")
        time.sleep(0.3)
    alive()
    check(len(seen) >= 2, f"the node published only {len(seen)} playlists while the proxy reported failures")
    proxy.clear()
    wait_for(lambda: not status().get("last_publish", {}).get("error"), 20, "a publish to succeed again")


def test_every_playlist_served_kept_the_players_rules():
    time.sleep(2 * SEG)
    validator.finish(10)


def stop_everything():
    if validator:
        validator.stop.set()
    rt.stop_all(procs, 15)
    proxy.close()


if __name__ == "__main__":
    rt.run_tests(globals(), work, chain=True, cleanup=stop_everything)
