"""Two streamers, one station: the same station key and processed/, each
beside its own Kubo node, both putting every record to both nodes
(failover_role active on one, standby on the other). Validators read the
name through both nodes' gateways four times a second and check every new
playlist (hls_rules: hls-parser strict, and the cross-publish rules), and
read both nodes' records (no sequence number carries two values, none goes
back). Then, RADIO_FAILOVER_ROUNDS times (default 10) at random instants
(seeded; the seed is printed, RADIO_FAILOVER_SEED repeats a run): the
streamer on air is killed with SIGKILL, the other must take over within
the takeover time plus FAILOVER_SLACK, listeners must never be further
than three target durations from the live edge, and the killed one,
restarted, must stay standby while the other stays on air. Then the one on
air is killed and restarted at once: exactly one may publish. Last, the
standby's own node is stopped: it must not take over. Prints the takeover
times for the README."""
import base64
import json
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import radiotest as rt  # noqa: E402
import hls_rules  # noqa: E402

SETUP, STREAMER = sys.argv[1], sys.argv[2]
SEG = 2.0
TARGETS_TO_TAKE_OVER = 2             # the default failover_takeover_seconds: two target durations
TAKEOVER = TARGETS_TO_TAKE_OVER * SEG
# Beyond the takeover time: one poll of the record (0.5 s), one publish, the
# gateway's record TTL (1 s) and one read of ours (0.25 s).
FAILOVER_SLACK = 2.0
ROUNDS = int(os.environ.get("RADIO_FAILOVER_ROUNDS", "10"))
# A listener in chromium (tests/browser/listen.mjs) on the listener page through gateway a, for
# about as long as the rounds take; RADIO_FAILOVER_BROWSER=0 leaves it out of a quick run.
BROWSER = os.environ.get("RADIO_FAILOVER_BROWSER", "1") != "0"
LISTEN = 17 * ROUNDS + 20
MAX_STALL_MS = 2000                  # the media element may stand still this long, across every takeover
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEED = int(os.environ.get("RADIO_FAILOVER_SEED", str(int.from_bytes(os.urandom(4), "big"))))
rng = random.Random(SEED)

work = tempfile.mkdtemp(prefix="radio-failover-")
music = os.path.join(work, "music")
processed = os.path.join(work, "processed")
key_file = os.path.join(work, "key", "station.key")
os.makedirs(music)
os.makedirs(os.path.join(work, "no-jingles"))
check = rt.check
procs = []
nodes = {"a": rt.Node(os.path.join(work, "node-a"), "a"), "b": rt.Node(os.path.join(work, "node-b"), "b")}
ROLES = {"a": "active", "b": "standby"}


def state(label):
    return os.path.join(work, f"state-{label}")


def log(label):
    return os.path.join(work, f"streamer-{label}.log")


def config(label):
    me, other = nodes[label], nodes["b" if label == "a" else "a"]
    return rt.write_streamer_config(os.path.join(work, f"streamer-{label}.json"), processed, state(label), me.api,
                                    me.gateway, ipns_mode="station", station_key_file=key_file,
                                    ipns_kubo_targets=[me.api, other.api], ipns_target_timeout_seconds=3,
                                    failover_role=ROLES[label], window_segments=8, reload_check_seconds=1)


def start(label):
    return rt.spawn(procs, [STREAMER, "--config", config(label)], log(label))


def status(label):
    return rt.read_status(state(label))


def role(label):
    return status(label).get("failover", {}).get("role")


def diagnose():
    return "\n".join(f"--- {k}: {json.dumps(status(k))[:1500]}\n{rt.file_tail(log(k), 2500)}" for k in nodes)


def wait_for(pred, timeout, what):
    return rt.wait_for(pred, timeout, what, ignore=(OSError, KeyError, TypeError), diagnose=diagnose)


def varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return v, i


def record_fields(rec):
    """value and sequence of an IpnsEntry protobuf (fields 1 and 5)."""
    out, i = {}, 0
    while i < len(rec):
        key, i = varint(rec, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            v, i = varint(rec, i)
        elif wire == 2:
            n, i = varint(rec, i)
            v, i = rec[i:i + n], i + n
        elif wire == 1:
            v, i = rec[i:i + 8], i + 8
        elif wire == 5:
            v, i = rec[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wire}")
        out[field] = v
    return out[1].decode(), out[5]


class Watcher(threading.Thread):
    """A listener's view through one node's gateway, and that node's record."""

    def __init__(self, label, name):
        super().__init__(daemon=True)
        self.node, self.name = nodes[label], name
        self.rules = hls_rules.Rules(strict=False)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.last_text = None
        self.newest = -1                 # newest sequence served
        self.newest_at = None            # when it was first served (time.time())
        self.stale = 0.0                 # longest time past the newest listed segment's end
        self.values = {}                 # record sequence -> value
        self.record_seq = 0
        self.record_errors = []

    def poll_record(self):
        out = rt.rpc(self.node.api, "routing/get", arg=f"/ipns/{self.name}")
        for line in out.splitlines():
            j = json.loads(line)
            if j.get("Extra"):
                value, seq = record_fields(base64.b64decode(j["Extra"]))
                if self.values.setdefault(seq, value) != value:
                    self.record_errors.append(f"sequence {seq} carries {self.values[seq]} and {value}")
                if seq < self.record_seq:
                    self.record_errors.append(f"node {self.node.label}: record sequence {self.record_seq} -> {seq}")
                self.record_seq = max(self.record_seq, seq)

    def run(self):
        end = None
        while not self.stop.is_set():
            try:
                with urllib.request.urlopen(f"{self.node.gateway}/ipns/{self.name}", timeout=5) as r:
                    text = r.read().decode()
            except OSError:
                text = None
            now = time.time()
            if text and text != self.last_text:
                self.last_text = text
                pl = self.rules.check(text)
                if pl["segs"]:
                    last = pl["segs"][-1]
                    with self.lock:
                        if last["seq"] > self.newest:
                            self.newest, self.newest_at = last["seq"], now
                    end = pdt_seconds(last["pdt"]) + last["dur"]
            if end is not None:
                self.stale = max(self.stale, now - end)
            try:
                self.poll_record()
            except (OSError, ValueError, KeyError, IndexError):
                pass
            self.stop.wait(0.25)

    def newest_after(self, seq):
        with self.lock:
            return self.newest_at if self.newest > seq else None


def judge_listener(out):
    with open(out) as f:
        record = json.load(f)
    check(record["codecs"]["aac"], "chromium cannot decode AAC in MP4 (MediaSource)")
    check(not record.get("driverError"), f"browser driver: {record.get('driverError')}")
    (first,) = record["listeners"]
    check(first["pageStatus"] == 200, f"page served as {first['pageStatus']}")
    samples = [x for x in first["samples"] if "driverError" not in x]
    check(len(samples) >= 0.8 * LISTEN, f"only {len(samples)} samples of the listener")
    check(not [f for x in samples for f in x["fatal"]], "the listener hit a fatal hls.js error")
    sns = [f["sn"] for f in first["frags"]]
    check(sns and all(b == a + 1 for a, b in zip(sns, sns[1:])), f"the listener's fragments: {sns}")
    stall = rt.longest_stall_ms(first["observed"])
    check(stall <= MAX_STALL_MS, f"playback stood still for {stall} ms")
    return stall, len(sns)


def pdt_seconds(text):
    t = time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")
    return time.mktime(t) - time.timezone + float("0" + text[19:-1])


def one_timeline(watchers, n):
    """The running order of n segments, looped, from one anchor, whoever
    was on air: segment s and s + n have the same URI, and their date-times
    and discontinuity numbers differ by the same amounts for every s. A
    takeover that restarted the order, or shifted it, breaks this."""
    seen = {}
    for w in watchers:
        seen.update(w.rules.seen)
    pairs = [(seen[q], seen[q + n]) for q in sorted(seen) if q + n in seen]
    check(len(pairs) >= n, f"only {len(pairs)} segments seen a loop apart")
    loops = {round(pdt_seconds(b[2]) - pdt_seconds(a[2]), 3) for a, b in pairs}
    tags = {b[1] - a[1] for a, b in pairs}
    check(all(a[0] == b[0] for a, b in pairs), "a segment a loop later has another URI: the order was shifted")
    check(len(tags) == 1, f"discontinuities per loop differ: {tags}")
    check(max(loops) - min(loops) <= 0.002, f"loop lengths differ: {sorted(loops)[:3]} .. {sorted(loops)[-3:]}")


def one_on_air(when):
    """Exactly one streamer on air, and only that one publishing."""
    roles = {k: role(k) for k in nodes}
    on = [k for k in nodes if roles[k] == "active"]
    check(len(on) == 1, f"{when}: roles {roles}")
    off = "b" if on[0] == "a" else "a"
    before = {k: status(k)["counts"]["publishes"] for k in nodes}
    time.sleep(3 * SEG)
    after = {k: status(k)["counts"]["publishes"] for k in nodes}
    check(after[on[0]] > before[on[0]] and after[off] == before[off] and role(off) == "standby",
          f"{when}: publishes {before} -> {after}, roles {roles} -> {role(on[0])}, {role(off)}")
    return on[0]


def main():
    print(f"failover: seed {SEED} (RADIO_FAILOVER_SEED={SEED} repeats this run), {ROUNDS} rounds", flush=True)
    watchers, takeovers, kills = [], [], []
    try:
        if BROWSER:
            for installer in (os.path.join(ROOT, "web", "vendor", "install.sh"),
                              os.path.join(ROOT, "tests", "browser", "install.sh")):
                rt.run([installer])
        for n in nodes.values():
            n.start()
        rt.tagged_songs(music, [(220, 11), (330, 9), (440, 13)])
        rt.run_setup(SETUP, work, music, processed_dir=processed, jingles_dir=os.path.join(work, "no-jingles"),
                     ipfs_api=nodes["a"].api, segment_seconds=SEG, progress="lines",
                     **({"page_dir": os.path.join(ROOT, "web")} if BROWSER else {}))
        name = rt.run([STREAMER, "--config", config("a"), "key", "name"]).stdout.split()[0]
        live = {"a": start("a")}
        wait_for(lambda: status("a")["on_air"] and role("a") == "active", 60, "streamer a on air")
        live["b"] = start("b")
        wait_for(lambda: role("b") == "standby" and status("b")["failover"]["record_foreign"], 60,
                 "streamer b standing by, following a's records")
        watchers = [Watcher(k, name) for k in nodes]
        for w in watchers:
            w.start()
        wait_for(lambda: all(w.newest >= 0 for w in watchers), 60, "both gateways serving the station")
        driver = None
        if BROWSER:
            with open(os.path.join(processed, "page.json")) as f:
                page = json.load(f)["cid"]
            # hls.js starts three segments behind the live edge: a window that long first.
            wait_for(lambda: status("a")["newest_sequence"] >= 5, 60, "a window longer than the player's distance")
            listened = os.path.join(work, "listen.json")
            driver = rt.spawn(procs, ["node", os.path.join(ROOT, "tests", "browser", "listen.mjs"),
                                      f"{nodes['a'].gateway}/ipfs/{page}/?name={name}", str(LISTEN), "-1",
                                      listened], os.path.join(work, "listen.log"))
            listen_end = time.time() + LISTEN
            time.sleep(10)   # the page loaded and playing before the first kill

        for r in range(ROUNDS):
            on = [k for k in nodes if role(k) == "active"]
            check(len(on) == 1, f"round {r}: on air: {on}")
            victim, heir = on[0], "b" if on[0] == "a" else "a"
            check(role(heir) == "standby", f"round {r}: {heir} is {role(heir)}")
            time.sleep(rng.uniform(1.0, 4 * SEG))   # anywhere in a track, at any point of a segment
            live[victim].send_signal(signal.SIGKILL)
            killed = time.time()
            kills.append(killed)
            live[victim].wait()
            # Its last playlist may still reach a gateway after the kill: the heir's first one is
            # beyond anything the victim had built (its status is written after each playlist).
            served = max([w.newest for w in watchers] + [status(victim)["newest_sequence"]])
            seen = wait_for(lambda: min(filter(None, (w.newest_after(served) for w in watchers)), default=None),
                            TAKEOVER + FAILOVER_SLACK + 30, f"round {r}: {heir}'s first playlist")
            took = seen - killed
            takeovers.append(took)
            print(f"round {r}: killed {victim}, {heir} on air after {took:.2f} s", flush=True)
            check(took <= TAKEOVER + FAILOVER_SLACK,
                  f"round {r}: the takeover took {took:.2f} s, over {TAKEOVER + FAILOVER_SLACK} s\n{diagnose()}")
            check(role(heir) == "active", f"round {r}: {heir} is {role(heir)}")
            # The killed streamer comes back: it must see the other's records and stand by.
            live[victim] = start(victim)
            wait_for(lambda: role(victim) == "standby" and status(victim)["failover"]["record_foreign"], 60,
                     f"round {r}: the restarted {victim} standing by")
            before = status(heir)["counts"]["publishes"]
            time.sleep(3 * SEG)
            check(role(heir) == "active" and role(victim) == "standby",
                  f"round {r}: after {victim}'s return: {heir} {role(heir)}, {victim} {role(victim)}")
            check(status(victim)["counts"]["publishes"] == 0,
                  f"round {r}: the restarted {victim} published: {status(victim)['counts']}")
            check(status(heir)["counts"]["publishes"] > before, f"round {r}: {heir} stopped publishing")

        listener = ""
        if driver:
            check(driver.wait(timeout=LISTEN + 120) == 0, f"listen.mjs failed: {rt.file_tail(os.path.join(work, 'listen.log'))}")
            stall, frags = judge_listener(listened)
            heard = sum(k < listen_end - 2 * TAKEOVER for k in kills)
            check(heard >= min(ROUNDS, 5), f"only {heard} takeovers while chromium listened")
            listener = f"; chromium played {frags} fragments in a row across {heard} takeovers, longest stall {stall} ms"
        # The streamer on air killed and restarted at once, as a service manager would: whichever
        # of the two ends up on air, exactly one publishes.
        on = [k for k in nodes if role(k) == "active"][0]
        live[on].send_signal(signal.SIGKILL)
        live[on].wait()
        live[on] = start(on)
        time.sleep(3 * TAKEOVER)
        print(f"{on} killed and restarted at once: {one_on_air(f'after {on} was restarted at once')} on air",
              flush=True)

        # Listeners' distance from the live edge across the takeovers (not across the outage below).
        stale = {w.node.label: w.stale for w in watchers}

        # The standby's own node stops answering: it cannot tell a stopped record from a silent
        # node, so it must not go on air (two streamers would flap).
        on = [k for k in nodes if role(k) == "active"]
        check(len(on) == 1, f"on air: {on}")
        spare = "b" if on[0] == "a" else "a"
        nodes[spare].stop()
        time.sleep(3 * TAKEOVER)
        check(role(spare) == "standby" and status(spare)["failover"]["error"],
              f"{spare}, its node stopped: {status(spare).get('failover')}")
        check(role(on[0]) == "active", f"{on[0]} is {role(on[0])}")
        nodes[spare].start()
        wait_for(lambda: not status(spare)["failover"]["error"] and status(spare)["failover"]["record_foreign"], 60,
                 f"{spare} following the records again once its node answers")
        check(role(spare) == "standby" and role(on[0]) == "active", "roles after the node's return")

        for w in watchers:
            w.stop.set()
            w.join(10)
            check(not w.rules.violations, f"gateway {w.node.label}: {w.rules.violations[:5]}")
            check(not w.record_errors, f"node {w.node.label}: {w.record_errors[:5]}")
            check(w.rules.checked >= 3 * ROUNDS, f"gateway {w.node.label}: only {w.rules.checked} playlists")
            check(stale[w.node.label] < 3 * SEG,
                  f"gateway {w.node.label}: {stale[w.node.label]:.2f} s past the newest listed segment")
        one_timeline(watchers, status("a")["running_order"]["segments"])
        s = sorted(takeovers)
        print(f"failover: {len(s)} takeovers, kill -9 to the next playlist at a gateway: min {s[0]:.2f} s, "
              f"median {statistics.median(s):.2f} s, max {s[-1]:.2f} s; listeners at most "
              f"{max(stale.values()):.2f} s past the newest listed segment's end; "
              f"{sum(w.rules.checked for w in watchers)} playlists checked, no violation{listener}", flush=True)
    finally:
        for w in watchers:
            w.stop.set()
        rt.stop_all(procs, 20)
        for n in nodes.values():
            n.stop()
        if not os.environ.get("RADIO_KEEP_WORK"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
