"""Where a player starts in a live playlist, measured from outside: the
player reads the station through a recording proxy; the first segment it
asks for is where it starts, and that segment's EXT-X-PROGRAM-DATE-TIME
against the moment it asked says how far behind air it began.

    behind, seq = start_behind_air(gateway, name, ["ffmpeg", ...], seconds)

The command gets the playlist URL in place of the string "{url}"."""
import datetime
import os
import subprocess
import time
import urllib.parse
import urllib.request

import radiotest as rt
from fault_proxy import FaultProxy

PLAYERS = {
    # FFmpeg's HLS reader as ffplay and mpv use it: its defaults, then told to honour EXT-X-START.
    "ffmpeg": ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "hls", "-i", "{url}",
               "-map", "0:a", "-f", "null", "-"],
    "ffmpeg -prefer_x_start 1": ["ffmpeg", "-nostdin", "-loglevel", "error", "-prefer_x_start", "1",
                                 "-f", "hls", "-i", "{url}", "-map", "0:a", "-f", "null", "-"],
    # VLC refuses to run as root; as nobody, without sound card or window.
    "vlc": ["runuser", "-u", "nobody", "--", "cvlc", "--intf", "dummy", "--no-video", "--aout", "afile",
            "--audiofile-file", "/dev/null", "{url}"],
}


def available(player):
    exe = PLAYERS[player][0] if PLAYERS[player][0] != "runuser" else PLAYERS[player][4]
    if not any(os.access(os.path.join(d, exe), os.X_OK) for d in os.environ.get("PATH", "").split(":")):
        return False
    return PLAYERS[player][0] != "runuser" or os.geteuid() == 0


def start_behind_air(gateway, name, player, seconds, log):
    """Runs player on gateway's /ipns/name through a recording proxy for
    seconds; returns (seconds behind air its first segment was, its media
    sequence number)."""
    proxy = FaultProxy(gateway)
    try:
        url = f"{proxy.url}/ipns/{name}"
        cmd = [url if a == "{url}" else a for a in PLAYERS[player]]
        asked = {}

        def first_segment():
            with proxy.lock:
                for _, path, _ in proxy.requests:
                    p = urllib.parse.urlsplit(path).path
                    if p.startswith("/ipfs/"):
                        asked.setdefault(p, time.time())
                        return p
            return None
        with open(log, "a") as out:
            p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
            try:
                seg = rt.wait_for(first_segment, seconds, f"{player} to ask for a segment")
            finally:
                p.kill()
                p.wait()
        at = asked[seg]
        with urllib.request.urlopen(f"{gateway}/ipns/{name}", timeout=30) as r:
            text = r.read().decode()
    finally:
        proxy.close()
    pdt = seq = None
    current_seq = None
    for line in text.splitlines():
        if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            current_seq = int(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            when = line.split(":", 1)[1]
        elif line and not line.startswith("#"):
            if urllib.parse.urlsplit(line).path == seg:
                pdt, seq = parse_time(when), current_seq
                break
            current_seq += 1
    rt.check(pdt is not None, f"{player}'s first segment {seg} is no longer in the playlist")
    return at - pdt, seq


def parse_time(s):
    """Seconds since the epoch of an EXT-X-PROGRAM-DATE-TIME value (UTC, Z)."""
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
