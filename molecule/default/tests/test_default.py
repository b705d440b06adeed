"""Verify the deployed stack for real: files, containers, the proxy, auth and isolation.

Runs on the controller (testinfra, ansible backend into the Molecule instance). The
instance shares the host's network and engine, so the stack's published port is
127.0.0.1:<litellm_port> for both."""

from __future__ import annotations

import json
import os
import re
import socket
import time
import urllib.error
import urllib.request

import pytest
import testinfra.utils.ansible_runner
from gatewayops_stack import BASE, PORT, PROJECT, PROJECT_DIR, TLS_PORT, live_colour, project_of
from gatewayops_stack import read_env as _env

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]
).get_hosts("all")


def _post(path, body, key=None):
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    req = urllib.request.Request(BASE + path, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read() or b"{}")


def _container(host, service):
    project = project_of(host, service)
    out = host.check_output(
        "docker ps -a --filter label=com.docker.compose.project=%s --filter label=com.docker.compose.service=%s "
        "--format '{{.ID}}'", project, service)
    assert out, f"no {service} container in project {project}"
    return json.loads(host.check_output("docker inspect %s", out.splitlines()[0]))[0]


@pytest.mark.parametrize("name, mode, group", [
    ("compose.yaml", 0o644, "root"),
    ("haproxy.cfg", 0o644, "root"),
    ("Dockerfile", 0o644, "root"),
    ("config.yaml", 0o640, None),
    # the secrets: root's, readable by the group of the one container that reads each (a file mount)
    (".env", 0o440, None),
    ("redis.conf", 0o440, None),
])
def test_rendered_files_have_safe_modes(host, name, mode, group):
    f = host.file(f"{PROJECT_DIR}/{name}")
    assert f.is_file
    assert f.mode == mode
    assert f.user == "root"
    if group:
        assert f.group == group
    else:
        # readable by the group of the one container that reads it, not by others: the proxy's,
        # or the official Redis image's redis group (which the service runs as)
        assert f.gid == {"redis.conf": 999}.get(name, 65532)


def test_secrets_are_generated_strong_and_only_in_env(host):
    env = _env(host)
    for name in ("LITELLM_MASTER_KEY", "LITELLM_SALT_KEY"):
        assert re.fullmatch(r"sk-[0-9a-f]{64}", env[name]), name
    assert env["LITELLM_MASTER_KEY"] != env["LITELLM_SALT_KEY"]
    assert re.fullmatch(r"[0-9a-f]{64}", env["REDIS_PASSWORD"])
    for name in ("compose.yaml", "config.yaml", "Dockerfile", "haproxy.cfg"):
        text = host.file(f"{PROJECT_DIR}/{name}").content_string
        for secret in (env["LITELLM_MASTER_KEY"], env["LITELLM_SALT_KEY"], env["REDIS_PASSWORD"]):
            assert secret not in text, f"a secret leaked into {name}"


def _secret_values(host):
    """Every secret the stack holds: each .env value that is not a plain setting."""
    env = _env(host)
    return {name: value for name, value in env.items() if len(value) >= 16 and name != "DATABASE_URL"}


def test_no_secret_in_any_container_environment_or_command_line(host):
    secrets = _secret_values(host)
    assert {"LITELLM_MASTER_KEY", "LITELLM_SALT_KEY", "REDIS_PASSWORD"} <= set(secrets)
    ids = host.check_output("docker ps -q --filter label=com.docker.compose.project=%s", PROJECT).split()
    ids += host.check_output("docker ps -q --filter label=com.docker.compose.project=%s-%s", PROJECT,
                             live_colour(host)).split()
    assert len(ids) >= 3, ids   # the proxy, the edge, Redis (and monitoring)
    inspected = host.check_output("docker inspect" + " %s" * len(ids), *ids)
    processes = host.check_output("ps -eww -o args")
    for name, value in secrets.items():
        assert value not in inspected, f"{name} is in a container's configuration (docker inspect)"
        assert value not in processes, f"{name} is on a command line (ps)"
    # the proxy has them as files: its mounted .env, which its processes load at start
    proxy = _container(host, "litellm")
    assert not proxy["Config"].get("Env") or not any(e.startswith("LITELLM_MASTER_KEY=") for e in proxy["Config"]["Env"])
    assert any(m["Destination"] == "/run/secrets/litellm.env" and not m["RW"] for m in proxy["Mounts"])


@pytest.mark.parametrize("service", ["litellm", "redis"])
def test_containers_are_healthy(host, service):
    # a container recreated by the converge stays "starting" until its first healthcheck
    # (interval 30 s): wait for the verdict, never for more than three intervals
    deadline = time.monotonic() + 100
    while True:
        state = _container(host, service)["State"]
        assert state["Running"] is True
        if state["Health"]["Status"] != "starting" or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert state["Health"]["Status"] == "healthy"


def test_proxy_container_is_hardened(host):
    c = _container(host, "litellm")
    hc = c["HostConfig"]
    assert c["Config"]["User"] == "65532:65532"
    assert hc["ReadonlyRootfs"] is True
    assert hc["CapDrop"] == ["ALL"]
    assert "no-new-privileges:true" in hc["SecurityOpt"]
    # the edge owns the published port; the proxy itself is only on the compose networks
    assert not hc["PortBindings"]
    assert re.fullmatch(r"[0-9a-f]{64}", c["Config"]["Labels"]["org.gatewayops.litellm.config-sha256"])


def test_edge_owns_the_port_and_is_hardened(host):
    c = _container(host, "edge")
    hc = c["HostConfig"]
    assert c["State"]["Running"] is True
    # plain HTTP and, in this scenario, TLS (litellm_edge_tls_enabled), each on loopback only
    assert hc["PortBindings"] == {"4000/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(PORT)}],
                                  "4443/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(TLS_PORT)}]}
    assert hc["ReadonlyRootfs"] is True
    assert hc["CapDrop"] == ["ALL"]
    assert "no-new-privileges:true" in hc["SecurityOpt"]
    assert c["Config"]["StopSignal"] == "SIGUSR1"
    # the edge reads a directory: the validated haproxy.cfg and colour.cfg, which names the live proxy
    assert host.file(f"{PROJECT_DIR}/edge/haproxy.cfg").sha256sum == host.file(f"{PROJECT_DIR}/haproxy.cfg").sha256sum
    assert f"{PROJECT_DIR}/edge:/usr/local/etc/haproxy:ro" in hc["Binds"]
    cfg = host.file(f"{PROJECT_DIR}/haproxy.cfg").content_string
    assert "retry-on conn-failure empty-response" in cfg
    assert "option idle-close-on-response" in cfg
    assert 'server litellm "${LITELLM_LIVE_SERVER}:4000"' in cfg
    colour = live_colour(host)
    assert colour in ("blue", "green")
    assert f"setenv LITELLM_LIVE_SERVER {PROJECT}-{colour}-litellm-1" in host.file(f"{PROJECT_DIR}/edge/colour.cfg").content_string


def test_the_live_colour_runs_the_release_in_the_project_directory(host):
    colour = live_colour(host)
    release = f"{PROJECT_DIR}/{PROJECT}-{colour}"
    for live, copy in (("litellm.yaml", "compose.yaml"), ("config.yaml", "config.yaml"), (".env", ".env")):
        assert host.file(f"{release}/{copy}").sha256sum == host.file(f"{PROJECT_DIR}/{live}").sha256sum, copy
    assert host.file(f"{release}/.env").mode == 0o440
    # only the live colour runs; the other colour's project is gone
    other = "green" if colour == "blue" else "blue"
    assert not host.check_output("docker ps -a --filter label=com.docker.compose.project=%s-%s -q", PROJECT, other)
    assert _container(host, "litellm")["Config"]["Labels"]["com.docker.compose.project"] == f"{PROJECT}-{colour}"


def test_the_proxy_image_preimports_the_codec_its_threads_race_for(host):
    # a .pth file imports encodings.ascii before the gunicorn master starts any thread
    c = _container(host, "litellm")
    out = host.check_output("docker run --rm --entrypoint python3 %s -c %s", c["Config"]["Image"],
                            "import sys; print('encodings.ascii' in sys.modules)")
    assert out.strip() == "True"


def test_every_worker_finished_its_startup(host):
    c = _container(host, "litellm")
    workers = int(c["Config"]["Cmd"][c["Config"]["Cmd"].index("--num_workers") + 1])
    logs = host.run("docker logs --since %s %s", c["State"]["StartedAt"], c["Id"])
    assert (logs.stdout + logs.stderr).count("Application startup complete") >= workers


def test_config_label_matches_the_file_on_disk(host):
    label = _container(host, "litellm")["Config"]["Labels"]["org.gatewayops.litellm.config-sha256"]
    assert host.file(f"{PROJECT_DIR}/config.yaml").sha256sum == label


def test_chat_completion_with_master_key_reaches_fake_backend(host):
    key = _env(host)["LITELLM_MASTER_KEY"]
    status, headers, body = _post("/v1/chat/completions",
                                  {"model": "fake-chat", "messages": [{"role": "user", "content": "molecule says hi"}]},
                                  key)
    assert status == 200, body
    assert body["choices"][0]["message"]["content"] == "fake response to: molecule says hi"
    assert headers.get("x-litellm-version") == "1.108.7"


def test_embedding_through_proxy(host):
    key = _env(host)["LITELLM_MASTER_KEY"]
    status, _headers, body = _post("/v1/embeddings", {"model": "fake-embedding", "input": ["a", "b"]}, key)
    assert status == 200, body
    assert [d["index"] for d in body["data"]] == [0, 1]
    assert len(body["data"][0]["embedding"]) == 8


def test_missing_key_is_rejected_with_401(host):
    status, _headers, body = _post("/v1/chat/completions", {"model": "fake-chat", "messages": [{"role": "user", "content": "x"}]})
    assert status == 401, body


def test_wrong_key_is_rejected(host):
    # LiteLLM without a database cannot look a non-master key up and answers 400
    # "No connected db." (upstream behaviour, see README "Known limits"); never 200.
    wrong = "sk-" + "0" * 64
    request = {"model": "fake-chat", "messages": [{"role": "user", "content": "x"}]}
    status, _headers, body = _post("/v1/chat/completions", request, wrong)
    assert status in (400, 401), body
    assert body["error"]["type"] in ("no_db_connection", "auth_error")


def test_readiness_reports_healthy():
    with urllib.request.urlopen(BASE + "/health/readiness", timeout=10) as resp:
        assert resp.status == 200
        assert json.loads(resp.read())["status"] == "healthy"


def test_redis_is_not_published_and_not_reachable_from_the_host(host):
    redis = _container(host, "redis")
    assert not any(redis["NetworkSettings"]["Ports"].values())
    networks = redis["NetworkSettings"]["Networks"]
    assert len(networks) == 1
    (network_name,) = networks
    assert network_name.endswith("_backend")
    network = json.loads(host.check_output("docker network inspect %s", network_name))[0]
    assert network["Internal"] is True
    assert network["Options"].get("com.docker.network.bridge.inhibit_ipv4") == "true"
    # the host has no address on the backend bridge, hence no route into it
    bridge = "br-" + network["Id"][:12]
    assert "inet " not in host.check_output("ip -4 addr show dev %s", bridge)
    with socket.socket() as s:
        s.settimeout(2)
        assert s.connect_ex(("127.0.0.1", 6379)) != 0, "redis answered on 127.0.0.1:6379"


def test_redis_requires_the_password(host):
    redis_id = _container(host, "redis")["Id"]
    out = host.run("docker exec %s redis-cli ping", redis_id)
    assert "NOAUTH" in out.stdout + out.stderr
