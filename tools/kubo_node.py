#!/usr/bin/env python3
"""A Kubo node on loopback, configured the way the compose stack configures
its node, for `make run` and for the tests.

The repository is made by `ipfs init` with the compose file's IPFS_PROFILE,
then docker/kubo-init.sh (the script the compose stack mounts into the
container) runs on it, then the few settings that keep the node on this
machine are laid over it: loopback addresses, no bootstrap peers, no
delegated routers, no AutoConf, AutoTLS or telemetry, so that it sends
nothing anywhere but 127.0.0.1. The daemon runs with the compose file's
command-line flags.

    kubo_node.py start DIR [--api-port N] [--gateway-port N] [--keep]
        prints the RPC API URL; writes DIR/api_url, DIR/gateway_url, DIR/pid
    kubo_node.py stop DIR [--keep]
        stops the daemon; removes DIR/repo unless --keep

Port 0 (the default) lets the daemon pick a free port and report it. A test
that restarts a node under running programs needs the same ports again:
reserve_port() gives one outside the kernel's ephemeral range, held by a lock
file for as long as the process lives, so that neither the kernel nor another
test hands it out meanwhile.
"""
import fcntl
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMPOSE = os.path.join(ROOT, "docker-compose.yml")
INIT_SCRIPT = os.path.join(ROOT, "docker", "kubo-init.sh")
START_TIMEOUT = float(os.environ.get("RADIO_KUBO_START_TIMEOUT", "120"))
STOP_TIMEOUT = float(os.environ.get("RADIO_KUBO_STOP_TIMEOUT", "20"))
PORT_LOCK_DIR = os.path.join(os.environ.get("TMPDIR", "/tmp"), "ipfs-radio-ports")
# Below Linux's default ephemeral range (32768-60999) and above the
# well-known services; read from the kernel when it says otherwise.
PORT_SPAN = 10000

_held_ports = {}


def kubo_binary():
    """The pinned Kubo: RADIO_KUBO_BIN, or what tools/install-kubo.sh built."""
    b = os.environ.get("RADIO_KUBO_BIN")
    if b:
        return b
    p = subprocess.run([os.path.join(ROOT, "tools", "install-kubo.sh"), "--path"],
                       stdout=subprocess.PIPE, text=True, check=True)
    return p.stdout.strip()


def compose_node():
    """The compose file's Kubo service: (image tag, IPFS_PROFILE, daemon args).
    The file keeps `command` as a JSON-style list, so no YAML parser is needed;
    test_deploy_files checks this reading against a YAML parser's."""
    text = open(COMPOSE).read()
    m = re.search(r"^  ipfs:\n((?:    .*\n|\s*\n)+)", text, re.M)
    if not m:
        raise RuntimeError(f"{COMPOSE}: no ipfs service")
    svc = m.group(1)
    image = re.search(r"^    image:\s*(\S+)", svc, re.M).group(1)
    profile = re.search(r"IPFS_PROFILE:\s*(\S+)", svc).group(1)
    args = json.loads(re.search(r"^    command:\s*(\[.*\])", svc, re.M).group(1))
    return image, profile, args


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def reserve_port():
    """A loopback TCP port no ephemeral allocation and no other test of ours
    will take while this process lives."""
    hi = _ephemeral_low()
    lo = max(1024, hi - PORT_SPAN)
    os.makedirs(PORT_LOCK_DIR, exist_ok=True)
    for _ in range(1000):
        port = random.randrange(lo, hi)
        if port in _held_ports:
            continue
        fd = os.open(os.path.join(PORT_LOCK_DIR, str(port)), os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            os.close(fd)
            continue
        finally:
            s.close()
        _held_ports[port] = fd
        return port
    raise RuntimeError("no free loopback port below the ephemeral range")


def _maddr_port(maddr):
    m = re.search(r"/tcp/(\d+)", maddr)
    return int(m.group(1)) if m else None


class KuboNode:
    """One Kubo daemon with its repository in DIR/repo and its log in
    DIR/daemon.log. Ports 0 let the daemon choose."""

    def __init__(self, root, api_port=0, gateway_port=0, swarm_port=0, label=None, env=None,
                 config=None):
        self.root = os.path.abspath(root)
        self.repo = os.path.join(self.root, "repo")
        self.log_path = os.path.join(self.root, "daemon.log")
        self.label = label or os.path.basename(self.root)
        self.ports = {"API": api_port, "Gateway": gateway_port, "Swarm": swarm_port}
        self.extra_env = env or {}
        self.extra_config = config or {}
        self.proc = None
        self.api = self.gateway = None
        self.bin = kubo_binary()

    def env(self):
        path = os.path.dirname(self.bin) + os.pathsep + os.environ.get("PATH", "")
        # Kubo's telemetry plugin would report to a host on the internet.
        return dict(os.environ, IPFS_PATH=self.repo, PATH=path, IPFS_TELEMETRY="off",
                    **self.extra_env)

    def ipfs(self, *args, check=True):
        p = subprocess.run([self.bin, *args], env=self.env(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        if check and p.returncode != 0:
            raise RuntimeError(f"ipfs {' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}")
        return p.stdout

    def set_config(self, key, value):
        self.ipfs("config", "--json", key, json.dumps(value))

    def init(self):
        """Creates the repository the compose stack's node would have, once."""
        if os.path.exists(os.path.join(self.repo, "config")):
            return
        os.makedirs(self.root, exist_ok=True)
        _, profile, _ = compose_node()
        self.ipfs("init", f"--profile={profile}")
        p = subprocess.run(["sh", INIT_SCRIPT], env=self.env(), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"{INIT_SCRIPT} failed: {p.stdout}")
        self.set_config("Addresses.API", f"/ip4/127.0.0.1/tcp/{self.ports['API']}")
        self.set_config("Addresses.Gateway", f"/ip4/127.0.0.1/tcp/{self.ports['Gateway']}")
        self.set_config("Addresses.Swarm", [f"/ip4/127.0.0.1/tcp/{self.ports['Swarm']}"])
        self.set_config("Bootstrap", [])
        self.set_config("Routing.DelegatedRouters", [])
        self.set_config("Ipns.DelegatedPublishers", [])
        self.set_config("DNS.Resolvers", {})
        self.set_config("AutoConf.Enabled", False)
        self.set_config("AutoTLS.Enabled", False)
        for k, v in self.extra_config.items():
            self.set_config(k, v)

    def _listening(self):
        """(api, gateway) URLs from the daemon's log, once both listen."""
        try:
            log = open(self.log_path, errors="replace").read()
        except OSError:
            return None
        start = log.rfind("Initializing daemon...")
        log = log[start:] if start >= 0 else log
        api = re.search(r"RPC API server listening on (\S+)", log)
        gw = re.search(r"Gateway server listening on (\S+)", log)
        if not (api and gw and "Daemon is ready" in log):
            return None
        return (f"http://127.0.0.1:{_maddr_port(api.group(1))}",
                f"http://127.0.0.1:{_maddr_port(gw.group(1))}")

    def start(self):
        self.init()
        _, _, args = compose_node()
        log = open(self.log_path, "a")
        log.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} starting\n")
        log.flush()
        self.proc = subprocess.Popen([self.bin, *args], env=self.env(), stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            urls = self._listening()
            if urls:
                self.api, self.gateway = urls
                if self._answers():
                    return self.api
            time.sleep(0.1)
        tail = open(self.log_path, errors="replace").read()[-3000:]
        self.kill()
        raise RuntimeError(f"Kubo node {self.label} did not start:\n{tail}")

    def _answers(self):
        try:
            req = urllib.request.Request(f"{self.api}/api/v0/id", data=b"", method="POST")
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status == 200
        except OSError:
            return False

    def stop(self, wipe=False):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None
        if wipe:
            shutil.rmtree(self.repo, ignore_errors=True)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return True


def _cli_start(root, api_port, gateway_port):
    pid_file = os.path.join(root, "pid")
    if os.path.exists(pid_file) and os.path.exists(os.path.join(root, "api_url")):
        pid = int(open(pid_file).read().strip() or 0)
        if pid and _pid_alive(pid):
            print(open(os.path.join(root, "api_url")).read().strip())
            return 0
    os.makedirs(root, exist_ok=True)
    node = KuboNode(root, api_port=api_port, gateway_port=gateway_port)
    t0 = time.monotonic()
    node.start()
    # The daemon outlives this process: it must not hold our stdout open.
    for name, value in (("api_url", node.api), ("gateway_url", node.gateway), ("pid", node.proc.pid)):
        with open(os.path.join(root, name + ".tmp"), "w") as f:
            f.write(f"{value}\n")
        os.replace(os.path.join(root, name + ".tmp"), os.path.join(root, name))
    print(f"kubo_node: Kubo {node.ipfs('version', '--number').strip()} started in "
          f"{time.monotonic() - t0:.1f} s: api {node.api}, gateway {node.gateway}", file=sys.stderr)
    print(node.api)
    return 0


def _cli_stop(root, keep):
    pid_file = os.path.join(root, "pid")
    if os.path.exists(pid_file):
        pid = int(open(pid_file).read().strip() or 0)
        if pid and _pid_alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT
            while _pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
    for name in ("pid", "api_url", "gateway_url"):
        try:
            os.remove(os.path.join(root, name))
        except FileNotFoundError:
            pass
    if not keep:
        shutil.rmtree(os.path.join(root, "repo"), ignore_errors=True)
    return 0


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cmd", choices=["start", "stop"])
    ap.add_argument("dir")
    ap.add_argument("--api-port", type=int, default=0)
    ap.add_argument("--gateway-port", type=int, default=0)
    ap.add_argument("--keep", action="store_true", help="stop: keep the repository")
    a = ap.parse_args(argv)
    root = os.path.abspath(a.dir)
    try:
        if a.cmd == "start":
            return _cli_start(root, a.api_port, a.gateway_port)
        return _cli_stop(root, a.keep)
    except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
        print(f"kubo_node: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
