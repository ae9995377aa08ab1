"""setup and the streamer against a node behind a fault proxy
(fault_proxy.py), for what the README promises of them:

  - the Authorization header (ipfs_auth_env) reaches ipfs_api on every
    request, and no other target of the streamer's records;
  - a node whose add answers a CID other than the one setup computed
    fails the run, and processed/ stays exactly as it was;
  - a node that fails an add mid-way (a 500, or an answer cut after its
    headers) fails the run, processed/ stays exactly as it was, and no
    staging folder is left.

usage: test_node_faults.py RADIO_SETUP RADIO_STREAMER (with the test node running)"""
import glob
import json
import os
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import radiotest as rt  # noqa: E402
from fault_proxy import FaultProxy  # noqa: E402

check = rt.check
SETUP, STREAMER = sys.argv[1:3]
API, GATEWAY = rt.node_urls()
AUTH_ENV, AUTH = "RADIO_TEST_NODE_AUTH", "Bearer radio-test-secret"
SEG = 2.0

work = tempfile.mkdtemp(prefix="radio-node-faults-")
music, processed, state = (os.path.join(work, d) for d in ("music", "processed", "state"))
os.makedirs(music)
no_jingles = os.path.join(work, "no-jingles")
os.makedirs(no_jingles)
rt.tagged_songs(music, [(330, 9), (440, 7)])
procs, proxies = [], []


def proxy(upstream):
    p = FaultProxy(upstream)
    proxies.append(p)
    return p


def setup(api, expect, **over):
    cfg = dict(processed_dir=processed, jingles_dir=no_jingles, ipfs_api=api, segment_seconds=SEG,
               progress="lines", ipfs_add_batch=2, ipfs_retries=1, ipfs_retry_backoff_seconds=0.1,
               ipfs_auth_env=AUTH_ENV, page_dir="")
    cfg.update(over)
    cfg["playlist_config"] = rt.write_json(os.path.join(work, "playlist.json"), {"source": music})
    return rt.setup_run(SETUP, rt.write_json(os.path.join(work, "setup.json"), cfg), expect)


def unchanged_after_failure(before, p, words):
    check(any(w in p.stderr for w in words), f"no clear reason ({words}) in:\n{p.stderr[-2000:]}")
    check(rt.tree_state(processed) == before, "processed/ changed although setup failed")
    check(not glob.glob(os.path.join(processed, ".staging*")) and
          not glob.glob(os.path.join(work, ".staging*")), "a staging folder was left behind")


def test_setup_sends_the_authorization_header_on_every_request():
    px = proxy(API)
    os.environ[AUTH_ENV] = AUTH
    setup(px.url, 0)
    check(px.requests, "setup sent nothing through the proxy")
    without = [path for _, path, h in px.requests if h.get("Authorization") != AUTH]
    check(not without, f"requests without the header: {without[:5]}")


def test_a_cid_other_than_the_local_one_fails_and_changes_nothing():
    before = rt.tree_state(processed)
    px = proxy(API)
    wrong = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"  # the empty file's

    def swap_first_hash(body):
        line = json.loads(body.split(b"\n")[0])
        line["Hash"] = wrong
        return b"\n".join([json.dumps(line).encode()] + body.split(b"\n")[1:])
    px.rule("/api/v0/add", rewrite=swap_first_hash)
    p = setup(px.url, 1, bitrate_kbps=96)
    unchanged_after_failure(before, p, ["differs from the local"])


def test_an_add_failing_mid_way_fails_and_changes_nothing():
    for label, fault in (("a 500 answer", {"status": 500}), ("an answer cut short", {"reset": True})):
        before = rt.tree_state(processed)
        px = proxy(API)
        px.rule("/api/v0/add", after=1, **fault)  # the first batch goes through
        p = setup(px.url, 1, bitrate_kbps=112)
        adds = [path for _, path, _ in px.requests if path.startswith("/api/v0/add")]
        check(len(adds) >= 2, f"{label}: only {len(adds)} add requests: the failure was not mid-way")
        unchanged_after_failure(before, p, ["add", "injected failure"])


def test_streamer_sends_the_header_to_ipfs_api_only():
    api_px, other_px, routing_px = proxy(API), proxy(API), proxy(GATEWAY)
    cfg = rt.write_streamer_config(os.path.join(work, "streamer.json"), processed, state, api_px.url, GATEWAY,
                                   ipfs_auth_env=AUTH_ENV, ipns_mode="station",
                                   ipns_kubo_targets=[api_px.url, other_px.url],
                                   ipns_routing_targets=[routing_px.url], window_segments=4)
    rt.spawn(procs, [STREAMER, "--config", cfg], os.path.join(work, "streamer.log"))

    def every_target_took_one():
        ts = rt.read_status(state).get("ipns_targets", [])
        return len(ts) == 3 and all(t.get("ok") for t in ts)
    rt.wait_for(every_target_took_one, 60, "every target to take a record",
                diagnose=lambda: rt.file_tail(os.path.join(work, "streamer.log")))
    check(api_px.requests and all(h.get("Authorization") == AUTH for _, _, h in api_px.requests),
          "a request to ipfs_api without the header")
    for px, what in ((other_px, "the other Kubo target"), (routing_px, "the routing endpoint")):
        check(px.requests, f"nothing reached {what}")
        leaked = [path for _, path, h in px.requests if "Authorization" in h]
        check(not leaked, f"{what} got the Authorization header: {leaked[:3]}")


def test_gateway_uri_playlists_play_from_the_segment_gateway():
    """uri_mode gateway: full segment URLs on segment_gateway, so a player that
    reads the playlist on one gateway fetches every segment from another."""
    segment_gw = proxy(GATEWAY)
    own_state = os.path.join(work, "state-gateway-uris")
    cfg = rt.write_streamer_config(os.path.join(work, "streamer-gateway-uris.json"), processed, own_state, API,
                                   GATEWAY, uri_mode="gateway", segment_gateway=segment_gw.url,
                                   ipns_key="radio-gateway-uris", window_segments=6)
    rt.spawn(procs, [STREAMER, "--config", cfg], os.path.join(work, "streamer-gateway-uris.log"))
    name = rt.wait_for(lambda: rt.read_status(own_state).get("last_publish", {}).get("time")
                       and rt.read_status(own_state)["ipns_name"], 60, "the first publish")
    url = f"{GATEWAY}/ipns/{name}"
    rt.wait_for(lambda: b"#EXTM3U" in urllib.request.urlopen(url, timeout=10).read(), 30, "the name to resolve")
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    uris = [line for line in text.splitlines() if line and not line.startswith("#")]
    check(uris and all(u.startswith(segment_gw.url + "/ipfs/") for u in uris), f"segment URIs: {uris[:3]}")
    p = rt.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "hls", "-live_start_index", "0", "-i", url,
                "-t", "6", "-f", "s16le", "-ac", "1", "-ar", "8000", "-"], text=False)
    check(not p.stderr and len(p.stdout) >= 5 * 2 * 8000, f"ffmpeg decoded {len(p.stdout) / 16000:.1f}s: "
          f"{p.stderr[:500]!r}")
    fetched = {path.split("?")[0] for _, path, _ in segment_gw.requests if path.startswith("/ipfs/")}
    check(len(fetched) >= 2, f"the segment gateway served {fetched}")


def cleanup():
    rt.stop_all(procs, 15)
    for p in proxies:
        p.close()


if __name__ == "__main__":
    rt.run_tests(globals(), work, cleanup=cleanup)
