"""The operator's files in deploy/: Prometheus' scrape configuration, the
alerting and recording rules and the Grafana dashboard. promtool checks
them and runs the rules' unit tests; every metric they name must be one
the built radio-healthmon serves at /metrics (read from a real answer,
healthmon listening to a loopback station); the rules' copies of the
programs' settings must be the programs' defaults; and a real Prometheus
(Debian's) scrapes a running radio-healthmon, loads the rules, answers
every dashboard query, and raises the alerts when the station fails.
Needs no IPFS node: the station is served from memory. radio-streamer's
own metrics (radio_streamer_*, process_start_time_seconds) are checked the
same way against a running streamer by test_prometheus_streamer.

    test_prometheus_rules.py RADIO_HEALTHMON RADIO_STREAMER SOURCE_DIR
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(__file__))
import healthmon_fakes as hf  # noqa: E402
import radiotest as rt  # noqa: E402
from promql_names import metric_names  # noqa: E402

HEALTHMON, STREAMER, SOURCE = sys.argv[1:4]
PROM_DIR = os.path.join(SOURCE, "deploy", "prometheus")
RULES = os.path.join(PROM_DIR, "radio-rules.yml")
RULES_TEST = os.path.join(PROM_DIR, "radio-rules.test.yml")
CONFIG = os.path.join(PROM_DIR, "prometheus.yml")
DASHBOARD = os.path.join(SOURCE, "deploy", "grafana", "radio-dashboard.json")
JOB = "radio-healthmon"
work = tempfile.mkdtemp(prefix="radio-prometheus-")
check = rt.check

PROMTOOL, PROMETHEUS = shutil.which("promtool"), shutil.which("prometheus")
if not PROMTOOL or not PROMETHEUS:
    sys.exit("promtool and prometheus are missing: tools/install-deps.sh installs Debian's prometheus")

with open(RULES) as f:
    RULE_DOC = yaml.safe_load(f)
with open(DASHBOARD) as f:
    DASH = json.load(f)
ALL_RULES = [r for g in RULE_DOC["groups"] for r in g["rules"]]
ALERTS = [r["alert"] for r in ALL_RULES if "alert" in r]
RECORDS = {r["record"] for r in ALL_RULES if "record" in r}

# The streamer's series: test_prometheus_streamer checks them against a
# running radio-streamer on a real node.
STREAMER_SERIES = re.compile(r"radio_streamer_\w+|process_start_time_seconds")

# Prometheus' own series, which the rules and the dashboard may name.
PROMETHEUS_SERIES = {"up", "ALERTS"}
def promtool(*args):
    p = subprocess.run([PROMTOOL, *args], capture_output=True, text=True, cwd=PROM_DIR)
    check(p.returncode == 0, f"promtool {' '.join(args)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p.stdout


def dashboard_exprs():
    """(where, expr) of every query in the dashboard: panel targets,
    annotations and template variables, with the variables set to all."""
    out = []
    for p in DASH["panels"]:
        for t in p["targets"]:
            out.append((f"panel {p['title']!r} {t['refId']}", t["expr"]))
    for a in DASH["annotations"]["list"]:
        out.append((f"annotation {a['name']!r}", a["expr"]))
    for v in DASH["templating"]["list"]:
        if v["type"] == "query":
            m = re.fullmatch(r"label_values\((\w+),\s*\w+\)", v["definition"])
            check(m, f"variable {v['name']}: {v['definition']}")
            out.append((f"variable {v['name']}", m.group(1)))
    return [(w, e.replace("$instance", ".*").replace("$streamer", ".*")) for w, e in out]


def rule_exprs():
    return [(r.get("alert") or r.get("record"), str(r["expr"])) for r in ALL_RULES]


# --- the station healthmon listens to, and what it serves -----------------

TRACK = hf.make_track(work, "t", hf.music_source(220, -20, 12), 12, 2)
BLOCKS, SEGS = {}, []
for path, dur in TRACK:
    with open(path, "rb") as f:
        data = f.read()
    BLOCKS[hf.raw_cid(data)] = data
    SEGS.append((hf.raw_cid(data), dur, 0))
STATION = hf.Station(SEGS, epoch=time.time() - 60, window=4)
GW = hf.Gateway(playlist=lambda: STATION.playlist(time.time()), blocks=BLOCKS)
STATE = os.path.join(work, "state")
os.makedirs(STATE)


def write_streamer_status(takeovers):
    """What radio-streamer writes on air in a failover pair (the fields
    healthmon reads; docs/streamer.md, Standby)."""
    path = os.path.join(STATE, "status.json")
    rt.write_json(path + ".tmp", {
        "on_air": True, "failover": {"role": "active", "takeovers": takeovers, "stepbacks": 1}})
    os.replace(path + ".tmp", path)  # healthmon never reads half a file


write_streamer_status(2)
# true_peak on and a public gateway that refuses connections: every metric
# healthmon has appears, problems_total among them. One round a second:
# the rules' durations are not what this test waits for.
MONITOR = hf.Monitor(HEALTHMON, hf.write_config(
    os.path.join(work, "healthmon.json"), ipns_name="s", local_gateway=GW.url,
    public_gateways=[hf.refused_url()], state_dir=STATE, true_peak=True, interval_seconds=1), work)
procs = []


def served_names():
    MONITOR.wait_round(1)
    status, _, text = MONITOR.get("/metrics")
    check(status == 200, f"/metrics answered {status}")
    names = set()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            names.add(re.match(r"[A-Za-z_:][\w:]*", line).group(0))
    return names


try:
    SERVED = served_names()
except BaseException:
    MONITOR.stop()
    GW.close()
    raise


def test_promtool_checks_rules_and_config():
    out = promtool("check", "rules", RULES)
    check(f"{len(ALL_RULES)} rules found" in out, out)
    out = promtool("check", "config", CONFIG)
    check("SUCCESS" in out and "radio-rules.yml" in out, out)


def test_promtool_unit_tests_pass():
    out = promtool("test", "rules", RULES_TEST)
    check("SUCCESS" in out, out)


def test_every_alert_has_a_firing_and_a_silent_case():
    with open(RULES_TEST) as f:
        cases = [c for t in yaml.safe_load(f)["tests"] for c in t.get("alert_rule_test", [])]
    for alert in ALERTS:
        mine = [c for c in cases if c["alertname"] == alert]
        check(any(c.get("exp_alerts") for c in mine), f"{alert}: no case in which it fires")
        check(any(not c.get("exp_alerts") for c in mine), f"{alert}: no case in which it must stay quiet")
    for c in cases:
        check(c["alertname"] in ALERTS, f"the tests expect an alert {c['alertname']} the rules do not have")


def test_every_metric_named_is_served_by_healthmon():
    check({"radio_healthmon_status", "radio_healthmon_gateway_up", "radio_healthmon_problems_total"} <= SERVED,
          f"/metrics lacks what it always serves: {sorted(SERVED)}")
    known = SERVED | RECORDS | PROMETHEUS_SERIES
    used = set()
    for where, expr in rule_exprs() + dashboard_exprs():
        names = metric_names(expr)
        check(names or re.fullmatch(r"vector\(-?[\d.]+\)", expr), f"{where}: no series found in {expr!r}")
        unknown = {n for n in names - known if not STREAMER_SERIES.fullmatch(n)}
        check(not unknown, f"{where}: {sorted(unknown)} in {expr!r} is not served by radio-healthmon "
                           f"(it serves {sorted(SERVED)}) nor recorded by the rules")
        used |= names
    # The other way round: a recording rule nobody reads is a leftover.
    unread = RECORDS - used
    check(not unread, f"recorded but never read: {sorted(unread)}")


def test_name_finder_finds_a_misspelt_name():
    """The check above is only as good as metric_names()."""
    check(metric_names('sum without (gateway) (radio_healthmon_gateway_upp{role="local"}) > on () '
                       'group_left () radio:x') == {"radio_healthmon_gateway_upp", "radio:x"}, "names")
    check(metric_names('10 ^ (increase(radio_healthmon_a_total[5m]) / 10) or vector(0)')
          == {"radio_healthmon_a_total"}, "names in functions")


def config_defaults(binary):
    """{key: default} from a program's --print-config-reference."""
    out = subprocess.run([binary, "--print-config-reference"], capture_output=True, text=True,
                         check=True).stdout
    return {m.group(1): m.group(2) for m in re.finditer(r"^\| `(\w+)` \| \w+ \| `([^`]*)` \|", out, re.M)}


def test_rules_settings_are_the_programs_defaults():
    streamer, healthmon = config_defaults(STREAMER), config_defaults(HEALTHMON)
    expected = {"radio:listen_delay_seconds": streamer["listen_delay_seconds"],
                "radio:silence_hold_seconds": healthmon["silence_hold_seconds"],
                "radio:loudness_target_lufs": healthmon["loudness_target_lufs"],
                "radio:loudness_tolerance_lu": healthmon["loudness_tolerance_lu"]}
    config = [r for g in RULE_DOC["groups"] if g["name"] == "radio-config" for r in g["rules"]]
    check({r["record"] for r in config} == set(expected), f"radio-config records {config}")
    for r in config:
        m = re.fullmatch(r"vector\((-?[\d.]+)\)", str(r["expr"]))
        check(m and float(m.group(1)) == float(expected[r["record"]]),
              f"{r['record']} is {r['expr']}, the program's default is {expected[r['record']]}")


def test_dashboard_is_grafana_json_on_the_datasource_variable():
    ids = [p["id"] for p in DASH["panels"]]
    check(len(ids) == len(set(ids)), f"panel ids repeat: {ids}")
    names = [v["name"] for v in DASH["templating"]["list"]]
    check("datasource" in names, f"no datasource variable: {names}")
    for p in DASH["panels"]:
        check(p["targets"], f"panel {p['title']!r} has no query")
        for t in [p] + p["targets"]:
            check(t["datasource"] == {"type": "prometheus", "uid": "${datasource}"},
                  f"panel {p['title']!r}: datasource {t['datasource']}")


# --- a real Prometheus scraping healthmon ----------------------------------

PROM_URL = None


def api(path, **params):
    url = f"{PROM_URL}/api/v1/{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
    with urllib.request.urlopen(url, timeout=10) as r:
        doc = json.loads(r.read())
    check(doc["status"] == "success", f"{path}: {doc}")
    return doc["data"]


def prometheus_log():
    return rt.file_tail(os.path.join(work, "prometheus.log"))


def alerts(state):
    return {a["labels"]["alertname"]: a for a in api("alerts")["alerts"] if a["state"] == state}


def test_prometheus_scrapes_healthmon_and_loads_the_rules():
    global PROM_URL
    with open(CONFIG) as f:
        cfg = yaml.safe_load(f)
    # The shipped file, pointed at this healthmon, with the rules by full
    # path, scraping and evaluating every second so the test is short.
    cfg["global"].update(scrape_interval="1s", evaluation_interval="1s")
    cfg["rule_files"] = [RULES]
    # healthmon only: the streamer's job is test_prometheus_streamer's.
    cfg["scrape_configs"] = [j for j in cfg["scrape_configs"] if j["job_name"] == JOB]
    job = cfg["scrape_configs"][0]
    job["static_configs"][0]["targets"] = [f"127.0.0.1:{MONITOR.port}"]
    path = os.path.join(work, "prometheus.yml")
    with open(path, "w") as f:
        yaml.safe_dump(cfg, f)
    port = rt.free_port()
    PROM_URL = f"http://127.0.0.1:{port}"
    rt.spawn(procs, [PROMETHEUS, f"--config.file={path}", f"--storage.tsdb.path={work}/tsdb",
                     f"--web.listen-address=127.0.0.1:{port}"], os.path.join(work, "prometheus.log"))
    rt.wait_for(lambda: urllib.request.urlopen(f"{PROM_URL}/-/ready", timeout=5).status == 200, 120,
                "Prometheus ready", diagnose=prometheus_log)
    station = job["static_configs"][0]["labels"]["station"]
    series = rt.wait_for(lambda: api("query", query="radio_healthmon_status")["result"], 60,
                         "healthmon's status in Prometheus", diagnose=prometheus_log)
    check(series[0]["metric"] == {"__name__": "radio_healthmon_status", "job": JOB, "station": station,
                                  "instance": f"127.0.0.1:{MONITOR.port}"}, f"{series}")

    def evaluated():
        groups = api("rules")["groups"]
        rules = [r for g in groups for r in g["rules"]]
        return groups if len(rules) == len(ALL_RULES) and all(r["health"] == "ok" for r in rules) else None
    groups = rt.wait_for(evaluated, 60, "every rule evaluated without error",
                         diagnose=lambda: json.dumps(api("rules"), indent=1)[-4000:])
    loaded = sorted(g["name"] for g in groups)
    check(loaded == sorted(g["name"] for g in RULE_DOC["groups"]), f"groups loaded: {loaded}")


def takeover_annotation():
    return next(a["expr"] for a in DASH["annotations"]["list"] if a["name"] == "Takeovers").replace(
        "$instance", ".*")


def test_every_dashboard_query_answers_with_healthmon_series():
    for where, expr in dashboard_exprs():
        if any(STREAMER_SERIES.fullmatch(n) for n in metric_names(expr)):
            continue
        if expr == takeover_annotation():
            # Takeovers only, which the next test makes: it must parse.
            api("query", query=expr)
            continue
        # Rates and increases answer from the second scrape of a counter.
        rt.wait_for(lambda: api("query", query=expr)["result"], 60, f"{where}: {expr!r} answering")


def test_alerts_follow_the_station():
    # Healthy local gateway: no station alert; the refused public gateway
    # is degraded, waiting out its half hour.
    check(not {"RadioStationDown", "RadioStreamerTakeover", "RadioHealthmonDown"} & set(alerts("firing"))
          and "RadioStationDown" not in alerts("pending"), f"{api('alerts')}")
    rt.wait_for(lambda: "RadioGatewayDegraded" in alerts("pending"), 30, "RadioGatewayDegraded pending")
    # A takeover in the streamer's status: the alert fires at once.
    write_streamer_status(3)
    fired = rt.wait_for(lambda: alerts("firing").get("RadioStreamerTakeover"), 60, "RadioStreamerTakeover",
                        diagnose=lambda: json.dumps(api("alerts")))
    check(fired["labels"]["severity"] == "warning", f"{fired}")
    rt.wait_for(lambda: api("query", query=takeover_annotation())["result"], 60,
                "the dashboard's takeover annotation")
    # The station's own gateway fails: down, pending its minute.
    GW.playlist_status = 502
    down = rt.wait_for(lambda: alerts("pending").get("RadioStationDown"), 60, "RadioStationDown pending",
                       diagnose=lambda: json.dumps(api("alerts")))
    check(down["labels"]["role"] == "local" and down["labels"]["severity"] == "critical", f"{down}")


def cleanup():
    rt.stop_all(procs, 30)
    MONITOR.stop()
    GW.close()


rt.run_tests(globals(), work, cleanup=cleanup)
