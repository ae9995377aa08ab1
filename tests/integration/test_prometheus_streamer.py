"""A real Prometheus (Debian's) scrapes a real radio-streamer and
radio-healthmon on the test node: the streamer's /metrics passes promtool's
lint, says what the station does (on air, the sequence the node's gateway
serves, publishes counted in the latency histogram), keeps answering and
the station keeps publishing while idle clients hold connections open; an
address already taken stops a start;
`radio-streamer --status` shows the station on air; every streamer metric
the rules and the dashboard name is served, and every dashboard query on
them answers; no station alert fires while on air. Then the streamer is
killed (kill -9): RadioStationOffAir and RadioStreamerDown fire (their
`for` cut to a few seconds in a copy of the shipped rules), and --status
exits 1.

    test_prometheus_streamer.py RADIO_HEALTHMON RADIO_SETUP RADIO_STREAMER SOURCE_DIR
"""
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(__file__))
import healthmon_fakes as hf  # noqa: E402
import radiotest as rt  # noqa: E402
from promql_names import metric_names  # noqa: E402

HEALTHMON, SETUP, STREAMER, SOURCE = sys.argv[1:5]
PROM_DIR = os.path.join(SOURCE, "deploy", "prometheus")
RULES = os.path.join(PROM_DIR, "radio-rules.yml")
CONFIG = os.path.join(PROM_DIR, "prometheus.yml")
DASHBOARD = os.path.join(SOURCE, "deploy", "grafana", "radio-dashboard.json")
API, GATEWAY = rt.node_urls()
work = tempfile.mkdtemp(prefix="radio-prometheus-streamer-")
check = rt.check
SEGMENT = 2
PROCESSED, STATE = os.path.join(work, "processed"), os.path.join(work, "state")
# The alerts this test waits for, their `for` cut to this (seconds).
SHORT_FOR = "3s"
WAITED = ("RadioStationOffAir", "RadioStreamerDown")
STREAMER_SERIES = re.compile(r"radio_streamer_\w+|process_start_time_seconds")
IDLE_CLIENTS = 4

PROMTOOL, PROMETHEUS = shutil.which("promtool"), shutil.which("prometheus")
if not PROMTOOL or not PROMETHEUS:
    sys.exit("promtool and prometheus are missing: tools/install-deps.sh installs Debian's prometheus")

procs = []
STREAMER_PORT = rt.free_port()
PROM_PORT = rt.free_port()
PROM_URL = f"http://127.0.0.1:{PROM_PORT}"
MONITOR = None
STREAMER_PROC = None
STREAMER_CFG = None


def make_station():
    music, jingles = os.path.join(work, "music"), os.path.join(work, "jingles")
    os.makedirs(music)
    os.makedirs(jingles)
    for i, f in enumerate((220, 330)):
        hf.ffmpeg("-f", "lavfi", "-i", hf.music_source(f, -18, 12), "-t", "12", "-c:a", "flac",
                  "-metadata", f"artist=Artist {i}", "-metadata", f"title=Song {i}",
                  os.path.join(music, f"{i:02d} song.flac"))
    hf.ffmpeg("-f", "lavfi", "-i", hf.music_source(660, -12, 3), "-t", "3", "-c:a", "flac",
              os.path.join(jingles, "jingle.flac"))
    rt.run_setup(SETUP, work, music, processed_dir=PROCESSED, jingles_dir=jingles, ipfs_api=API,
                 segment_seconds=SEGMENT, progress="lines")


def get(url, method="GET"):
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def metrics():
    status, headers, text = get(f"http://127.0.0.1:{STREAMER_PORT}/metrics")
    check(status == 200, f"/metrics answered {status}: {text[:300]}")
    return headers, text


def samples(text):
    """{(name, frozenset(labels)): value} of an exposition text."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r'([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)', line)
        check(m, f"not a sample line: {line!r}")
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def one(s, name, **labels):
    found = [v for (n, ls), v in s.items() if n == name and set(labels.items()) <= set(ls)]
    check(len(found) == 1, f"{name}{labels}: {len(found)} samples")
    return found[0]


def status_cmd():
    p = subprocess.run([STREAMER, "--config", STREAMER_CFG, "--status"], capture_output=True, text=True,
                       timeout=30)
    return p.returncode, p.stdout + p.stderr


def prom_api(path, **params):
    url = f"{PROM_URL}/api/v1/{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
    with urllib.request.urlopen(url, timeout=10) as r:
        doc = json.loads(r.read())
    check(doc["status"] == "success", f"{path}: {doc}")
    return doc["data"]


def alerts(state):
    return {a["labels"]["alertname"]: a for a in prom_api("alerts")["alerts"] if a["state"] == state}


def prometheus_log():
    return rt.file_tail(os.path.join(work, "prometheus.log"))


def gateway_newest(name):
    """The newest media sequence in the playlist the node's gateway serves."""
    with urllib.request.urlopen(f"{GATEWAY}/ipns/{name}", timeout=10) as r:
        text = r.read().decode()
    seq = int(re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", text).group(1))
    return seq + text.count("#EXTINF:") - 1


def test_streamer_serves_its_metrics_on_air():
    global STREAMER_PROC, STREAMER_CFG
    make_station()
    STREAMER_CFG = rt.write_streamer_config(os.path.join(work, "streamer.json"), PROCESSED, STATE, API, GATEWAY,
                                            window_segments=5, metrics_listen=f"127.0.0.1:{STREAMER_PORT}")
    STREAMER_PROC = rt.spawn(procs, [STREAMER, "--config", STREAMER_CFG], os.path.join(work, "streamer.log"))
    rt.wait_for(lambda: rt.read_status(STATE).get("on_air"), 120, "the streamer on air",
                diagnose=lambda: rt.file_tail(os.path.join(work, "streamer.log")))
    # Published twice at least: a publish went out after the first pass.
    rt.wait_for(lambda: one(samples(metrics()[1]), "radio_streamer_publishes_total") >= 2, 30, "two publishes")
    headers, text = metrics()
    check(headers["Content-Type"].startswith("text/plain; version=0.0.4"), f"{headers}")
    lint = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
    check(lint.returncode == 0, f"promtool check metrics:\n{lint.stdout}{lint.stderr}")
    s = samples(text)
    check(one(s, "radio_streamer_on_air") == 1, "on_air is not 1 while the station is on air")
    name = rt.read_status(STATE)["ipns_name"]
    # What the node's gateway serves (outside the streamer) against what
    # /metrics says went out: within a few segments either way (the
    # gateway caches for the TTL; /metrics is as of the main loop's last
    # pass, which may come before the newest publish finished).
    served = rt.wait_for(lambda: gateway_newest(name), 30, "the gateway serving the playlist")
    s = samples(metrics()[1])
    published = one(s, "radio_streamer_published_media_sequence")
    check(abs(published - served) <= 3, f"published {published}, gateway serves {served}")
    check(one(s, "radio_streamer_newest_media_sequence") >= published, f"{s}")
    # The histogram: cumulative buckets, its count the publishes counted.
    node = {"target": API, "kind": "node"}
    count = one(s, "radio_streamer_publish_duration_seconds_count", **node)
    check(count == one(s, "radio_streamer_publishes_total", **node) and count >= 2, f"count {count}")
    buckets = sorted(((float(dict(ls)["le"]), v) for (n, ls), v in s.items()
                      if n == "radio_streamer_publish_duration_seconds_bucket"), key=lambda b: b[0])
    check([v for _, v in buckets] == sorted(v for _, v in buckets) and buckets[-1] == (float("inf"), count),
          f"buckets {buckets}")
    check(one(s, "radio_streamer_publish_failures_total", **node) == 0, "failures on a healthy node")
    started = one(s, "process_start_time_seconds")
    check(abs(started - os.stat(os.path.join(work, "streamer.log")).st_ctime) < 60, f"start time {started}")
    check(get(f"http://127.0.0.1:{STREAMER_PORT}/metrics", "POST")[0] == 405, "POST answered")
    check(get(f"http://127.0.0.1:{STREAMER_PORT}/nope")[0] == 404, "/nope answered")


def test_idle_clients_neither_block_scrapes_nor_the_station():
    """Clients that connect and send nothing (or half a request) hold
    connections; /metrics still answers at once and the station goes on."""
    socks = []
    for i in range(IDLE_CLIENTS):
        c = socket.create_connection(("127.0.0.1", STREAMER_PORT), timeout=5)
        if i % 2:
            c.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # never finished
        socks.append(c)
    try:
        before = one(samples(metrics()[1]), "radio_streamer_publishes_total")
        t0 = time.monotonic()
        metrics()
        took = time.monotonic() - t0
        check(took < 2, f"/metrics took {took:.2f}s with idle clients connected")
        rt.wait_for(lambda: one(samples(metrics()[1]), "radio_streamer_publishes_total") >= before + 2,
                    6 * SEGMENT + 10, "two more publishes while idle clients hold connections")
    except OSError as e:
        raise AssertionError(f"/metrics unreachable with {IDLE_CLIENTS} idle clients connected: {e}")
    finally:
        for c in socks:
            c.close()


def test_metrics_address_taken_stops_the_start():
    """A second streamer (its own state) told to serve on the port the
    first holds exits 1 naming the key, before it writes anything."""
    other = os.path.join(work, "other-state")
    cfg = rt.write_streamer_config(os.path.join(work, "other.json"), PROCESSED, other, API, GATEWAY,
                                   metrics_listen=f"127.0.0.1:{STREAMER_PORT}")
    p = subprocess.run([STREAMER, "--config", cfg], capture_output=True, text=True, timeout=60)
    check(p.returncode == 1 and "metrics_listen" in p.stderr and "cannot listen" in p.stderr,
          f"exited {p.returncode}: {p.stderr[-2000:]}")
    check(not os.path.exists(os.path.join(other, "status.json")), "it wrote a status before giving up")


def test_status_command_on_air():
    rc, out = status_cmd()
    check(rc == 0, f"--status exited {rc} on air:\n{out}")
    name = rt.read_status(STATE)["ipns_name"]
    check("ON AIR" in out and name in out, out)
    check(re.search(r"^On air\s+(Artist \d - Song \d|.*jingle)", out, re.M | re.I), f"no track on air:\n{out}")
    check(re.search(r"^Next\s+\d\d:\d\d:\d\d ", out, re.M), f"nothing next:\n{out}")
    check(re.search(r"^Published\s+\d+ s ago", out, re.M) and "Problems  none" in out, out)
    check(len(out.splitlines()) <= 24, f"more than a screen:\n{out}")


def test_prometheus_scrapes_both_and_no_station_alert_on_air():
    global MONITOR
    MONITOR = hf.Monitor(HEALTHMON, hf.write_config(
        os.path.join(work, "healthmon.json"), ipns_name="", state_dir=STATE, local_gateway=GATEWAY,
        interval_seconds=1), work)
    with open(RULES) as f:
        rules = yaml.safe_load(f)
    for g in rules["groups"]:
        for r in g["rules"]:
            if r.get("alert") in WAITED:
                r["for"] = SHORT_FOR
    rules_path = os.path.join(work, "rules.yml")
    with open(rules_path, "w") as f:
        yaml.safe_dump(rules, f)
    with open(CONFIG) as f:
        cfg = yaml.safe_load(f)
    cfg["global"].update(scrape_interval="1s", evaluation_interval="1s")
    cfg["rule_files"] = [rules_path]
    ports = {"radio-healthmon": MONITOR.port, "radio-streamer": STREAMER_PORT}
    check(set(ports) <= {j["job_name"] for j in cfg["scrape_configs"]}, f"jobs {cfg['scrape_configs']}")
    for j in cfg["scrape_configs"]:
        j["static_configs"][0]["targets"] = [f"127.0.0.1:{ports[j['job_name']]}"]
    path = os.path.join(work, "prometheus.yml")
    with open(path, "w") as f:
        yaml.safe_dump(cfg, f)
    rt.spawn(procs, [PROMETHEUS, f"--config.file={path}", f"--storage.tsdb.path={work}/tsdb",
                     f"--web.listen-address=127.0.0.1:{PROM_PORT}"], os.path.join(work, "prometheus.log"))
    rt.wait_for(lambda: urllib.request.urlopen(f"{PROM_URL}/-/ready", timeout=5).status == 200, 120,
                "Prometheus ready", diagnose=prometheus_log)
    for q in ('radio_streamer_on_air', 'radio_healthmon_status'):
        rt.wait_for(lambda: prom_api("query", query=q)["result"], 60, f"{q} in Prometheus",
                    diagnose=prometheus_log)
    # Every rule evaluated after the streamer's series arrived, several
    # times over: none of the station's alerts is pending or firing.
    since = time.time()
    rt.wait_for(lambda: all(r["health"] == "ok" and r["lastEvaluation"] and
                            rt_time(r["lastEvaluation"]) > since + 3
                            for g in prom_api("rules")["groups"] for r in g["rules"]), 60,
                "the rules evaluated a few times")
    active = {**alerts("pending"), **alerts("firing")}
    check(not set(active) & {"RadioStationOffAir", "RadioStreamerDown", "RadioStreamerNotPublishing",
                             "RadioPublishFailures", "RadioStationDown"}, f"on air, yet: {sorted(active)}")


def rt_time(iso):
    """Unix seconds of Prometheus' RFC 3339 times (nanoseconds, Z or an offset)."""
    m = re.fullmatch(r"(\d+-\d+-\d+T\d+:\d+:\d+)(\.\d+)?(Z|[+-]\d\d:\d\d)", iso)
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    return datetime.datetime.fromisoformat(m.group(1) + zone).timestamp() + float(m.group(2) or 0)


def test_every_streamer_metric_named_is_served_and_answers():
    served = {n for n, _ in samples(metrics()[1])}
    with open(DASHBOARD) as f:
        dash = json.load(f)
    with open(RULES) as f:
        rules = yaml.safe_load(f)
    exprs = [(r.get("alert") or r.get("record"), str(r["expr"])) for g in rules["groups"] for r in g["rules"]]
    dash_exprs = [(f"panel {p['title']!r}", t["expr"].replace("$streamer", ".*").replace("$instance", ".*"))
                  for p in dash["panels"] for t in p["targets"]]
    named = set()
    for where, expr in exprs + dash_exprs:
        mine = {n for n in metric_names(expr) if STREAMER_SERIES.fullmatch(n)}
        # A histogram is served as _bucket, _sum and _count.
        missing = {n for n in mine if n not in served}
        check(not missing, f"{where}: {sorted(missing)} not served by radio-streamer")
        named |= mine
    check({"radio_streamer_on_air", "radio_streamer_last_publish_timestamp_seconds"} <= named, f"{named}")
    for where, expr in dash_exprs:
        if any(STREAMER_SERIES.fullmatch(n) for n in metric_names(expr)):
            rt.wait_for(lambda: prom_api("query", query=expr)["result"], 60, f"{where}: {expr!r} answering")


def test_killed_streamer_fires_station_off_air():
    STREAMER_PROC.send_signal(signal.SIGKILL)
    STREAMER_PROC.wait()
    killed = time.time()
    fired = rt.wait_for(lambda: alerts("firing").get("RadioStationOffAir"), 60, "RadioStationOffAir firing",
                        diagnose=lambda: json.dumps(prom_api("alerts")))
    took = time.time() - killed
    check(fired["labels"]["severity"] == "critical", f"{fired}")
    down = rt.wait_for(lambda: alerts("firing").get("RadioStreamerDown"), 30, "RadioStreamerDown firing",
                       diagnose=lambda: json.dumps(prom_api("alerts")))
    check(down["labels"]["instance"] == f"127.0.0.1:{STREAMER_PORT}", f"{down}")
    print(f"     RadioStationOffAir firing {took:.1f} s after kill -9 (for: {SHORT_FOR}, scrape/eval 1 s)")
    rc, out = status_cmd()
    check(rc == 1 and "OFF AIR" in out, f"--status after kill -9 exited {rc}:\n{out}")


def cleanup():
    rt.stop_all(procs, 30)
    if MONITOR:
        MONITOR.stop()


rt.run_tests(globals(), work, chain=True, cleanup=cleanup)
