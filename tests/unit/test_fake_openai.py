"""Tests for the fake OpenAI backend fixture (tests/fixtures/fake_openai/server.py).

The server runs as a subprocess on 127.0.0.1 with an ephemeral port (``--port 0``;
the port is read from its startup line) and is always stopped with SIGTERM, or
killed by PID if it does not exit.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import struct
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ansible_collections.gatewayops.litellm.tests.unit.fake_backend import FakeBackendProcess


class FakeServer(FakeBackendProcess):
    """A running server subprocess with request helpers."""

    def __init__(self, **env: str):
        super().__init__(start_timeout=5, **env)

    def request(self, method: str, path: str, body=None, headers=None, conn=None):
        """Send one request; returns (status, headers, body bytes)."""
        own_conn = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            payload = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
            conn.request(method, path, body=payload, headers={"Content-Type": "application/json", **(headers or {})})
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            if own_conn:
                conn.close()

    def json(self, method: str, path: str, body=None, headers=None, conn=None):
        status, _headers, data = self.request(method, path, body, headers, conn)
        return status, json.loads(data)

    def chat(self, model: str, text: str = "hello", headers=None, **extra):
        body = {"model": model, "messages": [{"role": "user", "content": text}], **extra}
        return self.json("POST", "/v1/chat/completions", body, headers)

    def stats(self) -> dict:
        return self.json("GET", "/stats")[1]

    def reset(self) -> None:
        assert self.json("POST", "/stats/reset")[0] == 200


@pytest.fixture(scope="module")
def server():
    srv = FakeServer()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def secured_server():
    srv = FakeServer(FAKE_API_KEY="sekrit", FAKE_DELAY_S="0.15")
    yield srv
    srv.stop()


def test_chat_completion_shape(server):
    status, headers, data = server.request(
        "POST", "/v1/chat/completions",
        {"model": "gpt-4o-mini", "messages": [{"role": "system", "content": "be brief"},
                                              {"role": "user", "content": "What is the capital of France?"}]})
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert int(headers["Content-Length"]) == len(data)
    body = json.loads(data)
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert isinstance(body["created"], int)
    assert body["model"] == "gpt-4o-mini"
    choice = body["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": "fake response to: What is the capital of France?"}
    assert choice["finish_reason"] == "stop"
    usage = body["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_content_is_deterministic_and_ids_unique(server):
    long_text = "x" * 30 + "y" * 30
    _status, first = server.chat("gpt-4o", long_text)
    _status, second = server.chat("gpt-4o", long_text)
    _status, other = server.chat("gpt-4o", "something else")
    assert first["choices"][0]["message"]["content"] == "fake response to: " + long_text[:40]
    assert second["choices"][0]["message"]["content"] == first["choices"][0]["message"]["content"]
    assert other["choices"][0]["message"]["content"] == "fake response to: something else"
    assert first["id"] != second["id"]


def test_paths_work_without_v1_prefix_and_with_content_parts(server):
    body = {"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "parts"}]}]}
    status, reply = server.json("POST", "/chat/completions", body)
    assert status == 200
    assert reply["choices"][0]["message"]["content"] == "fake response to: parts"


def test_streaming_sse(server):
    body = {"model": "gpt-4o-mini", "stream": True, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "stream me please"}]}
    status, headers, data = server.request("POST", "/v1/chat/completions", body)
    assert status == 200
    assert headers["Content-Type"] == "text/event-stream"
    events = [block for block in data.decode().split("\n\n") if block]
    assert all(event.startswith("data: ") for event in events)
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(event[len("data: "):]) for event in events[:-1]]
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    content_chunks = [c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]
    assert len(content_chunks) >= 3
    assert "".join(c["choices"][0]["delta"]["content"] for c in content_chunks) == "fake response to: stream me please"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0


def test_streaming_without_usage_ends_with_stop(server):
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    _status, _headers, data = server.request("POST", "/v1/chat/completions", body)
    events = [block for block in data.decode().split("\n\n") if block]
    assert events[-1] == "data: [DONE]"
    assert json.loads(events[-2][len("data: "):])["choices"][0]["finish_reason"] == "stop"


def test_embeddings_list_input(server):
    status, body = server.json("POST", "/v1/embeddings", {"model": "text-embedding-3-small", "input": ["a", "b", "a"]})
    assert status == 200
    assert body["object"] == "list" and body["model"] == "text-embedding-3-small"
    assert [item["index"] for item in body["data"]] == [0, 1, 2]
    for item in body["data"]:
        assert item["object"] == "embedding"
        assert len(item["embedding"]) == 8 and all(isinstance(x, float) for x in item["embedding"])
    assert body["data"][0]["embedding"] == body["data"][2]["embedding"] != body["data"][1]["embedding"]
    assert body["usage"]["prompt_tokens"] == body["usage"]["total_tokens"] > 0


def test_embeddings_string_input_and_base64(server):
    _status, floats = server.json("POST", "/embeddings", {"model": "e", "input": "hello"})
    _status, encoded = server.json("POST", "/embeddings", {"model": "e", "input": "hello", "encoding_format": "base64"})
    assert len(floats["data"]) == 1
    decoded = struct.unpack("<8f", base64.b64decode(encoded["data"][0]["embedding"]))
    assert decoded == pytest.approx(floats["data"][0]["embedding"], abs=1e-6)


def test_models(server):
    status, body = server.json("GET", "/v1/models")
    assert status == 200 and body["object"] == "list"
    ids = [model["id"] for model in body["data"]]
    assert "gpt-4o-mini" in ids and len(ids) >= 3
    assert all(model["object"] == "model" for model in body["data"])


@pytest.mark.parametrize("code", [400, 401, 403, 404, 429, 500, 503])
def test_fail_models_return_status(server, code):
    status, headers, data = server.request(
        "POST", "/v1/chat/completions", {"model": f"fail-{code}", "messages": [{"role": "user", "content": "x"}]})
    assert status == code
    assert headers["Content-Type"] == "application/json"
    error = json.loads(data)["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"] and error["type"]
    assert (headers.get("retry-after") == "0") == (code == 429)


def test_fail_applies_to_embeddings_and_provider_prefix(server):
    status, body = server.json("POST", "/v1/embeddings", {"model": "openai/fail-503", "input": "x"})
    assert status == 503 and body["error"]["code"] == "service_unavailable"


def test_content_policy(server):
    status, body = server.chat("content-policy")
    assert status == 400
    assert body["error"]["code"] == "content_policy_violation"
    assert "content management policy" in body["error"]["message"]


def test_flaky_fails_then_succeeds(server):
    server.reset()
    assert [server.chat("flaky-2")[0] for _attempt in range(4)] == [500, 500, 200, 200]
    assert server.chat("flaky-2-other")[0] == 500  # tagged names count separately
    assert server.stats()["by_model"]["flaky-2"] == 4
    server.reset()
    assert server.chat("flaky-2")[0] == 500  # reset restarts the sequence


def test_header_overrides_model(server):
    status, _body = server.chat("gpt-4o-mini", headers={"x-fake-behavior": "fail-503"})
    assert status == 503
    status, body = server.chat("fail-500", headers={"x-fake-behavior": "normal"})
    assert status == 200
    assert body["model"] == "fail-500"


def test_slow_adds_latency(server):
    started = time.monotonic()
    status, _body = server.chat("slow-200")
    assert status == 200
    assert time.monotonic() - started >= 0.2


def test_drip_streams_chunk_by_chunk(server):
    body = {"model": "openai/drip-100", "stream": True, "messages": [{"role": "user", "content": "drip me"}]}
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        started = time.monotonic()
        conn.request("POST", "/v1/chat/completions", body=json.dumps(body).encode(),
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        first_line = response.readline()
        first_at = time.monotonic() - started
        data = first_line + response.read()
    finally:
        conn.close()
    elapsed = time.monotonic() - started
    assert response.status == 200 and first_line.startswith(b"data: ")
    events = [block for block in data.decode().split("\n\n") if block]
    assert events[-1] == "data: [DONE]"
    assert json.loads(events[-2][len("data: "):])["choices"][0]["finish_reason"] == "stop"
    assert first_at < 0.1  # the first chunk is not delayed
    assert elapsed >= 0.1 * (len(events) - 1)  # every later one is, [DONE] included


def test_drip_without_stream_answers_at_once(server):
    started = time.monotonic()
    status, body = server.chat("drip-2000")
    assert status == 200 and body["choices"][0]["message"]["content"] == "fake response to: hello"
    assert time.monotonic() - started < 1.0


def wait_for_in_flight(server, expected: int) -> int:
    deadline = time.monotonic() + 2
    while (in_flight := server.stats()["in_flight"]) != expected and time.monotonic() < deadline:
        time.sleep(0.02)
    return in_flight


def test_timeout_is_abandoned_when_client_leaves(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=0.3)
    with pytest.raises(socket.timeout):
        server.request("POST", "/v1/chat/completions",
                       {"model": "timeout", "messages": [{"role": "user", "content": "x"}]}, conn=conn)
    assert server.stats()["in_flight"] == 1  # still sleeping while the client is connected
    conn.close()
    assert wait_for_in_flight(server, 0) == 0
    assert server.chat("gpt-4o-mini")[0] == 200


def test_max_in_flight_tracks_concurrency(server):
    server.reset()
    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = list(pool.map(lambda _: server.chat("slow-200")[0], range(5)))
    assert statuses == [200] * 5
    stats = server.stats()
    assert stats["max_in_flight"] == 5 and stats["in_flight"] == 0


def test_stats_count_and_reset(server):
    server.reset()
    server.chat("model-a")
    server.chat("model-a")
    server.json("POST", "/v1/embeddings", {"model": "model-b", "input": "x"})
    server.chat("fail-500")
    server.json("GET", "/health")
    server.json("GET", "/v1/nope")
    stats = server.stats()
    assert stats["requests_total"] == 5  # /health and /stats are not counted
    assert stats["by_model"] == {"model-a": 2, "model-b": 1, "fail-500": 1}
    assert stats["by_status"] == {"200": 3, "404": 1, "500": 1}
    server.reset()
    assert server.stats() == {"requests_total": 0, "by_model": {}, "by_status": {}, "in_flight": 0, "max_in_flight": 0}


def test_keep_alive_reuses_connection(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        assert server.json("GET", "/health", conn=conn) == (200, {"status": "ok"})
        first_socket = conn.sock
        request = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        status, headers, _body = server.request("POST", "/v1/chat/completions", request, conn=conn)
        assert status == 200 and headers["Connection"] == "keep-alive"
        assert conn.sock is first_socket
    finally:
        conn.close()


def test_pipelined_requests_and_connection_close(server):
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "pipe"}]}).encode()
    chat = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    health = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(chat + health)
        received = b""
        while chunk := sock.recv(65536):  # the server closes after the Connection: close request
            received += chunk
    assert received.count(b"HTTP/1.1 200 OK") == 2
    assert received.index(b"fake response to: pipe") < received.index(b'{"status": "ok"}')
    assert received.endswith(b'{"status": "ok"}')


@pytest.mark.parametrize("raw, status", [
    (b"NONSENSE\r\n\r\n", 400),
    (b"POST /v1/embeddings HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
])
def test_unparsable_request_is_answered_then_closed(server, raw, status):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(raw)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 %d " % status)
    assert b"Connection: close" in received and b'"error"' in received


def test_unknown_path_is_404(server):
    status, body = server.json("GET", "/v1/does-not-exist")
    assert status == 404 and body["error"]["code"] == "not_found"


def test_wrong_method_is_405(server):
    assert server.json("GET", "/v1/chat/completions")[0] == 405


def test_bad_json_is_400(server):
    status, body = server.json("POST", "/v1/chat/completions", b"{not json")
    assert status == 400 and body["error"]["code"] == "invalid_json"
    status, _body = server.json("POST", "/v1/chat/completions", {"messages": []})
    assert status == 400


def test_api_key_enforced(secured_server):
    assert secured_server.chat("m")[0] == 401
    assert secured_server.chat("m", headers={"Authorization": "Bearer wrong"})[0] == 401
    assert secured_server.json("GET", "/v1/models")[0] == 401
    assert secured_server.json("GET", "/health")[0] == 200
    started = time.monotonic()
    status, body = secured_server.chat("m", headers={"Authorization": "Bearer sekrit"})
    assert status == 200 and body["choices"][0]["message"]["content"] == "fake response to: hello"
    assert time.monotonic() - started >= 0.15  # FAKE_DELAY_S


def test_sigterm_exits_cleanly_with_request_in_flight():
    srv = FakeServer()
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    try:
        body = b'{"model": "timeout", "messages": [{"role": "user", "content": "x"}]}'
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        assert srv.json("GET", "/health")[0] == 200
        started = time.monotonic()
        assert srv.stop() == 0
        assert time.monotonic() - started < 2
    finally:
        sock.close()
        srv.stop()


def test_an_outage_fails_a_model_until_it_ends(server):
    assert server.chat("openai/outage-503-t1")[0] == 200
    assert server.json("POST", "/outages", {"behavior": "outage-503-t1", "active": True}) == (200, {"active": ["outage-503-t1"]})
    status, body = server.chat("openai/outage-503-t1")
    assert status == 503 and "Injected outage" in body["error"]["message"]
    assert server.chat("openai/outage-503-other")[0] == 200  # another behaviour string is not down
    assert server.json("GET", "/outages") == (200, {"active": ["outage-503-t1"]})
    assert server.json("POST", "/outages", {"behavior": "outage-503-t1", "active": False}) == (200, {"active": []})
    assert server.chat("openai/outage-503-t1")[0] == 200
    assert server.json("POST", "/outages", {"behavior": "x"})[0] == 400


def test_hooks_record_what_receivers_are_sent(server):
    assert server.json("POST", "/hooks/am-test", {"status": "firing", "alerts": [{"labels": {"alertname": "X"}}]}) == (200, "ok")
    status, _headers, _body = server.request("POST", "/hooks/am-test", b"text payload")
    assert status == 200
    status, body = server.json("GET", "/hooks/am-test")
    assert status == 200 and [r["body"] for r in body["records"]] == [
        {"status": "firing", "alerts": [{"labels": {"alertname": "X"}}]}, "text payload"]
    assert all(r["at"] > 0 for r in body["records"])
    assert server.json("POST", "/hooks/am-test/reset") == (200, {"status": "reset"})
    assert server.json("GET", "/hooks/am-test") == (200, {"records": []})
    assert server.json("GET", "/hooks/never-posted") == (200, {"records": []})
    assert server.request("DELETE", "/hooks/am-test")[0] == 405
