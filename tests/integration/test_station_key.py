"""Station mode against real nodes: the streamer signs the station's IPNS
records itself and puts them to two Kubo nodes (routing/put) and a Delegated
Routing endpoint (tests/js/ipns-routing-server.mjs, which validates every
record with the independent `ipns` npm package). The name resolves to the
current playlist through both nodes' RPC and gateways; one node stopped and
wiped mid-run gets records again with a higher sequence; a restart never
reuses a sequence; a tampered record is refused by Kubo's validator and
leaves the genuine one in place; the key moved into Kubo with key/import,
or into another station's state, keeps the name."""
import base64
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import radiotest as rt  # noqa: E402

SETUP, STREAMER, RECORD_TOOL = sys.argv[1], sys.argv[2], sys.argv[3]
HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
JS = os.path.join(TESTS, "js")
SEG = 2.0

work = tempfile.mkdtemp(prefix="radio-station-key-")
music = os.path.join(work, "music")
processed = os.path.join(work, "processed")
state = os.path.join(work, "state")
os.makedirs(music)
procs = []
check = rt.check


node_a, node_b = rt.Node(os.path.join(work, "node-a"), "a"), rt.Node(os.path.join(work, "node-b"), "b")


def js(script, *args, check_rc=True):
    p = subprocess.run(["node", os.path.join(JS, script), *args], capture_output=True)
    if check_rc and p.returncode != 0:
        raise AssertionError(f"{script} {' '.join(args)}: {p.stderr.decode(errors='replace')}")
    return p


def start_routing_server():
    portfile = os.path.join(work, "routing-url")
    p = subprocess.Popen(["node", os.path.join(JS, "ipns-routing-server.mjs"), portfile],
                         stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "routing.log"), "a"))
    procs.append(p)
    deadline = time.time() + 30
    while time.time() < deadline and not os.path.exists(portfile):
        time.sleep(0.1)
    with open(portfile) as f:
        return f.read().strip()


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read()


def make_library():
    for i, (f, secs) in enumerate([(220, 5), (330, 4), (440, 6)]):
        rt.ffmpeg("-f", "lavfi", "-i", f"sine=f={f}:d={secs}", "-metadata", f"artist=A{i}",
                  "-metadata", f"title=S{i}", "-c:a", "flac", os.path.join(music, f"{i:02d}.flac"))
    jingles = os.path.join(work, "no-jingles")
    os.makedirs(jingles)
    rt.run_setup(SETUP, work, music, processed_dir=processed, jingles_dir=jingles, ipfs_api=node_a.api,
                 segment_seconds=SEG, progress="lines")


def config(state_dir=state, **over):
    return rt.write_streamer_config(os.path.join(work, f"streamer-{os.path.basename(state_dir)}.json"),
                                    processed, state_dir, node_a.api, node_a.gateway,
                                    ipns_mode="station", ipns_kubo_targets=[node_a.api, node_b.api],
                                    ipns_routing_targets=[routing, node_b.gateway], ipns_target_timeout_seconds=3,
                                    window_segments=4, reload_check_seconds=0.5, **over)


def key_cmd(*args, state_dir=state):
    return rt.run([STREAMER, "--config", config(state_dir), "key", *args])


def start_streamer():
    return rt.spawn(procs, [STREAMER, "--config", config()], os.path.join(work, "streamer.log"))


def status():
    return rt.read_status(state)


def target(url):
    for t in status().get("ipns_targets", []):
        if t["url"] == url:
            return t
    return {}


def wait_for(pred, timeout, what):
    return rt.wait_for(pred, timeout, what, ignore=(OSError, KeyError),
                       diagnose=lambda: f"status: {json.dumps(status())[:3000]}\n"
                                        f"streamer log:\n{rt.file_tail(os.path.join(work, 'streamer.log'))}")


def resolve(node, name):
    return json.loads(rt.rpc(node.api, "name/resolve", arg=name))["Path"]


def node_record(node, name):
    """The record a node holds for the name, as its routing/get returns it."""
    out = rt.rpc(node.api, "routing/get", arg=f"/ipns/{name}")
    for line in out.splitlines():
        j = json.loads(line)
        if j.get("Extra"):
            return base64.b64decode(j["Extra"])
    raise AssertionError(f"no record in routing/get answer: {out[:300]}")


def put_record(node, name, path):
    """routing/put of a record file; (HTTP status, body)."""
    p = rt.run(["curl", "-s", "-m", "10", "-o", "-", "-w", "\n%{http_code}", "-X", "POST", "-F", f"file=@{path}",
                f"{node.api}/api/v0/routing/put?arg=/ipns/{name}&allow-offline=true"])
    body, _, code = p.stdout.rpartition("\n")
    return int(code), body


def target_ring(node):
    found = []
    for f in glob.glob(os.path.join(state, "target-playlists-*.json")):
        with open(f) as fh:
            d = json.load(fh)
        if d["url"] == node.api:
            found.append(d["playlists"])
    check(len(found) == 1, f"{len(found)} playlist lists for {node.api}")
    return found[0]


def pins(node):
    return set(json.loads(rt.rpc(node.api, "pin/ls", type="recursive", **{"cid-base": "base32"}))["Keys"])


def save(data, name):
    path = os.path.join(work, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def fields(path):
    return json.loads(js("ipns-check.mjs", "fields", path).stdout)


def test_key_and_name_agree_with_an_independent_implementation():
    out = key_cmd("name").stdout.split()
    key_file = os.path.join(state, "station.key")
    check(os.stat(key_file).st_mode & 0o777 == 0o600, "station.key must be 0600")
    theirs = js("ipns-check.mjs", "name", key_file).stdout.decode().split()
    check(out == theirs, f"name {out} but @libp2p/crypto derives {theirs}")
    check(out[0].startswith("k51") and out[1].startswith("12D3KooW"), out)
    check(key_cmd("name").stdout.split() == out, "a second run keeps the key")
    return out


def test_key_options_are_refused_outside_the_key_command():
    for opt in (["--force"], ["--format", "pem"]):
        p = rt.run([STREAMER, "--config", config(), "--check-config", *opt], check=False)
        check(p.returncode == 2 and opt[0] in p.stderr, f"{opt[0]} without `key`: {p.returncode} {p.stderr}")


def test_records_signed_here_match_the_ipns_package():
    key_file = os.path.join(state, "station.key")
    name = key_cmd("name").stdout.split()[0]
    for seq, value, ttl in [("0", "/ipfs/bafkqaaa", "0"),
                            ("9223372036854775807", "/ipns/" + name, "18446744073709551615"),
                            ("300", "/ipfs/bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku" + "/x" * 400,
                             "6000000000")]:
        ours = rt.run([RECORD_TOOL, key_file, value, seq, "2099-12-31T23:59:59.999000000Z", ttl], text=False).stdout
        path = save(ours, "tool.ipns")
        js("ipns-check.mjs", "validate", name, path)
        theirs = js("ipns-check.mjs", "remake", key_file, path).stdout
        check(ours == theirs, f"record for seq {seq} differs from the ipns package's")


def test_tampered_records_are_refused_by_the_independent_validator(good, name):
    path = save(good, "good.ipns")
    js("ipns-check.mjs", "validate", name, path)
    value = good.index(b"/ipfs/")
    data = good.rindex(b"/ipfs/")  # the value's copy inside the signed CBOR data
    sig2 = good.index(bytes([0x42, 0x40])) + 2
    for label, pos in [("value", value + 8), ("data", data + 8), ("signatureV2", sig2 + 5)]:
        bad = bytearray(good)
        bad[pos] ^= 0x01
        p = js("ipns-check.mjs", "validate", name, save(bytes(bad), f"bad-{label}.ipns"), check_rc=False)
        check(p.returncode == 1, f"a record with a flipped {label} byte was accepted")
    # Another key's valid record is not valid for this name.
    other = os.path.join(work, "other-state")
    key_cmd("name", state_dir=other)
    rec = rt.run([RECORD_TOOL, os.path.join(other, "station.key"), "/ipfs/bafkqaaa", "1",
                  "2099-12-31T23:59:59.999000000Z", "1"], text=False).stdout
    p = js("ipns-check.mjs", "validate", name, save(rec, "other.ipns"), check_rc=False)
    check(p.returncode == 1, "another key's record passed for this name")


def main():
    global routing
    try:
        node_a.start()
        node_b.start()
        routing = start_routing_server()
        make_library()
        name, _ = test_key_and_name_agree_with_an_independent_implementation()
        test_key_options_are_refused_outside_the_key_command()
        test_records_signed_here_match_the_ipns_package()

        # Publishing to all three targets at once.
        streamer = start_streamer()
        targets = [node_a.api, node_b.api, routing, node_b.gateway]
        wait_for(lambda: all(target(u).get("ok") and target(u)["sequence"] > 0 for u in targets), 90,
                 "every target to take a record")
        st = status()
        check(st["ipns_mode"] == "station" and st["ipns_name"] == name and st["on_air"], st)
        check(target(node_a.api)["method"] == "routing/put" and target(node_b.api)["method"] == "routing/put",
              f"Kubo takes records by routing/put: {target(node_a.api)} {target(node_b.api)}")
        check(target(routing)["method"] == "PUT /routing/v1/ipns", target(routing))
        # Kubo's gateway serves Delegated Routing too; before the first record it answers the
        # name with 200 and a text body, which is no record.
        check(target(node_b.gateway)["method"] == "PUT /routing/v1/ipns", target(node_b.gateway))
        first = [(msg, kv.get("detail")) for lvl, msg, kv in
                 rt.log_events(rt.file_tail(os.path.join(work, "streamer.log"), 10**6))
                 if kv.get("target") == node_b.gateway and "record" in msg]
        check(first == [("no current record from a target", "none held")],
              f"the start-up lookup misread Kubo's /routing/v1 answer for an unknown name: {first}")

        # The name resolves to the current playlist on both nodes.
        for node in (node_a, node_b):
            def current():
                cid = status()["last_publish"]["playlist_cid"]
                return resolve(node, name) == f"/ipfs/{cid}" and cid
            cid = wait_for(current, 30, f"node {node.label} to resolve to the current playlist")
            text = get(f"{node.gateway}/ipns/{name}").decode()
            check(text.startswith("#EXTM3U") and "#EXT-X-MEDIA-SEQUENCE:" in text, text[:200])
            check(get(f"{node.gateway}/ipfs/{cid}").decode().startswith("#EXTM3U"), "playlist by CID")
            rec = node_record(node, name)
            js("ipns-check.mjs", "validate", name, save(rec, f"node-{node.label}.ipns"))
            f = fields(os.path.join(work, f"node-{node.label}.ipns"))
            check(f["ttl"] == "1000000000", f"TTL in ns: {f}")

        # The routing endpoint validated what it holds; ours byte for byte with the ipns package.
        held = get(f"{routing}/routing/v1/ipns/{name}")
        path = save(held, "routing.ipns")
        check(js("ipns-check.mjs", "remake", os.path.join(state, "station.key"), path).stdout == held,
              "a published record differs from what the ipns package builds from the same fields")
        stats = json.loads(get(f"{routing}/stats"))
        check(stats["accepted"] >= 1 and stats["rejected"] == 0, stats)
        test_tampered_records_are_refused_by_the_independent_validator(held, name)

        # Forged records put to a node change nothing there. The streamer is stopped first, so
        # that nothing else can change what node b holds. Each forgery carries a sequence above
        # the genuine record's, so it would win if the node took it; the same record unforged
        # (the control) does win. Kubo answers routing/put with 200 either way: only what the
        # node holds afterwards tells.
        streamer.send_signal(signal.SIGTERM)
        check(streamer.wait(timeout=30) == 0, "clean stop")
        genuine = node_record(node_b, name)
        higher = str(int(fields(save(genuine, "genuine.ipns"))["sequence"]) + 1)
        control = rt.run([RECORD_TOOL, os.path.join(state, "station.key"), "/ipfs/bafkqaaa", higher,
                          "2099-12-31T23:59:59.999000000Z", "1000000000"], text=False).stdout
        for label, pos in [("signature", control.index(bytes([0x42, 0x40])) + 2 + 5),
                           ("signed data", control.rindex(b"/ipfs/") + 8)]:
            bad = bytearray(control)
            bad[pos] ^= 0x01
            put_record(node_b, name, save(bytes(bad), f"forged-{label.replace(' ', '-')}.ipns"))
            check(node_record(node_b, name) == genuine, f"node b took a record with a flipped {label} byte")
            check(json.loads(rt.rpc(node_b.api, "name/resolve", arg=name, nocache="true"))["Path"] ==
                  "/ipfs/" + status()["last_publish"]["playlist_cid"], f"node b resolves a forged {label}")
        put_record(node_b, name, save(control, "control.ipns"))
        check(node_record(node_b, name) == control, "node b did not take the unforged record of the same sequence")
        streamer = start_streamer()

        # Node b stopped and wiped mid-run: its target fails, then takes records again.
        seq_b = target(node_b.api)["sequence"]
        node_b.stop(wipe=True)
        wait_for(lambda: not target(node_b.api).get("ok") and target(node_b.api).get("error"), 30,
                 "node b's failure in the status")
        seq_a_meanwhile = wait_for(lambda: target(node_a.api)["sequence"] > seq_b and target(node_a.api)["sequence"],
                                   30, "node a to keep taking records while b is down")
        node_b.start()
        wait_for(lambda: target(node_b.api).get("ok") and target(node_b.api)["sequence"] >= seq_a_meanwhile, 60,
                 "the wiped node b to take records again")
        wait_for(lambda: resolve(node_b, name) == "/ipfs/" + status()["last_publish"]["playlist_cid"], 30,
                 "node b to resolve the current playlist again")
        rec = node_record(node_b, name)
        f = fields(save(rec, "node-b-after.ipns"))
        check(int(f["sequence"]) > seq_b, f"node b got sequence {f['sequence']} after {seq_b}")

        # A restart never reuses a sequence.
        with open(os.path.join(state, "ipns.json")) as fh:
            before = json.load(fh)["sequence"]
        streamer.send_signal(signal.SIGTERM)
        check(streamer.wait(timeout=30) == 0, "clean stop")
        # Node b's list of the playlists it was given outlives the run, so the next run trims them.
        left = target_ring(node_b)
        check(len(left) <= 5, f"node b holds {len(left)} playlists, keep_playlists is 5")
        pinned_before = set(left) & pins(node_b)
        check(pinned_before, f"none of {left} is pinned on node b")
        streamer = start_streamer()
        wait_for(lambda: target(routing).get("sequence", 0) > before, 60, "a record after the restart")
        wait_for(lambda: not (pinned_before - set(target_ring(node_b))) & pins(node_b), 60,
                 "the restarted streamer to delete the playlists the run before left on node b")
        check(key_cmd("name").stdout.split()[0] == name, "same name after restart")
        streamer.send_signal(signal.SIGTERM)
        check(streamer.wait(timeout=30) == 0, "clean stop")

        # The key moved: into a node with key/import, and into another station's state.
        exported = os.path.join(work, "moved.key")
        key_cmd("export", exported)
        check(os.stat(exported).st_mode & 0o777 == 0o600, "exported key must be 0600")
        got = json.loads(rt.run(["curl", "-sf", "-m", "10", "-X", "POST", "-F", f"file=@{exported}",
                                 f"{node_a.api}/api/v0/key/import?arg=moved-station"]).stdout)
        check(got["Id"] == name, f"Kubo's key/import of the export gave {got['Id']}, the station is {name}")
        pem = key_cmd("export", "-", "--format", "pem").stdout
        check(pem.startswith("-----BEGIN PRIVATE KEY-----"), pem[:40])
        pem_path = save(pem.encode(), "moved.pem")
        got = json.loads(rt.run(["curl", "-sf", "-m", "10", "-X", "POST", "-F", f"file=@{pem_path}",
                                 f"{node_a.api}/api/v0/key/import?arg=moved-pem&format=pem-pkcs8-cleartext"]).stdout)
        check(got["Id"] == name, f"Kubo's key/import of the PEM export gave {got['Id']}, the station is {name}")
        other = os.path.join(work, "moved-state")
        check(key_cmd("import", pem_path, state_dir=other).stdout.split()[0] == name, "PEM import keeps the name")
        p = rt.run([STREAMER, "--config", config(os.path.join(work, "other-state")), "key", "import", exported],
                   check=False)
        check(p.returncode != 0 and "different station key" in p.stderr, "import must not silently replace a key")

        # The station's state lost (here: its key imported into a fresh state directory) while a
        # record of it far ahead of this clock is out there: the new records must beat that one,
        # which only asking the targets at start can achieve.
        ahead = int(time.time() * 1000) + 10**9
        planted = rt.run([RECORD_TOOL, os.path.join(state, "station.key"), "/ipfs/bafkqaaa", str(ahead),
                          "2099-12-31T23:59:59.999000000Z", "1000000000"], text=False).stdout
        put = urllib.request.Request(f"{routing}/routing/v1/ipns/{name}", data=planted, method="PUT",
                                     headers={"Content-Type": "application/vnd.ipfs.ipns-record"})
        urllib.request.urlopen(put, timeout=10).read()
        moved = rt.spawn(procs, [STREAMER, "--config", config(other)], os.path.join(work, "streamer.log"))

        def routing_sequence():
            return int(fields(save(get(f"{routing}/routing/v1/ipns/{name}"), "after-move.ipns"))["sequence"])
        wait_for(lambda: routing_sequence() > ahead, 60, "a record beating the one planted ahead of the clock")
        moved.send_signal(signal.SIGTERM)
        check(moved.wait(timeout=30) == 0, "clean stop")
        with open(os.path.join(work, "streamer.log")) as fh:
            found = [line for line in fh if "current record found" in line]
        for url in (routing, node_a.api, node_b.gateway):
            check(any(f"target={url} " in line for line in found), f"no current record read from {url}: {found}")
        print("station key: all checks passed")
    finally:
        rt.stop_all(procs, 20)
        node_a.stop()
        node_b.stop()
        shutil.rmtree(work, ignore_errors=True)


routing = None
if __name__ == "__main__":
    main()
