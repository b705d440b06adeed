# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTP transport the collection's modules share to talk to a LiteLLM proxy, over
ansible.module_utils.urls.open_url: URL validation, the client, its Response and the
mapping of network exceptions to error kinds. What LiteLLM's answers mean is in _litellm.

Nothing the network or the proxy does raises: every request returns a Response whose
`error` says what went wrong. Invalid arguments raise ValueError. The API key is sent
only to the origin of the configured URL (redirects elsewhere are not followed) and is
never part of a message.

Private to this collection; standard library only (runs on targets)."""

from __future__ import annotations

import errno
import http.client
import json
import re
import socket
import ssl
import time
import urllib.error
from urllib.parse import urljoin, urlsplit

from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import open_url

USER_AGENT = "gatewayops.litellm/%s"
MAX_REDIRECTS = 3
DEFAULT_MAX_BODY = 1024 * 1024
MESSAGE_LIMIT = 300
DEFAULT_URL = "http://127.0.0.1:4000"


def connection_argument_spec():
    """The options of the gatewayops.litellm.connection doc fragment."""
    return {
        "url": {"type": "str", "default": DEFAULT_URL},
        "api_key": {"type": "str", "no_log": True},
        "timeout": {"type": "float", "default": 10.0},
        "validate_certs": {"type": "bool", "default": True},
        "ca_path": {"type": "path"},
    }


def validate_base_url(url):
    """Check a proxy URL (http(s)://host[:port][/prefix]); return it without a trailing slash.
    Raises ValueError with a message that says what is wrong; a user name and password in the
    URL are never part of that message."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError("url is empty")
    url = url.strip()
    shown = _without_userinfo(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError("url %r is not a valid URL: %s" % (shown, exc))
    if parts.scheme not in ("http", "https"):
        raise ValueError("url %r must start with http:// or https://" % shown)
    if parts.username is not None or parts.password is not None:
        raise ValueError("url must not carry credentials; pass the key as api_key")
    if not parts.hostname:
        raise ValueError("url %r has no host name" % shown)
    if port == 0:
        raise ValueError("url %r has port 0" % shown)
    if parts.query or parts.fragment:
        raise ValueError("url %r must not have a query or fragment" % shown)
    if any(c.isspace() for c in url):
        raise ValueError("url %r contains white space" % shown)
    return url.rstrip("/")


def _without_userinfo(url):
    """The URL for a message: a user name and password (user:pw@ after //) become '***@'."""
    return re.sub(r"^([^/?#]*//)[^/?#]*@", r"\1***@", url)


def _origin(url):
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


class Response(object):
    """What one request got: HTTP status (None when no HTTP answer came), headers (lower-case
    names), body bytes, elapsed milliseconds, final URL, and error / error_kind when it failed.

    error_kind: timeout, refused, dns, tls, connection, redirect, http (an HTTP status >= 400)."""

    def __init__(self, url, status=None, headers=None, body=b"", elapsed_ms=0.0, error=None, error_kind=None):
        self.url = url
        self.status = status
        self.headers = headers or {}
        self.body = body
        self.elapsed_ms = elapsed_ms
        self.error = error
        self.error_kind = error_kind
        self._json = None
        self._json_parsed = False

    @property
    def ok(self):
        return self.status is not None and 200 <= self.status < 300

    @property
    def answered(self):
        """An HTTP answer came back (any status)."""
        return self.status is not None

    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        """The body as JSON, or None when it is not JSON."""
        if not self._json_parsed:
            self._json_parsed = True
            try:
                self._json = json.loads(self.text()) if self.body else None
            except ValueError:
                self._json = None
        return self._json

    def describe(self):
        """One line for a message: 'HTTP 503: {...}' or 'connection refused (...)'."""
        if self.status is None:
            return self.error or "no answer"
        text = " ".join(self.text().split())
        if len(text) > MESSAGE_LIMIT:
            text = text[:MESSAGE_LIMIT] + "..."
        return ("HTTP %d: %s" % (self.status, text)) if text else ("HTTP %d" % self.status)

    def summary(self):
        """status_code, ok, latency_ms and error, for a module's return value."""
        return {
            "status_code": self.status,
            "ok": self.ok,
            "latency_ms": round(self.elapsed_ms, 1),
            "error": None if self.ok else self.describe(),
        }


def _exception_reason(exc):
    """(kind, text) for an exception open_url or reading the body raised."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return "timeout", "timed out"
    if isinstance(reason, ConnectionRefusedError):
        return "refused", "connection refused"
    if isinstance(reason, socket.gaierror):
        return "dns", "host name not resolved (%s)" % (reason.strerror or reason)
    if isinstance(reason, (ssl.SSLError, ssl.CertificateError)) or isinstance(exc, UrlsConnectionError):
        return "tls", "TLS error: %s" % (getattr(reason, "reason", None) or reason)
    if isinstance(reason, http.client.RemoteDisconnected):
        return "connection", "the server closed the connection without answering"
    if isinstance(reason, http.client.HTTPException):
        return "connection", "invalid HTTP answer (%s)" % (type(reason).__name__,)
    if isinstance(reason, OSError) and reason.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "connection", "no route to host"
    if isinstance(reason, OSError) and reason.strerror:
        return "connection", reason.strerror.lower()
    return "connection", str(reason) or type(reason).__name__


class Client(object):
    """Requests to one LiteLLM proxy. `url` is its base URL (http(s)://host:port[/prefix])."""

    def __init__(self, url, api_key=None, timeout=10.0, validate_certs=True, ca_path=None, agent="module"):
        self.base_url = validate_base_url(url)
        if timeout is None or timeout <= 0:
            raise ValueError("timeout must be a positive number of seconds, got %r" % (timeout,))
        self.api_key = api_key or None
        self.timeout = float(timeout)
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.user_agent = USER_AGENT % agent

    @classmethod
    def from_module(cls, module, agent):
        """A Client from the connection options of an AnsibleModule; fails the module on bad values."""
        params = module.params
        try:
            return cls(params["url"], api_key=params.get("api_key"), timeout=params["timeout"],
                       validate_certs=params["validate_certs"], ca_path=params.get("ca_path"), agent=agent)
        except ValueError as exc:
            module.fail_json(msg=str(exc))

    def url_for(self, path):
        """The base URL joined with a path ('' is the base URL itself, '/' the base URL with a slash)."""
        if not path:
            return self.base_url
        return self.base_url + "/" + path.lstrip("/")

    def request(self, method, path, payload=None, auth=True, timeout=None, max_body=DEFAULT_MAX_BODY, headers=None):
        """One request; JSON body from `payload`. Follows redirects of GET requests within the
        same origin only. Returns a Response, never raises for network or HTTP errors."""
        url = self.url_for(path)
        origin = _origin(url)
        send_headers = {"Accept": "application/json, text/plain;q=0.9, */*;q=0.1"}
        if headers:
            send_headers.update(headers)
        data = None
        if payload is not None:
            data = json.dumps(payload).encode("utf-8")
            send_headers["Content-Type"] = "application/json"
        if auth and self.api_key:
            send_headers["Authorization"] = "Bearer " + self.api_key
        started = time.monotonic()
        for _hop in range(MAX_REDIRECTS + 1):
            response = self._once(method, url, data, send_headers, timeout or self.timeout, max_body)
            location = response.headers.get("location")
            if not (response.status in (301, 302, 303, 307, 308) and location and method == "GET"):
                break
            target = urljoin(url, location)
            if _origin(target) != origin:
                response.error = "redirected to another origin (%s); not followed so the key stays with %s" % (
                    target, "%s://%s:%d" % origin)
                response.error_kind = "redirect"
                break
            url = target
        else:
            response.error = "more than %d redirects" % MAX_REDIRECTS
            response.error_kind = "redirect"
        response.elapsed_ms = (time.monotonic() - started) * 1000.0
        return response

    def get(self, path, auth=True, timeout=None, max_body=DEFAULT_MAX_BODY):
        return self.request("GET", path, auth=auth, timeout=timeout, max_body=max_body)

    def post(self, path, payload, timeout=None):
        return self.request("POST", path, payload=payload, timeout=timeout)

    def _once(self, method, url, data, headers, timeout, max_body):
        try:
            handle = open_url(url, data=data, headers=headers, method=method, timeout=timeout,
                              validate_certs=self.validate_certs, ca_path=self.ca_path,
                              http_agent=self.user_agent, follow_redirects="none",
                              use_netrc=False)
            try:
                body = handle.read(max_body)
                return Response(url, handle.getcode(), _headers(handle.headers), body)
            finally:
                handle.close()
        except urllib.error.HTTPError as exc:
            body = b""
            try:
                body = exc.read(max_body) if exc.fp is not None else b""
            except (OSError, http.client.HTTPException):
                pass
            response = Response(url, exc.code, _headers(exc.headers), body)
            if exc.code >= 400:
                response.error = response.describe()
                response.error_kind = "http"
            return response
        except (urllib.error.URLError, OSError, http.client.HTTPException, UrlsConnectionError) as exc:
            kind, text = _exception_reason(exc)
            return Response(url, error="%s (%s %s)" % (text, method, url), error_kind=kind)


def _headers(message):
    if message is None:
        return {}
    merged = {}
    for name, value in message.items():
        name = name.lower()
        merged[name] = (merged[name] + ", " + value) if name in merged else value
    return merged
