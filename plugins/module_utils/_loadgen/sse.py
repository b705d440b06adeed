# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Server-sent events of a streamed chat completion: the decoder of the event stream and
the kind of each event's payload. No I/O.

Private to this collection; standard library only (runs on targets and in benchmarks/)."""

from __future__ import annotations

import json


class SSEDecoder(object):
    """Server-sent events from a byte stream: feed(bytes) returns the data payloads (str) of
    the events completed by these bytes; multi-line data is joined with a newline."""

    def __init__(self):
        self._buf = b""
        self._data = []

    def feed(self, data):
        self._buf += data
        events = []
        while True:
            index = self._buf.find(b"\n")
            if index < 0:
                break
            line, self._buf = self._buf[:index], self._buf[index + 1:]
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if self._data:
                    events.append("\n".join(self._data))
                    self._data = []
                continue
            if line.startswith(b":"):
                continue  # comment / keep-alive ping
            field, _sep, value = line.partition(b":")
            if field == b"data":
                if value.startswith(b" "):
                    value = value[1:]
                self._data.append(value.decode("utf-8", "replace"))
        return events


def sse_event_kind(payload):
    """'done' for [DONE], 'error' for an error object, 'token' for a chunk that carries
    output (delta content, tool calls or text), 'other' for anything else."""
    if payload.strip() == "[DONE]":
        return "done"
    try:
        event = json.loads(payload)
    except ValueError:
        return "other"
    if not isinstance(event, dict):
        return "other"
    if event.get("error"):
        return "error"
    for choice in event.get("choices") or []:
        if not isinstance(choice, dict):
            continue
        delta = choice.get("delta")
        if isinstance(delta, dict) and (delta.get("content") or delta.get("tool_calls") or delta.get("reasoning_content")):
            return "token"
        if choice.get("text"):
            return "token"
    return "other"
