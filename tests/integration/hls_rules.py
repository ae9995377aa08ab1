"""What a listener's player checks across the live playlists it reloads,
as one validator the streamer tests share: each playlist parsed by our
reading and by hls-parser in strict mode (an implementation of the spec
that is not ours), and across publishes: the media and discontinuity
sequences never decrease, a sequence number keeps its URI, discontinuity
number and date-time, the target duration is constant, and every playlist
lists at least three target durations."""
import json
import os
import re
import subprocess
import threading
import time
import urllib.request

CHECK_PLAYLIST = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "js",
                              "check-playlist.mjs")
MIN_TARGET_DURATIONS = 3  # hls.js sits this many target durations behind the live edge


def parse(text):
    """Our reading of a live playlist: the header numbers and, per segment,
    seq, uri, disc, dnum (its discontinuity number), pdt, dur and title."""
    msn = int(re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", text).group(1))
    dsn = int(re.search(r"#EXT-X-DISCONTINUITY-SEQUENCE:(\d+)", text).group(1))
    target = int(re.search(r"#EXT-X-TARGETDURATION:(\d+)", text).group(1))
    segs, seq, dnum, disc, pdt, dur, title = [], msn, dsn, False, None, None, None
    for line in text.split("\n"):
        if line == "#EXT-X-DISCONTINUITY":
            disc = True
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            pdt = line.split(":", 1)[1]
        elif line.startswith("#EXTINF:"):
            dur, title = line[8:].split(",", 1)
        elif line and not line.startswith("#"):
            dnum += disc
            segs.append({"seq": seq, "uri": line, "disc": disc, "dnum": dnum, "pdt": pdt,
                         "dur": float(dur), "title": title})
            seq += 1
            disc = False
    return {"msn": msn, "dsn": dsn, "target": target, "segs": segs, "text": text}


def hls_parser(text):
    """hls-parser's strict reading, as JSON; AssertionError with its complaint."""
    p = subprocess.run(["node", CHECK_PLAYLIST], input=text, capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"hls-parser: {p.stderr.strip()}")
    return json.loads(p.stdout)


class Rules:
    """Feeds every playlist seen, in the order seen; collects violations
    (strict=True: raises at the first). min_listed: the playlist must list
    at least this many target durations (None: MIN_TARGET_DURATIONS)."""

    def __init__(self, strict=True, independent=True, min_listed=MIN_TARGET_DURATIONS):
        self.strict = strict
        self.independent = independent
        self.min_listed = min_listed
        self.seen = {}
        self.msn = self.dsn = self.target = None
        self.violations = []
        self.checked = 0

    def _bad(self, msg):
        self.violations.append(msg)
        if self.strict:
            raise AssertionError(msg)

    def check(self, text):
        """Checks one playlist against itself, hls-parser and all earlier
        ones; returns our parse of it."""
        return self.check_parsed(parse(text))

    def check_parsed(self, pl):
        """check, for a playlist already parsed."""
        text = pl["text"]
        self.checked += 1
        if self.independent:
            try:
                ind = hls_parser(text)
            except AssertionError as e:
                self._bad(str(e))
                return pl
            if (ind["mediaSequenceBase"] != pl["msn"] or ind["discontinuitySequenceBase"] != pl["dsn"]
                    or len(ind["segments"]) != len(pl["segs"]) or ind["endlist"]):
                self._bad(f"hls-parser reads the playlist otherwise than we do: {text[:300]}")
            for a, b in zip(ind["segments"], pl["segs"]):
                if a["uri"] != b["uri"] or bool(a.get("discontinuity")) != b["disc"]:
                    self._bad(f"hls-parser reads segment {b['seq']} otherwise: {a['uri']}")
        if self.msn is not None and pl["msn"] < self.msn:
            self._bad(f"media sequence went back: {self.msn} -> {pl['msn']}")
        if self.dsn is not None and pl["dsn"] < self.dsn:
            self._bad(f"discontinuity sequence went back: {self.dsn} -> {pl['dsn']}")
        if self.target is not None and pl["target"] != self.target:
            self._bad(f"target duration changed: {self.target} -> {pl['target']}")
        listed = sum(s["dur"] for s in pl["segs"])
        if self.min_listed and listed < self.min_listed * pl["target"]:
            self._bad(f"{listed:.3f} s listed, under {self.min_listed} target durations of {pl['target']} s")
        for s in pl["segs"]:
            key = (s["uri"], s["dnum"], s["pdt"])
            if s["seq"] in self.seen and self.seen[s["seq"]] != key:
                self._bad(f"seq {s['seq']} changed: {self.seen[s['seq']]} -> {key}")
            self.seen[s["seq"]] = key
        self.msn = max(pl["msn"], self.msn or 0)
        self.dsn = max(pl["dsn"], self.dsn or 0)
        self.target = pl["target"]
        return pl


class GatewayValidator(threading.Thread):
    """A listener's player on one gateway: reads /ipns/<name> every
    `interval` seconds and feeds each new playlist to Rules(strict=False).
    segs: every segment seen, by sequence number; longest_gap: the longest
    wall time (s) between two new playlists."""

    def __init__(self, gateway, name, interval=0.3):
        super().__init__(daemon=True)
        self.url = f"{gateway}/ipns/{name}"
        self.name = name
        self.interval = interval
        self.rules = Rules(strict=False)
        self.stop = threading.Event()
        self.last_text = None
        self.segs = {}
        self.last_fresh = None
        self.longest_gap = 0.0

    def run(self):
        while not self.stop.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=10) as r:
                    text = r.read().decode()
            except OSError:
                text = None
            now = time.monotonic()
            if text and text != self.last_text:
                self.last_text = text
                for s in self.rules.check(text)["segs"]:
                    self.segs[s["seq"]] = s
                if self.last_fresh is not None:
                    self.longest_gap = max(self.longest_gap, now - self.last_fresh)
                self.last_fresh = now
            self.stop.wait(self.interval)

    def finish(self, min_checked):
        """Stops reading; fails unless at least min_checked playlists were
        validated, all of them without a violation."""
        self.stop.set()
        self.join()
        r = self.rules
        if r.checked < min_checked:
            raise AssertionError(f"only {r.checked} playlists validated")
        if r.violations:
            raise AssertionError(f"{len(r.violations)} violations, first: {r.violations[:5]}")
        return r
