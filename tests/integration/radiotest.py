"""Shared helpers for the integration tests: the test IPFS node (the shared
one and a test's own), generated audio, running the programs, polling their
status and reading their key=value logs, and the test runner."""
import hashlib
import datetime
import json
import re
import shutil
import urllib.parse
import os
import shlex
import subprocess
import sys
import time
import urllib.request

AAC_FRAME = 1024
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import kubo_node  # noqa: E402


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def free_port():
    """A loopback port for a server a test starts itself (see kubo_node.reserve_port)."""
    return kubo_node.reserve_port()


def node_dir():
    d = os.environ.get("RADIO_IPFS_NODE_DIR")
    if not d or not os.path.exists(os.path.join(d, "api_url")):
        sys.exit("RADIO_IPFS_NODE_DIR does not hold a running test node (api_url missing)")
    return d


def node_urls():
    d = node_dir()
    with open(os.path.join(d, "api_url")) as f:
        api = f.read().strip()
    with open(os.path.join(d, "gateway_url")) as f:
        gw = f.read().strip()
    return api, gw


def rpc(api, cmd, **params):
    q = "&".join(f"{k}={urllib.parse.quote(str(v))}" for k, v in params.items())
    req = urllib.request.Request(f"{api}/api/v0/{cmd}?{q}", data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=120) as r:
        return r.read().decode()


def run(cmd, check=True, text=True, **kw):
    p = subprocess.run(cmd, capture_output=True, text=text, **kw)
    if check and p.returncode != 0:
        err = p.stderr if text else p.stderr.decode(errors="replace")
        raise AssertionError(f"{' '.join(map(shlex.quote, cmd))} exited {p.returncode}\n{err[-4000:]}")
    return p


def ffmpeg(*args):
    run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args])


def ffprobe_duration(path):
    p = run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", path])
    return float(json.loads(p.stdout)["format"]["duration"])


def ffprobe_stream(path):
    p = run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_streams", "-of", "json", path])
    return json.loads(p.stdout)["streams"][0]


def decoded_duration(path):
    """Seconds of audio a decoder gets out of the file, counted in samples."""
    p = run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "s16le", "-ac", "1", "-"],
            text=False)
    if p.stderr:
        raise AssertionError(f"{path}: decoder complained: {p.stderr[:500]!r}")
    rate = int(ffprobe_stream(path)["sample_rate"])
    return len(p.stdout) / 2 / rate


def ebur128(path):
    """Integrated loudness and true peak by ffmpeg's own meter."""
    p = run(["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", path, "-af",
             "ebur128=peak=true", "-f", "null", "-"])
    summary = p.stderr[p.stderr.rfind("Summary:"):]
    lufs = peak = None
    for line in summary.splitlines():
        line = line.strip()
        if line.startswith("I:"):
            lufs = float(line.split()[1])
        if line.startswith("Peak:"):
            peak = float(line.split()[1])
    return lufs, peak


_LINE = re.compile(r"^(\w+)\s+(\S+Z) (.*)$")
_KV = re.compile(r'\s(\w+)=("(?:[^"\\]|\\.)*"|\S*)')


def log_events(stderr):
    """Parses our one-line-per-event logs into (level, message, {k: v})."""
    out = []
    for line in stderr.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        rest = m.group(3)
        first = _KV.search(rest)
        msg = rest[:first.start()] if first else rest
        kv = {}
        for k, v in _KV.findall(rest[len(msg):]):
            if v.startswith('"'):
                v = v[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            kv[k] = v
        out.append((m.group(1), msg.strip(), kv))
    return out


def last_event(stderr, prefix):
    for level, msg, kv in reversed(log_events(stderr)):
        if msg.startswith(prefix):
            return kv
    raise AssertionError(f"no log event starting with {prefix!r} in:\n{stderr[-3000:]}")


class Node(kubo_node.KuboNode):
    """A Kubo node of a test's own, on reserved ports (outside the kernel's
    ephemeral range, held for the test's life), so that it can be stopped
    and started again, or wiped, under running programs and keep its URLs.
    Its repository is root/repo and its log root/daemon.log; config: extra
    Kubo settings, key to value."""

    def __init__(self, root, label=None, env=None, config=None):
        super().__init__(root, api_port=kubo_node.reserve_port(), gateway_port=kubo_node.reserve_port(),
                         swarm_port=kubo_node.reserve_port(), label=label, env=env, config=config)
        self.api = f"http://127.0.0.1:{self.ports['API']}"
        self.gateway = f"http://127.0.0.1:{self.ports['Gateway']}"


def spawn(procs, cmd, log, **kw):
    """Starts cmd with its output appended to the file log, and adds it to
    procs, the list of what stop_all ends."""
    p = subprocess.Popen(cmd, stdout=open(log, "a"), stderr=subprocess.STDOUT, **kw)
    procs.append(p)
    return p


def stop_all(procs, timeout):
    """Ends the processes a test started that still run: SIGTERM, and
    SIGKILL for those still there after timeout seconds."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def write_json(path, doc):
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def run_setup(setup, work, music, **cfg):
    """Writes work/playlist.json (the music folder) and work/setup.json
    (cfg, pointed at that playlist config) and runs radio-setup on them."""
    cfg["playlist_config"] = write_json(os.path.join(work, "playlist.json"), {"source": music})
    return run([setup, "--config", write_json(os.path.join(work, "setup.json"), cfg)])


def setup_run(setup, config_path, expect_status):
    """radio-setup on config_path, which must exit with expect_status."""
    p = run([setup, "--config", config_path], check=False)
    if p.returncode != expect_status:
        raise AssertionError(f"setup exited {p.returncode}, expected {expect_status}\n{p.stderr[-5000:]}")
    return p


def tree_state(folder):
    """Content and mtime of everything under folder (to prove nothing moved)."""
    out = {}
    for root, _, files in os.walk(folder):
        for n in files:
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, folder)] = (hashlib.sha256(f.read()).hexdigest(), os.stat(p).st_mtime_ns)
    return out


def lavfi_song(path, freq, secs, *out_args):
    """A sine under pink noise: enough like music for the encoder, and
    every track distinct. out_args: output options (tags, codec)."""
    ffmpeg("-f", "lavfi", "-i", f"sine=f={freq}:d={secs}", "-f", "lavfi", "-i",
           f"anoisesrc=d={secs}:c=pink:a=0.05", "-filter_complex", "amix=inputs=2", *out_args, path)


def tagged_songs(folder, tracks):
    """Vorbis songs "00 song.ogg", ... tagged "Artist 0" / "Song 0", ...,
    one for each (frequency, seconds) of tracks."""
    for i, (freq, secs) in enumerate(tracks):
        lavfi_song(os.path.join(folder, f"{i:02d} song.ogg"), freq, secs, "-metadata", f"artist=Artist {i}",
                   "-metadata", f"title=Song {i}", "-c:a", "libvorbis")


def write_streamer_config(path, processed, state, api, gateway, **keys):
    """A streamer config for tests: a short TTL and short backoffs and
    timeouts, so that publishing and recovery show within seconds."""
    # A key (so an IPNS name) of this test's own: tests that share the test
    # node run at the same time, and one name under two streamers is two timelines.
    cfg = {"processed_dir": processed, "state_dir": state, "ipfs_api": api, "local_gateway": gateway,
           "ipns_ttl_seconds": 1, "publish_backoff_seconds": 0.2, "publish_backoff_max_seconds": 1,
           "keep_playlists": 5, "ipfs_timeout_seconds": 5,
           "ipns_key": f"radio-{os.path.basename(sys.argv[0]).removesuffix('.py')}-{os.getpid()}"}
    cfg.update(keys)
    return write_json(path, cfg)


def longest_stall_ms(obs, still=0.05):
    """Longest wall time a media element's position moved less than `still`
    seconds between samples while it was meant to play, from a browser
    observer's samples ({wallEpochMs, currentTime, paused})."""
    worst = run = 0
    for a, b in zip(obs, obs[1:]):
        if not b["paused"] and b["currentTime"] - a["currentTime"] < still:
            run += b["wallEpochMs"] - a["wallEpochMs"]
            worst = max(worst, run)
        else:
            run = 0
    return worst


def run_main(main, procs, work, grace=20):
    """Runs a test's main(); then stops what it started, whatever happened,
    and removes work, or on failure keeps it and says where."""
    ok = False
    try:
        main()
        ok = True
    finally:
        stop_all(reversed(procs), grace)
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work} for a look (logs, listen.json)")


def published_seq(state):
    """The newest media sequence the streamer has published, from its
    status.json (-1 before the first publish); unlike the counts there, it
    carries across restarts."""
    return read_status(state).get("last_publish", {}).get("newest_sequence", -1)


def replace_in(folder, name, data):
    """Writes data (bytes) to folder/name as other programs must write into
    processed/: a temporary file beside it, renamed over it."""
    path = os.path.join(folder, name)
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.rename(path + ".tmp", path)


def log_waiter(log):
    """wait_for, whose failure message ends with the tail of the log file."""
    return lambda pred, timeout, what: wait_for(pred, timeout, what,
                                                diagnose=lambda: "streamer log:\n" + file_tail(log))


def read_json(path):
    with open(path) as f:
        return json.load(f)


def pdt(s):
    """An EXT-X-PROGRAM-DATE-TIME (or a status/schedule air time) as Unix seconds."""
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def served_tracks(segs):
    """Segments as GatewayValidator.segs has them, grouped into tracks at
    each discontinuity: (first seq, air time, [segment CID, ...])."""
    out = []
    for q in sorted(segs):
        s = segs[q]
        cid = s["uri"].rsplit("/", 1)[-1].split("?")[0]
        if s["disc"] or not out:
            out.append((q, pdt(s["pdt"]), []))
        out[-1][2].append(cid)
    return out


def read_status(state):
    """The streamer's status.json, {} while there is none (or it is half written)."""
    try:
        with open(os.path.join(state, "status.json")) as f:
            return json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def file_tail(path, chars=3000):
    with open(path) as f:
        return f.read()[-chars:]


def wait_for(pred, timeout, what, ignore=(OSError,), diagnose=None):
    """pred's first true value within timeout seconds. The ignored
    exceptions mean "not yet" (a gateway that does not serve it yet, a URL
    error being an OSError); diagnose gives text for the failure message."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            v = pred()
        except ignore:
            v = None
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}" + (f"\n{diagnose()}" if diagnose else ""))


def run_tests(scope, work=None, chain=False, catch=(AssertionError,), cleanup=None):
    """Runs the test_ functions of a script's scope in order, prints a line
    for each and a summary, and exits 1 when one failed. chain: later tests
    build on earlier ones, so the first failure ends the run (otherwise
    RADIO_STOP_ON_FAIL does). cleanup runs however the tests end. The work
    folder is removed after a clean run and kept, and named, otherwise."""
    tests = [v for k, v in list(scope.items()) if k.startswith("test_")]
    failed = 0
    try:
        for t in tests:
            try:
                t()
                print(f"ok   {t.__name__}", flush=True)
            except catch as e:
                failed += 1
                print(f"FAIL {t.__name__}: {e}", flush=True)
                if chain or os.environ.get("RADIO_STOP_ON_FAIL"):
                    break
    finally:
        if cleanup:
            cleanup()
    print(f"{len(tests) - failed} passed, {failed} failed")
    if work and failed:
        print(f"work folder kept: {work}")
    elif work:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failed else 0)
