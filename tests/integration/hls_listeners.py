"""Simulated HLS listeners for load tests: N asynchronous clients on one
event loop, each behaving like a player at real-time pace. A listener
fetches the live playlist every target duration, starts three segments
behind the newest (as hls.js does), fetches each new segment in order, and
"plays" it for its duration. A segment that is not fetched by the time
playback reaches it is a stall. Bounded in count and time, loopback only.

    python3 hls_listeners.py URL N SECONDS OUT.json
      URL     the live playlist (http://127.0.0.1:.../ipns/<name>)

Writes, per listener: stalls, segments played, and every playlist's age
(now minus the newest segment's EXT-X-PROGRAM-DATE-TIME)."""
import asyncio
import datetime
import json
import os
import sys
import time
import urllib.parse

# Segments behind the newest listed where playback starts. hls.js starts 3
# behind; behind a gateway and a cache that each keep /ipns/ answers for a
# target duration, playlists arrive up to about 2.5 target durations old,
# and listeners 3 behind stalled (4 of 20 in a minute). Such a chain needs
# a player that starts further back (RADIO_LISTENER_START_BEHIND).
START_BEHIND = int(os.environ.get("RADIO_LISTENER_START_BEHIND", "4"))
REQUEST_TIMEOUT = 20.0    # seconds for one request
MAX_BODY = 16 << 20
LOOPBACK = ("127.0.0.1", "localhost", "::1")


async def get(host, port, path):
    """(status, headers, body) of a GET over a fresh HTTP/1.1 connection."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), REQUEST_TIMEOUT)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), REQUEST_TIMEOUT)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if "content-length" in headers:
            body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), REQUEST_TIMEOUT)
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = bytearray()
            while True:
                size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    break
                body += await reader.readexactly(size)
                await reader.readline()
                if len(body) > MAX_BODY:
                    raise ValueError("body too large")
        else:
            body = await asyncio.wait_for(reader.read(MAX_BODY), REQUEST_TIMEOUT)
        return status, headers, bytes(body)
    finally:
        writer.close()


def parse_playlist(text):
    """(target duration, [(sequence, uri, seconds, program date-time epoch)])."""
    seq, target, segs, dur, pdt = 0, None, [], None, None
    for line in text.splitlines():
        if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            seq = int(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-TARGETDURATION:"):
            target = int(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            pdt = datetime.datetime.fromisoformat(line.split(":", 1)[1].replace("Z", "+00:00")).timestamp()
        elif line.startswith("#EXTINF:"):
            dur = float(line[8:].split(",", 1)[0])
        elif line and not line.startswith("#"):
            segs.append((seq, line, dur, pdt))
            seq += 1
    return target, segs


class Listener:
    def __init__(self, url, until):
        u = urllib.parse.urlsplit(url)
        if u.hostname not in LOOPBACK:
            raise ValueError("listeners only connect to loopback")
        self.host, self.port, self.path = u.hostname, u.port, u.path
        self.until = until
        self.known = {}            # sequence -> (uri, seconds)
        self.fetched = {}          # sequence -> wall time it arrived
        self.ages, self.stalls, self.played, self.errors = [], 0, 0, 0
        self.stall_times = []
        self.target = None
        self.new_segment = asyncio.Event()

    async def poll_playlist(self):
        while time.time() < self.until:
            try:
                status, _, body = await get(self.host, self.port, self.path)
                if status == 200:
                    self.target, segs = parse_playlist(body.decode(errors="replace"))
                    if segs:
                        self.ages.append(time.time() - segs[-1][3])
                    for seq, uri, dur, _ in segs:
                        self.known.setdefault(seq, (uri, dur))
                    self.new_segment.set()
                else:
                    self.errors += 1
            except (OSError, asyncio.TimeoutError, ValueError, asyncio.IncompleteReadError):
                self.errors += 1
            await asyncio.sleep(self.target or 2)

    async def fetch_segments(self, first):
        seq = first
        while time.time() < self.until:
            if seq not in self.known:
                self.new_segment.clear()
                try:
                    await asyncio.wait_for(self.new_segment.wait(), max(0.1, self.until - time.time()))
                except asyncio.TimeoutError:
                    return
                continue
            uri, _ = self.known[seq]
            u = urllib.parse.urlsplit(uri)
            path = u.path + (f"?{u.query}" if u.query else "")
            try:
                status, _, body = await get(self.host, self.port, path)
                if status == 200 and body:
                    self.fetched[seq] = time.time()
                    seq += 1
                    continue
            except (OSError, asyncio.TimeoutError, ValueError, asyncio.IncompleteReadError):
                pass
            self.errors += 1
            await asyncio.sleep(0.5)

    async def play(self):
        """Playback at real time from the start segment: each segment is due
        when the ones before it have played; one missing then is a stall,
        and playback waits for it (as a player's buffer would)."""
        while time.time() < self.until and not self.known:
            await asyncio.sleep(0.05)
        if not self.known:
            return
        first = max(min(self.known), max(self.known) - START_BEHIND + 1)
        fetcher = asyncio.ensure_future(self.fetch_segments(first))
        seq, clock = first, None
        while time.time() < self.until:
            if seq not in self.fetched:
                if clock is not None and time.time() >= clock:
                    self.stalls += 1
                    self.stall_times.append(round(time.time(), 2))
                while seq not in self.fetched and time.time() < self.until:
                    await asyncio.sleep(0.05)
                if seq not in self.fetched:
                    break
                clock = time.time()
            if clock is None:
                clock = time.time()
            clock += self.known[seq][1]
            self.played += 1
            seq += 1
            await asyncio.sleep(max(0.0, clock - time.time()))
        fetcher.cancel()

    async def run(self):
        poller = asyncio.ensure_future(self.poll_playlist())
        await self.play()
        poller.cancel()


async def main(url, n, seconds):
    until = time.time() + seconds
    listeners = [Listener(url, until) for _ in range(n)]
    await asyncio.gather(*(l.run() for l in listeners))
    return [{"stalls": l.stalls, "stall_times": l.stall_times, "played": l.played, "errors": l.errors,
             "ages": [round(a, 3) for a in l.ages]}
            for l in listeners]


if __name__ == "__main__":
    url, n, seconds, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    result = asyncio.run(main(url, n, seconds))
    with open(out, "w") as f:
        json.dump(result, f)
