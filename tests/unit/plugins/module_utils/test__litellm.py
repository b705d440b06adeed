# -*- coding: utf-8 -*-
"""What LiteLLM's answers mean (_litellm): error classes and messages, refused keys, the model
list, timing headers, credentials removed, and probes (against litellm_stub.StubProxy on
127.0.0.1); the rest is pure logic."""

from __future__ import annotations

import json

import pytest

from ansible_collections.gatewayops.litellm.plugins.module_utils import _http as h
from ansible_collections.gatewayops.litellm.plugins.module_utils import _litellm as lt

from litellm_stub import StubProxy


@pytest.fixture
def stub():
    server = StubProxy().start()
    yield server
    server.stop()


def _response(status, body, headers=None):
    return h.Response("http://x", status, headers or {}, json.dumps(body).encode() if not isinstance(body, bytes) else body)


class TestLiteLLMAnswers:
    def test_error_info_names_the_litellm_exception(self):
        body = {"error": {"message": "litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached, retry later."
                          "\n\nLiteLLM: model group 'fake-fail-429' failed with the error above. No fallback was attempted.",
                          "type": "throttling_error", "param": None, "code": "429"}}
        assert lt.error_info(_response(429, body)) == ("RateLimitError", "OpenAIException - Rate limit reached, retry later.")

    def test_error_info_falls_back_to_type_then_status(self):
        assert lt.error_info(_response(400, {"error": {"message": "No connected db.", "type": "no_db_connection"}})) == (
            "no_db_connection", "No connected db.")
        assert lt.error_info(_response(404, {"detail": "Not Found"})) == ("HTTP404", "Not Found")
        assert lt.error_info(_response(502, b"<html>Bad gateway</html>")) == ("HTTP502", "<html>Bad gateway</html>")
        assert lt.error_info(_response(401, "Unauthorized access to metrics endpoint")) == (
            "HTTP401", "Unauthorized access to metrics endpoint")

    def test_error_info_of_a_network_failure(self):
        failure = h.Response("http://x", error="timed out (POST http://x)", error_kind="timeout")
        assert lt.error_info(failure) == ("Timeout", "timed out (POST http://x)")
        refused = h.Response("http://x", error="connection refused", error_kind="refused")
        assert lt.error_info(refused)[0] == "ConnectionRefused"

    def test_clean_message_is_one_bounded_line(self):
        text = "litellm.Timeout: APITimeoutError - Request timed out.\n  more\n\nDeployment Info: x"
        assert lt.clean_message(text) == "APITimeoutError - Request timed out. more"
        assert len(lt.clean_message("y" * 1000)) == h.MESSAGE_LIMIT + 3

    @pytest.mark.parametrize("status, body, rejected", [
        (401, {"error": {"type": "auth_error"}}, True),
        (403, {"detail": "forbidden"}, True),
        (400, {"error": {"message": "No connected db.", "type": "no_db_connection"}}, True),
        (400, {"error": {"message": "Invalid model name", "type": "invalid_request_error"}}, False),
        (500, {"error": {"type": "internal_server_error"}}, False),
        (200, {}, False),
    ])
    def test_auth_rejected(self, status, body, rejected):
        assert lt.auth_rejected(_response(status, body)) is rejected

    def test_auth_message_explains_without_the_key(self):
        no_db = _response(400, {"error": {"message": "No connected db.", "type": "no_db_connection"}})
        message = lt.auth_message(no_db, "/v1/models", True)
        assert message == ("The proxy refused the API key for /v1/models: HTTP 400 (No connected db.); "
                           "LiteLLM without a database accepts only its master key; this key is not it.")
        assert "no api_key was given" in lt.auth_message(_response(401, "Unauthorized"), "/metrics/", False)

    def test_sanitize_drops_credentials_and_shortens_errors(self):
        value = {"healthy_endpoints": [{"model": "m", "api_key": "sk-x", "api_base": "b", "max_tokens": 5}],
                 "unhealthy_endpoints": [{"model": "n", "error": "boom\n\nstack trace: Traceback ...",
                                          "aws_secret_access_key": "s", "vertex_credentials": "c", "Authorization": "a"}]}
        assert lt.sanitize(value) == {"healthy_endpoints": [{"model": "m", "api_base": "b", "max_tokens": 5}],
                                      "unhealthy_endpoints": [{"model": "n", "error": "boom"}]}

    def test_model_list_reads_ids_and_modes(self):
        body = {"data": [{"id": "fake-chat"}, {"id": "fake-embedding", "mode": "embedding"}, {"nope": 1}, "x"],
                "object": "list"}
        assert lt.model_list(_response(200, body)) == [("fake-chat", None), ("fake-embedding", "embedding")]
        assert lt.model_list(_response(200, b"not json")) == []

    def test_header_float(self):
        response = _response(200, {}, {"x-litellm-overhead-duration-ms": "6.182816441196337", "x-bad": "n/a"})
        assert lt.header_float(response, "x-litellm-overhead-duration-ms") == 6.183
        assert lt.header_float(response, "x-bad") is None
        assert lt.header_float(response, "x-missing") is None


class TestProbeRequests:
    def test_chat_probe_is_minimal_and_bypasses_cache_and_retries(self):
        path, payload = lt.probe_request("m", "chat", timeout=12.0)
        assert path == "/v1/chat/completions"
        assert payload == {"model": "m", "messages": [{"role": "user", "content": "ping"}], "max_tokens": 1,
                           "num_retries": 0, "cache": {"no-cache": True, "no-store": True}, "timeout": 12.0}

    def test_embedding_probe(self):
        path, payload = lt.probe_request("e", "embedding", text="hello", retries=None, bypass_cache=False)
        assert (path, payload) == ("/v1/embeddings", {"model": "e", "input": "hello"})

    def test_other_modes_are_not_probed(self):
        with pytest.raises(ValueError, match="mode 'rerank' is not probed"):
            lt.probe_request("r", "rerank")

    def test_probe_ok_reads_litellm_timing_headers(self, stub):
        stub.route("POST", "/v1/chat/completions", body={"id": "chatcmpl-1", "choices": []},
                   headers={"x-litellm-overhead-duration-ms": "6.5", "x-litellm-response-duration-ms": "110.25",
                            "x-litellm-model-id": "abc"})
        result = lt.probe(h.Client(stub.url, api_key="k"), "fake-chat", "chat", timeout=5.0)
        assert result["status"] == "ok" and result["http_status"] == 200
        assert (result["overhead_ms"], result["response_ms"], result["model_id"]) == (6.5, 110.25, "abc")
        assert result["latency_ms"] > 0 and result["error_class"] is None
        assert stub.requests[-1]["json"]["timeout"] == 5.0

    def test_probe_failure_carries_class_and_message(self, stub):
        stub.route("POST", "/v1/embeddings", status=500, body={"error": {
            "message": "litellm.InternalServerError: InternalServerError: OpenAIException - The server had an error.",
            "type": "internal_server_error", "code": "500"}})
        result = lt.probe(h.Client(stub.url, api_key="k"), "emb", "embedding")
        assert (result["status"], result["http_status"], result["error_class"], result["overhead_ms"]) == (
            "failed", 500, "InternalServerError", None)
        assert result["error_message"] == "OpenAIException - The server had an error."

    def test_probe_of_a_non_json_success_fails(self, stub):
        stub.route("POST", "/v1/chat/completions", body=b"ok", headers={"Content-Type": "text/plain"})
        result = lt.probe(h.Client(stub.url, api_key="k"), "m", "chat")
        assert (result["status"], result["error_class"]) == ("failed", "InvalidResponse")

    def test_probe_skips_unprobed_modes_without_a_request(self, stub):
        result = lt.probe(h.Client(stub.url, api_key="k"), "img", "image_generation")
        assert result["status"] == "skipped" and "not probed" in result["error_message"]
        assert stub.requests == []
