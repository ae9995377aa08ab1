"""Node storage stays bounded at large windows: a playlist longer than one
chunk (256 KiB, about 1,300 segments) is a root block over leaves, and
each old playlist the streamer deletes must leave the node with all its
blocks, not just its root. A node of the test's own; the station is put
on air a window ago (a pre-roll under libfaketime) so the first playlist
on the real clock lists the whole window. Judged from the node: the
blocks `refs` listed under each playlist while it was published, looked
up again after it left the kept playlists, and `repo/stat` over the run.

    RADIO_STORAGE_WINDOW (default 2000), RADIO_STORAGE_KEEP (keep_playlists,
    default 3) and RADIO_STORAGE_PUBLISHES (default 12) set the window,
    the playlists kept and how many publishes are watched; the run prints
    FIGURES with the repository sizes."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import radiotest as rt  # noqa: E402

SETUP, STREAMER = sys.argv[1], sys.argv[2]
SEG = 1.0
WINDOW = int(os.environ.get("RADIO_STORAGE_WINDOW", "2000"))
PUBLISHES = int(os.environ.get("RADIO_STORAGE_PUBLISHES", "12"))
KEEP = int(os.environ.get("RADIO_STORAGE_KEEP", "3"))
FAKETIME_LIBS = ("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                 "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1", "/usr/lib/faketime/libfaketime.so.1")

work = tempfile.mkdtemp(prefix="radio-storage-it-")
music = os.path.join(work, "music")
processed = os.path.join(work, "processed")
state = os.path.join(work, "state")
log = os.path.join(work, "streamer.log")
os.makedirs(music)
os.makedirs(os.path.join(work, "no-jingles"))
check = rt.check
node = rt.Node(os.path.join(work, "node"))
procs = []
figures = {}
seen = {}  # playlist CID -> the blocks under it, listed while it was published


def status():
    return rt.read_status(state)


def wait_for(pred, timeout, what):
    return rt.wait_for(pred, timeout, what, diagnose=lambda: "streamer log:\n" + rt.file_tail(log))


def config():
    return rt.write_streamer_config(os.path.join(work, "streamer.json"), processed, state, node.api, node.gateway,
                                    window_segments=WINDOW, keep_playlists=KEEP, reload_check_seconds=1,
                                    ipfs_timeout_seconds=30)


def repo_stat():
    return json.loads(rt.rpc(node.api, "repo/stat"))


def repo_size():
    return repo_stat()["RepoSize"]


def present(cid):
    try:
        rt.rpc(node.api, "block/stat", arg=cid, offline="true")
        return True
    except OSError:
        return False


def refs(cid):
    out = rt.rpc(node.api, "refs", arg=cid, recursive="true", unique="true", offline="true")
    return [json.loads(line)["Ref"] for line in out.splitlines() if line.strip()]


def test_station_on_air_a_window_ago():
    node.start()
    rt.tagged_songs(music, [(220, 4), (330, 3), (440, 5)])
    rt.run_setup(SETUP, work, music, processed_dir=processed, jingles_dir=os.path.join(work, "no-jingles"),
                 ipfs_api=node.api, segment_seconds=SEG, progress="lines")
    lib = next((f for f in FAKETIME_LIBS if os.path.exists(f)), None)
    check(lib, "libfaketime is not installed (tools/install-deps.sh installs it)")
    back = int(WINDOW * SEG + 60)
    env = dict(os.environ, LD_PRELOAD=lib, FAKETIME=f"-{back}")
    p = rt.spawn(procs, [STREAMER, "--config", config()], log, env=env)
    wait_for(lambda: status().get("last_publish", {}).get("time"), 60, "the pre-roll's first publish")
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=30)
    rt.spawn(procs, [STREAMER, "--config", config()], log)
    wait_for(lambda: status().get("newest_sequence", 0) - status().get("media_sequence", 0) + 1 == WINDOW and
             status().get("last_publish", {}).get("newest_sequence", -1) >= status().get("newest_sequence", 0) - 1,
             60, "a full window on the real clock")
    st = repo_stat()
    figures.update(repo_bytes_start=st["RepoSize"], repo_objects_start=st["NumObjects"])


def test_old_playlists_leave_with_all_their_blocks():
    last = None
    sizes = []
    deadline = time.time() + PUBLISHES * SEG * 10 + 60
    while len(seen) < PUBLISHES and time.time() < deadline:
        cid = status().get("last_publish", {}).get("playlist_cid")
        if cid and cid != last:
            last = cid
            try:
                seen[cid] = refs(cid)
            except OSError:
                pass  # deleted already: listed too late
            sizes.append(repo_size())
            if len(sizes) % 20 == 0:
                print(f"publish {len(sizes)}: repository {sizes[-1]} bytes, {repo_stat()['NumObjects']} objects",
                      flush=True)
        time.sleep(0.2)
    check(len(seen) >= PUBLISHES, f"only {len(seen)} playlists published")
    check(max(len(v) for v in seen.values()) >= 2,
          f"a window of {WINDOW} gave single-block playlists: the test does not reach the case")
    time.sleep(3 * SEG)
    with open(os.path.join(state, "state.json")) as f:
        kept = set(json.load(f).get("playlists", []))
    gone = [c for c in seen if c not in kept]
    check(len(gone) >= PUBLISHES - KEEP - 2, f"only {len(gone)} of {len(seen)} playlists left the node's keep")
    left = [(c, b) for c in gone for b in [c] + seen[c] if present(b)]
    check(not left, f"{len(left)} blocks of deleted playlists are still on the node, e.g. {left[:3]}")
    figures.update(window=WINDOW, keep_playlists=KEEP, publishes_watched=len(seen),
                   blocks_per_playlist=max(len(v) for v in seen.values()) + 1, repo_bytes_end=repo_size(),
                   repo_objects_end=repo_stat()["NumObjects"],
                   repo_bytes_max=max(sizes))


def test_figures():
    print("FIGURES " + json.dumps(figures, sort_keys=True), flush=True)


def stop_everything():
    rt.stop_all(procs, 15)
    node.stop()


if __name__ == "__main__":
    rt.run_tests(globals(), work, chain=True, cleanup=stop_everything)
