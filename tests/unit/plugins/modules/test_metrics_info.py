# -*- coding: utf-8 -*-
"""metrics_info against a stub proxy serving /metrics captured from LiteLLM 1.108.7."""

from __future__ import annotations

import json
from pathlib import Path

from ansible_collections.gatewayops.litellm.plugins.module_utils._stats import empty_summary
from ansible_collections.gatewayops.litellm.plugins.modules import metrics_info

KEY = "sk-master"
FIXTURE = (Path(__file__).resolve().parents[2] / "fixtures" / "litellm-1.108.7-metrics.txt").read_bytes()
TEXT = {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}


def _litellm_metrics(stub, key=KEY):
    """/metrics/ like LiteLLM 1.108.7: 401 without the key, /metrics redirects to /metrics/."""
    def metrics(request):
        if request["headers"].get("authorization") != "Bearer " + key:
            return 401, {}, ("Unauthorized access to metrics endpoint: Authentication Error, Malformed API Key passed in. "
                             "Ensure Key has `Bearer ` prefix.")
        return 200, TEXT, FIXTURE

    def redirect(request):
        if request["headers"].get("authorization") != "Bearer " + key:
            return 401, {}, "Unauthorized access to metrics endpoint"
        return 307, {"Location": stub.url + "/metrics/"}, b""

    stub.handle("GET", "/metrics/", metrics)
    stub.handle("GET", "/metrics", redirect)


def test_scrape_and_summary(stub, run):
    _litellm_metrics(stub)
    result = run(metrics_info, {"url": stub.url, "api_key": KEY})
    assert "failed" not in result and result["changed"] is False
    assert result["url"] == stub.url + "/metrics/"
    assert result["scrape"]["status_code"] == 200 and result["scrape"]["bytes"] == len(FIXTURE)
    assert result["scrape"]["families"] == FIXTURE.count(b"\n# TYPE ") + FIXTURE.startswith(b"# TYPE ")
    assert result["requests"]["total"] == 20 and result["failures"]["total"] == 9
    assert result["latency_ms"]["total"]["p50"] == 205.0
    # the summary shape every module reports; a histogram keeps no minimum or maximum
    for name, stats in list(result["latency_ms"].items()) + list(result["latency_by_model_ms"].items()):
        assert list(stats) == list(empty_summary()), name
        assert stats["min"] is None and stats["max"] is None
    assert result["cache"]["hit_rate"] == round(2 / 11, 4)
    assert result["deployment_states"]["partial_outage"] == 5
    assert result["in_flight_requests"] == 1
    assert result["families"] == {}
    assert KEY not in json.dumps(result)


def test_follows_the_redirect_of_metrics_without_slash(stub, run):
    _litellm_metrics(stub)
    result = run(metrics_info, {"url": stub.url, "api_key": KEY, "path": "metrics"})
    assert result["url"] == stub.url + "/metrics/"
    assert [r["path"] for r in stub.requests] == ["/metrics", "/metrics/"]


def test_selected_families_are_returned_raw(stub, run):
    _litellm_metrics(stub)
    result = run(metrics_info, {"url": stub.url, "api_key": KEY, "families": ["litellm_deployment_state", "litellm_in_flight*"]})
    assert sorted(result["families"]) == ["litellm_deployment_state", "litellm_in_flight_requests"]
    state = result["families"]["litellm_deployment_state"]
    assert state["type"] == "gauge" and len(state["samples"]) == 9
    assert result["families"]["litellm_in_flight_requests"]["samples"] == [
        {"name": "litellm_in_flight_requests", "labels": {}, "value": 1}]


def test_missing_key_says_so(stub, run):
    _litellm_metrics(stub)
    result = run(metrics_info, {"url": stub.url})
    assert result["failed"] is True
    assert result["msg"].startswith("The proxy refused the API key for %s/metrics/: HTTP 401 (Unauthorized access" % stub.url)
    assert result["msg"].endswith("; no api_key was given.")


def test_wrong_key(stub, run):
    _litellm_metrics(stub)
    result = run(metrics_info, {"url": stub.url, "api_key": "sk-wrong"})
    assert result["failed"] is True and result["msg"].endswith("; check api_key.")


def test_separate_metrics_port_without_key(stub, run):
    stub.route("GET", "/metrics/", body=FIXTURE, headers=TEXT)
    result = run(metrics_info, {"metrics_url": stub.url + "/metrics/"})
    assert "failed" not in result and result["url"] == stub.url + "/metrics/"
    assert "authorization" not in stub.requests[0]["headers"]


def test_no_prometheus_callback(stub, run):
    result = run(metrics_info, {"url": stub.url, "api_key": KEY})
    assert result["failed"] is True
    assert "HTTP 404" in result["msg"] and "litellm_settings.callbacks: [prometheus]" in result["msg"]


def test_not_prometheus_text(stub, run):
    stub.route("GET", "/metrics/", body=b"<html>\n<body>login</body>\n</html>\n", headers={"Content-Type": "text/html"})
    result = run(metrics_info, {"url": stub.url})
    assert result["failed"] is True
    assert result["msg"] == ("The answer of %s/metrics/ is not Prometheus text: line 1: "
                             "a sample must start with a metric name" % stub.url)


def test_too_large(stub, run):
    stub.route("GET", "/metrics/", body=FIXTURE, headers=TEXT)
    result = run(metrics_info, {"url": stub.url, "max_bytes": 4096})
    assert result["failed"] is True and "larger than max_bytes (4096)" in result["msg"]


def test_unreachable(run):
    result = run(metrics_info, {"url": "http://127.0.0.1:1", "api_key": KEY})
    assert result["failed"] is True and "exception" not in result
    assert result["msg"] == ("Cannot read the metrics at http://127.0.0.1:1/metrics/: "
                             "connection refused (GET http://127.0.0.1:1/metrics/)")
