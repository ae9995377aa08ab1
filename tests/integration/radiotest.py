"""Shared helpers for the integration tests: the test IPFS node, generated
audio, running the programs and reading their key=value logs."""
import json
import re
import urllib.parse
import os
import shlex
import subprocess
import sys
import urllib.request

AAC_FRAME = 1024


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
