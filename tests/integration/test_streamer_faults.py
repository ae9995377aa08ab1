"""The streamer under injected faults, read throughout by an independent
validator: a fault proxy (fault_proxy.py) between it and the node refuses,
delays, hangs, resets and garbles chosen endpoints; it is killed with
SIGKILL at random instants (50 times), its state deleted or truncated while
stopped, a second instance started on its state. A thread reads every
playlist the node serves under the station's name (hls_rules: hls-parser
strict, and the cross-publish rules). Prints the figures the README
reports: faults by kind, publishes, violations, the longest time without
a fresh playlist, crashes, memory at start and end."""
import json
import os
import random
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import radiotest as rt  # noqa: E402
import hls_rules  # noqa: E402
from fault_proxy import FaultProxy  # noqa: E402

SETUP, STREAMER = sys.argv[1], sys.argv[2]
SEG = 1.0
KILLS = int(os.environ.get("RADIO_FAULT_KILLS", "50"))
rng = random.Random(11)  # the same instants on every run

work = tempfile.mkdtemp(prefix="radio-faults-it-")
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
faults = {}
figures = {}


def count(kind, n=1):
    faults[kind] = faults.get(kind, 0) + n


def status():
    return rt.read_status(state)


wait_for = rt.log_waiter(log)


def config():
    return rt.write_streamer_config(os.path.join(work, "streamer.json"), processed, state, proxy.url, gateway,
                                    window_segments=6, reload_check_seconds=0.5, ipfs_timeout_seconds=3)


def start():
    return rt.spawn(procs, [STREAMER, "--config", config()], log)


def rss_kib(p):
    with open(f"/proc/{p.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


validator = None


def alive(p):
    if p.poll() is not None:
        figures["crashes"] = figures.get("crashes", 0) + 1
        raise AssertionError(f"the streamer exited by itself ({p.returncode}):\n{rt.file_tail(log)}")


def test_station_goes_on_air():
    global validator
    rt.tagged_songs(music, [(220, 4), (330, 3), (440, 5)])
    rt.run_setup(SETUP, work, music, processed_dir=processed, jingles_dir=os.path.join(work, "no-jingles"),
                 ipfs_api=api, segment_seconds=SEG, progress="lines")
    p = start()
    name = wait_for(lambda: status().get("last_publish", {}).get("time") and status().get("ipns_name"), 60,
                    "the first publish")
    figures["rss_start_kib"] = rss_kib(p)
    validator = hls_rules.GatewayValidator(gateway, name, interval=0.5)
    validator.start()
    wait_for(lambda: validator.rules.checked >= 1, 30, "the validator's first playlist")


def publishes_go_on(seconds, what):
    before = rt.published_seq(state)
    time.sleep(seconds)
    alive(procs[-1])
    after = rt.published_seq(state)
    check(after >= before + 2, f"{what}: published sequence {before} -> {after} in {seconds} s")


def test_a_refused_segment_check_never_blocks_publishing():
    # pin/ls refused as by an API authorisation; a failed publish makes the
    # streamer check the node's segments again.
    proxy.rule("/api/v0/pin/ls", status=403)
    proxy.rule("/api/v0/name/publish", status=500, times=1)
    count("403 on pin/ls")
    count("500 on name/publish")
    wait_for(lambda: status().get("segment_check_error"), 20, "the refused check in status.json")
    publishes_go_on(6 * SEG, "with pin/ls refused")
    proxy.clear()
    wait_for(lambda: not status().get("segment_check_error"), 30, "the check to pass once pin/ls answers")


def test_endpoint_faults_are_survived():
    cases = [
        ("500 on add", dict(prefix="/api/v0/add", status=500)),
        ("403 on name/publish", dict(prefix="/api/v0/name/publish", status=403)),
        ("hang on name/publish", dict(prefix="/api/v0/name/publish", hang=True)),
        ("delay on every endpoint", dict(prefix="/api/v0/", delay=2.0)),
        ("reset mid-body on add", dict(prefix="/api/v0/add", reset=True)),
        ("garbage from add", dict(prefix="/api/v0/add", garbage=True)),
        ("garbage from pin/ls", dict(prefix="/api/v0/pin/ls", garbage=True)),
        ("every request refused", dict(prefix="/api/v0/", status=500)),
    ]
    for kind, kw in cases:
        prefix = kw.pop("prefix")
        proxy.rule(prefix, **kw)
        count(kind)
        time.sleep(4 * SEG)
        alive(procs[-1])
        proxy.clear()
        wait_for(lambda: not status().get("last_publish", {}).get("error") and status()["counts"]["publishes"], 40,
                 f"recovery after {kind}")


def test_a_hanging_publish_never_delays_the_timeline():
    """The node takes name/publish and never answers: the station's clock
    goes on meanwhile, and once the node answers again the newest playlist
    goes out, not the ones that piled up."""
    proxy.rule("/api/v0/name/publish", hang=True)
    count("hang on name/publish (timeline)")
    t0, on_air = time.time(), status()["newest_sequence"]
    time.sleep(6 * SEG)
    alive(procs[-1])
    moved = status()["newest_sequence"] - on_air
    check(moved >= 6 * SEG / SEG - 1, f"the timeline moved {moved} segments in {time.time() - t0:.1f}s of hanging publishes")
    proxy.clear()
    wait_for(lambda: rt.published_seq(state) >= status()["newest_sequence"] - 1, 3 * SEG + 3,
             "the newest playlist to go out once the node answers")


def test_kill_9_at_random_instants_and_lost_state():
    for i in range(KILLS):
        p = procs[-1]
        alive(p)
        # Any instant: before the first publish, between a save and a publish, mid-publish.
        time.sleep(rng.uniform(0.05, 2.5 * SEG))
        p.send_signal(signal.SIGKILL)
        p.wait()
        count("kill -9")
        if i % 10 == 3:
            os.unlink(os.path.join(state, "state.json"))
            count("state deleted while stopped")
        elif i % 10 == 7:
            with open(os.path.join(state, "state.json"), "r+b") as f:
                f.truncate(max(0, os.path.getsize(f.name) // 3))
            count("state truncated while stopped")
        elif i % 25 == 12 and os.path.exists(os.path.join(state, "live.m3u8")):
            os.unlink(os.path.join(state, "live.m3u8"))
            count("live.m3u8 deleted while stopped")
        start()
    wait_for(lambda: status().get("last_publish", {}).get("time"), 60, "publishing after the storm")
    publishes_go_on(4 * SEG, "after the storm")


def test_a_second_instance_refuses():
    p = rt.run([STREAMER, "--config", config()], check=False, timeout=30)
    count("second instance")
    check(p.returncode != 0, "a second streamer on one state started")
    check("another radio-streamer" in p.stderr, p.stderr[-500:])
    alive(procs[-1])


def test_figures():
    time.sleep(3 * SEG)
    validator.stop.set()
    validator.join()
    p = procs[-1]
    alive(p)
    figures["rss_end_kib"] = rss_kib(p)
    r = validator.rules
    figures.update(faults=faults, playlists_validated=r.checked, violations=len(r.violations),
                   longest_without_fresh_playlist_s=round(validator.longest_gap, 1),
                   crashes=figures.get("crashes", 0),
                   publishes_last_instance=status()["counts"]["publishes"])
    print("FIGURES " + json.dumps(figures, sort_keys=True), flush=True)
    check(not r.violations, f"{len(r.violations)} violations: {r.violations[:5]}")
    check(r.checked >= KILLS, f"only {r.checked} playlists validated")


def stop_everything():
    if validator:
        validator.stop.set()
    rt.stop_all(procs, 15)
    proxy.close()


if __name__ == "__main__":
    rt.run_tests(globals(), work, chain=True, cleanup=stop_everything)
