# -*- coding: utf-8 -*-
"""The load generator's pure parts: HTTP/1.1 response parsing, SSE, the open-loop schedule,
the summary of records and the threshold table."""

from __future__ import annotations

import json
import re
import ssl

import pytest

from ansible_collections.gatewayops.litellm.plugins.module_utils import _loadgen as lg


def feed_all(parser, data, step=None):
    body = b""
    if step is None:
        return b"".join(parser.feed(data))
    for i in range(0, len(data), step):
        body += b"".join(parser.feed(data[i:i + step]))
    return body


JSON_RESPONSE = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nContent-Length: 12\r\n"
                 b"x-litellm-overhead-duration-ms: 12.5\r\n\r\n{\"ok\": true}")
CHUNKED_RESPONSE = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"5;name=value\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n")


class TestResponseParser:
    def test_content_length_body_and_headers(self):
        parser = lg.ResponseParser()
        assert feed_all(parser, JSON_RESPONSE) == b'{"ok": true}'
        assert parser.complete and parser.status == 200 and parser.keep_alive
        assert parser.headers["x-litellm-overhead-duration-ms"] == "12.5"
        assert parser.headers["content-type"] == "application/json"
        assert parser.body_size == 12 and parser.extra == b""

    @pytest.mark.parametrize("step", [1, 2, 3, 7])
    def test_chunked_fed_in_small_pieces_with_extension_and_trailer(self, step):
        parser = lg.ResponseParser()
        assert feed_all(parser, CHUNKED_RESPONSE, step) == b"hello, world"
        assert parser.complete and parser.keep_alive

    def test_byte_by_byte_content_length(self):
        parser = lg.ResponseParser()
        assert feed_all(parser, JSON_RESPONSE, 1) == b'{"ok": true}'
        assert parser.complete

    def test_not_complete_until_the_last_byte(self):
        parser = lg.ResponseParser()
        parser.feed(JSON_RESPONSE[:-1])
        assert parser.head_complete and not parser.complete
        parser.feed(JSON_RESPONSE[-1:])
        assert parser.complete

    def test_bytes_after_the_response_are_kept_apart(self):
        parser = lg.ResponseParser()
        assert feed_all(parser, JSON_RESPONSE + b"HTTP/1.1 200") == b'{"ok": true}'
        assert parser.extra == b"HTTP/1.1 200"

    def test_interim_100_continue_is_skipped(self):
        parser = lg.ResponseParser()
        assert feed_all(parser, b"HTTP/1.1 100 Continue\r\n\r\n" + JSON_RESPONSE, 5) == b'{"ok": true}'
        assert parser.status == 200

    @pytest.mark.parametrize("status", [204, 304])
    def test_no_body_statuses(self, status):
        parser = lg.ResponseParser()
        parser.feed(b"HTTP/1.1 %d X\r\nContent-Length: 5\r\n\r\n" % status)
        assert parser.complete and parser.body_size == 0

    def test_connection_close_and_http10(self):
        parser = lg.ResponseParser()
        parser.feed(b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        assert parser.complete and parser.status == 503 and not parser.keep_alive
        parser = lg.ResponseParser()
        parser.feed(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
        assert not parser.keep_alive
        parser = lg.ResponseParser()
        parser.feed(b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n")
        assert parser.keep_alive

    def test_body_until_the_connection_ends(self):
        parser = lg.ResponseParser()
        assert feed_all(parser, b"HTTP/1.1 200 OK\r\n\r\npart one ") == b"part one "
        assert not parser.complete
        assert parser.feed(b"part two") == [b"part two"]
        parser.feed_eof()
        assert parser.complete and not parser.keep_alive and parser.body_size == 17

    def test_eof_before_any_byte_and_in_the_middle(self):
        with pytest.raises(lg.IncompleteResponse, match="before any answer"):
            lg.ResponseParser().feed_eof()
        parser = lg.ResponseParser()
        parser.feed(JSON_RESPONSE[:-3])
        with pytest.raises(lg.IncompleteResponse, match="middle of the answer"):
            parser.feed_eof()
        parser = lg.ResponseParser()
        parser.feed(CHUNKED_RESPONSE[:60])
        with pytest.raises(lg.IncompleteResponse):
            parser.feed_eof()

    def test_repeated_headers_are_joined(self):
        parser = lg.ResponseParser()
        parser.feed(b"HTTP/1.1 200 OK\r\nVary: a\r\nvary: b\r\nContent-Length: 0\r\n\r\n")
        assert parser.headers["vary"] == "a, b"

    @pytest.mark.parametrize("data, match", [
        (b"HTTP/2 200 OK\r\n\r\n", "invalid status line"),
        (b"HTTP/1.1 20 OK\r\n\r\n", "invalid status line"),
        (b"garbage\r\n\r\n", "invalid status line"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "invalid header line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n", "invalid content-length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid content-length"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "invalid chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY", "not followed by CRLF"),
    ])
    def test_protocol_errors(self, data, match):
        with pytest.raises(lg.ProtocolError, match=match):
            lg.ResponseParser().feed(data)

    def test_head_size_is_bounded(self):
        parser = lg.ResponseParser(max_head=100)
        with pytest.raises(lg.ProtocolError, match="longer than 100"):
            parser.feed(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 200)

    def test_only_a_prefix_of_the_body_is_kept(self):
        parser = lg.ResponseParser(kept_body=4)
        body = b"0123456789"
        assert feed_all(parser, b"HTTP/1.1 500 E\r\nContent-Length: 10\r\n\r\n" + body, 3) == body
        assert parser.body_prefix == b"0123" and parser.body_size == 10


def sse(*payloads):
    return b"".join(b"data: " + p.encode() + b"\n\n" for p in payloads)


class TestSSE:
    def test_events_split_across_feeds(self):
        decoder = lg.SSEDecoder()
        data = sse('{"a": 1}', "[DONE]")
        events = []
        for i in range(0, len(data), 4):
            events += decoder.feed(data[i:i + 4])
        assert events == ['{"a": 1}', "[DONE]"]

    def test_crlf_comments_multiline_and_other_fields(self):
        decoder = lg.SSEDecoder()
        events = decoder.feed(b": ping\r\nevent: message\r\ndata: one\r\ndata:two\r\nid: 3\r\n\r\ndata: x\n")
        assert events == ["one\ntwo"]
        assert decoder.feed(b"\n") == ["x"]

    @pytest.mark.parametrize("payload, kind", [
        ("[DONE]", "done"),
        (json.dumps({"choices": [{"delta": {"role": "assistant", "content": ""}}]}), "other"),
        (json.dumps({"choices": [{"delta": {"content": "Hi"}}]}), "token"),
        (json.dumps({"choices": [{"delta": {"tool_calls": [{"index": 0}]}}]}), "token"),
        (json.dumps({"choices": [{"text": "legacy"}]}), "token"),
        (json.dumps({"choices": [], "usage": {"total_tokens": 3}}), "other"),
        (json.dumps({"error": {"message": "boom"}}), "error"),
        ("not json", "other"),
        ("[1, 2]", "other"),
    ])
    def test_event_kinds(self, payload, kind):
        assert lg.sse_event_kind(payload) == kind


class TestSchedule:
    def test_fixed_rate_from_zero(self):
        assert list(lg.arrival_offsets(4, 0.0, 1.0)) == [0.0, 0.25, 0.5, 0.75]

    def test_window_start_is_inclusive_and_end_exclusive(self):
        assert list(lg.arrival_offsets(10, 0.5, 0.8)) == pytest.approx([0.5, 0.6, 0.7])

    def test_start_between_arrivals_rounds_up(self):
        assert list(lg.arrival_offsets(2, 0.3, 2.0)) == [0.5, 1.0, 1.5]

    def test_limit_and_count(self):
        assert list(lg.arrival_offsets(1000, 0.0, 10.0, limit=3)) == [0.0, 0.001, 0.002]
        assert len(list(lg.arrival_offsets(50, 0.0, 3.0))) == 150

    def test_no_drift_over_many_arrivals(self):
        offsets = list(lg.arrival_offsets(3, 0.0, 1000.0))
        assert len(offsets) == 3000 and offsets[-1] == pytest.approx(2999 / 3.0)

    def test_rate_must_be_positive(self):
        with pytest.raises(ValueError, match="rate must be positive"):
            list(lg.arrival_offsets(0, 0.0, 1.0))


def record(seq, intended, ended, status=200, error=None, sent=None, overhead=None, first_token=None, message=None):
    r = lg.Record(seq, intended)
    r.sent = intended if sent is None else sent
    r.ended, r.status, r.error, r.overhead_ms, r.first_token, r.message = ended, status, error, overhead, first_token, message
    return r


def result_of(records, dropped=0, **config):
    config.setdefault("model", "m")
    result = lg.LoadResult(lg.LoadConfig(**config))
    result.window_start = 100.0
    result.window_end = 110.0
    result.records = records
    result.dropped = dropped
    return result


class TestSummary:
    def test_counts_rates_statuses_and_percentiles(self):
        records = [record(i, 100.0 + i * 0.1, 100.0 + i * 0.1 + 0.2, overhead=10.0 + i) for i in range(100)]
        records.append(record(100, 105.0, 105.5, status=500, message='{"error": "x"}'))
        records.append(record(101, 105.0, 105.1, status=None, error="reset", message="Connection reset by peer"))
        s = result_of(records).summary()
        assert s["requests"] == 102 and s["successes"] == 100 and s["errors"] == 2
        assert s["rps"] == pytest.approx(10.2) and s["success_rps"] == pytest.approx(10.0)
        assert s["error_rate"] == pytest.approx(2 / 102, abs=1e-6)
        assert s["status_codes"] == {"200": 100, "500": 1}
        assert s["error_kinds"] == {"http_500": 1, "reset": 1}
        assert s["latency_ms"]["p50"] == pytest.approx(200.0) and s["latency_ms"]["count"] == 100
        assert s["overhead_ms"]["p50"] == pytest.approx(59.5) and s["overhead_ms"]["max"] == 109.0
        assert s["ttft_ms"] is None and s["send_lag_ms"] is None
        assert [x["kind"] for x in s["error_samples"]] == ["http_500", "reset"]
        assert s["error_samples"][0]["at_s"] == pytest.approx(5.0)

    def test_samples_are_distinct_and_bounded(self):
        records = [record(i, 101.0, 101.1, status=429, message="slow down") for i in range(10)]
        records += [record(20 + i, 101.0, 101.1, status=500, message="boom %d" % i) for i in range(10)]
        s = result_of(records, error_samples=3).summary()
        assert [(x["status"], x["message"]) for x in s["error_samples"]] == [(429, "slow down"), (500, "boom 0"), (500, "boom 1")]

    def test_open_loop_dropped_late_and_send_lag(self):
        records = [record(i, 100.0 + i, 100.0 + i + 0.05, sent=100.0 + i + (0.02 if i % 2 else 0.001)) for i in range(10)]
        s = result_of(records, dropped=5, mode="open", rate=1.0, concurrency=2).summary()
        assert s["late"] == 5 and s["dropped"] == 5 and s["error_kinds"] == {"dropped": 5}
        assert s["error_rate"] == pytest.approx(5 / 15.0, abs=1e-6)
        assert s["send_lag_ms"]["max"] == pytest.approx(20.0) and s["send_lag_ms"]["p50"] == pytest.approx(10.5)
        # latency counts from the intended time, not from the late send
        assert s["latency_ms"]["max"] == pytest.approx(50.0)

    def test_stream_time_to_first_token(self):
        records = [record(i, 100.0, 100.5, first_token=100.0 + 0.1 * (i + 1)) for i in range(4)]
        records.append(record(9, 100.0, 100.2, error="stream_incomplete"))
        s = result_of(records, stream=True).summary()
        assert s["ttft_ms"]["count"] == 4 and s["ttft_ms"]["min"] == pytest.approx(100.0)
        assert s["ttft_ms"]["p50"] == pytest.approx(250.0)
        assert s["error_kinds"] == {"stream_incomplete": 1}

    def test_nothing_measured(self):
        s = result_of([]).summary()
        assert s["requests"] == 0 and s["rps"] == 0.0 and s["error_rate"] == 0.0
        assert s["latency_ms"] == {"count": 0, "min": None, "mean": None, "max": None, "p50": None, "p95": None, "p99": None}
        assert "latency p50/p95/p99/max -/-/-/- ms" in lg.summary_line(s)


class TestThresholds:
    SUMMARY = {"success_rps": 42.5, "latency_ms": {"p99": 2860.0}, "error_rate": 0.0}

    def test_table_shows_target_measured_and_result(self):
        checks = lg.evaluate_thresholds(self.SUMMARY, min_rps=50, max_p99_ms=3000, max_error_rate=0.01)
        assert [c["passed"] for c in checks] == [False, True, True]
        assert lg.threshold_table(checks).split("\n") == [
            "check           target   measured  result",
            "--------------  -------  --------  ------",
            "min_rps         >= 50    42.5      FAILED",
            "max_p99_ms      <= 3000  2860      ok",
            "max_error_rate  <= 0.01  0         ok",
        ]

    def test_only_given_thresholds_are_checked(self):
        assert lg.evaluate_thresholds(self.SUMMARY) == []
        checks = lg.evaluate_thresholds(self.SUMMARY, max_error_rate=0)
        assert checks == [{"name": "max_error_rate", "target": "<= 0", "measured": "0", "passed": True}]

    def test_p99_without_successes_fails(self):
        checks = lg.evaluate_thresholds({"success_rps": 0.0, "latency_ms": {"p99": None}, "error_rate": 1.0}, max_p99_ms=100)
        assert checks[0]["measured"] == "no successful request" and not checks[0]["passed"]

    def test_boundaries_pass(self):
        checks = lg.evaluate_thresholds(self.SUMMARY, min_rps=42.5, max_p99_ms=2860.0, max_error_rate=0.0)
        assert all(c["passed"] for c in checks)


class TestRequests:
    def test_chat_body_varies_and_merges_extra(self):
        config = lg.LoadConfig(model="m", prompt="Hi", max_tokens=5, stream=True, extra_body={"num_retries": 0})
        assert re.fullmatch(r"[0-9a-f]{8}", config.run_token)
        assert lg.request_body(config, 7) == {"model": "m", "messages": [{"role": "user", "content": "Hi #%s-7" % config.run_token}],
                                              "max_tokens": 5, "stream": True, "num_retries": 0}
        config = lg.LoadConfig(model="m", prompt="Hi", vary_prompt=False, max_tokens=0)
        assert lg.request_body(config, 7) == {"model": "m", "messages": [{"role": "user", "content": "Hi"}]}

    def test_embeddings_body(self):
        config = lg.LoadConfig(model="e", endpoint="embeddings", prompt="text")
        assert lg.request_body(config, 1) == {"model": "e", "input": "text #%s-1" % config.run_token}

    def test_two_runs_never_send_the_same_prompt(self):
        # a response cache kept from the first run must not answer the second
        first, second = lg.LoadConfig(model="m"), lg.LoadConfig(model="m")
        assert first.run_token != second.run_token
        assert lg.request_body(first, 1) != lg.request_body(second, 1)

    def test_request_bytes(self):
        data = lg.build_request("POST", "/v1/chat/completions", "h:1", [("Authorization", "Bearer k")], {"a": 1})
        assert data == (b"POST /v1/chat/completions HTTP/1.1\r\nHost: h:1\r\nAuthorization: Bearer k\r\n"
                        b"Content-Length: 7\r\n\r\n{\"a\":1}")

    @pytest.mark.parametrize("url, expected", [
        ("http://127.0.0.1:4000", ("http", "127.0.0.1", 4000, "", "127.0.0.1:4000")),
        ("https://llm.example/prefix/", ("https", "llm.example", 443, "/prefix", "llm.example")),
        ("http://[::1]:8080", ("http", "::1", 8080, "", "[::1]:8080")),
        ("http://example", ("http", "example", 80, "", "example")),
    ])
    def test_targets(self, url, expected):
        assert lg.parse_target(url) == expected

    def test_ssl_context_honours_validate_certs(self):
        assert lg.ssl_context(True).verify_mode == ssl.CERT_REQUIRED
        context = lg.ssl_context(False)
        assert context.verify_mode == ssl.CERT_NONE and not context.check_hostname


class TestConfig:
    def test_defaults_are_valid(self):
        assert lg.LoadConfig(model="m").check() == []

    @pytest.mark.parametrize("settings, problem", [
        ({}, "model is required"),
        ({"model": "m", "mode": "open"}, "mode open needs rate"),
        ({"model": "m", "rate": 5.0}, "rate only applies to mode open"),
        ({"model": "m", "duration": 0}, "duration must be from"),
        ({"model": "m", "duration": 7200}, "duration must be from"),
        ({"model": "m", "concurrency": 0}, "concurrency must be from"),
        ({"model": "m", "max_requests": 0}, "max_requests must be from"),
        ({"model": "m", "stream": True, "endpoint": "embeddings"}, "stream needs endpoint chat"),
        ({"model": "m", "url": "ftp://x"}, "must start with http"),
        ({"model": "m", "headers": {"X-Bad": "a\r\nInjected: 1"}}, "not a valid header"),
        ({"model": "m", "max_tokens": -1}, "max_tokens must be"),
    ])
    def test_problems(self, settings, problem):
        assert any(problem in p for p in lg.LoadConfig(**settings).check())

    def test_unknown_setting(self):
        with pytest.raises(TypeError, match="unknown load test settings: nope"):
            lg.LoadConfig(model="m", nope=1)

    def test_runner_refuses_an_invalid_config(self):
        with pytest.raises(ValueError, match="model is required"):
            lg.LoadRunner(lg.LoadConfig())
