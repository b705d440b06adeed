# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP/1.1 client side of the load generator: the target of a base URL, request bytes, the
TLS context, connections over asyncio streams, and a sans-I/O incremental response parser.

Private to this collection; standard library only (runs on targets and in benchmarks/)."""

from __future__ import annotations

import asyncio
import json
import ssl
from urllib.parse import urlsplit

from ansible_collections.gatewayops.litellm.plugins.module_utils._http import validate_base_url

MAX_HEAD_BYTES = 64 * 1024
KEPT_BODY_BYTES = 2048
READ_SIZE = 64 * 1024


class ProtocolError(ValueError):
    """The server's answer is not valid HTTP/1.1."""


class IncompleteResponse(ProtocolError):
    """The connection ended before the answer was complete."""


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


class Connection(object):
    """One open connection (asyncio stream reader and writer)."""

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


async def open_connection(host, port, context=None):
    """A Connection to host:port, TLS when `context` (an ssl.SSLContext) is given."""
    kwargs = {"limit": READ_SIZE}
    if context is not None:
        kwargs.update(ssl=context, server_hostname=host)
    reader, writer = await asyncio.open_connection(host, port, **kwargs)
    return Connection(reader, writer)
