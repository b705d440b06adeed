# -*- coding: utf-8 -*-
"""A tiny HTTP server on 127.0.0.1 that answers like a LiteLLM proxy would, route by route,
for unit tests of the HTTP client and the modules (stdlib only; no mocks of the client)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StubProxy:
    """Routes are (method, path) -> handler(request) returning (status, headers, body).
    Every request is recorded as a dict: method, path, headers (lower-case), json."""

    def __init__(self):
        self.routes = {}
        self.requests = []
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args):
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                request = {"method": self.command, "path": self.path,
                           "headers": {k.lower(): v for k, v in self.headers.items()},
                           "json": json.loads(raw) if raw else None}
                with stub._lock:
                    stub.requests.append(request)
                handler = stub.routes.get((self.command, self.path))
                if handler is None:
                    status, headers, body = 404, {}, {"detail": "Not Found"}
                else:
                    status, headers, body = handler(request)
                if isinstance(body, (dict, list)) or (isinstance(body, str) and headers.get("Content-Type") is None):
                    data = json.dumps(body).encode()
                    headers = dict({"Content-Type": "application/json"}, **headers)
                else:
                    data = body if isinstance(body, bytes) else body.encode()
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            do_GET = _serve
            do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def route(self, method, path, status=200, body=None, headers=None, delay=0.0):
        """Answer method+path with a fixed reply (after `delay` seconds)."""
        def handler(_request):
            if delay:
                time.sleep(delay)
            return status, dict(headers or {}), body if body is not None else {}
        self.routes[(method, path)] = handler

    def handle(self, method, path, handler):
        """Answer method+path with handler(request) -> (status, headers, body)."""
        self.routes[(method, path)] = handler

    def healthy(self, version="1.108.7"):
        """The health routes of a ready proxy without a database."""
        self.route("GET", "/health/liveliness", body="I'm alive!")
        self.route("GET", "/health/readiness", body={"status": "healthy", "db": "Not connected"})
        self.handle("GET", "/health/readiness/details", self._keyed(
            {"status": "healthy", "db": "Not connected", "cache": "redis", "litellm_version": version,
             "success_callbacks": ["PrometheusLogger"], "log_level": "WARNING"}))
        return self

    def _keyed(self, body, key="sk-master"):
        def handler(request):
            auth = request["headers"].get("authorization")
            if auth is None:
                return 401, {}, {"error": {"message": "Authentication Error, No api key passed in.", "type": "auth_error",
                                           "param": "None", "code": "401"}}
            if auth != "Bearer " + key:
                return 400, {}, {"error": {"message": "No connected db.", "type": "no_db_connection", "param": None, "code": "400"}}
            return 200, {}, body
        return handler

    def keyed(self, method, path, body, key="sk-master"):
        """A route that needs `key`; other keys get LiteLLM's no-database answer (400)."""
        self.handle(method, path, self._keyed(body, key))
