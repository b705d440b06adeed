# -*- coding: utf-8 -*-
"""model_probe against a stub proxy on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time

import pytest

from ansible_collections.gatewayops.litellm.plugins.module_utils._stats import empty_summary
from ansible_collections.gatewayops.litellm.plugins.modules import model_probe

KEY = "sk-master"
ERROR_500 = {"error": {"message": "litellm.InternalServerError: InternalServerError: OpenAIException - The server had an "
                                  "error processing the request.\n\nLiteLLM: model group 'fail-c' failed with the error above.",
                       "type": "internal_server_error", "param": None, "code": "500"}}
OK_HEADERS = {"x-litellm-overhead-duration-ms": "4.25", "x-litellm-response-duration-ms": "20.5", "x-litellm-model-id": "dep-1"}


@pytest.fixture
def proxy(stub):
    """Models: chat-a (ok), emb-b (embedding, ok), fail-c (500), rerank-d (mode rerank), openai/* (wildcard)."""
    stub.keyed("GET", "/v1/models", {"object": "list", "data": [
        {"id": "chat-a", "object": "model"},
        {"id": "emb-b", "object": "model", "mode": "embedding"},
        {"id": "fail-c", "object": "model"},
        {"id": "rerank-d", "object": "model", "mode": "rerank"},
        {"id": "openai/*", "object": "model"},
    ]})

    def chat(request):
        model = request["json"]["model"]
        if model == "fail-c":
            return 500, {}, ERROR_500
        if model == "unknown-z":
            return 400, {}, {"error": {"message": "/chat/completions: Invalid model name passed in model=unknown-z.",
                                       "type": "invalid_request_error", "code": "400"}}
        return 200, OK_HEADERS, {"id": "chatcmpl-1", "object": "chat.completion", "choices": []}

    stub.handle("POST", "/v1/chat/completions", chat)
    stub.route("POST", "/v1/embeddings", body={"object": "list", "data": [{"embedding": [0.1], "index": 0}]},
               headers=OK_HEADERS)
    return stub


def _by_model(result):
    return {r["model"]: r for r in result["models"]}


def test_discovers_and_probes_every_model(proxy, run):
    result = run(model_probe, {"url": proxy.url, "api_key": KEY})
    assert "failed" not in result and result["changed"] is False
    models = _by_model(result)
    assert [r["model"] for r in result["models"]] == ["chat-a", "emb-b", "fail-c", "rerank-d", "openai/*"]
    assert (models["chat-a"]["status"], models["chat-a"]["mode"], models["chat-a"]["http_status"]) == ("ok", "chat", 200)
    assert (models["chat-a"]["overhead_ms"], models["chat-a"]["response_ms"], models["chat-a"]["model_id"]) == (4.25, 20.5, "dep-1")
    assert (models["emb-b"]["status"], models["emb-b"]["mode"]) == ("ok", "embedding")
    assert (models["fail-c"]["status"], models["fail-c"]["http_status"], models["fail-c"]["error_class"]) == (
        "failed", 500, "InternalServerError")
    assert models["fail-c"]["error_message"] == "OpenAIException - The server had an error processing the request."
    assert (models["rerank-d"]["status"], models["openai/*"]["status"]) == ("skipped", "skipped")
    assert "wildcard route" in models["openai/*"]["error_message"]
    assert (result["ok_models"], result["failed_models"], result["skipped_models"]) == (
        ["chat-a", "emb-b"], ["fail-c"], ["rerank-d", "openai/*"])
    summary = result["summary"]
    assert (summary["total"], summary["ok"], summary["failed"], summary["skipped"]) == (5, 2, 1, 2)
    assert summary["latency_ms"]["count"] == 2 and summary["latency_ms"]["p50"] > 0
    assert list(summary["latency_ms"]) == list(summary["overhead_ms"]) == list(empty_summary())
    assert summary["overhead_ms"] == {"count": 2, "min": 4.25, "max": 4.25, "mean": 4.25,
                                      "p50": 4.25, "p90": 4.25, "p95": 4.25, "p99": 4.25}
    assert KEY not in json.dumps(result)


def test_probe_requests_are_minimal(proxy, run):
    run(model_probe, {"url": proxy.url, "api_key": KEY, "probe_timeout": 7})
    bodies = {r["json"]["model"]: (r["path"], r["json"]) for r in proxy.requests if r["method"] == "POST"}
    assert sorted(bodies) == ["chat-a", "emb-b", "fail-c"]  # nothing sent for rerank-d and the wildcard
    assert bodies["chat-a"] == ("/v1/chat/completions", {
        "model": "chat-a", "messages": [{"role": "user", "content": "ping"}], "max_tokens": 1, "num_retries": 0,
        "cache": {"no-cache": True, "no-store": True}, "timeout": 7.0})
    assert bodies["emb-b"] == ("/v1/embeddings", {
        "model": "emb-b", "input": "ping", "num_retries": 0, "cache": {"no-cache": True, "no-store": True}, "timeout": 7.0})


def test_table_lines(proxy, run):
    table = run(model_probe, {"url": proxy.url, "api_key": KEY, "models": ["chat-a", "fail-c"]})["table"]
    assert table[0].split() == ["MODEL", "MODE", "STATUS", "HTTP", "LATENCY", "ERROR"]
    assert table[1].split()[:4] == ["chat-a", "chat", "ok", "200"]
    assert table[2].split()[:4] == ["fail-c", "chat", "failed", "500"]
    assert table[2].endswith("InternalServerError: OpenAIException - The server had an error processing the request.")
    assert table[1].index("ok") == table[2].index("failed")  # columns line up


def test_required_model_failing_fails_with_a_table(proxy, run):
    result = run(model_probe, {"url": proxy.url, "api_key": KEY, "required_models": ["chat-a", "fail-c"]})
    assert result["failed"] is True
    lines = result["msg"].splitlines()
    assert lines[0] == "1 of 2 required model(s) did not answer on %s:" % proxy.url
    assert lines[1].split() == ["MODEL", "MODE", "STATUS", "HTTP", "LATENCY", "ERROR"]
    assert len(lines) == 3 and lines[2].startswith("fail-c ")
    assert result["ok_models"] == ["chat-a", "emb-b"]  # the full result is still returned


def test_required_models_that_answer_pass_and_are_probed_even_when_not_listed(proxy, run):
    result = run(model_probe, {"url": proxy.url, "api_key": KEY, "models": ["emb-b"], "required_models": ["chat-a"]})
    assert "failed" not in result
    assert [r["model"] for r in result["models"]] == ["emb-b", "chat-a"]


def test_a_required_model_the_proxy_does_not_know(proxy, run):
    result = run(model_probe, {"url": proxy.url, "api_key": KEY, "models": [], "required_models": ["unknown-z"]})
    assert result["failed"] is True
    assert "unknown-z" in result["msg"] and "BadRequestError" not in result["msg"]
    assert _by_model(result)["unknown-z"]["error_class"] == "invalid_request_error"


def test_require_all_counts_skipped_models(proxy, run):
    result = run(model_probe, {"url": proxy.url, "api_key": KEY, "require_all": True, "exclude_models": ["fail-c"]})
    assert result["failed"] is True
    assert result["msg"].startswith("2 of 4 required model(s) did not answer")
    assert "rerank-d" in result["msg"] and "openai/*" in result["msg"]


def test_modes_override_and_exclusions(proxy, run):
    result = run(model_probe, {"url": proxy.url, "api_key": KEY, "modes": {"chat-a": "embedding", "emb-b": "skip"},
                               "exclude_models": ["fail-c", "rerank-d", "openai/*"]})
    models = _by_model(result)
    assert sorted(models) == ["chat-a", "emb-b"]
    assert (models["chat-a"]["mode"], models["chat-a"]["status"]) == ("embedding", "ok")
    assert models["emb-b"]["status"] == "skipped"
    assert [r["path"] for r in proxy.requests if r["method"] == "POST"] == ["/v1/embeddings"]


def test_default_mode_for_models_without_one(proxy, run):
    result = run(model_probe, {"url": proxy.url, "api_key": KEY, "models": ["chat-a"], "default_mode": "embedding"})
    assert _by_model(result)["chat-a"]["mode"] == "embedding"


def test_concurrency_is_bounded(stub, run):
    names = ["m%d" % i for i in range(6)]
    stub.keyed("GET", "/v1/models", {"data": [{"id": n} for n in names]})
    state = {"now": 0, "peak": 0}
    lock = threading.Lock()

    def chat(_request):
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.15)
        with lock:
            state["now"] -= 1
        return 200, {}, {"id": "x"}

    stub.handle("POST", "/v1/chat/completions", chat)
    result = run(model_probe, {"url": stub.url, "api_key": KEY, "concurrency": 2})
    assert result["summary"]["ok"] == 6
    assert state["peak"] == 2


def test_probe_timeout(stub, run):
    stub.keyed("GET", "/v1/models", {"data": [{"id": "hangs"}]})
    stub.route("POST", "/v1/chat/completions", body={"id": "late"}, delay=2.0)
    started = time.monotonic()
    result = run(model_probe, {"url": stub.url, "api_key": KEY, "probe_timeout": 0.3})
    model = result["models"][0]
    assert (model["status"], model["http_status"], model["error_class"]) == ("failed", None, "Timeout")
    assert model["error_message"].startswith("timed out (POST ")
    assert time.monotonic() - started < 1.9


def test_refused_key_fails_clearly(proxy, run):
    result = run(model_probe, {"url": proxy.url, "api_key": "sk-wrong"})
    assert result["failed"] is True
    assert result["msg"].startswith("The proxy refused the API key for /v1/models: HTTP 400 (No connected db.)")
    assert not any(r["method"] == "POST" for r in proxy.requests)


def test_unreachable_proxy_fails_clearly(run):
    result = run(model_probe, {"url": "http://127.0.0.1:1", "api_key": KEY})
    assert result["failed"] is True and "exception" not in result
    assert result["msg"] == ("Cannot reach the proxy at http://127.0.0.1:1: "
                             "connection refused (GET http://127.0.0.1:1/v1/models)")


def test_listing_error_fails(stub, run):
    stub.route("GET", "/v1/models", status=500, body={"error": {"message": "boom"}})
    result = run(model_probe, {"url": stub.url, "api_key": KEY})
    assert result["msg"] == 'The proxy at %s could not list its models: HTTP 500: {"error": {"message": "boom"}}' % stub.url


@pytest.mark.parametrize("args, message", [
    ({"concurrency": 0}, "concurrency must be from 1 to 64, got 0"),
    ({"probe_timeout": 0}, "probe_timeout must be positive"),
    ({"retries": -2}, "retries -1 or more"),
    ({"default_mode": "image"}, "value of default_mode must be one of: chat, embedding, got: image"),
    ({"url": "http://127.0.0.1:4000:x"}, "is not a valid URL"),
])
def test_bad_arguments(run, args, message):
    result = run(model_probe, dict({"url": "http://127.0.0.1:1", "api_key": KEY}, **args))
    assert result["failed"] is True and message in result["msg"]


def test_api_key_is_required(run):
    result = run(model_probe, {"url": "http://127.0.0.1:1"})
    assert result["msg"] == "missing required arguments: api_key"
