# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The load generator's runner: raw HTTP/1.1 over asyncio streams.

Closed loop (N clients, each sends its next request when the previous one is answered) or
open loop (arrivals at a fixed rate; latency counted from each arrival's intended send time,
so a slow server cannot hide its latency by slowing the client down: no coordinated omission).
Requests that start during the warm-up are not measured. Every run is bounded by a duration
and by a request count.

Private to this collection; standard library only (runs on targets and in benchmarks/)."""

from __future__ import annotations

import asyncio
import math
import ssl
import time

from ansible_collections.gatewayops.litellm.plugins.module_utils._litellm import OVERHEAD_HEADER
from ansible_collections.gatewayops.litellm.plugins.module_utils._loadgen.config import ENDPOINTS, request_body
from ansible_collections.gatewayops.litellm.plugins.module_utils._loadgen.http1 import (
    READ_SIZE,
    IncompleteResponse,
    ProtocolError,
    ResponseParser,
    build_request,
    open_connection,
    parse_target,
    ssl_context,
)
from ansible_collections.gatewayops.litellm.plugins.module_utils._loadgen.results import LoadResult, Record, format_number
from ansible_collections.gatewayops.litellm.plugins.module_utils._loadgen.sse import SSEDecoder, sse_event_kind

USER_AGENT = "gatewayops.litellm/load_test"
SAMPLE_MESSAGE_LIMIT = 200


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
                conn = await asyncio.wait_for(open_connection(self.host, self.port, self.ssl), max(deadline - self.clock(), 0.001))
            else:
                record.sent = self.clock()
            reusable = await asyncio.wait_for(self._exchange(conn, record, payload), max(deadline - self.clock(), 0.001))
        except asyncio.TimeoutError:
            record.error, record.message = "timeout", "no complete answer within %s s" % format_number(config.timeout)
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
