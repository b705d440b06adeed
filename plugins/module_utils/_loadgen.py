# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load generator of gatewayops.litellm.load_test: raw HTTP/1.1 over asyncio streams.

Closed loop (N clients, each sends its next request when the previous one is answered) or
open loop (arrivals at a fixed rate; latency counted from each arrival's intended send time,
so a slow server cannot hide its latency by slowing the client down: no coordinated omission).
Requests that start during the warm-up are not measured. Every run is bounded by a duration
and by a request count.

The pure parts (response parser, SSE decoder, open-loop schedule, summary, threshold table)
have no I/O so that they can be tested on their own.

Private to this collection; standard library only (runs on targets and in benchmarks/)."""

from __future__ import annotations

import asyncio
import binascii
import json
import math
import os
import ssl
import time
from urllib.parse import urlsplit

from ansible_collections.gatewayops.litellm.plugins.module_utils._http import validate_base_url
from ansible_collections.gatewayops.litellm.plugins.module_utils._stats import percentile

OVERHEAD_HEADER = "x-litellm-overhead-duration-ms"
USER_AGENT = "gatewayops.litellm/load_test"
# an open-loop request sent later than this after its intended time counts as late
LATE_AFTER_S = 0.010
MAX_HEAD_BYTES = 64 * 1024
KEPT_BODY_BYTES = 2048
READ_SIZE = 64 * 1024
SAMPLE_MESSAGE_LIMIT = 200
QUANTILES = (("p50", 0.50), ("p95", 0.95), ("p99", 0.99))

# bounds that keep a run finite and the target alive
LIMITS = {
    "duration": (0.1, 3600.0),
    "warmup": (0.0, 600.0),
    "concurrency": (1, 10000),
    "rate": (0.01, 100000.0),
    "max_requests": (1, 10000000),
    "timeout": (0.1, 3600.0),
    "error_samples": (0, 100),
}
ENDPOINTS = {"chat": "/v1/chat/completions", "embeddings": "/v1/embeddings"}
MODES = ("closed", "open")


class ProtocolError(ValueError):
    """The server's answer is not valid HTTP/1.1."""


class IncompleteResponse(ProtocolError):
    """The connection ended before the answer was complete."""


# ---------------------------------------------------------------- HTTP/1.1 response parsing

class ResponseParser(object):
    """Incremental parser of one HTTP/1.1 response to a request that is not HEAD.

    feed(bytes) returns the body bytes decoded by this call (chunked encoding removed);
    feed_eof() tells that the connection ended. Interim 1xx answers are skipped. After
    `complete`, `status`, `headers` (lower-case names, repeated ones joined with ', '),
    `keep_alive`, `body_size` and `body_prefix` (first KEPT_BODY_BYTES) are set; bytes that
    arrived after the end of the response are in `extra`."""

    def __init__(self, kept_body=KEPT_BODY_BYTES, max_head=MAX_HEAD_BYTES):
        self.kept_body = kept_body
        self.max_head = max_head
        self.status = None
        self.reason = ""
        self.version = None
        self.headers = {}
        self.keep_alive = True
        self.complete = False
        self.body_size = 0
        self.body_prefix = b""
        self.extra = b""
        self._buf = b""
        self._state = "head"
        self._remaining = 0

    @property
    def head_complete(self):
        return self._state != "head"

    def feed(self, data):
        if self.complete:
            self.extra += data
            return []
        self._buf += data
        pieces = []
        progress = True
        while progress and not self.complete:
            progress = self._step(pieces)
        if self.complete and self._buf:
            self.extra, self._buf = self._buf, b""
        return pieces

    def feed_eof(self):
        """The peer closed the connection. Completes a body delimited by the end of the
        connection; raises IncompleteResponse when anything else was still expected."""
        if self.complete:
            return
        if self._state == "until_eof":
            self.keep_alive = False
            self.complete = True
            return
        if self._state == "head" and not self._buf and self.status is None:
            raise IncompleteResponse("the connection closed before any answer")
        raise IncompleteResponse("the connection closed in the middle of the answer (%s)" % self._state)

    def _body(self, data, pieces):
        if data:
            self.body_size += len(data)
            room = self.kept_body - len(self.body_prefix)
            if room > 0:
                self.body_prefix += data[:room]
            pieces.append(data)

    def _step(self, pieces):
        state = self._state
        if state == "head":
            return self._parse_head()
        if state == "length":
            take = self._buf[:self._remaining]
            self._buf = self._buf[len(take):]
            self._remaining -= len(take)
            self._body(take, pieces)
            if self._remaining == 0:
                self.complete = True
            return bool(take)
        if state == "until_eof":
            self._body(self._buf, pieces)
            self._buf = b""
            return False
        if state == "chunk_size":
            line = self._line()
            if line is None:
                return False
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise ProtocolError("invalid chunk size %r" % size_text[:20])
            if size < 0:
                raise ProtocolError("negative chunk size")
            if size == 0:
                self._state = "trailers"
            else:
                self._remaining = size
                self._state = "chunk_data"
            return True
        if state == "chunk_data":
            take = self._buf[:self._remaining]
            self._buf = self._buf[len(take):]
            self._remaining -= len(take)
            self._body(take, pieces)
            if self._remaining == 0:
                self._state = "chunk_end"
            return bool(take)
        if state == "chunk_end":
            if len(self._buf) < 2:
                return False
            if self._buf[:2] != b"\r\n":
                raise ProtocolError("chunk not followed by CRLF")
            self._buf = self._buf[2:]
            self._state = "chunk_size"
            return True
        # trailers: header lines until an empty one
        line = self._line()
        if line is None:
            return False
        if line == b"":
            self.complete = True
        return True

    def _line(self):
        index = self._buf.find(b"\r\n")
        if index < 0:
            if len(self._buf) > self.max_head:
                raise ProtocolError("line longer than %d bytes" % self.max_head)
            return None
        line, self._buf = self._buf[:index], self._buf[index + 2:]
        return line

    def _parse_head(self):
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buf) > self.max_head:
                raise ProtocolError("response head longer than %d bytes" % self.max_head)
            return False
        head, self._buf = self._buf[:end], self._buf[end + 4:]
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit() or len(parts[1]) != 3:
            raise ProtocolError("invalid status line %r" % lines[0][:80])
        status = int(parts[1])
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise ProtocolError("invalid header line %r" % line[:80])
            name = name.lower()
            value = value.strip()
            headers[name] = (headers[name] + ", " + value) if name in headers else value
        if 100 <= status < 200 and status != 101:
            return True  # interim answer (100 Continue, 103 Early Hints): the real one follows
        self.version, self.status = parts[0], status
        self.reason = parts[2] if len(parts) > 2 else ""
        self.headers = headers
        tokens = [t.strip().lower() for t in headers.get("connection", "").split(",")]
        if self.version == "HTTP/1.0":
            self.keep_alive = "keep-alive" in tokens
        else:
            self.keep_alive = "close" not in tokens
        self._choose_framing()
        return True

    def _choose_framing(self):
        headers = self.headers
        if self.status in (204, 304):
            self.complete = True
            return
        encoding = headers.get("transfer-encoding")
        if encoding is not None:
            codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
            if not codings or codings[-1] != "chunked":
                self._state = "until_eof"
                self.keep_alive = False
                return
            self._state = "chunk_size"
            return
        if "content-length" in headers:
            values = set(v.strip() for v in headers["content-length"].split(","))
            if len(values) != 1 or not next(iter(values)).isdigit():
                raise ProtocolError("invalid content-length %r" % headers["content-length"][:40])
            self._remaining = int(values.pop())
            self._state = "length"
            if self._remaining == 0:
                self.complete = True
            return
        self._state = "until_eof"
        self.keep_alive = False


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


# ---------------------------------------------------------------- requests

def parse_target(url):
    """(scheme, host, port, path prefix, Host header) of a base URL."""
    url = validate_base_url(url)
    parts = urlsplit(url)
    scheme = parts.scheme
    default = 443 if scheme == "https" else 80
    port = parts.port or default
    host = parts.hostname
    shown = "[%s]" % host if ":" in host else host
    host_header = shown if port == default else "%s:%d" % (shown, port)
    return scheme, host, port, parts.path.rstrip("/"), host_header


def request_body(config, seq):
    """The JSON body of request number `seq`."""
    text = config.prompt
    if config.vary_prompt:
        # the run's own token as well: the next run's request #1 must not hit this run's cache entry
        text = "%s #%s-%d" % (text, config.run_token, seq)
    if config.endpoint == "embeddings":
        body = {"model": config.model, "input": text}
    else:
        body = {"model": config.model, "messages": [{"role": "user", "content": text}]}
        if config.max_tokens:
            body["max_tokens"] = config.max_tokens
        if config.stream:
            body["stream"] = True
    body.update(config.extra_body or {})
    return body


def build_request(method, path, host_header, headers, body):
    """Bytes of an HTTP/1.1 request with a JSON body."""
    payload = json.dumps(body, separators=(",", ":")).encode("utf-8")
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: %s" % host_header]
    for name, value in headers:
        lines.append("%s: %s" % (name, value))
    lines.append("Content-Length: %d" % len(payload))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


def ssl_context(validate_certs=True, ca_path=None):
    context = ssl.create_default_context(cafile=ca_path) if ca_path else ssl.create_default_context()
    if not validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


# ---------------------------------------------------------------- open-loop schedule

def arrival_offsets(rate, start, end, limit=None):
    """Intended send times, in seconds from the run's start, of a fixed arrival rate: the
    arrivals k / rate that fall in [start, end), at most `limit` of them (a generator)."""
    if rate <= 0:
        raise ValueError("rate must be positive, got %r" % (rate,))
    k = max(0, int(math.ceil(start * rate - 1e-9)))
    count = 0
    while limit is None or count < limit:
        offset = k / float(rate)
        if offset >= end - 1e-12:
            return
        yield offset
        count += 1
        k += 1


# ---------------------------------------------------------------- configuration

class LoadConfig(object):
    """What to send, how and for how long. check() returns the problems (empty when valid)."""

    FIELDS = {
        "url": "http://127.0.0.1:4000", "api_key": None, "model": None, "endpoint": "chat",
        "prompt": "Say hello.", "vary_prompt": True, "max_tokens": 16, "extra_body": None,
        "headers": None, "stream": False, "mode": "closed", "concurrency": 10, "rate": None,
        "duration": 10.0, "warmup": 2.0, "max_requests": 100000, "timeout": 30.0,
        "keepalive": True, "validate_certs": True, "ca_path": None, "error_samples": 5,
    }

    def __init__(self, **kwargs):
        unknown = set(kwargs) - set(self.FIELDS)
        if unknown:
            raise TypeError("unknown load test settings: %s" % ", ".join(sorted(unknown)))
        for name, default in self.FIELDS.items():
            value = kwargs.get(name)
            setattr(self, name, default if value is None else value)
        # unique per run, so that prompts differ from every earlier run's (vary_prompt)
        self.run_token = binascii.hexlify(os.urandom(4)).decode("ascii")

    def check(self):
        problems = []
        try:
            parse_target(self.url)
        except ValueError as exc:
            problems.append(str(exc))
        if not self.model:
            problems.append("model is required")
        if self.mode not in MODES:
            problems.append("mode must be one of %s, got %r" % (", ".join(MODES), self.mode))
        if self.endpoint not in ENDPOINTS:
            problems.append("endpoint must be one of %s, got %r" % (", ".join(sorted(ENDPOINTS)), self.endpoint))
        if self.stream and self.endpoint != "chat":
            problems.append("stream needs endpoint chat")
        if self.mode == "open" and self.rate is None:
            problems.append("mode open needs rate (arrivals per second)")
        if self.mode == "closed" and self.rate is not None:
            problems.append("rate only applies to mode open")
        for name, (low, high) in LIMITS.items():
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                problems.append("%s must be from %s to %s, got %r" % (name, low, high, value))
        if self.max_tokens is not None and (isinstance(self.max_tokens, bool) or not isinstance(self.max_tokens, int) or self.max_tokens < 0):
            problems.append("max_tokens must be 0 (not sent) or more, got %r" % (self.max_tokens,))
        for name, value in (self.headers or {}).items():
            if any(c in str(name) + str(value) for c in "\r\n") or not str(name).strip() or ":" in str(name):
                problems.append("header %r is not a valid header" % (name,))
        return problems


# ---------------------------------------------------------------- results

class Record(object):
    """One measured request. Times are time.monotonic() seconds; `intended` is when it should
    have been sent (closed loop: when it was), `sent` when it was, `ended` when it finished."""

    __slots__ = ("seq", "intended", "sent", "ended", "status", "error", "overhead_ms", "first_token", "message")

    def __init__(self, seq, intended):
        self.seq = seq
        self.intended = intended
        self.sent = None
        self.ended = None
        self.status = None
        self.error = None
        self.overhead_ms = None
        self.first_token = None
        self.message = None

    @property
    def ok(self):
        return self.error is None and self.status is not None and 200 <= self.status < 300

    @property
    def latency_ms(self):
        return (self.ended - self.intended) * 1000.0


def stats_of(values, keys=("p50", "p95", "p99")):
    """count, min, mean, max and p50/p95/p99 of values (ms, rounded to 0.1); None fields when empty."""
    data = sorted(values)
    out = {"count": len(data), "min": None, "mean": None, "max": None}
    for key in keys:
        out[key] = None
    if not data:
        return out
    out.update(min=round(data[0], 1), mean=round(sum(data) / len(data), 1), max=round(data[-1], 1))
    for key, q in QUANTILES:
        if key in keys:
            out[key] = round(percentile(data, q), 1)
    return out


class LoadResult(object):
    """Raw records of a run and the figures derived from them (summary())."""

    def __init__(self, config):
        self.config = config
        self.records = []          # measured requests that were sent
        self.dropped = 0           # open loop: arrivals that never got a connection in time
        self.warmup_requests = 0
        self.started = None        # monotonic time of the run's start (warm-up included)
        self.window_start = None   # start of the measured window
        self.window_end = None     # when the last measured request finished (or the window closed)

    @property
    def elapsed(self):
        if self.window_start is None or self.window_end is None:
            return 0.0
        return max(self.window_end - self.window_start, 1e-9)

    def summary(self):
        config = self.config
        records = self.records
        ok = [r for r in records if r.ok]
        failed = [r for r in records if not r.ok]
        status_codes = {}
        error_kinds = {}
        for record in records:
            if record.status is not None:
                key = str(record.status)
                status_codes[key] = status_codes.get(key, 0) + 1
            if not record.ok:
                kind = record.error or "http_%d" % record.status
                error_kinds[kind] = error_kinds.get(kind, 0) + 1
        if self.dropped:
            error_kinds["dropped"] = self.dropped
        elapsed = self.elapsed
        attempts = len(records) + self.dropped
        samples = []
        seen = set()
        for record in failed:
            kind = record.error or "http_%d" % record.status
            key = (kind, record.message)
            if key in seen:
                continue
            seen.add(key)
            if len(samples) >= config.error_samples:
                break
            samples.append({"kind": kind, "status": record.status, "message": record.message,
                            "at_s": round(record.intended - self.window_start, 3)})
        summary = {
            "mode": config.mode,
            "endpoint": config.endpoint,
            "model": config.model,
            "stream": bool(config.stream),
            "keepalive": bool(config.keepalive),
            "concurrency": config.concurrency,
            "rate": config.rate if config.mode == "open" else None,
            "warmup_s": config.warmup,
            "duration_s": config.duration,
            "max_requests": config.max_requests,
            "elapsed_s": round(elapsed, 3),
            "warmup_requests": self.warmup_requests,
            "requests": len(records),
            "successes": len(ok),
            "errors": len(failed),
            "dropped": self.dropped,
            "error_rate": round((len(failed) + self.dropped) / float(attempts), 6) if attempts else 0.0,
            "rps": round(len(records) / elapsed, 2) if records else 0.0,
            "success_rps": round(len(ok) / elapsed, 2) if ok else 0.0,
            "latency_ms": stats_of([r.latency_ms for r in ok]),
            "overhead_ms": stats_of([r.overhead_ms for r in ok if r.overhead_ms is not None]),
            "ttft_ms": None,
            "send_lag_ms": None,
            "late": 0,
            "status_codes": status_codes,
            "error_kinds": error_kinds,
            "error_samples": samples,
        }
        if config.stream:
            summary["ttft_ms"] = stats_of([(r.first_token - r.intended) * 1000.0 for r in ok if r.first_token is not None])
        if config.mode == "open":
            lags = [(r.sent - r.intended) for r in records if r.sent is not None]
            summary["late"] = sum(1 for lag in lags if lag > LATE_AFTER_S)
            summary["send_lag_ms"] = stats_of([lag * 1000.0 for lag in lags], keys=("p50", "p99"))
        return summary


# ---------------------------------------------------------------- thresholds

def evaluate_thresholds(summary, min_rps=None, max_p99_ms=None, max_error_rate=None):
    """One check per given threshold: name, target, measured, passed."""
    checks = []
    if min_rps is not None:
        measured = summary["success_rps"]
        checks.append({"name": "min_rps", "target": ">= %s" % _num(min_rps), "measured": _num(measured),
                       "passed": measured >= min_rps})
    if max_p99_ms is not None:
        measured = summary["latency_ms"]["p99"]
        checks.append({"name": "max_p99_ms", "target": "<= %s" % _num(max_p99_ms),
                       "measured": "no successful request" if measured is None else _num(measured),
                       "passed": measured is not None and measured <= max_p99_ms})
    if max_error_rate is not None:
        measured = summary["error_rate"]
        checks.append({"name": "max_error_rate", "target": "<= %s" % _num(max_error_rate), "measured": _num(measured),
                       "passed": measured <= max_error_rate})
    return checks


def _num(value):
    if isinstance(value, float):
        text = ("%.4f" % value).rstrip("0").rstrip(".")
        return text or "0"
    return str(value)


def threshold_table(checks):
    """Plain-text table: check, target, measured, result."""
    rows = [("check", "target", "measured", "result")]
    rows += [(c["name"], c["target"], c["measured"], "ok" if c["passed"] else "FAILED") for c in checks]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def summary_line(summary):
    """One line: requests, rate, latency and errors."""
    lat = summary["latency_ms"]
    shown = ["-" if lat[key] is None else _num(lat[key]) for key in ("p50", "p95", "p99", "max")]
    line = "%d requests in %.1f s (%s loop, %s): %.1f req/s, latency p50/p95/p99/max %s ms, errors %d (%.2f %%)" % (
        summary["requests"], summary["elapsed_s"], summary["mode"],
        ("rate %s/s" % _num(summary["rate"])) if summary["mode"] == "open" else ("concurrency %d" % summary["concurrency"]),
        summary["rps"], "/".join(shown), summary["errors"], summary["error_rate"] * 100.0)
    if summary["dropped"]:
        line += ", dropped %d" % summary["dropped"]
    if summary["late"]:
        line += ", late %d" % summary["late"]
    return line


# ---------------------------------------------------------------- the runner

class _Connection(object):
    __slots__ = ("reader", "writer")

    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer

    def usable(self):
        return not (self.reader.at_eof() or self.writer.is_closing())

    def close(self):
        try:
            self.writer.close()
        except Exception:  # pylint: disable=broad-except
            pass


class LoadRunner(object):
    """Runs one load test. hooks: optional callables 'measure_start' and 'measure_end', called
    (without arguments) when the measured window opens and once its last request finished."""

    def __init__(self, config, hooks=None, clock=time.monotonic):
        problems = config.check()
        if problems:
            raise ValueError("; ".join(problems))
        self.config = config
        self.hooks = hooks or {}
        self.clock = clock
        self.scheme, self.host, self.port, prefix, self.host_header = parse_target(config.url)
        self.path = prefix + ENDPOINTS[config.endpoint]
        self.ssl = ssl_context(config.validate_certs, config.ca_path) if self.scheme == "https" else None
        headers = [("User-Agent", USER_AGENT), ("Content-Type", "application/json"),
                   ("Accept", "text/event-stream" if config.stream else "application/json")]
        if config.api_key:
            headers.append(("Authorization", "Bearer " + config.api_key))
        if not config.keepalive:
            headers.append(("Connection", "close"))
        headers += [(str(k), str(v)) for k, v in (config.headers or {}).items()]
        self.headers = headers
        self.result = LoadResult(config)
        self._seq = 0
        self._idle = []

    # -- one request ---------------------------------------------------------

    async def _connect(self):
        kwargs = {"limit": READ_SIZE}
        if self.ssl is not None:
            kwargs.update(ssl=self.ssl, server_hostname=self.host)
        reader, writer = await asyncio.open_connection(self.host, self.port, **kwargs)
        return _Connection(reader, writer)

    async def _exchange(self, conn, record, payload):
        parser = ResponseParser()
        sse = SSEDecoder() if self.config.stream else None
        done = error = False
        conn.writer.write(payload)
        await conn.writer.drain()
        while not parser.complete:
            data = await conn.reader.read(READ_SIZE)
            if not data:
                parser.feed_eof()
                break
            pieces = parser.feed(data)
            if sse is not None and parser.status is not None and 200 <= parser.status < 300:
                for piece in pieces:
                    for event in sse.feed(piece):
                        kind = sse_event_kind(event)
                        if kind == "token" and record.first_token is None:
                            record.first_token = self.clock()
                        elif kind == "done":
                            done = True
                        elif kind == "error":
                            error = True
                            record.message = _clip(event)
        record.status = parser.status
        try:
            record.overhead_ms = float(parser.headers[OVERHEAD_HEADER])
        except (KeyError, ValueError):
            pass
        if not 200 <= parser.status < 300:
            record.message = _clip(parser.body_prefix.decode("utf-8", "replace"))
        elif sse is not None:
            if error:
                record.error = "stream_error"
            elif not done:
                record.error = "stream_incomplete"
                record.message = "the stream ended without data: [DONE]"
        return parser.keep_alive and self.config.keepalive and not parser.extra

    async def _request(self, record, conn):
        """Send one request on `conn` (or a new connection); returns the connection to reuse or None."""
        config = self.config
        payload = build_request("POST", self.path, self.host_header, self.headers, request_body(config, record.seq))
        deadline = record.intended + config.timeout
        reusable = False
        try:
            if conn is None or not conn.usable():
                if conn is not None:
                    conn.close()
                conn = None
                record.sent = self.clock()
                conn = await asyncio.wait_for(self._connect(), max(deadline - self.clock(), 0.001))
            else:
                record.sent = self.clock()
            reusable = await asyncio.wait_for(self._exchange(conn, record, payload), max(deadline - self.clock(), 0.001))
        except asyncio.TimeoutError:
            record.error, record.message = "timeout", "no complete answer within %s s" % _num(config.timeout)
        except ConnectionRefusedError as exc:
            record.error, record.message = "connect_refused", _clip(str(exc))
        except ConnectionResetError as exc:
            record.error, record.message = "reset", _clip(str(exc) or "connection reset by peer")
        except (BrokenPipeError, ConnectionAbortedError) as exc:
            record.error, record.message = "reset", _clip(str(exc) or type(exc).__name__)
        except IncompleteResponse as exc:
            record.error, record.message = "closed", str(exc)
        except ProtocolError as exc:
            record.error, record.message = "protocol", _clip(str(exc))
        except ssl.SSLError as exc:
            record.error, record.message = "tls", _clip(str(exc))
        except OSError as exc:
            record.error, record.message = "connect_error" if conn is None else "network", _clip(str(exc) or type(exc).__name__)
        record.ended = self.clock()
        if record.sent is None:
            record.sent = record.ended
        if record.message and self.config.api_key:
            record.message = record.message.replace(self.config.api_key, "********")
        if reusable:
            return conn
        if conn is not None:
            conn.close()
        return None

    def _next(self, intended):
        self._seq += 1
        return Record(self._seq, intended)

    def _keep(self, record):
        result = self.result
        if record.intended >= result.window_start:
            result.records.append(record)
            result.window_end = max(result.window_end or 0.0, record.ended)
        else:
            result.warmup_requests += 1

    # -- loops ---------------------------------------------------------------

    async def run(self):
        config = self.config
        result = self.result
        result.started = self.clock()
        window_start = result.window_start = result.started + config.warmup
        window_end = window_start + config.duration
        opener = asyncio.ensure_future(self._open_window(window_start))
        try:
            if config.mode == "closed":
                await self._closed(window_start, window_end)
            else:
                await self._open(window_start, window_end)
        finally:
            for conn in self._idle:
                conn.close()
            self._idle = []
            if not opener.done():
                opener.cancel()
        if result.window_end is None or result.window_end < result.window_start:
            result.window_end = min(self.clock(), window_end)
        hook = self.hooks.get("measure_end")
        if hook:
            hook()
        return result

    async def _open_window(self, at):
        await asyncio.sleep(max(0.0, at - self.clock()))
        hook = self.hooks.get("measure_start")
        if hook:
            hook()

    async def _closed(self, window_start, window_end):
        budget = [self.config.max_requests]

        async def client():
            conn = None
            while True:
                now = self.clock()
                if now >= window_end:
                    break
                measured = now >= window_start
                if measured:
                    if budget[0] <= 0:
                        break
                    budget[0] -= 1
                record = self._next(now)
                conn = await self._request(record, conn)
                self._keep(record)
            if conn is not None:
                conn.close()

        await asyncio.gather(*[client() for _i in range(self.config.concurrency)])

    async def _open(self, window_start, window_end):
        config = self.config
        slots = asyncio.Semaphore(config.concurrency)
        start = self.result.started
        tasks = set()
        measured_left = config.max_requests
        for offset in arrival_offsets(config.rate, 0.0, window_end - start):
            intended = start + offset
            if intended >= window_start:
                if measured_left <= 0:
                    break
                measured_left -= 1
            delay = intended - self.clock()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.ensure_future(self._arrival(intended, slots, window_start))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*list(tasks))

    async def _arrival(self, intended, slots, window_start):
        measured = intended >= window_start
        try:
            await asyncio.wait_for(slots.acquire(), max(intended + self.config.timeout - self.clock(), 0.001))
        except asyncio.TimeoutError:
            if measured:
                self.result.dropped += 1
            else:
                self.result.warmup_requests += 1
            return
        try:
            conn = None
            while self._idle and conn is None:
                candidate = self._idle.pop()
                if candidate.usable():
                    conn = candidate
                else:
                    candidate.close()
            record = self._next(intended)
            conn = await self._request(record, conn)
            if conn is not None:
                self._idle.append(conn)
            self._keep(record)
        finally:
            slots.release()


def _clip(text, limit=SAMPLE_MESSAGE_LIMIT):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."


def run_load(config, hooks=None):
    """Run a load test to the end and return its LoadResult (raises ValueError for an invalid config)."""
    runner = LoadRunner(config, hooks=hooks)
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(runner.run())
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()
