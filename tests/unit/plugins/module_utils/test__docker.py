# -*- coding: utf-8 -*-
"""The Docker Engine API client: the parsers of the engine's answers (multiplexed stream, top,
container state), and the client end to end against FakeEngine, a stand-in engine that answers
on a unix socket as dockerd 20.10 does (no Docker needed). FakeEngine is also what the module
tests of edge_reload and health_info point their docker_socket at."""

from __future__ import annotations

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


def frame(stream, data):
    """One frame of a multiplexed stream: 1 stdout, 2 stderr."""
    data = data.encode() if isinstance(data, str) else data
    return struct.pack(">BxxxL", stream, len(data)) + data


class FakeContainer(object):
    """A container as the fake engine knows it. `processes` are (pid, ppid, command) rows;
    `on_kill(container, signal)` and `on_top(container)` let a test make it act (fork, exit)."""

    def __init__(self, name, pid=100, status="running", tty=False, restart_count=0, exit_code=0,
                 path="haproxy", args=("-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg")):
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

    def write_log(self, line, stream=2, when=None):
        self.log.append((time.time() if when is None else when, stream, line.rstrip("\n") + "\n"))

    def inspect(self):
        running = self.status in ("running", "paused")
        return {
            "Id": self.id, "Name": "/" + self.name, "Path": self.path, "Args": self.args,
            "RestartCount": self.restart_count, "Mounts": self.mounts,
            "Config": {"Tty": self.tty},
            "State": dict({
                "Status": self.status, "Running": running, "Paused": self.status == "paused",
                "Restarting": self.status == "restarting", "OOMKilled": self.oom_killed,
                "Dead": self.status == "dead", "Pid": self.pid if running else 0, "ExitCode": self.exit_code,
                "Error": self.error, "StartedAt": "2026-12-01T23:04:38.590290335Z",
                "FinishedAt": ZERO_TIME if self.status == "running" else "2026-12-01T23:05:38.1Z"},
                **({"Health": {"Status": self.health, "FailingStreak": 0, "Log": []}} if self.health else {})),
        }


class FakeEngine(object):
    """Answers /containers/{name}/json, /kill, /top and /logs on a unix socket in a temporary
    directory (short enough for the 108-byte socket path limit), with or without a /v1.NN prefix.
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

    def answer(self, method, path, query):
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


class TestClient:
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
