# -*- coding: utf-8 -*-
"""The Docker Engine API client: the parsers of the engine's answers (multiplexed stream, top,
container state, resource counters), and the client end to end against FakeEngine, a stand-in
engine that answers on a unix socket as dockerd 20.10 does (no Docker needed). FakeEngine is also
what the module tests of edge_reload, health_info and container_stats_info point their
docker_socket at."""

from __future__ import annotations

import copy
import json
import os
import shutil
import socket
import socketserver
import struct
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from ansible_collections.gatewayops.litellm.plugins.module_utils import _docker as d

ZERO_TIME = "0001-01-01T00:00:00Z"
GIB = 1024 ** 3

# One sample of GET /containers/{id}/stats?stream=false&one-shot=true as Docker 24 answers it on
# a cgroup v2 host (no percpu_usage; the memory statistics are those of memory.stat; with
# one-shot, precpu_stats is empty).
STATS_V2 = {
    "read": "2026-12-02T10:15:30.123456789Z", "preread": ZERO_TIME,
    "pids_stats": {"current": 23, "limit": 4915},
    "blkio_stats": {"io_service_bytes_recursive": [{"major": 8, "minor": 0, "op": "read", "value": 4096},
                                                   {"major": 8, "minor": 0, "op": "write", "value": 0}],
                    "io_serviced_recursive": None, "io_queue_recursive": None, "io_service_time_recursive": None,
                    "io_wait_time_recursive": None, "io_merged_recursive": None, "io_time_recursive": None,
                    "sectors_recursive": None},
    "num_procs": 0, "storage_stats": {},
    "cpu_stats": {"cpu_usage": {"total_usage": 48213456000, "usage_in_kernelmode": 6123456000,
                                "usage_in_usermode": 42090000000},
                  "system_cpu_usage": 9876543210000000, "online_cpus": 2,
                  "throttling_data": {"periods": 15012, "throttled_periods": 312, "throttled_time": 20456789000}},
    "precpu_stats": {"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
                     "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}},
    "memory_stats": {"usage": 412315648,
                     "stats": {"active_anon": 0, "active_file": 10485760, "anon": 356515840, "file": 52428800,
                               "inactive_anon": 356515840, "inactive_file": 41943040, "kernel_stack": 327680,
                               "pgfault": 120034, "pgmajfault": 12, "shmem": 0, "slab": 2097152, "sock": 0},
                     "limit": 8335585280},
    "name": "/litellm-litellm-1", "id": "4f9c2a7d1e5b",
    "networks": {"eth0": {"rx_bytes": 5219, "rx_packets": 41, "rx_errors": 0, "rx_dropped": 0,
                          "tx_bytes": 1802, "tx_packets": 19, "tx_errors": 0, "tx_dropped": 0}},
}

# The same from Docker 20.10 on a cgroup v1 host, of an engine before online_cpus (API 1.27):
# percpu_usage per CPU, the v1 memory statistics with their hierarchical total_* counts.
STATS_V1 = {
    "read": "2026-12-02T10:15:31.000000001Z", "preread": ZERO_TIME,
    "pids_stats": {"current": 9},
    "blkio_stats": {"io_service_bytes_recursive": [], "io_serviced_recursive": []},
    "num_procs": 0, "storage_stats": {},
    "cpu_stats": {"cpu_usage": {"total_usage": 7345678901,
                                "percpu_usage": [1836419725, 1836419725, 1836419726, 1836419725],
                                "usage_in_kernelmode": 1230000000, "usage_in_usermode": 5870000000},
                  "system_cpu_usage": 4455667788990000,
                  "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}},
    "precpu_stats": {"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
                     "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}},
    "memory_stats": {"usage": 209715200, "max_usage": 262144000,
                     "stats": {"active_anon": 125829120, "active_file": 20971520, "cache": 73400320,
                               "inactive_anon": 0, "inactive_file": 12582912, "rss": 125829120,
                               "hierarchical_memory_limit": 9223372036854771712,
                               "total_active_file": 20971520, "total_cache": 73400320,
                               "total_inactive_file": 52428800, "total_rss": 125829120},
                     "limit": 8335585280},
    "name": "/litellm-redis-1", "id": "9a8b7c6d5e4f",
}


def stopped_stats(name, container_id):
    """What dockerd answers for a container that does not run (or restarts) with stream=false:
    its name and id, no time, zero CPU counters, no memory or PID statistics."""
    nothing = {"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
               "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}}
    return {"read": ZERO_TIME, "preread": ZERO_TIME, "pids_stats": {},
            "blkio_stats": {"io_service_bytes_recursive": None, "io_serviced_recursive": None},
            "num_procs": 0, "storage_stats": {}, "cpu_stats": copy.deepcopy(nothing), "precpu_stats": copy.deepcopy(nothing),
            "memory_stats": {}, "name": "/" + name, "id": container_id}


def frame(stream, data):
    """One frame of a multiplexed stream: 1 stdout, 2 stderr."""
    data = data.encode() if isinstance(data, str) else data
    return struct.pack(">BxxxL", stream, len(data)) + data


class FakeContainer(object):
    """A container as the fake engine knows it. `processes` are (pid, ppid, command) rows;
    `on_kill(container, signal)` and `on_top(container)` let a test make it act (fork, exit)."""

    def __init__(self, name, pid=100, status="running", tty=False, restart_count=0, exit_code=0,
                 path="haproxy", args=("-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"),
                 labels=None, host_config=None, stats=None):
        self.name = name
        self.id = ("%064x" % abs(hash((name, time.time()))))[:64]
        self.pid = pid
        self.status = status
        self.tty = tty
        self.restart_count = restart_count
        self.exit_code = exit_code
        self.oom_killed = False
        self.health = None
        self.error = ""
        self.path = path
        self.args = list(args)
        self.mounts = []
        self.processes = []
        self.log = []          # (unix time, stream, line)
        self.signals = []
        self.on_kill = None
        self.on_top = None
        self.top_calls = 0
        self.labels = dict(labels or {})
        # what docker run sets without --cpus, --cpu-quota or --memory
        self.host_config = dict({"NanoCpus": 0, "CpuQuota": 0, "CpuPeriod": 0, "Memory": 0}, **(host_config or {}))
        self.stats = copy.deepcopy(STATS_V2 if stats is None else stats)  # answered while it runs

    def write_log(self, line, stream=2, when=None):
        self.log.append((time.time() if when is None else when, stream, line.rstrip("\n") + "\n"))

    def inspect(self):
        running = self.status in ("running", "paused")
        return {
            "Id": self.id, "Name": "/" + self.name, "Path": self.path, "Args": self.args,
            "RestartCount": self.restart_count, "Mounts": self.mounts,
            "Config": {"Tty": self.tty, "Labels": dict(self.labels)},
            "HostConfig": dict(self.host_config),
            "State": dict({
                "Status": self.status, "Running": running, "Paused": self.status == "paused",
                "Restarting": self.status == "restarting", "OOMKilled": self.oom_killed,
                "Dead": self.status == "dead", "Pid": self.pid if running else 0, "ExitCode": self.exit_code,
                "Error": self.error, "StartedAt": "2026-12-01T23:04:38.590290335Z",
                "FinishedAt": ZERO_TIME if self.status == "running" else "2026-12-01T23:05:38.1Z"},
                **({"Health": {"Status": self.health, "FailingStreak": 0, "Log": []}} if self.health else {})),
        }


class FakeEngine(object):
    """Answers /containers/json (with label filters) and /containers/{name}/json, /kill, /top,
    /logs and /stats on a unix socket in a temporary directory (short enough for the 108-byte socket path limit), with or without a /v1.NN prefix.
    Every request is recorded as (method, path without prefix, query dict)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="gwdock")
        self.path = os.path.join(self.dir, "docker.sock")
        self.containers = {}
        self.requests = []
        self._lock = threading.Lock()
        engine = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args):
                pass

            def _serve(self):
                parts = urlsplit(self.path)
                path = parts.path
                if path.startswith("/v1."):
                    path = "/" + path.split("/", 2)[2]
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                with engine._lock:
                    engine.requests.append((self.command, path, query))
                    answer = engine.answer(self.command, path, query)
                status, content_type, body, chunked = answer
                self.send_response(status)
                self.send_header("Api-Version", "1.41")
                if content_type:
                    self.send_header("Content-Type", content_type)
                if chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for start in range(0, len(body), 7):
                        piece = body[start:start + 7]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            do_GET = _serve
            do_POST = _serve

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        self.server = Server(self.path, Handler)
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def add(self, container):
        self.containers[container.name] = container
        return container

    def remove(self, name):
        self.containers.pop(name, None)

    def calls(self, method=None, endpoint=None):
        """The recorded requests of a method and endpoint (json, kill, top, logs)."""
        return [r for r in self.requests
                if (method is None or r[0] == method) and (endpoint is None or r[1].rsplit("/", 1)[-1] == endpoint)]

    @staticmethod
    def _json(status, body):
        return status, "application/json", json.dumps(body).encode(), False

    def _list(self, query):
        """The running containers (all with all=1) that have every label of the label filters,
        newest first, as dockerd lists them."""
        filters = json.loads(query.get("filters") or "{}")
        wanted = filters.get("label") or []
        listed = []
        for container in reversed(list(self.containers.values())):
            if query.get("all") not in ("1", "true") and container.status != "running":
                continue
            if not all(container.labels.get(w.split("=", 1)[0]) == w.split("=", 1)[1] if "=" in w
                       else w in container.labels for w in wanted):
                continue
            listed.append({"Id": container.id, "Names": ["/" + container.name], "Image": "haproxy:2.6",
                           "Command": container.path, "Created": 1764669878, "Labels": dict(container.labels),
                           "State": container.status, "Status": "Up 5 minutes"})
        return self._json(200, listed)

    def answer(self, method, path, query):
        if (method, path) == ("GET", "/containers/json"):
            return self._list(query)
        pieces = path.split("/")
        if len(pieces) != 4 or pieces[1] != "containers":
            return self._json(404, {"message": "page not found"})
        name, endpoint = unquote(pieces[2]), pieces[3]
        container = self.containers.get(name) or next(
            (c for c in self.containers.values() if len(name) >= 12 and c.id.startswith(name)), None)
        if container is None:
            prefix = {"kill": "Cannot kill container: %s: " % name}.get(endpoint, "")
            return self._json(404, {"message": "%sNo such container: %s" % (prefix, name)})
        if (method, endpoint) == ("GET", "json"):
            return self._json(200, container.inspect())
        if (method, endpoint) == ("POST", "kill"):
            if container.status != "running":
                return self._json(409, {"message": "Cannot kill container: %s: Container %s is not running" % (
                    name, container.id)})
            signal = query.get("signal", "SIGKILL")
            container.signals.append(signal)
            if container.on_kill:
                container.on_kill(container, signal)
            return 204, None, b"", False
        if (method, endpoint) == ("GET", "top"):
            if container.status != "running":
                return self._json(409, {"message": "Container %s is not running" % container.id})
            container.top_calls += 1
            if container.on_top:
                container.on_top(container)
            return self._json(200, {"Titles": ["PID", "PPID", "COMMAND"],
                                    "Processes": [[str(p), str(pp), cmd] for p, pp, cmd in container.processes]})
        if (method, endpoint) == ("GET", "logs"):
            lines = [(s, line) for when, s, line in container.log
                     if "since" not in query or when > float(query["since"])]
            if query.get("tail", "all") != "all":
                lines = lines[-int(query["tail"]):] if int(query["tail"]) else []
            if container.tty:
                body = "".join(line for _s, line in lines).encode()
                return 200, "application/vnd.docker.raw-stream", body, True
            return 200, "application/vnd.docker.multiplexed-stream", b"".join(frame(s, line) for s, line in lines), True
        if (method, endpoint) == ("GET", "stats"):
            if query.get("stream") != "false":
                return self._json(400, {"message": "the fake engine does not stream stats"})
            if container.status not in ("running", "paused"):
                return self._json(200, stopped_stats(container.name, container.id))
            return self._json(200, dict(container.stats, name="/" + container.name, id=container.id))
        return self._json(404, {"message": "page not found"})


@pytest.fixture
def engine():
    fake = FakeEngine().start()
    yield fake
    fake.stop()


class TestDemux:
    def test_frames_of_both_streams_in_order(self):
        data = frame(1, "out one\n") + frame(2, "err\n") + frame(1, b"") + frame(1, "out two\n")
        assert d.demux(data) == [("stdout", b"out one\n"), ("stderr", b"err\n"), ("stdout", b""), ("stdout", b"out two\n")]
        assert d.demux_text(data) == "out one\nerr\nout two\n"
        assert d.demux_text(data, streams=("stderr",)) == "err\n"

    def test_empty_stream(self):
        assert d.demux(b"") == [] and d.demux_text(b"") == ""

    def test_a_frame_cut_short_is_returned_as_far_as_it_goes(self):
        data = frame(1, "whole\n") + frame(2, "cut short\n")[:-4]
        assert d.demux(data) == [("stdout", b"whole\n"), ("stderr", b"cut sh")]

    def test_a_large_frame(self):
        payload = b"x" * 70000
        assert d.demux(frame(2, payload)) == [("stderr", payload)]

    def test_utf8_split_across_frames_is_joined_before_decoding(self):
        text = "é".encode()
        assert d.demux_text(frame(1, text[:1]) + frame(1, text[1:])) == "é"

    @pytest.mark.parametrize("data", [b"[NOTICE]   (1) : New worker (8) forked\n", b"\x01\x00\x00", b"\x05\x00\x00\x00\x00\x00\x00\x01x",
                                      frame(1, "ok\n") + b"stray"])
    def test_raw_text_is_not_a_multiplexed_stream(self, data):
        with pytest.raises(ValueError, match="not a multiplexed stream"):
            d.demux(data)


class TestTopRows:
    def test_rows_keyed_by_lower_case_titles_with_integer_pids(self):
        answer = {"Titles": ["PID", "PPID", "COMMAND"],
                  "Processes": [["8275", "8255", "haproxy -W -db -f /usr/local/etc/haproxy/haproxy.cfg"],
                                ["8387", "8275", "haproxy -sf 8 -x sockpair@3 -W -db -f /usr/local/etc/haproxy/haproxy.cfg"]]}
        assert d.top_rows(answer) == [
            {"pid": 8275, "ppid": 8255, "command": "haproxy -W -db -f /usr/local/etc/haproxy/haproxy.cfg"},
            {"pid": 8387, "ppid": 8275, "command": "haproxy -sf 8 -x sockpair@3 -W -db -f /usr/local/etc/haproxy/haproxy.cfg"}]

    def test_the_default_ps_columns(self):
        answer = {"Titles": ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
                  "Processes": [["root", "1", "0", "0", "23:04", "?", "00:00:00", "sleep 300"]]}
        assert d.top_rows(answer) == [{"uid": "root", "pid": 1, "ppid": 0, "c": "0", "stime": "23:04", "tty": "?",
                                       "time": "00:00:00", "cmd": "sleep 300"}]

    def test_no_processes(self):
        assert d.top_rows({"Titles": ["PID"], "Processes": None}) == []

    def test_not_a_top_answer(self):
        with pytest.raises(ValueError, match="not an answer of the top endpoint"):
            d.top_rows({"message": "x"})


class TestStateSummary:
    def test_a_running_container(self):
        info = FakeContainer("edge").inspect()
        assert d.state_summary(info) == {
            "id": info["Id"], "name": "edge", "status": "running", "running": True, "restarting": False,
            "restart_count": 0, "exit_code": 0, "oom_killed": False, "started_at": "2026-12-01T23:04:38.590290335Z",
            "finished_at": None, "health": None, "error": None}

    def test_a_crash_looping_container_with_a_healthcheck(self):
        container = FakeContainer("litellm", status="restarting", restart_count=3, exit_code=1)
        container.oom_killed, container.health, container.error = True, "unhealthy", "boom"
        summary = d.state_summary(container.inspect())
        assert (summary["status"], summary["running"], summary["restarting"], summary["restart_count"]) == (
            "restarting", False, True, 3)
        assert (summary["exit_code"], summary["oom_killed"], summary["health"], summary["error"]) == (1, True, "unhealthy", "boom")
        assert summary["finished_at"] == "2026-12-01T23:05:38.1Z"
        assert d.describe_state(summary) == ("status restarting, exit code 1, OOM killed, health unhealthy, "
                                             "restarted 3 times, error: boom")

    def test_a_created_container_never_started(self):
        summary = d.state_summary({"Id": "abc", "Name": "/x", "State": {"Status": "created", "StartedAt": ZERO_TIME,
                                                                        "FinishedAt": ZERO_TIME, "ExitCode": 0}})
        assert (summary["started_at"], summary["finished_at"], summary["restart_count"]) == (None, None, 0)
        assert d.describe_state(summary) == "status created, exit code 0"

    def test_describe_a_running_one_leaves_the_exit_code_out(self):
        assert d.describe_state(d.state_summary(FakeContainer("edge").inspect())) == "status running"


def inspect_of(name, running=True, labels=None, **host_config):
    """A container's inspect as stats_summary reads it."""
    container = FakeContainer(name, status="running" if running else "exited", labels=labels, host_config=host_config)
    return container.inspect()


COMPOSE = {"com.docker.compose.project": "litellm", "com.docker.compose.service": "litellm",
           "com.docker.compose.container-number": "1"}


class TestStatsSummary:
    def test_a_cgroup_v2_answer(self):
        info = inspect_of("litellm-litellm-1", labels=COMPOSE, NanoCpus=1500000000, Memory=GIB)
        assert d.stats_summary(STATS_V2, info) == {
            "name": "litellm-litellm-1", "id": info["Id"], "service": "litellm", "project": "litellm",
            "running": True, "read": "2026-12-02T10:15:30.123456789Z",
            "cpu_total_ns": 48213456000, "online_cpus": 2, "cpus_limit": 1.5,
            "throttling": {"periods": 15012, "throttled_periods": 312, "throttled_time_ns": 20456789000},
            "memory": {"usage_bytes": 412315648, "inactive_file_bytes": 41943040,
                       "working_set_bytes": 412315648 - 41943040, "limit_bytes": GIB},
            "pids": 23}

    def test_a_cgroup_v1_answer(self):
        # no online_cpus (an engine before API 1.27): the CPUs are counted from percpu_usage; the
        # inactive page cache is the hierarchical total_inactive_file, not the cgroup's own
        # inactive_file; without --memory the limit is the engine's (the host's memory)
        info = inspect_of("litellm-redis-1", labels={"com.docker.compose.project": "litellm",
                                                     "com.docker.compose.service": "redis"},
                          CpuQuota=50000, CpuPeriod=100000)
        summary = d.stats_summary(STATS_V1, info)
        assert (summary["name"], summary["service"], summary["project"]) == ("litellm-redis-1", "redis", "litellm")
        assert (summary["running"], summary["read"]) == (True, "2026-12-02T10:15:31.000000001Z")
        assert (summary["cpu_total_ns"], summary["online_cpus"], summary["cpus_limit"]) == (7345678901, 4, 0.5)
        assert summary["throttling"] == {"periods": 0, "throttled_periods": 0, "throttled_time_ns": 0}
        assert summary["memory"] == {"usage_bytes": 209715200, "inactive_file_bytes": 52428800,
                                     "working_set_bytes": 157286400, "limit_bytes": 8335585280}
        assert summary["pids"] == 9

    def test_online_cpus_is_preferred_to_the_length_of_percpu_usage(self):
        stats = copy.deepcopy(STATS_V1)
        stats["cpu_stats"]["online_cpus"] = 2  # a cpuset of 2 of the 4 CPUs percpu_usage lists
        assert d.stats_summary(stats, inspect_of("redis"))["online_cpus"] == 2

    def test_a_stopped_container_has_null_counters(self):
        info = inspect_of("litellm-litellm-1", running=False, labels=COMPOSE, NanoCpus=2000000000, Memory=GIB)
        summary = d.stats_summary(stopped_stats("litellm-litellm-1", info["Id"]), info)
        assert summary == {
            "name": "litellm-litellm-1", "id": info["Id"], "service": "litellm", "project": "litellm",
            "running": False, "read": None, "cpu_total_ns": None, "online_cpus": None, "cpus_limit": 2.0,
            "throttling": {"periods": None, "throttled_periods": None, "throttled_time_ns": None},
            "memory": {"usage_bytes": None, "inactive_file_bytes": None, "working_set_bytes": None, "limit_bytes": GIB},
            "pids": None}

    def test_empty_cpu_and_memory_stats_without_a_limit(self):
        info = inspect_of("gone", running=False)
        summary = d.stats_summary({"read": ZERO_TIME, "cpu_stats": {}, "memory_stats": {}, "name": "/gone"}, info)
        assert (summary["running"], summary["cpu_total_ns"], summary["online_cpus"], summary["cpus_limit"]) == (
            False, None, None, None)
        assert summary["memory"] == {"usage_bytes": None, "inactive_file_bytes": None, "working_set_bytes": None,
                                     "limit_bytes": None}
        assert (summary["service"], summary["project"], summary["pids"]) == (None, None, None)

    def test_a_restarting_container_does_not_run(self):
        info = inspect_of("litellm")
        info["State"].update(Status="restarting", Running=True, Restarting=True)  # as dockerd sets both
        summary = d.stats_summary(stopped_stats("litellm", info["Id"]), info)
        assert (summary["running"], summary["cpu_total_ns"], summary["memory"]["usage_bytes"]) == (False, None, None)

    @pytest.mark.parametrize("host_config, cpus", [
        ({"NanoCpus": 2000000000}, 2.0),                                # --cpus 2
        ({"NanoCpus": 250000000, "CpuQuota": 0, "CpuPeriod": 0}, 0.25),  # --cpus 0.25
        ({"CpuQuota": 150000, "CpuPeriod": 100000}, 1.5),               # --cpu-quota 150000 --cpu-period 100000
        ({"CpuQuota": 20000, "CpuPeriod": 10000}, 2.0),
        ({"CpuQuota": 50000}, 0.5),                                     # the kernel's period, 100 ms
        ({"NanoCpus": 1000000000, "CpuQuota": 300000, "CpuPeriod": 100000}, 1.0),
        ({"CpuQuota": -1}, None),                                       # unlimited
        ({}, None),
    ])
    def test_cpus_limit_from_nano_cpus_or_the_cfs_quota(self, host_config, cpus):
        assert d.stats_summary(STATS_V2, inspect_of("edge", **host_config))["cpus_limit"] == cpus

    def test_the_working_set_is_not_below_zero(self):
        stats = copy.deepcopy(STATS_V2)
        stats["memory_stats"]["usage"] = 1000
        memory = d.stats_summary(stats, inspect_of("edge"))["memory"]
        assert memory == {"usage_bytes": 1000, "inactive_file_bytes": 41943040, "working_set_bytes": 0,
                          "limit_bytes": 8335585280}

    def test_no_inactive_file_and_no_throttling_data(self):
        stats = copy.deepcopy(STATS_V2)
        del stats["memory_stats"]["stats"], stats["cpu_stats"]["throttling_data"], stats["pids_stats"]
        summary = d.stats_summary(stats, inspect_of("edge"))
        assert summary["memory"] == {"usage_bytes": 412315648, "inactive_file_bytes": 0, "working_set_bytes": 412315648,
                                     "limit_bytes": 8335585280}
        assert summary["throttling"] == {"periods": 0, "throttled_periods": 0, "throttled_time_ns": 0}
        assert summary["pids"] is None

    def test_name_and_id_from_the_stats_without_an_inspect(self):
        summary = d.stats_summary(STATS_V2, {})
        assert (summary["name"], summary["id"], summary["running"], summary["cpu_total_ns"]) == (
            "litellm-litellm-1", "4f9c2a7d1e5b", False, None)


class TestClient:
    def test_stats_asks_for_one_sample_at_once(self, engine):
        container = engine.add(FakeContainer("litellm-litellm-1"))
        answer = d.DockerClient(engine.path).stats("litellm-litellm-1")
        assert answer["cpu_stats"]["cpu_usage"]["total_usage"] == 48213456000 and answer["id"] == container.id
        assert engine.requests == [("GET", "/containers/litellm-litellm-1/stats", {"stream": "false", "one-shot": "true"})]

    def test_stats_of_an_unknown_container_is_none(self, engine):
        assert d.DockerClient(engine.path).stats("nope") is None
        with pytest.raises(ValueError):
            d.DockerClient(engine.path).stats("")

    def test_stats_of_a_stopped_container(self, engine):
        engine.add(FakeContainer("redis", status="exited"))
        answer = d.DockerClient(engine.path).stats("redis")
        assert (answer["read"], answer["memory_stats"], answer["cpu_stats"]["cpu_usage"]["total_usage"]) == (
            ZERO_TIME, {}, 0)

    def test_stats_that_are_not_an_object(self, engine):
        engine.answer = lambda method, path, query: (200, "application/json", b"[]", False)
        with pytest.raises(d.DockerError, match="not an answer of the stats endpoint"):
            d.DockerClient(engine.path).stats("edge")

    def test_list_containers_of_a_compose_project(self, engine):
        edge = engine.add(FakeContainer("litellm-edge-1", labels={"com.docker.compose.project": "litellm"}))
        engine.add(FakeContainer("litellm-redis-1", status="exited", labels={"com.docker.compose.project": "litellm"}))
        engine.add(FakeContainer("other-app-1", labels={"com.docker.compose.project": "other"}))
        proxy = engine.add(FakeContainer("litellm-litellm-1", labels={"com.docker.compose.project": "litellm"}))
        listed = d.DockerClient(engine.path).list_containers("litellm")
        assert [(c["Id"], c["Names"]) for c in listed] == [
            (proxy.id, ["/litellm-litellm-1"]), (edge.id, ["/litellm-edge-1"])]
        method, path, query = engine.requests[-1]
        assert (method, path, set(query)) == ("GET", "/containers/json", {"filters"})
        assert json.loads(query["filters"]) == {"label": ["com.docker.compose.project=litellm"]}

    def test_list_containers_needs_a_project(self, engine):
        with pytest.raises(ValueError, match="a compose project name is needed"):
            d.DockerClient(engine.path).list_containers("")

    def test_inspect_by_name_and_by_id(self, engine):
        container = engine.add(FakeContainer("edge"))
        client = d.DockerClient(engine.path)
        assert client.inspect_container("edge")["Id"] == container.id
        assert client.inspect_container(container.id[:12])["Name"] == "/edge"

    def test_inspect_of_an_unknown_container_is_none(self, engine):
        assert d.DockerClient(engine.path).inspect_container("nope") is None

    def test_no_version_prefix_unless_asked(self, engine):
        engine.add(FakeContainer("edge"))
        d.DockerClient(engine.path).inspect_container("edge")
        d.DockerClient(engine.path, api_version="1.41").inspect_container("edge")
        assert [r[1] for r in engine.requests] == ["/containers/edge/json"] * 2

    def test_names_are_quoted_into_the_path(self, engine):
        assert d.DockerClient(engine.path).inspect_container("a/../b?c") is None
        assert engine.requests[-1][1] == "/containers/a%2F..%2Fb%3Fc/json"
        with pytest.raises(ValueError):
            d.DockerClient(engine.path).inspect_container("")

    def test_kill_sends_the_signal(self, engine):
        container = engine.add(FakeContainer("edge"))
        d.DockerClient(engine.path).kill("edge", "SIGUSR2")
        assert container.signals == ["SIGUSR2"]
        assert engine.calls("POST", "kill") == [("POST", "/containers/edge/kill", {"signal": "SIGUSR2"})]

    def test_engine_errors_carry_status_and_message(self, engine):
        engine.add(FakeContainer("stopped", status="exited"))
        client = d.DockerClient(engine.path)
        with pytest.raises(d.DockerError) as err:
            client.kill("nope", "SIGUSR2")
        assert err.value.status == 404 and err.value.message == "Cannot kill container: nope: No such container: nope"
        assert str(err.value) == ("Docker engine answered HTTP 404 to POST /containers/nope/kill: "
                                  "Cannot kill container: nope: No such container: nope")
        with pytest.raises(d.DockerError) as err:
            client.top("stopped")
        assert err.value.status == 409 and "is not running" in err.value.message

    def test_top_with_ps_args(self, engine):
        container = engine.add(FakeContainer("edge"))
        container.processes = [(100, 90, "haproxy -W -db -f /c"), (101, 100, "haproxy -W -db -f /c")]
        rows = d.DockerClient(engine.path).top("edge")
        assert rows == [{"pid": 100, "ppid": 90, "command": "haproxy -W -db -f /c"},
                        {"pid": 101, "ppid": 100, "command": "haproxy -W -db -f /c"}]
        assert engine.calls("GET", "top")[-1][2] == {"ps_args": "-o pid,ppid,args"}

    def test_logs_tail_demultiplexes_a_chunked_stream(self, engine):
        container = engine.add(FakeContainer("edge"))
        for n in range(30):
            container.write_log("line %d" % n, stream=1 + n % 2)
        client = d.DockerClient(engine.path)
        assert client.logs_tail("edge", 3) == "line 27\nline 28\nline 29\n"
        assert engine.calls("GET", "logs")[-1][2] == {"stdout": "1", "stderr": "1", "tail": "3"}
        # the TTY flag was asked for first
        assert [r[1].rsplit("/", 1)[-1] for r in engine.requests] == ["json", "logs"]

    def test_logs_tail_of_a_tty_container_is_raw(self, engine):
        container = engine.add(FakeContainer("edge", tty=True))
        container.write_log("[NOTICE]   (1) : Loading success.")
        assert d.DockerClient(engine.path).logs_tail("edge", 20, tty=True) == "[NOTICE]   (1) : Loading success.\n"
        assert d.DockerClient(engine.path).logs_tail("edge", 20) == "[NOTICE]   (1) : Loading success.\n"

    def test_logs_since(self, engine):
        container = engine.add(FakeContainer("edge"))
        now = time.time()
        container.write_log("before", when=now - 5)
        container.write_log("after", when=now + 1)
        assert d.DockerClient(engine.path).logs_tail("edge", None, tty=False, since=now) == "after\n"
        assert engine.calls("GET", "logs")[-1][2]["tail"] == "all"
        assert float(engine.calls("GET", "logs")[-1][2]["since"]) == pytest.approx(now, abs=1e-5)

    def test_no_socket(self, tmp_path):
        client = d.DockerClient(str(tmp_path / "docker.sock"))
        with pytest.raises(d.DockerError) as err:
            client.inspect_container("edge")
        assert err.value.status is None
        assert str(err.value) == ("cannot talk to the Docker engine: there is no socket %s (is Docker installed and "
                                  "running?) (GET /containers/edge/json)" % (tmp_path / "docker.sock"))

    def test_a_socket_nobody_listens_on(self):
        folder = tempfile.mkdtemp(prefix="gwdock")
        path = os.path.join(folder, "docker.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(path)
            with pytest.raises(d.DockerError, match="connection refused on %s" % path):
                d.DockerClient(path).inspect_container("edge")
        finally:
            sock.close()
            shutil.rmtree(folder)

    def test_a_path_that_is_no_socket(self, tmp_path):
        path = tmp_path / "file"
        path.write_text("x")
        with pytest.raises(d.DockerError) as err:
            d.DockerClient(str(path)).inspect_container("edge")
        assert "cannot talk to the Docker engine" in str(err.value)

    def test_timeout(self):
        folder = tempfile.mkdtemp(prefix="gwdock")
        path = os.path.join(folder, "docker.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(path)
            sock.listen(1)  # accepts, never answers
            started = time.monotonic()
            with pytest.raises(d.DockerError, match="timed out"):
                d.DockerClient(path, timeout=0.3).inspect_container("edge")
            assert time.monotonic() - started < 2
        finally:
            sock.close()
            shutil.rmtree(folder)

    def test_a_non_json_answer(self, engine):
        engine.answer = lambda method, path, query: (200, "text/plain", b"hello", False)
        with pytest.raises(d.DockerError, match="the answer is not JSON"):
            d.DockerClient(engine.path).inspect_container("edge")

    def test_an_error_without_json_body(self, engine):
        engine.answer = lambda method, path, query: (500, "text/plain", b"  internal\n  error ", False)
        with pytest.raises(d.DockerError) as err:
            d.DockerClient(engine.path).inspect_container("edge")
        assert (err.value.status, err.value.message) == (500, "internal error")

    def test_timeout_must_be_positive(self):
        with pytest.raises(ValueError, match="timeout must be a positive"):
            d.DockerClient(timeout=0)
