# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small client of the Docker Engine API over its unix socket, for the modules that look at
or signal a container of the stack (edge_reload, health_info's crash-loop detection): inspect,
kill (send a signal), top and the tail of the logs. The parsers of the engine's answers (the
multiplexed log stream, top's rows, a container's state) are plain functions, testable without
an engine.

Paths carry no API version prefix, so the engine answers in its own newest version. The fields
read here are the same from API 1.24 to 1.52; a fixed prefix such as /v1.41 is refused by
engines whose minimum API version is above it (Docker 29 accepts 1.44 and newer only).

Anything that goes wrong (no socket, no permission, an engine error status) raises DockerError,
whose message says what and where; inspect_container answers None for an unknown container.

Private to this collection; standard library only (runs on targets)."""

from __future__ import annotations

import errno
import http.client
import json
import socket
import struct
from urllib.parse import quote, urlencode

DEFAULT_SOCKET = "/var/run/docker.sock"
DEFAULT_TIMEOUT = 30.0
DEFAULT_PS_ARGS = "-o pid,ppid,args"
MAX_BODY = 16 * 1024 * 1024
MESSAGE_LIMIT = 300
# stream types of the multiplexed stream (logs and attach of a container without a TTY)
STREAMS = {0: "stdin", 1: "stdout", 2: "stderr"}
_FRAME_HEADER = struct.Struct(">BxxxL")
# the zero time.Time the engine reports for a start or finish that has not happened
_ZERO_TIME = "0001-01-01T00:00:00Z"


class DockerError(Exception):
    """The engine could not be reached or answered with an error. `status` is the HTTP status
    (None when no answer came) and `message` the engine's message (or what failed)."""

    def __init__(self, message, status=None, method=None, path=None):
        super(DockerError, self).__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.path = path

    def __str__(self):
        where = ("%s %s" % (self.method, self.path)) if self.method else ""
        if self.status is None:
            return "%s%s" % (self.message, (" (%s)" % where) if where else "")
        return "Docker engine answered HTTP %d%s: %s" % (self.status, (" to %s" % where) if where else "", self.message)


def demux(data):
    """The frames of a multiplexed stream as (stream name, payload bytes) pairs. Each frame is an
    8-byte header (stream type, three zero bytes, payload length as big-endian uint32) and its
    payload; a payload cut short at the end is returned as far as it goes. Raises ValueError
    when the bytes are not such a stream (a container with a TTY sends raw text instead)."""
    frames = []
    offset = 0
    while offset < len(data):
        if len(data) - offset < _FRAME_HEADER.size:
            raise ValueError("not a multiplexed stream: %d stray bytes at offset %d" % (len(data) - offset, offset))
        if data[offset + 1:offset + 4] != b"\0\0\0" or data[offset] not in STREAMS:
            raise ValueError("not a multiplexed stream: no frame header at offset %d" % offset)
        kind, size = _FRAME_HEADER.unpack_from(data, offset)
        offset += _FRAME_HEADER.size
        frames.append((STREAMS[kind], bytes(data[offset:offset + size])))
        offset += size
    return frames


def demux_text(data, streams=("stdout", "stderr")):
    """The text of the frames of `streams`, in the order they were written."""
    return b"".join(payload for name, payload in demux(data) if name in streams).decode("utf-8", "replace")


def _number(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def top_rows(answer):
    """The processes of a top answer ({"Titles": [...], "Processes": [[...], ...]}) as dicts keyed
    by the lower-case titles (ps -o pid,ppid,args titles them PID, PPID, COMMAND); PID and PPID
    values become integers."""
    if not isinstance(answer, dict) or not isinstance(answer.get("Titles"), list):
        raise ValueError("not an answer of the top endpoint: %r" % (answer,))
    titles = [str(title).lower() for title in answer["Titles"]]
    rows = []
    for process in answer.get("Processes") or []:
        row = dict(zip(titles, process))
        for key in ("pid", "ppid"):
            if key in row:
                row[key] = _number(row[key])
        rows.append(row)
    return rows


def _time(value):
    return None if not value or value == _ZERO_TIME else value


def state_summary(info):
    """What a container inspect says about its state: id, name, status, running, restarting,
    restart_count, exit_code, oom_killed, started_at, finished_at (null when that did not happen
    yet), health (the healthcheck status, null without one) and error (the engine's, null when
    none)."""
    state = info.get("State") or {}
    health = state.get("Health") or {}
    return {
        "id": info.get("Id"),
        "name": (info.get("Name") or "").lstrip("/") or None,
        "status": state.get("Status"),
        "running": bool(state.get("Running")),
        "restarting": bool(state.get("Restarting")),
        "restart_count": info.get("RestartCount", 0),
        "exit_code": state.get("ExitCode"),
        "oom_killed": bool(state.get("OOMKilled")),
        "started_at": _time(state.get("StartedAt")),
        "finished_at": _time(state.get("FinishedAt")),
        "health": health.get("Status") or None,
        "error": state.get("Error") or None,
    }


def describe_state(summary):
    """One phrase for a message: 'status exited, exit code 1, OOM killed, restarted 3 times'."""
    parts = ["status %s" % summary.get("status")]
    if summary.get("status") != "running" and summary.get("exit_code") is not None:
        parts.append("exit code %s" % summary["exit_code"])
    if summary.get("oom_killed"):
        parts.append("OOM killed")
    if summary.get("health"):
        parts.append("health %s" % summary["health"])
    if summary.get("restart_count"):
        parts.append("restarted %s times" % summary["restart_count"])
    if summary.get("error"):
        parts.append("error: %s" % summary["error"])
    return ", ".join(parts)


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over a unix stream socket."""

    def __init__(self, path, timeout):
        super(_UnixConnection, self).__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def _os_reason(exc, socket_path):
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(exc, FileNotFoundError):
        return "there is no socket %s (is Docker installed and running?)" % socket_path
    if isinstance(exc, PermissionError):
        return "permission denied on %s (the user needs root or the docker group)" % socket_path
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused on %s (is the Docker engine running?)" % socket_path
    if isinstance(exc, OSError) and exc.errno == errno.ENOTSOCK:
        return "%s is not a socket" % socket_path
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the engine closed the connection without answering"
    if isinstance(exc, http.client.HTTPException):
        return "invalid HTTP answer (%s)" % type(exc).__name__
    return (getattr(exc, "strerror", None) or str(exc) or type(exc).__name__)


def _engine_message(body):
    text = body.decode("utf-8", "replace").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("message"):
        text = str(parsed["message"])
    text = " ".join(text.split())
    return (text[:MESSAGE_LIMIT] + "...") if len(text) > MESSAGE_LIMIT else (text or "no message")


class DockerClient(object):
    """Requests to the Docker engine behind `socket_path`; one connection per request."""

    def __init__(self, socket_path=DEFAULT_SOCKET, timeout=DEFAULT_TIMEOUT, api_version=None):
        if timeout is None or timeout <= 0:
            raise ValueError("timeout must be a positive number of seconds, got %r" % (timeout,))
        self.socket_path = socket_path
        self.timeout = float(timeout)
        self.prefix = ("/v%s" % api_version) if api_version else ""

    def request(self, method, path, query=None, expect=(200,), timeout=None):
        """(status, body bytes) of one request; DockerError unless the status is in `expect`."""
        target = self.prefix + path + (("?" + urlencode(query)) if query else "")
        connection = _UnixConnection(self.socket_path, timeout or self.timeout)
        try:
            try:
                connection.request(method, target, headers={"Accept": "application/json"})
                response = connection.getresponse()
                body = response.read(MAX_BODY)
            except (OSError, http.client.HTTPException) as exc:
                raise DockerError("cannot talk to the Docker engine: %s" % _os_reason(exc, self.socket_path),
                                  method=method, path=path)
        finally:
            connection.close()
        if response.status not in expect:
            raise DockerError(_engine_message(body), status=response.status, method=method, path=path)
        return response.status, body

    def _json(self, method, path, query=None):
        _status, body = self.request(method, path, query)
        try:
            return json.loads(body.decode("utf-8"))
        except ValueError:
            raise DockerError("the answer is not JSON: %r" % body[:MESSAGE_LIMIT], method=method, path=path)

    @staticmethod
    def _path(template, name_or_id):
        if not name_or_id:
            raise ValueError("a container name or id is needed")
        return template % quote(str(name_or_id), safe="")

    def inspect_container(self, name_or_id):
        """The engine's inspect of the container, or None when there is no such container."""
        path = self._path("/containers/%s/json", name_or_id)
        try:
            return self._json("GET", path)
        except DockerError as exc:
            if exc.status == 404:
                return None
            raise

    def kill(self, name_or_id, signal="SIGKILL"):
        """Send `signal` (name such as SIGUSR2 or USR2, or number) to the container's main process."""
        self.request("POST", self._path("/containers/%s/kill", name_or_id), {"signal": str(signal)}, expect=(204,))

    def top(self, name_or_id, ps_args=DEFAULT_PS_ARGS):
        """The container's processes as top_rows() dicts (the engine runs ps on the host: PIDs are
        the host's, not those inside the container's PID namespace)."""
        answer = self._json("GET", self._path("/containers/%s/top", name_or_id), {"ps_args": ps_args} if ps_args else None)
        try:
            return top_rows(answer)
        except ValueError as exc:
            raise DockerError(str(exc), method="GET", path=self._path("/containers/%s/top", name_or_id))

    def logs_tail(self, name_or_id, lines=20, tty=None, since=None):
        """The last `lines` lines of the container's stdout and stderr as text (after the UNIX time
        `since` only, when given). `tty`: whether the container has a TTY (raw stream); None asks
        the engine."""
        if tty is None:
            info = self.inspect_container(name_or_id)
            tty = bool(((info or {}).get("Config") or {}).get("Tty"))
        query = {"stdout": 1, "stderr": 1, "tail": int(lines) if lines is not None else "all"}
        if since is not None:
            query["since"] = "%.6f" % since
        path = self._path("/containers/%s/logs", name_or_id)
        _status, body = self.request("GET", path, query)
        if tty:
            return body.decode("utf-8", "replace")
        try:
            return demux_text(body)
        except ValueError:
            # a stream that is not multiplexed after all: show it as it came
            return body.decode("utf-8", "replace")
