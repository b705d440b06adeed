# -*- coding: utf-8 -*-
"""The shared HTTP transport: URL validation, the client and its Response. Client tests talk
to a real socket (litellm_stub.StubProxy on 127.0.0.1)."""

from __future__ import annotations

import socket

import pytest
import yaml

from ansible_collections.gatewayops.litellm.plugins.doc_fragments.connection import ModuleDocFragment
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


class TestConnectionOptions:
    def test_the_doc_fragment_documents_the_argument_spec(self):
        documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
        spec = h.connection_argument_spec()
        assert sorted(documented) == sorted(spec)
        for name, option in spec.items():
            assert documented[name]["type"] == option["type"], name
            assert documented[name].get("default") == option.get("default"), name
        assert spec["url"]["default"] == h.DEFAULT_URL and spec["api_key"]["no_log"] is True


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

    def test_credentials_are_refused_without_repeating_them(self):
        with pytest.raises(ValueError) as err:
            h.validate_base_url("https://alice:s3cr3t@llm.example.com/litellm")
        assert str(err.value) == "url must not carry credentials; pass the key as api_key"

    @pytest.mark.parametrize("url, message", [
        ("htp://alice:s3cr3t@127.0.0.1:4000", "url 'htp://***@127.0.0.1:4000' must start with http:// or https://"),
        ("http://alice:s3cr3t@127.0.0.1:99999", "url 'http://***@127.0.0.1:99999' is not a valid URL"),
        ("http://alice:s3cr3t@[::1:4000", "url 'http://***@[::1:4000' is not a valid URL"),
    ])
    def test_credentials_of_an_otherwise_invalid_url_are_masked(self, url, message):
        with pytest.raises(ValueError) as err:
            h.validate_base_url(url)
        assert str(err.value).startswith(message)
        assert "alice" not in str(err.value) and "s3cr3t" not in str(err.value)

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
        assert [r["headers"].get("authorization") for r in stub.requests] == [None, None]

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
