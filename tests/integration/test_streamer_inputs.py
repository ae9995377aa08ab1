"""Other programs rewrite processed/ while the station is on air, and what
they write may be broken: a rewrite storm (truncated, invalid, missing,
disagreeing, not a file, huge; valid; broken again) never takes the
streamer off the air. It plays the last good running order, takes a valid
one at a track boundary, says each distinct problem once in its log and
shows the latest in status.json, and every playlist it writes keeps the
players' rules (tests/integration/hls_rules.py)."""
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import radiotest as rt  # noqa: E402
import hls_rules  # noqa: E402

SETUP, STREAMER = sys.argv[1], sys.argv[2]
SEG = 1.0
STORM_SECONDS = 24
REWRITE_EVERY = 0.4

work = tempfile.mkdtemp(prefix="radio-inputs-it-")
music = os.path.join(work, "music")
processed = os.path.join(work, "processed")
state = os.path.join(work, "state")
log = os.path.join(work, "streamer.log")
os.makedirs(music)
os.makedirs(os.path.join(work, "no-jingles"))
procs = []
check = rt.check
api, gateway = rt.node_urls()
good = {}


def overwrite(name, data):
    """Writes in place, as a careless program does: a reader may see it half written."""
    with open(os.path.join(processed, name), "wb") as f:
        f.write(data)


def fifo(name):
    path = os.path.join(processed, name)
    os.mkfifo(path + ".fifo")
    os.rename(path + ".fifo", path)


def sparse(name, size):
    path = os.path.join(processed, name)
    with open(path + ".tmp", "wb") as f:
        f.truncate(size)
    os.rename(path + ".tmp", path)


def remove(name):
    os.unlink(os.path.join(processed, name))


def restore():
    rt.replace_in(processed, "manifest.json", good["manifest.json"])
    rt.replace_in(processed, "playlist.m3u", good["playlist.m3u"])


def reversed_order():
    lines = good["playlist.m3u"].decode().splitlines()
    entries = [lines[i:i + 2] for i in range(1, len(lines) - 1, 2)]
    return ("#EXTM3U\n" + "".join(f"{a}\n{b}\n" for a, b in reversed(entries))).encode()


# Each fault: (what it is, how to write it). Every one leaves processed/
# unusable until the next valid write.
FAULTS = [
    ("truncated manifest", lambda: overwrite("manifest.json", good["manifest.json"][:len(good["manifest.json"]) // 2])),
    ("invalid UTF-8", lambda: rt.replace_in(processed, "manifest.json", good["manifest.json"].replace(b'"Artist', b'"\xc3Artist', 1))),
    ("not JSON", lambda: rt.replace_in(processed, "manifest.json", b"\x00\x01garbage")),
    ("manifest missing", lambda: remove("manifest.json")),
    ("playlist names an unknown track", lambda: rt.replace_in(processed, "playlist.m3u", b"#EXTM3U\n#EXTINF:1,x\nno-such-track\n")),
    ("empty playlist", lambda: overwrite("playlist.m3u", b"")),
    ("manifest is a FIFO", lambda: fifo("manifest.json")),
    ("manifest larger than its bound", lambda: sparse("manifest.json", 600 << 20)),
    ("playlist with a NUL", lambda: rt.replace_in(processed, "playlist.m3u", b"#EXTM3U\nt\x00\n")),
]


def status():
    return rt.read_status(state)


wait_for = rt.log_waiter(log)


def alive():
    check(procs[-1].poll() is None, f"the streamer exited ({procs[-1].returncode}):\n{rt.file_tail(log)}")


class Watcher(threading.Thread):
    """Reads state/live.m3u8 every few hundred ms, as a listener's player
    would reload, and checks each new one against all earlier ones."""

    def __init__(self):
        super().__init__(daemon=True)
        self.rules = hls_rules.Rules(strict=False)
        self.stop = threading.Event()
        self.last = None

    def run(self):
        while not self.stop.is_set():
            try:
                with open(os.path.join(state, "live.m3u8")) as f:
                    text = f.read()
            except OSError:
                text = None
            if text and text != self.last:
                self.last = text
                self.rules.check(text)
            time.sleep(0.25)


watcher = Watcher()


def refused_lines():
    with open(log) as f:
        return [kv for level, msg, kv in rt.log_events(f.read())
                if level == "error" and msg.startswith("new running order refused")]


def test_station_goes_on_air():
    rt.tagged_songs(music, [(220, 4), (330, 3), (440, 5)])
    rt.run_setup(SETUP, work, music, processed_dir=processed, jingles_dir=os.path.join(work, "no-jingles"),
                 ipfs_api=api, segment_seconds=SEG, progress="lines")
    for n in ("manifest.json", "playlist.m3u"):
        with open(os.path.join(processed, n), "rb") as f:
            good[n] = f.read()
    cfg = rt.write_streamer_config(os.path.join(work, "streamer.json"), processed, state, api, gateway,
                                   window_segments=6, reload_check_seconds=0.2)
    rt.spawn(procs, [STREAMER, "--config", cfg], log)
    wait_for(lambda: status().get("last_publish", {}).get("time"), 60, "the first publish")
    watcher.start()


def test_one_problem_written_again_and_again_is_logged_once():
    before = len(refused_lines())
    for _ in range(5):
        rt.replace_in(processed, "playlist.m3u", b"#EXTM3U\n#EXTINF:1,x\nsame-missing-track\n")
        time.sleep(0.5)
    alive()
    wait_for(lambda: "same-missing-track" in (status().get("running_order", {}).get("last_error") or ""), 10,
             "the refusal in status.json")
    new = [kv for kv in refused_lines()[before:] if "same-missing-track" in kv.get("error", "")]
    check(len(new) == 1, f"{len(new)} log lines for one problem written five times")
    restore()
    wait_for(lambda: not status().get("running_order", {}).get("last_error"), 10, "the refusal to clear")


def test_rewrite_storm_keeps_the_station_on_air():
    start_seq = status()["newest_sequence"]
    errors_seen = set()
    valid_writes = kinds = 0
    deadline = time.time() + STORM_SECONDS
    i = 0
    while time.time() < deadline:
        # Broken, broken, valid (alternately the original and the reversed order), ...
        if i % 3 == 2:
            rt.replace_in(processed, "manifest.json", good["manifest.json"])
            rt.replace_in(processed, "playlist.m3u", reversed_order() if valid_writes % 2 == 0 else good["playlist.m3u"])
            valid_writes += 1
        else:
            FAULTS[kinds % len(FAULTS)][1]()
            kinds += 1
            if kinds % len(FAULTS) in (0, 1):
                # Some faults leave the other file broken too; make the next one start clean.
                rt.replace_in(processed, "playlist.m3u", good["playlist.m3u"])
        i += 1
        time.sleep(REWRITE_EVERY)
        alive()
        e = status().get("running_order", {}).get("last_error")
        if e:
            errors_seen.add(e.split(":")[0])
    restore()
    alive()
    check(kinds >= len(FAULTS), f"only {kinds} faults written")
    check(errors_seen, "status.json never showed a refusal")
    wait_for(lambda: status().get("newest_sequence", 0) >= start_seq + STORM_SECONDS / SEG * 0.8, 15,
             "the sequence to keep pace with the clock")
    wait_for(lambda: not status().get("running_order", {}).get("last_error"), 10,
             "the refusal to clear once processed/ is valid again")
    check(status()["counts"]["reloads"] >= 2, f"valid orders taken: {status()['counts']}")


def test_every_playlist_written_kept_the_players_rules():
    time.sleep(2 * SEG)
    watcher.stop.set()
    watcher.join()
    r = watcher.rules
    check(r.checked >= STORM_SECONDS / SEG * 0.5, f"only {r.checked} playlists seen")
    check(not r.violations, f"{len(r.violations)} violations, first: {r.violations[:3]}")
    # And the node serves the station under its name.
    name = status()["ipns_name"]
    import urllib.request
    with urllib.request.urlopen(f"{gateway}/ipns/{name}", timeout=30) as resp:
        hls_rules.Rules().check(resp.read().decode())


def stop_everything():
    watcher.stop.set()
    rt.stop_all(procs, 15)


if __name__ == "__main__":
    rt.run_tests(globals(), work, chain=True, cleanup=stop_everything)
