"""The collection's job templates run the way AWX / Automation Controller runs them: through
ansible-runner (the engine AWX uses), from a private data directory laid out as AWX stages a job
(project/, inventory/, env/extravars, env/envvars, env/settings, env/cmdline, artifacts/), with no
standard input. Against the running demo (sudo scripts/demo), in order:

  deploy (a change: the edge's body limit 32 -> 16 MB) -> successful, the edge enforces 16 MB, the
                                       fleet summary in set_stats says "changed"
  deploy --check                     -> successful, nothing changed on the host, summary "unchanged"
  verify                             -> successful, the verify role's line for the host
  rollback                           -> successful, the edge enforces 32 MB again, the keys unchanged

(An edge change is applied by a hitless reload: no LiteLLM boot, so the jobs stay short in CI. The
proxy's own change and rollback paths under load are Molecule rollback's.)

Each job's status, return code, events and artifacts are read from artifacts/<job>/ as AWX does.
The deploy and rollback jobs change the live proxy: they run under bounded background load through
the edge over TLS (tests/tools/change_load.py: 4 openai SDK clients, 1 streaming, at most 180 s),
and no request may fail."""

from __future__ import annotations

import http.client
import json
import os
import pathlib
import ssl
import subprocess
import sys
import time
import urllib.parse

import pytest
import yaml
from test_openai_sdk import INVENTORY, _client, _loopback, _master_key, setting

REPO = pathlib.Path(__file__).resolve().parents[2]
DEMO = yaml.safe_load(INVENTORY.read_text())["all"]["vars"]
EDGE_CFG = pathlib.Path(DEMO["litellm_project_dir"]) / "edge" / "haproxy.cfg"


def _body_limit_mb():
    """The body limit the running edge's configuration enforces (413 above it)."""
    for line in EDGE_CFG.read_text().splitlines():
        if "request_too_large" in line and "content-length) gt " in line:
            return int(line.split("content-length) gt ", 1)[1].split()[0]) // (1024 * 1024)
    raise AssertionError("no body limit in %s" % EDGE_CFG)


@pytest.fixture(scope="module")
def private_data_dir(tmp_path_factory):
    """project/ (the checkout, as AWX's project update leaves it), inventory/ (the demo's), env/."""
    pdd = tmp_path_factory.mktemp("awx-job")
    (pdd / "project").symlink_to(REPO)
    (pdd / "inventory").mkdir()
    (pdd / "inventory" / "hosts.yml").write_text(INVENTORY.read_text())
    (pdd / "env").mkdir()
    # what AWX puts in a job's environment: where collections are, and nothing interactive
    (pdd / "env" / "envvars").write_text(yaml.safe_dump({
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".cache" / "collections"),
        "ANSIBLE_FORCE_COLOR": "0",
        "GATEWAYOPS_IMAGE_PREFIX": os.environ.get("GATEWAYOPS_IMAGE_PREFIX", "gatewayops-test"),
        "PATH": "%s:%s" % (pathlib.Path(sys.executable).parent, os.environ.get("PATH", "/usr/bin:/bin")),
    }))
    (pdd / "env" / "settings").write_text(yaml.safe_dump({"job_timeout": 900, "idle_timeout": 600,
                                                          "suppress_ansible_output": True}))
    return pdd


def _job(pdd, ident, playbook, extravars, check=False):
    """One job: ansible-runner run, as AWX's task runner starts it. Returns (status, rc, events)."""
    (pdd / "env" / "extravars").write_text(yaml.safe_dump(dict({"litellm_target_hosts": "localhost"}, **extravars)))
    cmdline = pdd / "env" / "cmdline"
    if check:
        cmdline.write_text("--check --diff")
    elif cmdline.exists():
        cmdline.unlink()
    runner = pathlib.Path(sys.executable).parent / "ansible-runner"
    subprocess.run([str(runner), "run", str(pdd), "--ident", ident, "-p", playbook],
                   stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900, check=False)
    artifacts = pdd / "artifacts" / ident
    files = sorted((artifacts / "job_events").glob("*.json"), key=lambda p: int(p.name.split("-", 1)[0]))
    events = [json.loads(p.read_text()) for p in files]
    return (artifacts / "status").read_text().strip(), int((artifacts / "rc").read_text()), events


class Load:
    """tests/tools/change_load.py in the background while a job changes the proxy (loopback only)."""

    def __init__(self, work, label):
        self.out, self.stop, ready = work / f"{label}.json", work / f"{label}.stop", work / f"{label}.ready"
        ca = setting("DEMO_CA_FILE")
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "tests" / "tools" / "change_load.py"), "--base-url", _loopback(setting("DEMO_BASE_URL")),
             "--api-key-file", setting("DEMO_ENV_FILE"), "--clients", "4", "--stream-clients", "1",
             "--model", setting("DEMO_CHAT_MODEL"), "--stream-model", setting("DEMO_CHAT_MODEL"), "--think-ms", "200",
             "--max-seconds", "180", "--max-requests", "20000", "--out", str(self.out), "--stop-file", str(self.stop),
             "--ready-file", str(ready), "--label", label] + (["--ca-file", ca] if ca else []),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert self.process.poll() is None and time.monotonic() < deadline, self.process.stdout.read()
            time.sleep(0.2)

    def finish(self):
        self.stop.touch()
        output = self.process.communicate(timeout=120)[0]
        summary = json.loads(self.out.read_text())
        print(output)
        return summary


def _stats(events):
    [stats] = [e for e in events if e["event"] == "playbook_on_stats"]
    return stats["event_data"]


def _failures(events):
    return [(e["event_data"].get("task"), e["event_data"].get("res", {}).get("msg"))
            for e in events if e["event"] in ("runner_on_failed", "runner_on_unreachable")
            and not e["event_data"].get("ignore_errors")]


def _rollout(events):
    return _stats(events)["artifact_data"]["litellm_rollout"]


def _status_of_a_body_of(megabytes):
    """The edge's answer to a request that announces a body of that size (only its first byte is sent)."""
    url = urllib.parse.urlsplit(_loopback(setting("DEMO_BASE_URL")))
    ca = setting("DEMO_CA_FILE")
    conn = (http.client.HTTPSConnection(url.hostname, url.port, timeout=30, context=ssl.create_default_context(cafile=ca))
            if url.scheme == "https" else http.client.HTTPConnection(url.hostname, url.port, timeout=30))
    try:
        conn.putrequest("POST", "/v1/chat/completions")
        conn.putheader("Content-Length", str(megabytes * 1024 * 1024))
        conn.endheaders()
        conn.send(b"{")
        return conn.getresponse().status
    finally:
        conn.close()


def _model_ids():
    return {m.id for m in _client(_master_key(setting("DEMO_ENV_FILE")).value).models.list()}


def _no_request_failed(load):
    assert load["failed"] == 0 and load["ok"] > 0, load
    assert load["streams"]["complete"] == load["streams"]["started"], load["streams"]


def test_deploy_job_changes_the_host_and_reports_the_fleet_summary(private_data_dir):
    assert _body_limit_mb() == 32
    load = Load(private_data_dir, "deploy-load")
    status, rc, events = _job(private_data_dir, "deploy", "playbooks/site.yml", {"litellm_edge_max_body_mb": 16})
    _no_request_failed(load.finish())
    assert (status, rc) == ("successful", 0), _failures(events)
    assert not _stats(events)["failures"] and not _stats(events)["dark"]
    rollout = _rollout(events)
    assert rollout["ok"] and rollout["counts"]["changed"] == 1, rollout
    [host] = rollout["hosts"]
    assert host["host"] == "localhost" and host["version"] == "1.108.7" and len(host["config_sha256"]) == 64
    assert _body_limit_mb() == 16
    # and the running edge enforces it: a 20 MB body is refused before it is sent
    assert _status_of_a_body_of(20) == 413


def test_check_mode_job_changes_nothing(private_data_dir):
    before = EDGE_CFG.read_bytes()
    status, rc, events = _job(private_data_dir, "deploy-check", "playbooks/site.yml", {}, check=True)
    assert (status, rc) == ("successful", 0), _failures(events)
    # the job would put the body limit back to the inventory's 32 MB: reported, not done
    assert EDGE_CFG.read_bytes() == before and _body_limit_mb() == 16
    assert _rollout(events)["counts"]["unchanged"] == 1


def test_verify_job_reports_the_host(private_data_dir):
    status, rc, events = _job(private_data_dir, "verify", "playbooks/verify.yml", {})
    assert (status, rc) == ("successful", 0), _failures(events)
    summaries = [e["event_data"]["res"]["msg"] for e in events if e["event"] == "runner_on_ok"
                 and e["event_data"].get("task", "").startswith("Summary") and "msg" in e["event_data"].get("res", {})]
    assert summaries, "no summary event"
    [line] = [line for line in summaries[-1] if line.startswith("localhost")]
    assert "1.108.7" in line.split(), line


def test_rollback_job_restores_the_previous_release(private_data_dir):
    key = _master_key(setting("DEMO_ENV_FILE")).value
    load = Load(private_data_dir, "rollback-load")
    status, rc, events = _job(private_data_dir, "rollback", "playbooks/rollback.yml", {})
    _no_request_failed(load.finish())
    assert (status, rc) == ("successful", 0), _failures(events)
    assert _body_limit_mb() == 32 and _model_ids()
    assert _master_key(setting("DEMO_ENV_FILE")).value == key
