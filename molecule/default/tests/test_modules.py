"""The collection's verification modules and playbooks/verify.yml against the live stack.

The modules run for real inside the Molecule instance (testinfra's ansible backend,
`host.ansible(..., check=False)`); the instance shares the host's network, so the proxy is
127.0.0.1:<litellm_port> for the modules and for the traffic these tests send from the controller.
A test that stops the proxy starts it again and waits until it is healthy (try/finally)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import pytest
import testinfra.utils.ansible_runner
from gatewayops_stack import BASE, MODEL_LIST, PORT, proxy_project
from gatewayops_stack import master_key as _master_key

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]
).get_hosts("all")

WRONG_KEY = "sk-" + "0" * 64
# LiteLLM's exception class for what a provider answers
ERROR_CLASSES = {400: "BadRequestError", 401: "AuthenticationError", 403: "PermissionDeniedError", 404: "NotFoundError",
                 429: "RateLimitError", 500: "InternalServerError", 503: "ServiceUnavailableError"}


def _stack_models():
    """{model name: (mode, expected HTTP status or None when it may go either way)} from the
    scenario's model list: openai/fail-<code> always fails with <code>, flaky-<n> depends on
    how many calls it has seen, anything else answers."""
    models = {}
    for entry in MODEL_LIST:
        backend = entry["litellm_params"]["model"].rsplit("/", 1)[-1]
        fail = re.fullmatch(r"fail-(\d+)", backend)
        expected = int(fail.group(1)) if fail else (None if backend.startswith("flaky-") else 200)
        models[entry["model_name"]] = ((entry.get("model_info") or {}).get("mode", "chat"), expected)
    return models


MODELS = _stack_models()
FAILING = sorted(name for name, (_mode, status) in MODELS.items() if status not in (200, None))


def _run(host, module, **args):
    """(result, failed) of gatewayops.litellm.<module> run on the instance.

    ansible-core 2.19 leaves `failed` out of the result testinfra reads (ansible --tree), so
    testinfra does not raise for a failed module; these modules return `msg` only on failure."""
    try:
        result = host.ansible(f"gatewayops.litellm.{module}", json.dumps(args), check=False)
    except host.ansible.AnsibleException as exc:
        return exc.result, True
    return result, bool(result.get("failed")) or "msg" in result


def _no_traceback(result):
    assert "exception" not in result, result.get("exception")
    assert "Traceback" not in json.dumps(result)


def _post(path, body, key):
    request = urllib.request.Request(BASE + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def _chat(key, model, text, **extra):
    return _post("/v1/chat/completions", dict({"model": model, "messages": [{"role": "user", "content": text}]}, **extra), key)


def _get(result, *path):
    for name in path:
        result = result.get(name, {}) if isinstance(result, dict) else {}
    return result or 0


def _proxy_container(host):
    project = proxy_project(host)
    out = host.check_output(
        "docker ps -a --filter label=com.docker.compose.project=%s --filter label=com.docker.compose.service=litellm "
        "--format '{{.ID}}'", project)
    assert out, f"no litellm container in project {project}"
    return out.splitlines()[0]


def _wait_docker_healthy(host, container, timeout=240):
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = host.check_output("docker inspect --format '{{.State.Health.Status}}' %s", container)
        if status == "healthy":
            return
        time.sleep(3)
    raise AssertionError(f"the proxy container is {status}, not healthy, {timeout} s after its restart")


# ---------------------------------------------------------------- health_info

def test_health_of_the_running_proxy(host):
    result, failed = _run(host, "health_info", url=BASE, api_key=_master_key(host), details=True, wait_for="ready",
                          wait_timeout=60)
    assert not failed, result.get("msg")
    assert (result["alive"], result["ready"], result["state"]) == (True, True, "ready")
    assert (result["version"], result["cache"], result["db"]) == ("1.108.7", "redis", "Not connected")
    assert "PrometheusLogger" in result["details"]["success_callbacks"]
    assert result["changed"] is False and result["error"] == ""
    assert result["wait"]["met"] is True and result["wait"]["attempts"] == 1
    assert 0 < result["timings"]["liveness_ms"] < 5000 and result["timings"]["details_ms"] > 0


def test_health_in_check_mode_reads_the_same(host):
    result = host.ansible("gatewayops.litellm.health_info", json.dumps({"url": BASE}), check=True)
    assert result["ready"] is True and result["changed"] is False


def test_deep_health_of_one_model(host):
    result, failed = _run(host, "health_info", url=BASE, api_key=_master_key(host), deep=True, deep_model="fake-chat")
    assert not failed, result.get("msg")
    assert (result["deep"]["status_code"], result["deep"]["healthy_count"], result["deep"]["unhealthy_count"]) == (200, 1, 0)
    assert result["deep"]["healthy_endpoints"][0]["model"] == "openai/fake-chat"
    assert "api_key" not in json.dumps(result["deep"])


# ---------------------------------------------------------------- model_probe

def test_probe_reports_each_model(host):
    result, failed = _run(host, "model_probe", url=BASE, api_key=_master_key(host), probe_timeout=20)
    assert not failed, result.get("msg")
    models = {r["model"]: r for r in result["models"]}
    assert sorted(models) == sorted(MODELS)
    # the mode comes from /v1/models (model_info.mode in the proxy config)
    assert (models["fake-embedding"]["mode"], models["fake-chat"]["mode"]) == ("embedding", "chat")
    for name, (mode, status) in MODELS.items():
        probe = models[name]
        assert probe["mode"] == mode, probe
        if status == 200:
            assert (probe["status"], probe["http_status"], probe["error_class"]) == ("ok", 200, None), probe
            assert probe["overhead_ms"] > 0 and probe["latency_ms"] > 0
        elif status is not None:
            assert (probe["status"], probe["http_status"], probe["error_class"]) == (
                "failed", status, ERROR_CLASSES[status]), probe
            assert probe["error_message"] and probe["overhead_ms"] is None
    assert {"fake-chat", "fake-embedding"} <= set(result["ok_models"])
    assert set(FAILING) <= set(result["failed_models"])
    assert result["summary"]["ok"] + result["summary"]["failed"] == len(MODELS)
    assert result["summary"]["latency_ms"]["p50"] > 0


def test_failing_required_model_fails_with_a_table(host):
    result, failed = _run(host, "model_probe", url=BASE, api_key=_master_key(host),
                          models=["fake-chat", "fake-fail-500"], required_models=["fake-chat", "fake-fail-500"])
    assert failed
    _no_traceback(result)
    lines = result["msg"].splitlines()
    assert lines[0] == f"1 of 2 required model(s) did not answer on {BASE}:"
    assert lines[1].split()[:2] == ["MODEL", "MODE"]
    assert len(lines) == 3
    assert re.match(r"fake-fail-500\s+chat\s+failed\s+500\s+\d+ ms\s+InternalServerError: ", lines[2]), lines[2]
    assert result["ok_models"] == ["fake-chat"]


# ---------------------------------------------------------------- errors

def test_wrong_key_is_a_clear_auth_error(host):
    for module, args in (("health_info", {"details": True}), ("model_probe", {}), ("metrics_info", {})):
        result, failed = _run(host, module, url=BASE, api_key=WRONG_KEY, **args)
        assert failed, module
        _no_traceback(result)
        assert result["msg"].startswith("The proxy refused the API key for "), result["msg"]
        assert WRONG_KEY not in result["msg"]


def test_unreachable_proxy(host):
    result, failed = _run(host, "health_info", url="http://127.0.0.1:1", timeout=3)
    assert not failed
    _no_traceback(result)
    assert (result["alive"], result["ready"], result["state"]) == (False, False, "down")
    assert result["error"] == "connection refused (GET http://127.0.0.1:1/health/liveliness)"

    result, failed = _run(host, "health_info", url="http://litellm.gatewayops.invalid:4000", timeout=3)
    assert not failed and result["alive"] is False
    assert result["error"].startswith("host name not resolved")

    for module in ("model_probe", "metrics_info"):
        result, failed = _run(host, module, url="http://127.0.0.1:1", api_key=WRONG_KEY, timeout=3)
        assert failed
        _no_traceback(result)
        assert "connection refused" in result["msg"] and result["msg"].startswith("Cannot ")


@pytest.mark.parametrize("url, message", [
    (f"htp://127.0.0.1:{PORT}", "must start with http:// or https://"),
    (f"127.0.0.1:{PORT}", "must start with http:// or https://"),
    ("http://127.0.0.1:41000000", "is not a valid URL"),
    ("http://", "has no host name"),
])
def test_malformed_url(host, url, message):
    for module in ("health_info", "model_probe", "metrics_info"):
        result, failed = _run(host, module, url=url, api_key=WRONG_KEY)
        assert failed, module
        _no_traceback(result)
        assert message in result["msg"], result["msg"]


# ---------------------------------------------------------------- metrics_info

def _scrape(host, key, **args):
    result, failed = _run(host, "metrics_info", url=BASE, api_key=key, **args)
    assert not failed, result.get("msg")
    return result


def test_metrics_count_the_requests_sent(host):
    key = _master_key(host)
    before = _scrape(host, key)
    run = uuid.uuid4().hex
    chat_ok, fail_500, embeddings = 5, 3, 2
    for i in range(chat_ok):
        assert _chat(key, "fake-chat", f"metrics test {run} {i}") == 200
    for _attempt in range(2):  # the same request twice: the second is a cache hit
        assert _chat(key, "fake-chat", f"cached {run}") == 200
        time.sleep(1)
    for i in range(fail_500):
        assert _chat(key, "fake-fail-500", f"fail {run} {i}", num_retries=0) == 500
    for i in range(embeddings):
        assert _post("/v1/embeddings", {"model": "fake-embedding", "input": f"emb {run} {i}"}, key) == 200

    expected_chat = chat_ok + 2
    deadline = time.monotonic() + 20
    while True:  # LiteLLM's Prometheus callback runs after the answer was sent
        after = _scrape(host, key, path="/metrics")  # the redirect to /metrics/ is followed
        delta = {
            "chat": _get(after, "requests", "by_model", "fake-chat") - _get(before, "requests", "by_model", "fake-chat"),
            "fail": _get(after, "failures", "by_model", "fake-fail-500") - _get(before, "failures", "by_model", "fake-fail-500"),
            "llm": _get(after, "cache", "requests") - _get(before, "cache", "requests"),
            "hits": _get(after, "cache", "hits") - _get(before, "cache", "hits"),
        }
        if (delta["chat"], delta["fail"], delta["llm"], delta["hits"]) == (expected_chat, fail_500, expected_chat + embeddings, 1):
            break
        assert time.monotonic() < deadline, f"counters after the traffic: {delta}"
        time.sleep(1)

    assert after["url"] == f"{BASE}/metrics/"
    assert _get(after, "requests", "by_model", "fake-embedding") - _get(before, "requests", "by_model", "fake-embedding") == embeddings
    assert _get(after, "requests", "by_status", "500") - _get(before, "requests", "by_status", "500") == fail_500
    assert _get(after, "failures", "by_status", "500") - _get(before, "failures", "by_status", "500") == fail_500
    assert _get(after, "failures", "by_class", "Openai.InternalServerError") - _get(
        before, "failures", "by_class", "Openai.InternalServerError") == fail_500
    total = after["latency_ms"]["total"]
    assert total["count"] - _get(before, "latency_ms", "total", "count") == expected_chat + embeddings
    assert 0 < total["p50"] <= total["p90"] <= total["p99"]
    assert after["cache"]["hit_rate_basis"] == "hits/requests" and 0 < after["cache"]["hit_rate"] < 1
    states = {d["model_group"]: d["state"] for d in after["deployments"]}
    assert states["fake-chat"] == "healthy" and states["fake-fail-500"] != "healthy"
    assert after["deployment_states"]["healthy"] >= 2


# ---------------------------------------------------------------- playbooks/verify.yml

def _verify(*extra):
    cmd = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"],
           os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "playbooks", "verify.yml"),
           "-e", "litellm_target_hosts=all", "-e", "litellm_verify_probe_timeout=20", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)


def test_verify_playbook_prints_one_line_per_host(host):
    done = _verify()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    line = re.search(r'"(gatewayops-\S+\s+yes\s+yes\s+1\.108\.7\s+(\d+) ok/(\d+) failed\s+\d+ ms\s+\d+\.\d%\s+failed: [^"]*)"',
                     done.stdout)
    assert line, done.stdout[-3000:]
    assert int(line.group(2)) >= 2 and int(line.group(2)) + int(line.group(3)) == len(MODELS)
    assert all(name in line.group(1) for name in FAILING)
    assert _master_key(host) not in done.stdout + done.stderr


def test_verify_playbook_fails_a_host_whose_required_model_fails():
    done = _verify("-e", '{"litellm_verify_required_models": ["fake-chat", "fake-fail-500"]}')
    assert done.returncode == 2, done.stdout[-3000:]
    assert "1 of 2 required model(s) did not answer" in done.stdout + done.stderr
    assert re.search(r"gatewayops-\S+\s+yes\s+yes\s+1\.108\.7", done.stdout)


# ---------------------------------------------------------------- proxy stopped

def test_stopped_proxy_is_reported_not_alive(host):
    key = _master_key(host)
    container = _proxy_container(host)
    host.check_output("docker stop --time 10 %s", container)
    try:
        result, failed = _run(host, "health_info", url=BASE, api_key=key, details=True, timeout=3)
        assert not failed, result.get("msg")
        _no_traceback(result)
        assert (result["alive"], result["ready"], result["state"], result["version"]) == (False, False, "down", None)
        # the edge keeps the port open and answers 503 once it marked the proxy down (its first
        # failed connection or two failed checks); until then the attempt fails or times out
        assert result["liveness"]["status_code"] in (503, None), result["liveness"]
        assert result["liveness"]["error"], result["liveness"]

        result, failed = _run(host, "health_info", url=BASE, wait_for="alive", wait_timeout=4, wait_interval=1, timeout=2)
        assert failed
        _no_traceback(result)
        assert result["msg"].startswith(f"The proxy at {BASE} was not alive within 4.0 s")
        assert "Last seen: liveliness: " in result["msg"]

        for module in ("model_probe", "metrics_info"):
            result, failed = _run(host, module, url=BASE, api_key=key, timeout=3)
            assert failed, module
            _no_traceback(result)
            assert "503" in result["msg"] or result["msg"].startswith("Cannot "), result["msg"]
    finally:
        host.check_output("docker start %s", container)
        result, failed = _run(host, "health_info", url=BASE, wait_for="ready", wait_timeout=240, wait_interval=2)
        _wait_docker_healthy(host, container)
    assert not failed, result.get("msg")
    assert result["ready"] is True and result["wait"]["attempts"] >= 1
