# -*- coding: utf-8 -*-
"""health_info against a stub proxy on 127.0.0.1: what it returns, when it fails and why."""

from __future__ import annotations

import json

from ansible_collections.gatewayops.litellm.plugins.modules import health_info

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
