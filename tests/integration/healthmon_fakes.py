"""What radio-healthmon's integration tests and benchmark listen to when the
real streamer is not in the picture: real AAC-in-MPEG-TS segments made with
ffmpeg, a live timeline over them whose EXT-X-PROGRAM-DATE-TIMEs track the
wall clock, a publisher that puts that playlist on the real test node under
an IPNS name, and loopback HTTP gateways that can be told to misbehave
(wrong bytes for a CID, garbage, slowness, errors)."""
import bisect
import datetime
import hashlib
import http.server
import json
import math
import os
import re
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
import uuid

RAW_BLOCK_TYPE = "application/vnd.ipld.raw"
_B32 = "abcdefghijklmnopqrstuvwxyz234567"


def base32(data):
    bits, value, out = 0, 0, []
    for b in data:
        value = (value << 8) | b
        bits += 8
        while bits >= 5:
            out.append(_B32[(value >> (bits - 5)) & 31])
            bits -= 5
    if bits:
        out.append(_B32[(value << (5 - bits)) & 31])
    return "".join(out)


def raw_cid(data):
    """CIDv1, raw codec, sha2-256: what the node gives a single-chunk file."""
    return "b" + base32(bytes([0x01, 0x55, 0x12, 0x20]) + hashlib.sha256(data).digest())


def iso(t):
    d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def ffmpeg(*args):
    p = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"ffmpeg {' '.join(args)} failed:\n{p.stderr[-3000:]}")


MUSIC = ("aevalsrc=(sin(2*PI*{f}*t)+0.6*sin(2*PI*{f}*1.25*t)+0.5*sin(2*PI*{f}*1.5*t))"
         "*(0.6+0.4*sin(2*PI*0.5*t))*pow(10\\,{db}/20):s=48000:d={d}")


def make_track(workdir, name, source, seconds, segment_seconds=2, bitrate="128k"):
    """Cuts one lavfi source into HLS MPEG-TS segments (one encoder, one
    timestamp line, as setup does). Returns [(path, exact EXTINF)]."""
    out = os.path.join(workdir, name)
    os.makedirs(out, exist_ok=True)
    ffmpeg("-f", "lavfi", "-i", source, "-t", str(seconds), "-ac", "2", "-ar", "48000",
           "-c:a", "aac", "-b:a", bitrate, "-f", "hls", "-hls_time", str(segment_seconds),
           "-hls_list_size", "0", "-hls_segment_filename", os.path.join(out, "%03d.ts"),
           os.path.join(out, "index.m3u8"))
    segs, dur = [], None
    with open(os.path.join(out, "index.m3u8")) as f:
        for line in f:
            line = line.strip()
            if line.startswith("#EXTINF:"):
                dur = float(line[8:].split(",")[0])
            elif line and not line.startswith("#"):
                segs.append((os.path.join(out, line), dur))
    return segs


def music_source(freq=220, db=-20, seconds=12):
    return MUSIC.format(f=freq, db=db, d=seconds)


def multipart(files):
    boundary = uuid.uuid4().hex
    body = bytearray()
    for name, data in files:
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                 f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
        body += data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return bytes(body), f"multipart/form-data; boundary={boundary}"


class Node:
    """The real test node's RPC API, for adding and publishing."""

    def __init__(self, api, gateway):
        self.api, self.gateway = api, gateway

    def call(self, cmd, data=None, ctype=None, timeout=60, **params):
        q = urllib.parse.urlencode(params)
        req = urllib.request.Request(f"{self.api}/api/v0/{cmd}?{q}", data=data or b"", method="POST")
        if ctype:
            req.add_header("Content-Type", ctype)
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.read()

    def add(self, name, data):
        body, ctype = multipart([(name, data)])
        out = self.call("add", body, ctype, **{"cid-version": 1, "raw-leaves": "true",
                                                 "cid-base": "base32", "pin": "true"})
        return json.loads(out.decode().strip().splitlines()[-1])["Hash"]

    def block(self, cid):
        return self.call("block/get", arg=cid)

    def new_key(self):
        name = "hm-" + uuid.uuid4().hex[:12]
        out = json.loads(self.call("key/gen", arg=name, type="ed25519"))
        return name, out["Id"]

    def publish(self, key, cid):
        self.call("name/publish", arg=f"/ipfs/{cid}", key=key, **{"allow-offline": "true",
                                                                  "ttl": "1s", "lifetime": "1h"})


class Station:
    """A looping timeline over segments [(cid, duration, track)], anchored at
    `epoch`: the window's newest segment is the one on air now."""

    def __init__(self, segments, epoch=None, window=6, uri=lambda cid: f"/ipfs/{cid}"):
        self.segs = segments
        self.epoch = time.time() if epoch is None else epoch
        self.window = window
        self.uri = uri
        self.prefix = [0.0]
        for _, d, _ in segments:
            self.prefix.append(self.prefix[-1] + d)
        self.loop = self.prefix[-1]
        # RFC 8216: the target is the longest EXTINF rounded to the nearest integer.
        self.target = max(int(math.floor(d + 0.5)) for _, d, _ in segments)

    def on_air(self, now):
        t = max(0.0, now - self.epoch)
        loops = int(t // self.loop)
        i = bisect.bisect_right(self.prefix, t - loops * self.loop) - 1
        return loops * len(self.segs) + min(i, len(self.segs) - 1)

    def air_time(self, j):
        n = len(self.segs)
        return self.epoch + (j // n) * self.loop + self.prefix[j % n]

    def discontinuity(self, j):
        n = len(self.segs)
        return j > 0 and (j % n == 0 or self.segs[j % n][2] != self.segs[(j - 1) % n][2])

    def playlist(self, now):
        newest = self.on_air(now)
        first = max(0, newest - self.window + 1)
        disc_seq = sum(1 for j in range(1, first + 1) if self.discontinuity(j))
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{self.target}",
                 f"#EXT-X-MEDIA-SEQUENCE:{first}", f"#EXT-X-DISCONTINUITY-SEQUENCE:{disc_seq}"]
        for j in range(first, newest + 1):
            cid, dur, _ = self.segs[j % len(self.segs)]
            if j > first and self.discontinuity(j):
                lines.append("#EXT-X-DISCONTINUITY")
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{iso(self.air_time(j))}")
            lines.append(f"#EXTINF:{dur:.3f},")
            lines.append(self.uri(cid))
        return "\n".join(lines) + "\n"


class Publisher:
    """Republishes the station's live playlist under an IPNS name on the
    real node every `period` seconds, like the streamer does, until stopped."""

    def __init__(self, node, station, period):
        self.node, self.station, self.period = node, station, period
        self.key, self.name = node.new_key()
        self.thread = None
        self.stopping = threading.Event()
        self.published = 0
        self.error = None

    def publish_now(self):
        text = self.station.playlist(time.time()).encode()
        cid = self.node.add("live.m3u8", text)
        self.node.publish(self.key, cid)
        self.published += 1

    def _run(self):
        while not self.stopping.is_set():
            try:
                self.publish_now()
            except Exception as e:  # noqa: BLE001 - reported by the test
                self.error = e
            self.stopping.wait(self.period)

    def start(self):
        self.publish_now()
        self.stopping.clear()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping.set()
        if self.thread:
            self.thread.join()
        self.thread = None


class Gateway:
    """A loopback path gateway. By default it serves `playlist()` at
    /ipns/<anything> and segments from `blocks` (or the real node's
    gateway); attributes change how it misbehaves:
      wrong       {cid: bytes} served instead of the real content (raw
                  block requests still get the real block)
      playlist_status / segment_status   an HTTP status to answer instead
      delay       seconds to wait before answering
      raw_blocks  answer ?format=raw with the node's raw block (trustless gateway)
      body        bytes served as the playlist, verbatim (garbage tests)
      files       {path: bytes} served at /ipns/<name>/<path> (directory mode)"""

    def __init__(self, playlist=None, node=None, blocks=None):
        self.playlist = playlist
        self.node = node
        self.blocks = dict(blocks or {})
        self.wrong = {}
        self.playlist_status = None
        self.segment_status = None
        self.delay = 0.0
        self.raw_blocks = False
        self.body = None
        self.files = {}
        self.requests = []
        gw = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def send(self, status, data, ctype="application/octet-stream"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self):
                gw.requests.append(self.path)
                if gw.delay:
                    time.sleep(gw.delay)
                path, _, query = self.path.partition("?")
                inside = path.split("/", 3)[3] if path.count("/") >= 3 else ""
                if path.startswith("/ipns/") and inside in gw.files:
                    return self.send(200, gw.files[inside])
                if path.startswith("/ipns/"):
                    if gw.playlist_status:
                        return self.send(gw.playlist_status, b"gateway error\n", "text/plain")
                    data = gw.body if gw.body is not None else gw.playlist().encode()
                    return self.send(200, data, "application/vnd.apple.mpegurl")
                m = re.match(r"^/ipfs/([A-Za-z0-9]+)$", path)
                if not m:
                    return self.send(404, b"not found\n", "text/plain")
                cid = m.group(1)
                if gw.segment_status:
                    return self.send(gw.segment_status, b"gateway error\n", "text/plain")
                if "format=raw" in query and gw.raw_blocks and gw.node:
                    return self.send(200, gw.node.block(cid), RAW_BLOCK_TYPE)
                if cid in gw.wrong:
                    return self.send(200, gw.wrong[cid])
                if cid in gw.blocks:
                    return self.send(200, gw.blocks[cid])
                if gw.node:
                    try:
                        with urllib.request.urlopen(f"{gw.node.gateway}/ipfs/{cid}", timeout=30) as r:
                            return self.send(200, r.read())
                    except urllib.error.HTTPError as e:
                        return self.send(e.code, b"", "text/plain")
                return self.send(404, b"no such block\n", "text/plain")

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a client hanging up mid-answer is what some tests do

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def refused_url():
    """A loopback URL nobody listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


class Monitor:
    """radio-healthmon as a daemon, with its HTTP port read from its log."""

    def __init__(self, binary, config_path, workdir):
        self.log_path = os.path.join(workdir, f"healthmon-{uuid.uuid4().hex[:6]}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([binary, "--config", config_path], stdout=subprocess.DEVNULL,
                                     stderr=self.log)
        self.port = None
        deadline = time.time() + 30
        while time.time() < deadline and self.port is None:
            if self.proc.poll() is not None:
                raise AssertionError(f"radio-healthmon exited {self.proc.returncode}:\n{self.stderr()}")
            m = re.search(r"serving /health.* port=(\d+)", self.stderr())
            if m:
                self.port = int(m.group(1))
            time.sleep(0.05)
        if self.port is None:
            raise AssertionError(f"radio-healthmon did not start serving:\n{self.stderr()}")

    def stderr(self):
        with open(self.log_path) as f:
            return f.read()

    def get(self, path):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, dict(r.headers), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode()

    def health(self):
        status, _, body = self.get("/health")
        return status, json.loads(body)

    def wait_round(self, after, timeout=60):
        """The first health document from a round numbered above `after`."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            status, doc = self.health()
            if doc.get("round", 0) > after:
                return status, doc
            time.sleep(0.1)
        raise AssertionError(f"no round after {after} within {timeout}s:\n{self.stderr()[-3000:]}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        no_sanitizer_report(self.stderr())
        return self.proc.returncode


def write_config(path, **keys):
    base = {"output_file": "", "listen": "127.0.0.1:0", "public_gateways": [],
            "log_level": "info"}
    base.update(keys)
    with open(path, "w") as f:
        json.dump(base, f)
    return path


SANITIZER_MARKS = ("Sanitizer", "runtime error:")


def no_sanitizer_report(stderr):
    """A sanitizer build exits 1 on a finding, which --once would read as
    "degraded": look for the report itself."""
    for mark in SANITIZER_MARKS:
        if mark in stderr:
            raise AssertionError(f"sanitizer report:\n{stderr[-6000:]}")


def run_once(binary, config_path, timeout=120):
    p = subprocess.run([binary, "--config", config_path, "--once"], capture_output=True, text=True,
                       timeout=timeout)
    no_sanitizer_report(p.stderr)
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        raise AssertionError(f"--once printed no JSON (exit {p.returncode}):\n{p.stdout[-2000:]}\n"
                             f"{p.stderr[-3000:]}")
    return p.returncode, doc, p.stderr


def gateway(doc, url):
    """The report of the gateway whose URL starts with url."""
    for g in doc["gateways"]:
        if g["url"].startswith(url):
            return g
    raise AssertionError(f"no gateway {url} in {[g['url'] for g in doc['gateways']]}")


def codes(g):
    return {p["code"] for p in g["problems"]}
