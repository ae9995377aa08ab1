"""docker-compose.yml and the Dockerfile, checked without a Docker engine
(none runs on the build machines): the compose file through Debian's
docker-compose `config`, the Dockerfile's shape by reading it, and every
config file the containers use through the programs' own validation."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml  # docker-compose depends on PyYAML, so it is there with it

ROOT = sys.argv[1]
sys.path.insert(0, os.path.join(ROOT, "tools"))
import kubo_node  # noqa: E402
SETUP, STREAMER, HEALTHMON = sys.argv[2:5]


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def test_compose_file_is_valid_and_wired_as_documented():
    p = subprocess.run(["docker-compose", "-f", os.path.join(ROOT, "docker-compose.yml"), "config"],
                       capture_output=True, text=True, cwd=ROOT)
    check(p.returncode == 0, f"docker-compose config: {p.stderr}")
    c = yaml.safe_load(p.stdout)
    s = c["services"]
    check(set(s) == {"ipfs", "setup", "streamer", "healthmon", "prometheus", "grafana"}, f"services {sorted(s)}")
    check(s["ipfs"]["image"].startswith("ipfs/kubo:v"), "Kubo at a pinned version")
    check(all("5001" not in str(p) for p in s["ipfs"].get("ports", [])), "RPC API not published")
    check(any("8080" in str(p) for p in s["ipfs"]["ports"]), "gateway published")
    check(s["setup"]["restart"] == "no", "setup runs once")
    check(s["streamer"]["depends_on"]["setup"]["condition"] == "service_completed_successfully",
          "streamer waits for a successful setup")
    check(s["streamer"]["restart"] == "unless-stopped", "streamer restarts")
    check("--once" in s["healthmon"]["healthcheck"]["test"], "healthmon --once is the healthcheck")
    mounts = {v for svc in s.values() for v in svc.get("volumes", [])}
    check(any(str(v).endswith("/music:ro") for v in mounts), "music read-only")
    check(any(str(v).endswith("/jingles:ro") for v in mounts), "jingles read-only")
    check(any(str(v).endswith(":/etc/ipfs-radio:ro") for v in mounts), "config read-only")
    init = open(os.path.join(ROOT, "docker", "kubo-init.sh")).read()
    check("Ipns.MaxCacheTTL" in init and "Ipns.UsePubsub" in init, "short IPNS caching and pubsub")


def test_compose_runs_the_kubo_the_tests_run():
    """The tests start Kubo from the compose file's own settings (kubo_node.py
    reads them without a YAML parser): that reading must be the file's, and
    the image the version tools/install-kubo.sh builds."""
    with open(os.path.join(ROOT, "docker-compose.yml")) as f:
        svc = yaml.safe_load(f)["services"]["ipfs"]
    image, profile, args = kubo_node.compose_node()
    check((image, profile, args) == (svc["image"], svc["environment"]["IPFS_PROFILE"], svc["command"]),
          f"kubo_node read {(image, profile, args)}, the compose file says "
          f"{(svc['image'], svc['environment']['IPFS_PROFILE'], svc['command'])}")
    with open(os.path.join(ROOT, "tools", "kubo", "go.mod")) as f:
        pinned = re.search(r"github.com/ipfs/kubo (v\S+)", f.read()).group(1)
    check(image == f"ipfs/kubo:{pinned}", f"compose runs {image}, the tests run Kubo {pinned}")


def test_dockerfile_build_commands_build_the_programs():
    """The build stage's cmake commands, as the Dockerfile runs them (no
    -Werror: a user's newer compiler must not stop the image)."""
    if os.environ.get("RADIO_DOCKER_BUILD") == "skip":
        print("     (Dockerfile build left to the normal build's run)")
        return
    text = open(os.path.join(ROOT, "Dockerfile")).read().replace("\\\n", " ")
    run = next(l for l in text.splitlines() if l.startswith("RUN cmake "))
    cmds = [c.strip() for c in run[len("RUN "):].split("&&") if c.strip().startswith("cmake ")]
    check(len(cmds) == 2 and "-DCMAKE_BUILD_TYPE=Release" in cmds[0] and "WERROR=ON" not in run, cmds)
    out = tempfile.mkdtemp(prefix="radio-docker-build-")
    try:
        for c in cmds:
            p = subprocess.run(["bash", "-c", c.replace("/build", out)], cwd=ROOT, capture_output=True, text=True)
            check(p.returncode == 0, f"{c}: {p.stderr[-3000:]}")
        for prog in ("setup/radio-setup", "streamer/radio-streamer", "healthmon/radio-healthmon"):
            p = subprocess.run([os.path.join(out, prog), "--version"], capture_output=True, text=True)
            check(p.returncode == 0, f"{prog} --version: {p.returncode} {p.stderr}")
    finally:
        shutil.rmtree(out, ignore_errors=True)


def test_dockerfile_is_multi_stage_on_debian_and_ships_only_the_programs():
    text = open(os.path.join(ROOT, "Dockerfile")).read()
    froms = [l for l in text.splitlines() if l.startswith("FROM ")]
    check(len(froms) >= 2 and all("debian:" in l for l in froms), f"stages {froms}")
    runtime = text[text.rindex("FROM "):]
    check("-dev" not in runtime and "build-essential" not in runtime, "no build tools at run time")
    check("COPY --from=build" in runtime, "programs copied from the build stage")
    for prog in ("radio-setup", "radio-streamer", "radio-healthmon"):
        check(prog in text, f"{prog} built")


def test_compose_prometheus_scrapes_both_programs_where_they_listen():
    """The stack's Prometheus file is the shipped one with the targets on
    the compose network: the same jobs, labels and rules; each target the
    port its program's container config listens on; Grafana's data source
    the stack's Prometheus, and its dashboards the ones in deploy/grafana."""
    prom = os.path.join(ROOT, "deploy", "prometheus")
    with open(os.path.join(prom, "prometheus.yml")) as f:
        shipped = yaml.safe_load(f)
    with open(os.path.join(prom, "compose.yml")) as f:
        stack = yaml.safe_load(f)
    check(stack["rule_files"] == shipped["rule_files"] and stack["global"] == shipped["global"], "rules, intervals")

    def jobs(doc):
        return {j["job_name"]: j["static_configs"][0] for j in doc["scrape_configs"]}
    check({k: v["labels"] for k, v in jobs(stack).items()} == {k: v["labels"] for k, v in jobs(shipped).items()},
          f"jobs {jobs(stack)} against {jobs(shipped)}")
    listens = {}
    for job, name, key in (("radio-streamer", "streaming", "metrics_listen"), ("radio-healthmon", "healthmon",
                                                                               "listen")):
        with open(os.path.join(ROOT, "config", "docker", f"{name}.config.json")) as f:
            listens[job] = yaml.safe_load(f)[key]
    for job, sc in jobs(stack).items():
        service = job.removeprefix("radio-")
        port = listens[job].rsplit(":", 1)[1]
        check(sc["targets"] == [f"{service}:{port}"] and listens[job].startswith("0.0.0.0:"),
              f"{job}: targets {sc['targets']}, its container listens on {listens[job]}")
    p = subprocess.run(["promtool", "check", "config", "compose.yml"], capture_output=True, text=True, cwd=prom)
    check(p.returncode == 0, f"promtool check config compose.yml: {p.stdout}{p.stderr}")
    c = yaml.safe_load(subprocess.run(["docker-compose", "-f", os.path.join(ROOT, "docker-compose.yml"), "config"],
                                      capture_output=True, text=True, cwd=ROOT, check=True).stdout)["services"]
    check("--config.file=/etc/prometheus/compose.yml" in c["prometheus"]["command"], f"{c['prometheus']}")
    check(any(str(v).endswith("/deploy/prometheus:/etc/prometheus:ro") for v in c["prometheus"]["volumes"]),
          f"{c['prometheus']['volumes']}")
    with open(os.path.join(ROOT, "deploy", "grafana", "provisioning", "datasources", "prometheus.yml")) as f:
        ds = yaml.safe_load(f)["datasources"][0]
    check(ds["type"] == "prometheus" and ds["url"] == "http://prometheus:9090", f"{ds}")
    with open(os.path.join(ROOT, "deploy", "grafana", "provisioning", "dashboards", "radio.yml")) as f:
        where = yaml.safe_load(f)["providers"][0]["options"]["path"]
    check(any(str(v).endswith(f"/deploy/grafana:{where}:ro") for v in c["grafana"]["volumes"]),
          f"dashboards from {where}: {c['grafana']['volumes']}")


def test_container_configs_pass_each_programs_validation():
    d = os.path.join(ROOT, "config", "docker")
    # --print-default-config proves nothing; a dry validation does: load
    # each file the way the program does and expect no "bad config" status.
    for prog, name in ((SETUP, "setup"), (STREAMER, "streaming"), (HEALTHMON, "healthmon")):
        path = os.path.join(d, f"{name}.config.json")
        p = subprocess.run([prog, "--config", path, "--check-config"], capture_output=True, text=True)
        check(p.returncode == 0, f"{os.path.basename(prog)} refused {path}: {p.stderr.strip()}")


def test_make_setup_runs_in_the_compose_stack_only_when_it_is_up():
    # Only the choice is checked here: a stand-in compose command on PATH
    # (no Docker engine runs on the build machines) and a stand-in build
    # folder, each recording how it was called.
    import tempfile
    work = tempfile.mkdtemp(prefix="radio-make-setup-")
    calls = os.path.join(work, "calls")
    bindir, build = os.path.join(work, "bin"), os.path.join(work, "build")
    os.makedirs(bindir)
    os.makedirs(os.path.join(build, "setup"))

    def script(path, body):
        with open(path, "w") as f:
            f.write("#!/bin/sh\n" + body)
        os.chmod(path, 0o755)

    script(os.path.join(build, "setup", "radio-setup"), f'echo "native $*" >> {calls}\n')
    script(os.path.join(bindir, "docker"), "exit 1\n")  # no `docker compose` plugin here
    for stack_up in (False, True):
        ps = 'echo 4f2c9a' if stack_up else 'true'
        script(os.path.join(bindir, "docker-compose"),
               f'case "$1" in ps) {ps};; *) echo "compose $*" >> {calls};; esac\n')
        open(calls, "w").close()
        env = dict(os.environ, PATH=bindir + os.pathsep + "/usr/bin:/bin")
        p = subprocess.run([os.path.join(ROOT, "tools", "setup.sh"), build], env=env,
                           capture_output=True, text=True)
        check(p.returncode == 0, f"tools/setup.sh: {p.stderr}")
        with open(calls) as f:
            got = f.read().strip()
        want = "compose run --rm setup" if stack_up else "native --config config/setup.config.json"
        check(got == want, f"stack up={stack_up}: ran {got!r}, expected {want!r}")


if __name__ == "__main__":
    tests = [v for k, v in list(globals().items()) if k.startswith("test_")]
    failed = 0
    for t in tests:
        try:
            t()
            print(f"ok   {t.__name__}")
        except AssertionError as e:
            failed += 1
            print(f"FAIL {t.__name__}: {e}")
    print(f"{len(tests) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
