# -*- coding: utf-8 -*-
"""health_info against a stub proxy on 127.0.0.1: what it returns, when it fails and why."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from ansible_collections.gatewayops.litellm.plugins.module_utils._docker import DEFAULT_SOCKET
from ansible_collections.gatewayops.litellm.plugins.modules import health_info

from test__docker import FakeContainer, FakeEngine

KEY = "sk-master"


def test_ready_proxy_with_details(stub, run):
    stub.healthy()
    result = run(health_info, {"url": stub.url, "api_key": KEY, "details": True})
    assert "failed" not in result and result["changed"] is False
    assert (result["alive"], result["ready"], result["state"]) == (True, True, "ready")
    assert (result["db"], result["cache"], result["version"]) == ("Not connected", "redis", "1.108.7")
    assert result["details"]["success_callbacks"] == ["PrometheusLogger"]
    assert result["readiness"]["body"] == {"status": "healthy", "db": "Not connected"}
    assert result["liveness"]["status_code"] == 200 and result["liveness"]["error"] is None
    assert result["error"] == ""
    assert set(result["timings"]) == {"liveness_ms", "readiness_ms", "details_ms", "deep_ms", "total_ms"}
    assert result["timings"]["deep_ms"] is None and result["timings"]["total_ms"] >= result["timings"]["liveness_ms"]
    assert "wait" not in result and "deep" not in result
    assert KEY not in json.dumps(result)
    assert [r["headers"].get("authorization") for r in stub.requests] == [None, None, "Bearer " + KEY]


def test_without_details_the_key_is_not_sent_and_version_is_null(stub, run):
    stub.healthy()
    result = run(health_info, {"url": stub.url, "api_key": KEY})
    assert result["version"] is None and "details" not in result
    assert [(r["path"], r["headers"].get("authorization")) for r in stub.requests] == [
        ("/health/liveliness", None), ("/health/readiness", None)]


def test_not_ready_is_data_not_a_failure(stub, run):
    stub.route("GET", "/health/liveliness", body="I'm alive!")
    stub.route("GET", "/health/readiness", status=503, body={"status": "unhealthy", "db": "disconnected"})
    result = run(health_info, {"url": stub.url})
    assert "failed" not in result
    assert (result["alive"], result["ready"], result["state"], result["db"]) == (True, False, "alive", "disconnected")
    assert result["error"] == 'HTTP 503: {"status": "unhealthy", "db": "disconnected"}'


def test_unreachable_proxy_is_down_without_a_traceback(run):
    result = run(health_info, {"url": "http://127.0.0.1:1", "timeout": 2})
    assert "failed" not in result and "exception" not in result
    assert (result["alive"], result["ready"], result["state"]) == (False, False, "down")
    assert result["error"] == "connection refused (GET http://127.0.0.1:1/health/liveliness)"
    assert result["readiness"]["error"] == "not checked: the proxy is not alive"
    assert result["readiness"]["status_code"] is None


def test_wait_for_ready_until_it_is(stub, run):
    calls = {"n": 0}

    def readiness(_request):
        calls["n"] += 1
        if calls["n"] < 3:
            return 503, {}, {"status": "unhealthy", "db": "disconnected"}
        return 200, {}, {"status": "healthy", "db": "connected"}

    stub.route("GET", "/health/liveliness", body="I'm alive!")
    stub.handle("GET", "/health/readiness", readiness)
    result = run(health_info, {"url": stub.url, "wait_for": "ready", "wait_timeout": 10, "wait_interval": 0.05})
    assert "failed" not in result
    assert result["ready"] is True and result["db"] == "connected"
    assert result["wait"]["condition"] == "ready" and result["wait"]["met"] is True
    assert result["wait"]["attempts"] == 3
    assert 0 < result["wait"]["elapsed_s"] < 5


def test_wait_for_timeout_fails_with_what_was_seen_last(stub, run):
    stub.route("GET", "/health/liveliness", body="I'm alive!")
    stub.route("GET", "/health/readiness", status=503, body={"status": "unhealthy", "db": "disconnected"})
    result = run(health_info, {"url": stub.url, "wait_for": "ready", "wait_timeout": 0.5, "wait_interval": 0.1})
    assert result["failed"] is True
    assert result["msg"].startswith("The proxy at %s was not ready within 0.5 s (" % stub.url)
    assert result["msg"].endswith('Last seen: liveliness: HTTP 200: "I\'m alive!"; '
                                  'readiness: HTTP 503: {"status": "unhealthy", "db": "disconnected"}.')
    assert result["wait"]["met"] is False and result["wait"]["attempts"] >= 2
    assert result["ready"] is False


def test_wait_for_alive_on_a_closed_port_reports_the_connection_error(run):
    result = run(health_info, {"url": "http://127.0.0.1:1", "wait_for": "alive", "wait_timeout": 0.3, "wait_interval": 0.1})
    assert result["failed"] is True
    assert "was not alive within 0.3 s" in result["msg"]
    assert "Last seen: liveliness: connection refused (GET http://127.0.0.1:1/health/liveliness)." in result["msg"]


def test_refused_key_fails_clearly(stub, run):
    stub.healthy()
    result = run(health_info, {"url": stub.url, "api_key": "sk-wrong", "details": True})
    assert result["failed"] is True
    assert result["msg"] == ("The proxy refused the API key for /health/readiness/details: HTTP 400 (No connected db.); "
                             "LiteLLM without a database accepts only its master key; this key is not it.")
    assert result["alive"] is True  # what was learned before stays in the result


def test_details_and_deep_need_a_key(run):
    for option in ("details", "deep"):
        result = run(health_info, {"url": "http://127.0.0.1:1", option: True})
        assert result["failed"] is True
        assert result["msg"] == "%s is True but all of the following are missing: api_key" % option


def test_deep_health_is_sanitized_and_limited_to_a_model(stub, run):
    stub.healthy()
    stub.keyed("GET", "/health?model=gpt%2F4o", {
        "healthy_endpoints": [],
        "unhealthy_endpoints": [{"model": "openai/gpt-4o", "api_key": "sk-provider", "api_base": "https://api.openai.com",
                                 "error": "litellm.AuthenticationError: bad key\nstack trace: Traceback (most recent call last):"}],
        "healthy_count": 0, "unhealthy_count": 1})
    result = run(health_info, {"url": stub.url, "api_key": KEY, "deep": True, "deep_model": "gpt/4o"})
    assert "failed" not in result
    deep = result["deep"]
    assert (deep["status_code"], deep["healthy_count"], deep["unhealthy_count"]) == (200, 0, 1)
    assert deep["unhealthy_endpoints"] == [{"model": "openai/gpt-4o", "api_base": "https://api.openai.com",
                                            "error": "bad key stack trace: Traceback (most recent call last):"}]
    assert "sk-provider" not in json.dumps(result)
    assert result["timings"]["deep_ms"] is not None


def test_deep_model_needs_deep(run):
    result = run(health_info, {"url": "http://127.0.0.1:1", "deep_model": "x"})
    assert result["failed"] is True and "deep_model" in result["msg"]


def test_malformed_url_fails_before_any_request(run):
    result = run(health_info, {"url": "htp//127.0.0.1:4000"})
    assert result == {"failed": True, "msg": "url 'htp//127.0.0.1:4000' must start with http:// or https://",
                      "invocation": result["invocation"]}


def test_check_mode_runs_the_same(stub, run):
    stub.healthy()
    result = run(health_info, {"url": stub.url, "_ansible_check_mode": True})
    assert result["ready"] is True and result["changed"] is False


# Crash-loop detection: the container that serves the URL, on a fake Docker engine
# (test__docker.FakeEngine on a unix socket).

@pytest.fixture
def engine():
    fake = FakeEngine().start()
    yield fake
    fake.stop()


def watched(stub, engine, **extra):
    return dict({"url": stub.url, "wait_for": "ready", "wait_timeout": 30, "wait_interval": 0.05,
                 "container": "litellm", "docker_socket": engine.path}, **extra)


def crash_looping(stub, engine, ready_after=None):
    """A container that restarts (exit code 1) at each liveness check, until `ready_after` checks."""
    container = engine.add(FakeContainer("litellm"))
    calls = {"n": 0}

    def liveness(_request):
        calls["n"] += 1
        if ready_after is not None and calls["n"] > ready_after:
            container.status = "running"
            return 200, {}, "I'm alive!"
        container.restart_count += 1
        container.status, container.exit_code = "restarting", 1
        return 503, {}, {"detail": "starting"}

    def readiness(_request):
        if container.status == "running":
            return 200, {}, {"status": "healthy", "db": "Not connected"}
        return 503, {}, {"detail": "starting"}

    stub.handle("GET", "/health/liveliness", liveness)
    stub.handle("GET", "/health/readiness", readiness)
    return container


def test_a_crash_looping_container_fails_the_wait_at_once(stub, engine, run):
    crash_looping(stub, engine)
    result = run(health_info, watched(stub, engine))
    assert result["failed"] is True
    assert re.match(r"The container litellm restarted 1 time in [0-9.]+ s \(exit code 1, status restarting\): it "
                    r"crash-loops\. The proxy at %s: liveliness: HTTP 503: .*\(1 checks\)\.$" % re.escape(stub.url),
                    result["msg"]), result["msg"]
    assert result["wait"]["met"] is False and result["wait"]["attempts"] == 1 and result["wait"]["restarts"] == 1
    assert result["wait"]["elapsed_s"] < 5
    assert result["container"]["status"] == "restarting" and result["container"]["restart_count"] == 1
    assert result["container"]["exit_code"] == 1 and result["container"]["name"] == "litellm"


def test_max_restarts_are_tolerated(stub, engine, run):
    crash_looping(stub, engine)
    result = run(health_info, watched(stub, engine, max_restarts=2))
    assert result["failed"] is True and result["wait"]["attempts"] == 3
    assert result["msg"].startswith("The container litellm restarted 3 times in ")


def test_restarts_within_the_tolerance_then_ready(stub, engine, run):
    crash_looping(stub, engine, ready_after=1)
    result = run(health_info, watched(stub, engine, max_restarts=1))
    assert "failed" not in result and result["ready"] is True
    assert result["wait"] == dict(result["wait"], met=True, attempts=2, restarts=1)
    assert result["container"]["status"] == "running"


def test_a_healthy_container_changes_nothing(stub, engine, run):
    stub.healthy()
    engine.add(FakeContainer("litellm", restart_count=4))  # restarts before the wait do not count
    result = run(health_info, watched(stub, engine))
    assert "failed" not in result and result["ready"] is True
    assert result["wait"]["restarts"] == 0 and result["container"]["restart_count"] == 4
    assert [r[1] for r in engine.requests] == ["/containers/litellm/json"] * 2


def test_a_container_that_exited(stub, engine, run):
    container = engine.add(FakeContainer("litellm"))

    def liveness(_request):
        container.status, container.exit_code = "exited", 3
        container.oom_killed = True
        return 502, {}, {"detail": "down"}

    stub.handle("GET", "/health/liveliness", liveness)
    stub.route("GET", "/health/readiness", status=502, body={})
    result = run(health_info, watched(stub, engine, wait_for="alive"))
    assert result["failed"] is True
    assert re.match(r"The container litellm stopped [0-9.]+ s into the wait \(status exited, exit code 3, OOM killed\): "
                    r"it will not answer\. ", result["msg"]), result["msg"]
    assert result["container"]["status"] == "exited" and result["wait"]["attempts"] == 1


def test_a_container_that_is_dead_before_the_wait(stub, engine, run):
    stub.healthy()
    engine.add(FakeContainer("litellm", status="dead", exit_code=137))
    result = run(health_info, watched(stub, engine))
    assert result["failed"] is True and result["msg"].startswith("The container litellm stopped 0.0 s into the wait "
                                                                 "(status dead, exit code 137)")
    assert result["wait"]["attempts"] == 0 and stub.requests == []


def test_a_container_that_disappears(stub, engine, run):
    engine.add(FakeContainer("litellm"))

    def liveness(_request):
        engine.remove("litellm")
        return 503, {}, {}

    stub.handle("GET", "/health/liveliness", liveness)
    stub.route("GET", "/health/readiness", status=503, body={})
    result = run(health_info, watched(stub, engine))
    assert result["failed"] is True
    assert re.match(r"The container litellm is gone: removed [0-9.]+ s into the wait \(last seen with status running, "
                    r"exit code 0\)\.", result["msg"]), result["msg"]
    assert result["container"]["status"] == "running"


def test_no_such_container(stub, engine, run):
    stub.healthy()
    result = run(health_info, watched(stub, engine, container="nope"))
    assert result["failed"] is True
    assert result["msg"] == "There is no container nope (Docker engine at %s)." % engine.path
    assert result["container"] is None and stub.requests == []


def test_a_container_recreated_under_its_name_is_followed(stub, engine, run):
    first = engine.add(FakeContainer("litellm", restart_count=5))
    calls = {"n": 0}

    def readiness(_request):
        calls["n"] += 1
        if calls["n"] == 1:
            engine.add(FakeContainer("litellm", restart_count=0))
            return 503, {}, {"status": "unhealthy"}
        return 200, {}, {"status": "healthy", "db": "Not connected"}

    stub.route("GET", "/health/liveliness", body="I'm alive!")
    stub.handle("GET", "/health/readiness", readiness)
    result = run(health_info, watched(stub, engine))
    assert "failed" not in result and result["wait"]["restarts"] == 0
    assert result["container"]["id"] != first.id and result["container"]["restart_count"] == 0


def test_no_docker_engine(stub, run, tmp_path):
    stub.healthy()
    result = run(health_info, {"url": stub.url, "wait_for": "ready", "container": "litellm",
                               "docker_socket": str(tmp_path / "docker.sock")})
    assert result["failed"] is True
    assert result["msg"].startswith("Cannot inspect the container litellm: cannot talk to the Docker engine: there is "
                                    "no socket ")


def test_without_wait_for_the_container_is_not_inspected(stub, engine, run):
    stub.healthy()
    engine.add(FakeContainer("litellm", status="exited"))
    result = run(health_info, {"url": stub.url, "container": "litellm", "docker_socket": engine.path})
    assert "failed" not in result and "container" not in result and engine.requests == []


def test_without_container_the_wait_reports_no_restarts(stub, run):
    stub.healthy()
    result = run(health_info, {"url": stub.url, "wait_for": "ready"})
    assert "container" not in result and set(result["wait"]) == {"condition", "met", "attempts", "elapsed_s"}


def test_max_restarts_must_not_be_negative(run):
    result = run(health_info, {"url": "http://127.0.0.1:1", "max_restarts": -1})
    assert result["failed"] is True and result["msg"] == "max_restarts must be 0 or more, got -1"


def test_the_new_options_are_documented():
    documented = yaml.safe_load(health_info.DOCUMENTATION)["options"]
    assert documented["container"]["type"] == "str" and "default" not in documented["container"]
    assert (documented["max_restarts"]["type"], documented["max_restarts"]["default"]) == ("int", 0)
    assert (documented["docker_socket"]["type"], documented["docker_socket"]["default"]) == ("path", DEFAULT_SOCKET)
