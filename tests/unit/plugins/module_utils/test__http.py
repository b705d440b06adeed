# -*- coding: utf-8 -*-
"""The shared HTTP client and LiteLLM answer helpers. Client tests talk to a real socket
(litellm_stub.StubProxy on 127.0.0.1); the rest is pure logic."""

from __future__ import annotations

import socket

import pytest

from ansible_collections.gatewayops.litellm.plugins.module_utils import _http as h

from litellm_stub import StubProxy


@pytest.fixture
def stub():
    server = StubProxy().start()
    yield server
    server.stop()


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _response(status, body, headers=None):
    import json
    return h.Response("http://x", status, headers or {}, json.dumps(body).encode() if not isinstance(body, bytes) else body)


class TestUrlValidation:
    @pytest.mark.parametrize("url, expected", [
        ("http://127.0.0.1:4000", "http://127.0.0.1:4000"),
        ("https://llm.example.com/", "https://llm.example.com"),
        (" http://[::1]:4000/litellm/ ", "http://[::1]:4000/litellm"),
    ])
    def test_accepts_http_and_https_and_strips_the_slash(self, url, expected):
        assert h.validate_base_url(url) == expected

    @pytest.mark.parametrize("url, message", [
        ("", "url is empty"),
        ("htp://127.0.0.1:4000", "must start with http:// or https://"),
        ("127.0.0.1:4000", "must start with http:// or https://"),
        ("http//127.0.0.1:4000", "must start with http:// or https://"),
        ("http://", "has no host name"),
        ("http://127.0.0.1:99999", "is not a valid URL"),
        ("http://127.0.0.1:4000:1", "is not a valid URL"),
        ("http://127.0.0.1:0", "has port 0"),
        ("http://user:pw@127.0.0.1:4000", "must not carry credentials"),
        ("http://127.0.0.1:4000/?a=1", "must not have a query"),
        ("http://127.0.0.1:4000/a b", "contains white space"),
        ("http://[::1:4000", "is not a valid URL"),
    ])
    def test_rejects_with_a_message_that_says_why(self, url, message):
        with pytest.raises(ValueError) as err:
            h.validate_base_url(url)
        assert message in str(err.value)
        assert "pw" not in str(err.value) or "credentials" in str(err.value)

    def test_client_rejects_a_non_positive_timeout(self):
        with pytest.raises(ValueError, match="timeout must be a positive"):
            h.Client("http://127.0.0.1:4000", timeout=0)

    def test_url_for_joins_paths(self):
        client = h.Client("http://127.0.0.1:4000/prefix/")
        assert client.url_for("/health/liveliness") == "http://127.0.0.1:4000/prefix/health/liveliness"
        assert client.url_for("metrics/") == "http://127.0.0.1:4000/prefix/metrics/"
        assert client.url_for("") == "http://127.0.0.1:4000/prefix"


class TestClient:
    def test_get_json_with_key_and_user_agent(self, stub):
        stub.route("GET", "/v1/models", body={"data": [{"id": "a"}]})
        response = h.Client(stub.url, api_key="sk-master", agent="tests").get("/v1/models")
        assert response.ok and response.status == 200
        assert response.json() == {"data": [{"id": "a"}]}
        assert response.elapsed_ms > 0
        sent = stub.requests[-1]["headers"]
        assert sent["authorization"] == "Bearer sk-master"
        assert sent["user-agent"] == "gatewayops.litellm/tests"

    def test_no_key_when_auth_is_off_or_no_key(self, stub):
        stub.route("GET", "/health/liveliness", body="I'm alive!")
        h.Client(stub.url, api_key="sk-master").get("/health/liveliness", auth=False)
        h.Client(stub.url).get("/health/liveliness")
        assert all("authorization" not in r["headers"] for r in stub.requests)

    def test_post_sends_json(self, stub):
        stub.route("POST", "/v1/chat/completions", body={"id": "x"})
        response = h.Client(stub.url, api_key="k").post("/v1/chat/completions", {"model": "m"})
        assert response.ok
        assert stub.requests[-1]["json"] == {"model": "m"}
        assert stub.requests[-1]["headers"]["content-type"] == "application/json"

    def test_http_errors_are_answers_not_exceptions(self, stub):
        stub.route("GET", "/health/readiness", status=503, body={"status": "unhealthy", "db": "disconnected"})
        response = h.Client(stub.url).get("/health/readiness")
        assert (response.status, response.ok, response.answered, response.error_kind) == (503, False, True, "http")
        assert response.json()["db"] == "disconnected"
        assert response.describe() == 'HTTP 503: {"status": "unhealthy", "db": "disconnected"}'
        assert response.summary() == {"status_code": 503, "ok": False, "latency_ms": round(response.elapsed_ms, 1),
                                      "error": response.describe()}

    def test_follows_a_same_origin_redirect_with_the_key(self, stub):
        stub.route("GET", "/metrics", status=307, headers={"Location": stub.url + "/metrics/"}, body=b"")
        stub.route("GET", "/metrics/", body=b"# TYPE m gauge\nm 1\n", headers={"Content-Type": "text/plain"})
        response = h.Client(stub.url, api_key="sk-master").get("/metrics")
        assert response.ok and response.url == stub.url + "/metrics/"
        assert response.text() == "# TYPE m gauge\nm 1\n"
        assert [r["headers"].get("authorization") for r in stub.requests] == ["Bearer sk-master"] * 2

    def test_relative_redirects_are_resolved(self, stub):
        stub.route("GET", "/metrics", status=307, headers={"Location": "/metrics/"}, body=b"")
        stub.route("GET", "/metrics/", body=b"m 1\n", headers={"Content-Type": "text/plain"})
        assert h.Client(stub.url).get("/metrics").ok

    def test_does_not_take_the_key_to_another_origin(self, stub):
        other = StubProxy().start()
        try:
            other.route("GET", "/metrics/", body=b"m 1\n", headers={"Content-Type": "text/plain"})
            stub.route("GET", "/metrics", status=307, headers={"Location": other.url + "/metrics/"}, body=b"")
            response = h.Client(stub.url, api_key="sk-master").get("/metrics")
        finally:
            other.stop()
        assert other.requests == []
        assert (response.status, response.ok, response.error_kind) == (307, False, "redirect")
        assert "another origin" in response.error and "sk-master" not in response.error

    def test_redirect_loops_end(self, stub):
        stub.route("GET", "/a", status=307, headers={"Location": "/b"}, body=b"")
        stub.route("GET", "/b", status=307, headers={"Location": "/a"}, body=b"")
        response = h.Client(stub.url).get("/a")
        assert response.error_kind == "redirect" and "more than 3 redirects" in response.error
        assert len(stub.requests) == h.MAX_REDIRECTS + 1

    def test_connection_refused(self):
        port = _closed_port()
        response = h.Client("http://127.0.0.1:%d" % port, timeout=2).get("/health/liveliness")
        assert (response.status, response.answered, response.error_kind) == (None, False, "refused")
        assert response.error == "connection refused (GET http://127.0.0.1:%d/health/liveliness)" % port
        assert response.summary()["error"] == response.error

    def test_timeout(self, stub):
        stub.route("GET", "/slow", body={}, delay=1.5)
        response = h.Client(stub.url, timeout=0.3).get("/slow")
        assert (response.status, response.error_kind) == (None, "timeout")
        assert response.error.startswith("timed out (GET ")
        assert 250 <= response.elapsed_ms < 1400

    def test_unresolvable_host(self):
        response = h.Client("http://name-that-does-not-exist.invalid:4000", timeout=3).get("/health/liveliness")
        assert response.error_kind == "dns"
        assert response.error.startswith("host name not resolved")

    def test_body_is_bounded(self, stub):
        stub.route("GET", "/big", body=b"x" * 5000, headers={"Content-Type": "text/plain"})
        assert len(h.Client(stub.url).get("/big", max_body=100).body) == 100


class TestLiteLLMAnswers:
    def test_error_info_names_the_litellm_exception(self):
        body = {"error": {"message": "litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached, retry later."
                          "\n\nLiteLLM: model group 'fake-fail-429' failed with the error above. No fallback was attempted.",
                          "type": "throttling_error", "param": None, "code": "429"}}
        assert h.error_info(_response(429, body)) == ("RateLimitError", "OpenAIException - Rate limit reached, retry later.")

    def test_error_info_falls_back_to_type_then_status(self):
        assert h.error_info(_response(400, {"error": {"message": "No connected db.", "type": "no_db_connection"}})) == (
            "no_db_connection", "No connected db.")
        assert h.error_info(_response(404, {"detail": "Not Found"})) == ("HTTP404", "Not Found")
        assert h.error_info(_response(502, b"<html>Bad gateway</html>")) == ("HTTP502", "<html>Bad gateway</html>")
        assert h.error_info(_response(401, "Unauthorized access to metrics endpoint")) == (
            "HTTP401", "Unauthorized access to metrics endpoint")

    def test_error_info_of_a_network_failure(self):
        failure = h.Response("http://x", error="timed out (POST http://x)", error_kind="timeout")
        assert h.error_info(failure) == ("Timeout", "timed out (POST http://x)")
        refused = h.Response("http://x", error="connection refused", error_kind="refused")
        assert h.error_info(refused)[0] == "ConnectionRefused"

    def test_clean_message_is_one_bounded_line(self):
        text = "litellm.Timeout: APITimeoutError - Request timed out.\n  more\n\nDeployment Info: x"
        assert h.clean_message(text) == "APITimeoutError - Request timed out. more"
        assert len(h.clean_message("y" * 1000)) == h.MESSAGE_LIMIT + 3

    @pytest.mark.parametrize("status, body, rejected", [
        (401, {"error": {"type": "auth_error"}}, True),
        (403, {"detail": "forbidden"}, True),
        (400, {"error": {"message": "No connected db.", "type": "no_db_connection"}}, True),
        (400, {"error": {"message": "Invalid model name", "type": "invalid_request_error"}}, False),
        (500, {"error": {"type": "internal_server_error"}}, False),
        (200, {}, False),
    ])
    def test_auth_rejected(self, status, body, rejected):
        assert h.auth_rejected(_response(status, body)) is rejected

    def test_auth_message_explains_without_the_key(self):
        no_db = _response(400, {"error": {"message": "No connected db.", "type": "no_db_connection"}})
        message = h.auth_message(no_db, "/v1/models", True)
        assert message == ("The proxy refused the API key for /v1/models: HTTP 400 (No connected db.); "
                           "LiteLLM without a database accepts only its master key; this key is not it.")
        assert "no api_key was given" in h.auth_message(_response(401, "Unauthorized"), "/metrics/", False)

    def test_sanitize_drops_credentials_and_shortens_errors(self):
        value = {"healthy_endpoints": [{"model": "m", "api_key": "sk-x", "api_base": "b", "max_tokens": 5}],
                 "unhealthy_endpoints": [{"model": "n", "error": "boom\n\nstack trace: Traceback ...",
                                          "aws_secret_access_key": "s", "vertex_credentials": "c", "Authorization": "a"}]}
        assert h.sanitize(value) == {"healthy_endpoints": [{"model": "m", "api_base": "b", "max_tokens": 5}],
                                     "unhealthy_endpoints": [{"model": "n", "error": "boom"}]}

    def test_model_list_reads_ids_and_modes(self):
        body = {"data": [{"id": "fake-chat"}, {"id": "fake-embedding", "mode": "embedding"}, {"nope": 1}, "x"],
                "object": "list"}
        assert h.model_list(_response(200, body)) == [("fake-chat", None), ("fake-embedding", "embedding")]
        assert h.model_list(_response(200, b"not json")) == []

    def test_header_float(self):
        response = _response(200, {}, {"x-litellm-overhead-duration-ms": "6.182816441196337", "x-bad": "n/a"})
        assert h.header_float(response, "x-litellm-overhead-duration-ms") == 6.183
        assert h.header_float(response, "x-bad") is None
        assert h.header_float(response, "x-missing") is None


class TestProbeRequests:
    def test_chat_probe_is_minimal_and_bypasses_cache_and_retries(self):
        path, payload = h.probe_request("m", "chat", timeout=12.0)
        assert path == "/v1/chat/completions"
        assert payload == {"model": "m", "messages": [{"role": "user", "content": "ping"}], "max_tokens": 1,
                           "num_retries": 0, "cache": {"no-cache": True, "no-store": True}, "timeout": 12.0}

    def test_embedding_probe(self):
        path, payload = h.probe_request("e", "embedding", text="hello", retries=None, bypass_cache=False)
        assert (path, payload) == ("/v1/embeddings", {"model": "e", "input": "hello"})

    def test_other_modes_are_not_probed(self):
        with pytest.raises(ValueError, match="mode 'rerank' is not probed"):
            h.probe_request("r", "rerank")

    def test_probe_ok_reads_litellm_timing_headers(self, stub):
        stub.route("POST", "/v1/chat/completions", body={"id": "chatcmpl-1", "choices": []},
                   headers={"x-litellm-overhead-duration-ms": "6.5", "x-litellm-response-duration-ms": "110.25",
                            "x-litellm-model-id": "abc"})
        result = h.probe(h.Client(stub.url, api_key="k"), "fake-chat", "chat", timeout=5.0)
        assert result["status"] == "ok" and result["http_status"] == 200
        assert (result["overhead_ms"], result["response_ms"], result["model_id"]) == (6.5, 110.25, "abc")
        assert result["latency_ms"] > 0 and result["error_class"] is None
        assert stub.requests[-1]["json"]["timeout"] == 5.0

    def test_probe_failure_carries_class_and_message(self, stub):
        stub.route("POST", "/v1/embeddings", status=500, body={"error": {
            "message": "litellm.InternalServerError: InternalServerError: OpenAIException - The server had an error.",
            "type": "internal_server_error", "code": "500"}})
        result = h.probe(h.Client(stub.url, api_key="k"), "emb", "embedding")
        assert (result["status"], result["http_status"], result["error_class"], result["overhead_ms"]) == (
            "failed", 500, "InternalServerError", None)
        assert result["error_message"] == "OpenAIException - The server had an error."

    def test_probe_of_a_non_json_success_fails(self, stub):
        stub.route("POST", "/v1/chat/completions", body=b"ok", headers={"Content-Type": "text/plain"})
        result = h.probe(h.Client(stub.url, api_key="k"), "m", "chat")
        assert (result["status"], result["error_class"]) == ("failed", "InvalidResponse")

    def test_probe_skips_unprobed_modes_without_a_request(self, stub):
        result = h.probe(h.Client(stub.url, api_key="k"), "img", "image_generation")
        assert result["status"] == "skipped" and "not probed" in result["error_message"]
        assert stub.requests == []
