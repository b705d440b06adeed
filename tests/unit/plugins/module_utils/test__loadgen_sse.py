# -*- coding: utf-8 -*-
"""_loadgen.sse: the server-sent events decoder and the kind of each event."""

from __future__ import annotations

import json

import pytest

from ansible_collections.gatewayops.litellm.plugins.module_utils._loadgen import sse


def stream_of(*payloads):
    return b"".join(b"data: " + p.encode() + b"\n\n" for p in payloads)


class TestSSE:
    def test_events_split_across_feeds(self):
        decoder = sse.SSEDecoder()
        data = stream_of('{"a": 1}', "[DONE]")
        events = []
        for i in range(0, len(data), 4):
            events += decoder.feed(data[i:i + 4])
        assert events == ['{"a": 1}', "[DONE]"]

    def test_crlf_comments_multiline_and_other_fields(self):
        decoder = sse.SSEDecoder()
        events = decoder.feed(b": ping\r\nevent: message\r\ndata: one\r\ndata:two\r\nid: 3\r\n\r\ndata: x\n")
        assert events == ["one\ntwo"]
        assert decoder.feed(b"\n") == ["x"]

    def test_an_event_without_data_is_not_emitted(self):
        decoder = sse.SSEDecoder()
        assert decoder.feed(b"event: ping\nid: 1\n\n: keep-alive\n\n") == []
        assert decoder.feed(stream_of("[DONE]")) == ["[DONE]"]

    def test_invalid_utf8_is_replaced_not_raised(self):
        assert sse.SSEDecoder().feed(b"data: caf\xc3\n\n") == ["caf\ufffd"]

    def test_only_the_first_space_after_the_colon_is_dropped(self):
        assert sse.SSEDecoder().feed(b"data:  two spaces\n\n") == [" two spaces"]

    @pytest.mark.parametrize("payload, kind", [
        ("[DONE]", "done"),
        (json.dumps({"choices": [{"delta": {"role": "assistant", "content": ""}}]}), "other"),
        (json.dumps({"choices": [{"delta": {"content": "Hi"}}]}), "token"),
        (json.dumps({"choices": [{"delta": {"tool_calls": [{"index": 0}]}}]}), "token"),
        (json.dumps({"choices": [{"text": "legacy"}]}), "token"),
        (json.dumps({"choices": [{"delta": {"reasoning_content": "thinking"}}]}), "token"),
        (json.dumps({"choices": ["x", {"delta": "y"}]}), "other"),
        ("  [DONE]  ", "done"),
        (json.dumps({"choices": [], "usage": {"total_tokens": 3}}), "other"),
        (json.dumps({"error": {"message": "boom"}}), "error"),
        ("not json", "other"),
        ("[1, 2]", "other"),
    ])
    def test_event_kinds(self, payload, kind):
        assert sse.sse_event_kind(payload) == kind
