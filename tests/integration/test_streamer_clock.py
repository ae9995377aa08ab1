"""The wall clock stepped back by an hour while on air, and the streamer
restarted on that clock: the station is not held off the air for the
hour. It holds for at most clock_back_hold_targets target durations, then
goes on at the next sequence number with a discontinuity and date-times
from the new clock. The clock is moved through libfaketime (its timestamp
file, read at every call; the monotonic clock left alone), and a
validator reads every playlist the node serves under the name
(hls_rules: hls-parser strict and the cross-publish rules)."""
import os
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import radiotest as rt  # noqa: E402
import hls_rules  # noqa: E402

SETUP, STREAMER = sys.argv[1], sys.argv[2]
SEG = 1.0
HOLD_TARGETS = 2
FAKETIME_LIBS = ("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                 "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1", "/usr/lib/faketime/libfaketime.so.1")

work = tempfile.mkdtemp(prefix="radio-clock-it-")
music = os.path.join(work, "music")
processed = os.path.join(work, "processed")
state = os.path.join(work, "state")
log = os.path.join(work, "streamer.log")
offset_file = os.path.join(work, "clock-offset")
os.makedirs(music)
os.makedirs(os.path.join(work, "no-jingles"))
check = rt.check
api, gateway = rt.node_urls()
procs = []
validator = None


def status():
    return rt.read_status(state)


wait_for = rt.log_waiter(log)


def set_clock(offset):
    with open(offset_file + ".tmp", "w") as f:
        f.write(f"{offset:+d}\n")
    os.rename(offset_file + ".tmp", offset_file)


def start():
    lib = next((f for f in FAKETIME_LIBS if os.path.exists(f)), None)
    check(lib, "libfaketime is not installed (tools/install-deps.sh installs it)")
    env = dict(os.environ, LD_PRELOAD=lib, FAKETIME_TIMESTAMP_FILE=offset_file, FAKETIME_NO_CACHE="1",
               FAKETIME_DONT_FAKE_MONOTONIC="1")
    cfg = rt.write_streamer_config(os.path.join(work, "streamer.json"), processed, state, api, gateway,
                                   window_segments=8, clock_back_hold_targets=HOLD_TARGETS)
    return rt.spawn(procs, [STREAMER, "--config", cfg], log, env=env)


def test_station_goes_on_air():
    global validator
    rt.tagged_songs(music, [(220, 4), (330, 3), (440, 5)])
    rt.run_setup(SETUP, work, music, processed_dir=processed, jingles_dir=os.path.join(work, "no-jingles"),
                 ipfs_api=api, segment_seconds=SEG, progress="lines")
    set_clock(0)
    start()
    name = wait_for(lambda: status().get("last_publish", {}).get("time") and status().get("ipns_name"), 60,
                    "the first publish")
    validator = hls_rules.GatewayValidator(gateway, name)
    validator.start()
    wait_for(lambda: validator.rules.checked >= 2, 30, "the validator's first playlists")


def goes_on_within_the_hold(what):
    before = rt.published_seq(state)
    t0 = time.monotonic()
    wait_for(lambda: rt.published_seq(state) > before, HOLD_TARGETS * SEG + 20, f"a new playlist after {what}")
    took = time.monotonic() - t0
    wait_for(lambda: rt.published_seq(state) >= before + 3, 20, f"publishing to go on after {what}")
    check(not status().get("held_by_clock"), f"still held by the clock after {what}")
    return took


def test_clock_an_hour_back_goes_on():
    set_clock(-3600)
    took = goes_on_within_the_hold("the clock stepped back an hour")
    print(f"on air again {took:.1f} s after the clock stepped back an hour", flush=True)


def test_a_restart_on_the_stepped_clock_goes_on():
    p = procs[-1]
    p.send_signal(signal.SIGKILL)
    p.wait()
    set_clock(-7200)
    start()
    goes_on_within_the_hold("a kill -9 and a restart with the clock another hour back")


def test_every_playlist_served_kept_the_players_rules():
    time.sleep(2 * SEG)
    validator.finish(6)
    with open(log) as f:
        restarts = [kv for level, msg, kv in rt.log_events(f.read()) if msg.startswith("the clock went back")]
    check(len(restarts) >= 2, f"{len(restarts)} timeline restarts logged, expected one per step")


def stop_everything():
    if validator:
        validator.stop.set()
    rt.stop_all(procs, 15)


if __name__ == "__main__":
    rt.run_tests(globals(), work, chain=True, cleanup=stop_everything)
