"""radio-healthmon against the real chain: radio-setup cuts a small
generated library onto the real test node, radio-streamer publishes the
live playlist under its IPNS name, and healthmon (which reads the name
from the streamer's state/status.json) must report:
  - ok, with a media sequence that advances between rounds;
  - down (stale) within three target durations plus one interval after the
    streamer is stopped;
  - ok again after it is restarted, the sequence having moved on.

usage (with the test node running, e.g. under CTest's ipfs_node fixture):
  RADIO_IPFS_NODE_DIR=build/tests/ipfs-node \\
  python3 tests/integration/test_healthmon_with_streamer.py \\
      build/healthmon/radio-healthmon build/setup/radio-setup build/streamer/radio-streamer

The streamer's config keys are taken from its own --print-default-config;
the ones this test must set are listed in STREAMER_KEYS."""
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import healthmon_fakes as hf  # noqa: E402
import radiotest as rt  # noqa: E402

if len(sys.argv) != 4:
    sys.exit(__doc__)
HEALTHMON, SETUP, STREAMER = sys.argv[1:4]
API, GATEWAY = rt.node_urls()
work = tempfile.mkdtemp(prefix="radio-healthmon-streamer-")
SEGMENT = 2          # seconds: staleness shows within seconds
INTERVAL = 2.0
PROCESSED = os.path.join(work, "processed")
STATE = os.path.join(work, "state")
# What the streamer must be told, by config key; keys it does not have are
# reported so this list can follow the streamer's schema.
# A short window, so it is full (and EXT-X-MEDIA-SEQUENCE slides) within seconds.
# Its own key: other tests publish on the same test node at the same time.
# A TTL of one segment, as operators are told to set: Kubo's gateway keeps
# a resolved name for the TTL, and the 6 s default is the whole staleness
# limit (3 target durations) of this station's 2 s segments.
STREAMER_KEYS = {"processed_dir": PROCESSED, "state_dir": STATE, "ipfs_api": API,
                 "window_segments": 5, "log_level": "info", "ipns_key": f"radio-healthmon-test-{os.getpid()}",
                 "ipns_ttl_seconds": 2}


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def unix(iso_time):
    return datetime.datetime.strptime(iso_time, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def make_station():
    music, jingles = os.path.join(work, "music"), os.path.join(work, "jingles")
    os.makedirs(music)
    os.makedirs(jingles)
    for i, f in enumerate((220, 262, 330)):
        hf.ffmpeg("-f", "lavfi", "-i", hf.music_source(f, -18, 20), "-t", "20", "-c:a", "flac",
                  os.path.join(music, f"{i:02d} track.flac"))
    hf.ffmpeg("-f", "lavfi", "-i", hf.music_source(660, -12, 3), "-t", "3", "-c:a", "flac",
              os.path.join(jingles, "jingle.flac"))
    playlist_cfg = os.path.join(work, "playlist.json")
    with open(playlist_cfg, "w") as f:
        json.dump({"source": music}, f)
    setup_cfg = os.path.join(work, "setup.json")
    with open(setup_cfg, "w") as f:
        json.dump({"processed_dir": PROCESSED, "jingles_dir": jingles, "playlist_config": playlist_cfg,
                   "ipfs_api": API, "segment_seconds": SEGMENT, "progress": "lines"}, f)
    rt.run([SETUP, "--config", setup_cfg])


def streamer_config():
    p = rt.run([STREAMER, "--print-default-config"])
    cfg = json.loads(p.stdout)
    missing = [k for k in STREAMER_KEYS if k not in cfg]
    check(not missing, f"radio-streamer has no config keys {missing}; update STREAMER_KEYS")
    cfg.update(STREAMER_KEYS)
    path = os.path.join(work, "streamer.json")
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2)
    return path


class Streamer:
    def __init__(self, config):
        self.log = open(os.path.join(work, "streamer.log"), "a")
        self.proc = subprocess.Popen([STREAMER, "--config", config], stdout=self.log, stderr=self.log)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=60)
        self.log.close()
        return rc


def wait_for_name(timeout=120):
    path = os.path.join(STATE, "status.json")
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(path) as f:
                doc = json.load(f)
            if doc.get("ipns_name"):
                return doc
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"no ipns_name in {path} after {timeout}s")


def wait_status(mon, want, after, limit):
    deadline = time.time() + limit
    while True:
        status, doc = mon.wait_round(after, timeout=limit + 30)
        after = doc["round"]
        if doc["status"] == want:
            return status, doc
        check(time.time() < deadline, f"not {want} after {limit}s: {doc['reasons']}")


def main():
    make_station()
    streamer_cfg = streamer_config()
    streamer = Streamer(streamer_cfg)
    mon = None
    try:
        status_doc = wait_for_name()
        mon_cfg = hf.write_config(os.path.join(work, "healthmon.json"), ipns_name="", state_dir=STATE,
                                  local_gateway=GATEWAY, interval_seconds=INTERVAL,
                                  loudness_target_lufs=-16)
        mon = hf.Monitor(HEALTHMON, mon_cfg, work)

        # ok, with the sequence advancing between rounds.
        status, doc = wait_status(mon, "ok", 0, 60)
        seq0 = doc["gateways"][0]["playlist"]["newest_media_sequence"]
        advanced = False
        for _ in range(4):
            status, doc = mon.wait_round(doc["round"])
            check(doc["status"] == "ok" and status == 200, f"{doc['status']}: {doc['reasons']}")
            advanced |= doc["gateways"][0]["playlist"]["sequence_advanced"] is True
        pl = doc["gateways"][0]["playlist"]
        check(advanced and pl["newest_media_sequence"] > seq0, f"sequence did not advance: {pl}")
        check(doc["ipns_name"] == status_doc["ipns_name"], "healthmon listens to another name")
        td = pl["target_duration"]
        print(f"ok   live: newest media sequence {seq0} -> {pl['newest_media_sequence']}, "
              f"EXT-X-MEDIA-SEQUENCE {pl['media_sequence']}, target duration {td}s")

        # Streamer stopped: down (stale) within 3 target durations + 1 interval.
        rc = streamer.stop()
        stopped = time.time()
        check(rc == 0, f"streamer exited {rc} on SIGTERM")
        status, doc = wait_status(mon, "down", doc["round"], 3 * td + INTERVAL + 30)
        took = unix(doc["checked_at"]) - stopped
        check("stale" in hf.codes(doc["gateways"][0]) and status == 503, json.dumps(doc["reasons"]))
        check(took <= 3 * td + INTERVAL, f"down {took:.1f}s after the stop, limit {3 * td + INTERVAL}s")
        print(f"ok   stopped: down (stale) after {took:.1f}s (limit {3 * td + INTERVAL}s)")
        seq_stopped = doc["gateways"][0]["playlist"]["newest_media_sequence"]

        # Restarted: ok again, later in the timeline.
        streamer = Streamer(streamer_cfg)
        restarted = time.time()
        status, doc = wait_status(mon, "ok", doc["round"], 120)
        check(doc["gateways"][0]["playlist"]["newest_media_sequence"] > seq_stopped,
              "sequence did not move on")
        print(f"ok   restarted: ok again after {time.time() - restarted:.1f}s")
    finally:
        if streamer.proc.poll() is None:
            streamer.stop()
        if mon:
            mon.stop()


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAIL {e}\nwork folder kept: {work}")
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)
    print("passed")
