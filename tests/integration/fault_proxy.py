"""A fault-injecting HTTP proxy for the tests: it stands between a program
and its Kubo node (or any HTTP server) on loopback, forwards every request,
records what it received, and injects the faults a test asks for.

    proxy = FaultProxy(upstream_url)        # starts at once; proxy.url to give the program
    proxy.rule("/api/v0/pin/ls", status=403)
    proxy.rule("/api/v0/add", nth=2, reset=True)   # the second add: connection cut mid-answer
    proxy.rule("/api/v0/add", after=1, status=500) # every add but the first (retries too)
    proxy.rule("/api/v0/name/publish", hang=True)  # accepted, never answered
    proxy.rule("/api/v0/name/publish", status_after_forward=500)  # done by the node, reported as failed
    proxy.rule("/api/v0/add", rewrite=lambda body: ...)
    proxy.requests                           # [(method, path, headers)] received
    proxy.close()

Written for the tests rather than taken from a tool: the faults that
matter here are at the HTTP level of one endpoint (a status, a rewritten
JSON body, an answer cut after its headers), which TCP-level proxies such
as toxiproxy do not inject, and Debian packages none that does."""
import http.client
import http.server
import socket
import sys
import threading
import time
import urllib.parse

import kubo_node

CHUNK = 65536
HANG_LIMIT = 3600  # seconds a hung request is held at most, so the test's end frees it


class Rule:
    def __init__(self, prefix, status=None, delay=0.0, hang=False, reset=False, garbage=False,
                 rewrite=None, nth=None, after=0, times=None, status_after_forward=None):
        self.prefix, self.status, self.delay, self.hang = prefix, status, delay, hang
        self.status_after_forward = status_after_forward
        self.reset, self.garbage, self.rewrite = reset, garbage, rewrite
        self.nth, self.after, self.times = nth, after, times
        self.seen = 0
        self.fired = 0

    def applies(self, path):
        if not path.startswith(self.prefix):
            return False
        self.seen += 1
        if (self.nth is not None and self.seen != self.nth) or self.seen <= self.after:
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        self.fired += 1
        return True


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A client that hangs up (a player stopped, a request cut on
        # purpose) is routine here; anything else is still printed.
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


class FaultProxy:
    def __init__(self, upstream, port=None):
        u = urllib.parse.urlsplit(upstream)
        self.upstream_host, self.upstream_port = u.hostname, u.port
        self.rules, self.requests = [], []
        self.lock = threading.Lock()
        self.released = threading.Event()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                proxy._handle(self)

            do_GET = do_PUT = do_HEAD = do_DELETE = do_POST

        self.server = _Server(("127.0.0.1", port or kubo_node.reserve_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def rule(self, prefix, **kw):
        r = Rule(prefix, **kw)
        with self.lock:
            self.rules.append(r)
        return r

    def clear(self):
        with self.lock:
            self.rules = []

    def close(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def _match(self, path):
        with self.lock:
            for r in self.rules:
                if r.applies(path):
                    return r
        return None

    @staticmethod
    def _refuse(h, status):
        msg = b'{"Message":"injected failure","Code":0,"Type":"error"}'
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(msg)))
        h.end_headers()
        h.wfile.write(msg)

    def _handle(self, h):
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = _read_chunked(h.rfile)
        with self.lock:
            self.requests.append((h.command, h.path, dict(h.headers)))
        r = self._match(urllib.parse.urlsplit(h.path).path)
        if r and r.delay:
            time.sleep(r.delay)
        if r and r.hang:
            self.released.wait(HANG_LIMIT)
            h.close_connection = True
            return
        if r and r.status:
            self._refuse(h, r.status)
            return
        if r and r.garbage:
            msg = b"\x00\xffnot json at all\n{{{"
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(msg)))
            h.end_headers()
            h.wfile.write(msg)
            return
        headers = {k: v for k, v in h.headers.items()
                   if k.lower() not in ("host", "content-length", "transfer-encoding", "connection")}
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=HANG_LIMIT)
        try:
            conn.request(h.command, h.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except OSError as e:
            h.send_error(502, f"upstream: {e}")
            return
        finally:
            conn.close()
        if r and r.status_after_forward:
            # The node did it; the program is told it failed (a timeout or a
            # proxy's error after the work was done looks the same to it).
            self._refuse(h, r.status_after_forward)
            return
        if r and r.rewrite:
            data = r.rewrite(data)
        h.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "trailer"):
                h.send_header(k, v)
        if r and r.reset:
            # Headers and half the body, then the connection is cut.
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data[:len(data) // 2])
            h.wfile.flush()
            h.connection.shutdown(socket.SHUT_RDWR)
            h.close_connection = True
            return
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(data)


def _read_chunked(f):
    out = bytearray()
    while True:
        size = int(f.readline().split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while f.readline() not in (b"\r\n", b"\n", b""):
                pass
            return bytes(out)
        out += f.read(size)
        f.readline()
