# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small client of the Docker Engine API over its unix socket, for the modules that look at
or signal a container of the stack (edge_reload, health_info's crash-loop detection,
container_stats_info): inspect, list a compose project's containers, kill (send a signal), top,
the tail of the logs and one sample of the resource counters. The parsers of the engine's
answers (the multiplexed log stream, top's rows, a container's state, its counters) are plain
functions, testable without an engine.

Paths carry no API version prefix, so the engine answers in its own newest version. The fields
read here are the same from API 1.24 to 1.52; a fixed prefix such as /v1.41 is refused by
engines whose minimum API version is above it (Docker 29 accepts 1.44 and newer only).

Anything that goes wrong (no socket, no permission, an engine error status) raises DockerError,
whose message says what and where; inspect_container and stats answer None for an unknown
container.

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
# the labels docker compose puts on the containers it creates
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
# the CFS period the kernel uses when a quota is set without one (cpu.cfs_period_us), microseconds
_DEFAULT_CPU_PERIOD = 100000


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


def _count(value):
    """An engine counter as an int, None when it is not a number."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _cpus_limit(host_config):
    nano_cpus = _count(host_config.get("NanoCpus")) or 0
    if nano_cpus > 0:
        return nano_cpus / 1e9
    quota = _count(host_config.get("CpuQuota")) or 0
    if quota > 0:
        period = _count(host_config.get("CpuPeriod")) or 0
        return quota / float(period if period > 0 else _DEFAULT_CPU_PERIOD)
    return None


def stats_summary(stats, inspect):
    """One sample of a container's resource counters, flat: what the engine's stats answer
    (stream=false) and the container's inspect say.

    name (without the leading /), id, service and project (the compose labels, null without
    them), running (false when stopped or restarting), read (the engine's time of the sample,
    null when it took none), cpu_total_ns (CPU time used since the container started),
    online_cpus (the CPUs the container may run on; the length of percpu_usage for engines
    without online_cpus), cpus_limit (--cpus, or the CFS quota over its period; null without a
    limit), throttling (periods, throttled_periods, throttled_time_ns of the CFS bandwidth
    control; zeros when the engine reports none), memory (usage_bytes, inactive_file_bytes,
    working_set_bytes = usage - inactive file pages as docker stats and the kubelet count it,
    limit_bytes: the container's limit, else the engine's, which is the host's memory) and pids.

    cgroup v1 and v2 answers differ in the memory statistics (total_inactive_file, the
    hierarchical count, on v1; inactive_file on v2) and in percpu_usage (v1 only). A container
    that does not run gets an answer without a sample (its read time is the zero time): its
    counters are null."""
    stats = stats if isinstance(stats, dict) else {}
    inspect = inspect if isinstance(inspect, dict) else {}
    state = inspect.get("State") or {}
    labels = (inspect.get("Config") or {}).get("Labels") or {}
    host_config = inspect.get("HostConfig") or {}
    cpu = stats.get("cpu_stats") or {}
    usage = cpu.get("cpu_usage") or {}
    memory = stats.get("memory_stats") or {}
    read = _time(stats.get("read"))
    running = bool(state.get("Running")) and not state.get("Restarting")
    sampled = running and read is not None

    online_cpus = _count(cpu.get("online_cpus")) or None
    if online_cpus is None and isinstance(usage.get("percpu_usage"), list) and usage["percpu_usage"]:
        online_cpus = len(usage["percpu_usage"])

    throttling = {"periods": None, "throttled_periods": None, "throttled_time_ns": None}
    memory_summary = {"usage_bytes": None, "inactive_file_bytes": None, "working_set_bytes": None}
    if sampled:
        throttling_data = cpu.get("throttling_data") or {}
        throttling = {
            "periods": _count(throttling_data.get("periods")) or 0,
            "throttled_periods": _count(throttling_data.get("throttled_periods")) or 0,
            "throttled_time_ns": _count(throttling_data.get("throttled_time")) or 0,
        }
        used = _count(memory.get("usage"))
        if used is not None:
            counters = memory.get("stats") or {}
            inactive = _count(counters.get("total_inactive_file", counters.get("inactive_file"))) or 0
            memory_summary = {"usage_bytes": used, "inactive_file_bytes": inactive,
                              "working_set_bytes": max(used - inactive, 0)}
    limit = _count(host_config.get("Memory")) or 0
    if limit <= 0:
        limit = (_count(memory.get("limit")) or None) if sampled else None
    memory_summary["limit_bytes"] = limit

    return {
        "name": (inspect.get("Name") or stats.get("name") or "").lstrip("/") or None,
        "id": inspect.get("Id") or stats.get("id") or None,
        "service": labels.get(SERVICE_LABEL),
        "project": labels.get(PROJECT_LABEL),
        "running": running,
        "read": read,
        "cpu_total_ns": _count(usage.get("total_usage")) if sampled else None,
        "online_cpus": online_cpus if sampled else None,
        "cpus_limit": _cpus_limit(host_config),
        "throttling": throttling,
        "memory": memory_summary,
        "pids": (_count((stats.get("pids_stats") or {}).get("current")) if sampled else None),
    }


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

    def list_containers(self, project):
        """The engine's summaries (Id, Names, Labels, State ...) of the running containers of the
        compose project `project` (those labelled com.docker.compose.project=<project>)."""
        if not project:
            raise ValueError("a compose project name is needed")
        query = {"filters": json.dumps({"label": ["%s=%s" % (PROJECT_LABEL, project)]})}
        answer = self._json("GET", "/containers/json", query)
        if not isinstance(answer, list):
            raise DockerError("not a list of containers: %r" % (answer,), method="GET", path="/containers/json")
        return answer

    def stats(self, name_or_id):
        """One sample of the container's resource counters as the engine answers it (see
        stats_summary), or None when there is no such container. one-shot asks for it at once
        instead of after a second sample of precpu_stats (engines before API 1.41 ignore it
        and take about a second)."""
        path = self._path("/containers/%s/stats", name_or_id)
        try:
            answer = self._json("GET", path, {"stream": "false", "one-shot": "true"})
        except DockerError as exc:
            if exc.status == 404:
                return None
            raise
        if not isinstance(answer, dict):
            raise DockerError("not an answer of the stats endpoint: %r" % (answer,), method="GET", path=path)
        return answer

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
