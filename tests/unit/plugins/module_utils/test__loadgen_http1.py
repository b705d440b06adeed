# -*- coding: utf-8 -*-
"""_loadgen.http1: the sans-I/O HTTP/1.1 response parser, the target of a base URL, request bytes
and the TLS context."""

from __future__ import annotations

import asyncio
import ssl

import pytest

from ansible_collections.gatewayops.litellm.plugins.module_utils._loadgen import http1


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
        parser = http1.ResponseParser()
        assert feed_all(parser, JSON_RESPONSE) == b'{"ok": true}'
        assert parser.complete and parser.status == 200 and parser.keep_alive
        assert parser.headers["x-litellm-overhead-duration-ms"] == "12.5"
        assert parser.headers["content-type"] == "application/json"
        assert parser.body_size == 12 and parser.extra == b""

    @pytest.mark.parametrize("step", [1, 2, 3, 7])
    def test_chunked_fed_in_small_pieces_with_extension_and_trailer(self, step):
        parser = http1.ResponseParser()
        assert feed_all(parser, CHUNKED_RESPONSE, step) == b"hello, world"
        assert parser.complete and parser.keep_alive

    def test_byte_by_byte_content_length(self):
        parser = http1.ResponseParser()
        assert feed_all(parser, JSON_RESPONSE, 1) == b'{"ok": true}'
        assert parser.complete

    def test_not_complete_until_the_last_byte(self):
        parser = http1.ResponseParser()
        parser.feed(JSON_RESPONSE[:-1])
        assert parser.head_complete and not parser.complete
        parser.feed(JSON_RESPONSE[-1:])
        assert parser.complete

    def test_bytes_after_the_response_are_kept_apart(self):
        parser = http1.ResponseParser()
        assert feed_all(parser, JSON_RESPONSE + b"HTTP/1.1 200") == b'{"ok": true}'
        assert parser.extra == b"HTTP/1.1 200"

    def test_interim_100_continue_is_skipped(self):
        parser = http1.ResponseParser()
        assert feed_all(parser, b"HTTP/1.1 100 Continue\r\n\r\n" + JSON_RESPONSE, 5) == b'{"ok": true}'
        assert parser.status == 200

    @pytest.mark.parametrize("status", [204, 304])
    def test_no_body_statuses(self, status):
        parser = http1.ResponseParser()
        parser.feed(b"HTTP/1.1 %d X\r\nContent-Length: 5\r\n\r\n" % status)
        assert parser.complete and parser.body_size == 0

    def test_connection_close_and_http10(self):
        parser = http1.ResponseParser()
        parser.feed(b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        assert parser.complete and parser.status == 503 and not parser.keep_alive
        parser = http1.ResponseParser()
        parser.feed(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
        assert not parser.keep_alive
        parser = http1.ResponseParser()
        parser.feed(b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n")
        assert parser.keep_alive

    def test_body_until_the_connection_ends(self):
        parser = http1.ResponseParser()
        assert feed_all(parser, b"HTTP/1.1 200 OK\r\n\r\npart one ") == b"part one "
        assert not parser.complete
        assert parser.feed(b"part two") == [b"part two"]
        parser.feed_eof()
        assert parser.complete and not parser.keep_alive and parser.body_size == 17

    def test_eof_before_any_byte_and_in_the_middle(self):
        with pytest.raises(http1.IncompleteResponse, match="before any answer"):
            http1.ResponseParser().feed_eof()
        parser = http1.ResponseParser()
        parser.feed(JSON_RESPONSE[:-3])
        with pytest.raises(http1.IncompleteResponse, match="middle of the answer"):
            parser.feed_eof()
        parser = http1.ResponseParser()
        parser.feed(CHUNKED_RESPONSE[:60])
        with pytest.raises(http1.IncompleteResponse):
            parser.feed_eof()

    def test_repeated_headers_are_joined(self):
        parser = http1.ResponseParser()
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
        with pytest.raises(http1.ProtocolError, match=match):
            http1.ResponseParser().feed(data)

    def test_head_size_is_bounded(self):
        parser = http1.ResponseParser(max_head=100)
        with pytest.raises(http1.ProtocolError, match="longer than 100"):
            parser.feed(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 200)

    def test_only_a_prefix_of_the_body_is_kept(self):
        parser = http1.ResponseParser(kept_body=4)
        body = b"0123456789"
        assert feed_all(parser, b"HTTP/1.1 500 E\r\nContent-Length: 10\r\n\r\n" + body, 3) == body
        assert parser.body_prefix == b"0123" and parser.body_size == 10


class TestRequests:
    def test_request_bytes(self):
        data = http1.build_request("POST", "/v1/chat/completions", "h:1", [("Authorization", "Bearer k")], {"a": 1})
        assert data == (b"POST /v1/chat/completions HTTP/1.1\r\nHost: h:1\r\nAuthorization: Bearer k\r\n"
                        b"Content-Length: 7\r\n\r\n{\"a\":1}")

    @pytest.mark.parametrize("url, expected", [
        ("http://127.0.0.1:4000", ("http", "127.0.0.1", 4000, "", "127.0.0.1:4000")),
        ("https://llm.example/prefix/", ("https", "llm.example", 443, "/prefix", "llm.example")),
        ("http://[::1]:8080", ("http", "::1", 8080, "", "[::1]:8080")),
        ("http://example", ("http", "example", 80, "", "example")),
    ])
    def test_targets(self, url, expected):
        assert http1.parse_target(url) == expected

    def test_ssl_context_honours_validate_certs(self):
        assert http1.ssl_context(True).verify_mode == ssl.CERT_REQUIRED
        context = http1.ssl_context(False)
        assert context.verify_mode == ssl.CERT_NONE and not context.check_hostname


class TestConnection:
    def test_a_request_and_its_answer_over_a_real_socket(self):
        async def scenario():
            async def serve(reader, writer):
                await reader.readuntil(b"\r\n\r\n")
                writer.write(JSON_RESPONSE)
                await writer.drain()
                writer.close()

            server = await asyncio.start_server(serve, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            conn = await http1.open_connection("127.0.0.1", port)
            try:
                assert conn.usable()
                conn.writer.write(http1.build_request("POST", "/", "127.0.0.1:%d" % port, [], {}))
                parser = http1.ResponseParser()
                while not parser.complete:
                    data = await conn.reader.read(http1.READ_SIZE)
                    if not data:
                        parser.feed_eof()
                        break
                    parser.feed(data)
                await asyncio.sleep(0.05)
                return parser, conn.usable()
            finally:
                conn.close()
                conn.close()  # closing twice is harmless
                server.close()
                await server.wait_closed()

        loop = asyncio.new_event_loop()
        try:
            parser, usable_after_close = loop.run_until_complete(scenario())
        finally:
            loop.close()
        assert parser.status == 200 and parser.body_prefix == b'{"ok": true}'
        # the server closed its side: the connection must not be reused
        assert not usable_after_close
