# -*- coding: utf-8 -*-
"""edge_reload against a fake Docker engine on a unix socket (test__docker.FakeEngine) whose
container acts as HAProxy's master does on SIGUSR2: it forks a new worker when the configuration
loads, or logs the failure; old workers exit once drained."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.gatewayops.litellm.plugins.doc_fragments import docker as docker_fragment
from ansible_collections.gatewayops.litellm.plugins.modules import edge_reload

from test__docker import FakeContainer, FakeEngine

MASTER = 100
CMD = "haproxy -W -db -f /usr/local/etc/haproxy/haproxy.cfg"
RELOADED = "haproxy -sf 8 -x sockpair@3 -W -db -f /usr/local/etc/haproxy/haproxy.cfg"
PARSE_ERROR = ("[ALERT]    (1) : config : parsing [/usr/local/etc/haproxy/haproxy.cfg:9] : unknown keyword "
               "'bogus-directive' in 'frontend' section")


@pytest.fixture
def engine():
    fake = FakeEngine().start()
    yield fake
    fake.stop()


def haproxy(engine, name="edge", workers=(101,), fork_after=1, drain_after=1, loads=True, logs_failure=True,
            new_worker=200):
    """A container running HAProxy's master (PID 100, its parent 90 outside the container) with
    `workers`. After SIGUSR2 the master forks `new_worker` at the `fork_after`th look at its
    processes (when the configuration `loads`); the old workers are zombies `drain_after` looks
    later and gone at the next."""
    container = engine.add(FakeContainer(name, pid=MASTER))
    container.processes = [(MASTER, 90, CMD)] + [(pid, MASTER, CMD) for pid in workers]
    container.write_log("[NOTICE]   (1) : New worker (8) forked", when=0)
    container.write_log("[NOTICE]   (1) : Loading success.", when=0)
    reload = {}

    def on_kill(c, signal):
        reload["at"] = c.top_calls
        c.write_log("[NOTICE]   (1) : Reloading HAProxy")
        if not loads:
            c.write_log(PARSE_ERROR)
            c.write_log("[ALERT]    (1) : config : Fatal errors found in configuration.")
            if logs_failure:
                c.write_log("[WARNING]  (1) : Loading failure!")

    def on_top(c):
        if "at" not in reload or not loads:
            return
        looks = c.top_calls - reload["at"]
        if looks == fork_after:
            c.processes.append((new_worker, MASTER, RELOADED))
            c.write_log("[NOTICE]   (1) : New worker (12) forked")
            c.write_log("[NOTICE]   (1) : Loading success.")
        if drain_after is not None and looks == fork_after + drain_after:
            c.processes = [(p, pp, "[haproxy] <defunct>" if p in workers else cmd) for p, pp, cmd in c.processes]
        if drain_after is not None and looks == fork_after + drain_after + 1:
            c.processes = [row for row in c.processes if row[0] not in workers]
            c.write_log("[WARNING]  (1) : Former worker (8) exited with code 0 (Exit)")

    container.on_kill, container.on_top = on_kill, on_top
    return container


def args(engine, **extra):
    return dict({"container": "edge", "docker_socket": engine.path, "poll_interval": 0.01}, **extra)


def test_reload_starts_a_new_worker_and_waits_until_the_old_one_drained(engine, run):
    container = haproxy(engine, fork_after=2, drain_after=3)
    result = run(edge_reload, args(engine))
    assert "failed" not in result, result["msg"]
    assert result["changed"] is True and container.signals == ["SIGUSR2"]
    assert (result["master_pid"], result["old_workers"], result["new_workers"]) == (MASTER, [101], [200])
    assert 0 <= result["seconds_to_new_worker"] <= result["seconds_to_drain"] < 5
    assert result["container"]["name"] == "edge" and result["container"]["status"] == "running"
    assert result["msg"] == ("HAProxy in container edge reloaded: new worker [200] after %.2f s, the old worker [101] "
                             "exited after %.2f s." % (result["seconds_to_new_worker"], result["seconds_to_drain"]))
    # an exited worker its master has not reaped yet counts as gone
    assert container.processes == [(MASTER, 90, CMD), (101, MASTER, "[haproxy] <defunct>"), (200, MASTER, RELOADED)]
    assert "logs" not in result


def test_without_waiting_for_the_drain(engine, run):
    container = haproxy(engine, fork_after=1, drain_after=50)
    result = run(edge_reload, args(engine, wait_for_drain=False))
    assert "failed" not in result and result["changed"] is True
    assert (result["old_workers"], result["new_workers"], result["seconds_to_drain"]) == ([101], [200], None)
    assert "the old worker [101] drains in the background" in result["msg"]
    assert 101 in [pid for pid, _pp, _c in container.processes]


def test_several_old_workers_and_a_signal_by_short_name(engine, run):
    container = haproxy(engine, workers=(101, 102), fork_after=1, drain_after=1)
    result = run(edge_reload, args(engine, signal="usr2"))
    assert "failed" not in result
    assert container.signals == ["SIGUSR2"] and result["old_workers"] == [101, 102]
    assert "the old workers [101, 102] exited" in result["msg"]


def test_a_configuration_that_does_not_load_fails_at_once_with_the_logs(engine, run):
    container = haproxy(engine, loads=False)
    result = run(edge_reload, args(engine, start_timeout=20))
    assert result["failed"] is True and result["changed"] is True
    assert container.signals == ["SIGUSR2"]
    assert result["msg"].startswith("HAProxy in container edge did not load the new configuration (it logged "
                                    "'Loading failure!'); the old workers [101] go on with the old one. Last log lines:\n")
    assert PARSE_ERROR in result["msg"]
    assert result["logs"][-4:] == ["[NOTICE]   (1) : Reloading HAProxy", PARSE_ERROR,
                                   "[ALERT]    (1) : config : Fatal errors found in configuration.",
                                   "[WARNING]  (1) : Loading failure!"]
    assert result["new_workers"] == [] and result["old_workers"] == [101]
    assert container.top_calls < 10  # it did not wait for start_timeout


def test_no_new_worker_within_start_timeout_fails_with_the_last_20_log_lines(engine, run):
    container = haproxy(engine, loads=False, logs_failure=False)
    for n in range(30):
        container.write_log("noise %d" % n, when=0)
    result = run(edge_reload, args(engine, start_timeout=0.3))
    assert result["failed"] is True
    assert result["msg"].startswith("HAProxy in container edge started no new worker within 0.3 s of the signal: the "
                                    "reload failed; the old workers [101] go on. Last log lines:\n")
    assert len(result["logs"]) == 20 and result["logs"][-1] == "[ALERT]    (1) : config : Fatal errors found in configuration."
    assert result["msg"].endswith("\n".join(result["logs"]))


def test_old_workers_that_do_not_drain_in_time(engine, run):
    haproxy(engine, fork_after=1, drain_after=None)
    result = run(edge_reload, args(engine, drain_timeout=0.2))
    assert result["failed"] is True and result["changed"] is True
    assert result["msg"] == ("The old HAProxy worker [101] of container edge still runs 0.2 s after the new worker started "
                             "(requests or streams in flight; HAProxy's hard-stop-after ends them).")
    assert result["remaining_workers"] == [101] and result["new_workers"] == [200]


def test_check_mode_does_not_signal(engine, run):
    container = haproxy(engine)
    result = run(edge_reload, args(engine, _ansible_check_mode=True))
    assert "failed" not in result and result["changed"] is True
    assert container.signals == [] and engine.calls("POST", "kill") == []
    assert (result["master_pid"], result["old_workers"], result["new_workers"]) == (MASTER, [101], [])
    assert (result["seconds_to_new_worker"], result["seconds_to_drain"]) == (None, None)
    assert result["msg"] == "Would send SIGUSR2 to HAProxy (master PID 100, workers [101]) in container edge."
    assert result["container"]["status"] == "running"


@pytest.mark.parametrize("check_mode", [False, True])
def test_a_container_that_does_not_exist(engine, run, check_mode):
    result = run(edge_reload, args(engine, container="nope", _ansible_check_mode=check_mode))
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"] == "There is no container nope (Docker engine at %s)." % engine.path
    assert "container" not in result


@pytest.mark.parametrize("check_mode", [False, True])
def test_a_container_that_is_not_running(engine, run, check_mode):
    engine.add(FakeContainer("edge", status="exited", exit_code=137, restart_count=2))
    result = run(edge_reload, args(engine, _ansible_check_mode=check_mode))
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"] == "The container edge is not running (status exited, exit code 137, restarted 2 times)."
    assert result["container"]["status"] == "exited" and result["container"]["exit_code"] == 137
    assert engine.calls("POST", "kill") == []


def test_a_master_without_workers_is_not_master_worker_mode(engine, run):
    container = engine.add(FakeContainer("edge", pid=MASTER))
    container.processes = [(MASTER, 90, "haproxy -db -f /usr/local/etc/haproxy/haproxy.cfg")]
    result = run(edge_reload, args(engine))
    assert result["failed"] is True
    assert result["msg"] == ("The HAProxy master (PID 100) of container edge has no worker: is it in master-worker mode "
                             "(haproxy -W)? Processes: 100 (parent 90): haproxy -db -f /usr/local/etc/haproxy/haproxy.cfg.")
    assert container.signals == []


def test_the_container_stops_during_the_reload(engine, run):
    container = haproxy(engine, loads=False, logs_failure=False)

    def on_kill(c, _signal):
        c.status, c.exit_code = "exited", 1
        c.write_log("[ALERT]    (1) : Current worker (8) exited with code 1")

    container.on_kill = on_kill
    result = run(edge_reload, args(engine))
    assert result["failed"] is True
    assert result["msg"].startswith("The container edge stopped during the reload (status exited, exit code 1). "
                                    "Last log lines:\n")
    assert result["logs"][-1] == "[ALERT]    (1) : Current worker (8) exited with code 1"
    assert result["container"]["status"] == "exited"


def test_the_new_worker_exits_before_the_old_ones_drained(engine, run):
    container = haproxy(engine, fork_after=1, drain_after=None)
    original = container.on_top

    def on_top(c):
        original(c)
        if c.top_calls >= 4:
            c.processes = [row for row in c.processes if row[0] != 200]

    container.on_top = on_top
    result = run(edge_reload, args(engine))
    assert result["failed"] is True
    assert result["msg"].startswith("The new HAProxy worker [200] of container edge exited. Last log lines:\n")


def test_the_master_is_gone_after_a_restart(engine, run):
    container = haproxy(engine, loads=False, logs_failure=False)

    def on_kill(c, _signal):
        c.pid, c.restart_count = 300, 1
        c.processes = [(300, 290, CMD), (301, 300, CMD)]

    container.on_kill = on_kill
    result = run(edge_reload, args(engine))
    assert result["failed"] is True
    assert result["msg"].startswith("The HAProxy master (PID 100) of container edge is gone (status running, "
                                    "restarted 1 times). Last log lines:\n")


def test_the_main_process_tells_the_master_from_a_docker_exec_shell(engine, run):
    container = haproxy(engine)
    container.processes.append((150, 91, "sh"))  # docker exec: its parent is the shim, outside
    result = run(edge_reload, args(engine))
    assert "failed" not in result and result["master_pid"] == MASTER and result["old_workers"] == [101]


def test_a_missing_socket(run, tmp_path):
    result = run(edge_reload, {"container": "edge", "docker_socket": str(tmp_path / "docker.sock")})
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"].startswith("Container edge: cannot talk to the Docker engine: there is no socket ")


@pytest.mark.parametrize("extra, message", [
    ({"signal": "SIGUSR3"}, "signal 'SIGUSR3' is not a signal name (such as SIGUSR2) or number"),
    ({"start_timeout": 0}, "start_timeout must be a positive number of seconds, got 0.0"),
    ({"drain_timeout": -1}, "drain_timeout must be a positive number of seconds, got -1.0"),
    ({"poll_interval": 0}, "poll_interval must be a positive number of seconds, got 0.0"),
    ({"container": " "}, "container is empty"),
])
def test_invalid_arguments_fail_before_any_request(engine, run, extra, message):
    result = run(edge_reload, args(engine, **extra))
    assert result["failed"] is True and result["msg"] == message
    assert engine.requests == []


class TestProcesses:
    def rows(self, *processes):
        return [{"pid": p, "ppid": pp, "command": cmd} for p, pp, cmd in processes]

    def test_the_root_is_the_master_and_its_children_the_workers(self):
        rows = self.rows((100, 90, CMD), (101, 100, CMD), (102, 100, "[haproxy] <defunct>"))
        assert edge_reload.find_master(rows)["pid"] == 100
        assert edge_reload.children(rows, 100) == [101]

    def test_an_init_is_looked_through(self):
        rows = self.rows((50, 40, "/sbin/docker-init -- haproxy -W -db -f /c"), (100, 50, "haproxy -W -db -f /c"),
                         (101, 100, "haproxy -W -db -f /c"))
        assert edge_reload.find_master(rows, main_pid=50)["pid"] == 100

    def test_two_roots_without_the_main_pid_cannot_be_told(self):
        rows = self.rows((100, 90, CMD), (150, 91, "sh"))
        with pytest.raises(ValueError, match="cannot tell HAProxy's master"):
            edge_reload.find_master(rows)
        assert edge_reload.find_master(rows, main_pid=150)["pid"] == 150

    @pytest.mark.parametrize("value, name", [("SIGUSR2", "SIGUSR2"), ("usr2", "SIGUSR2"), (" SIGHUP ", "SIGHUP"),
                                             ("12", "12"), ("RTMIN+3", "SIGRTMIN+3")])
    def test_signal_names(self, value, name):
        assert edge_reload.signal_name(value) == name

    @pytest.mark.parametrize("value", ["SIGUSR3", "0", "65", "", "USR2; rm"])
    def test_not_signals(self, value):
        with pytest.raises(ValueError):
            edge_reload.signal_name(value)

    def test_config_files_are_the_f_arguments(self):
        info = {"Path": "haproxy", "Args": ["-W", "-db", "-f", "/etc/haproxy/colour.cfg", "-f", "/etc/haproxy/haproxy.cfg"]}
        assert edge_reload.config_files(info) == ["/etc/haproxy/colour.cfg", "/etc/haproxy/haproxy.cfg"]


class TestStaleFileMounts:
    """A single-file bind mount keeps the inode it was started with: the file the container sees
    (here a fake /proc/<pid>/root) is another one than the source once that was replaced by a rename."""

    def setup(self, tmp_path, same_file):
        source = tmp_path / "host" / "haproxy.cfg"
        source.parent.mkdir()
        source.write_text("new\n")
        inside = tmp_path / "proc" / "100" / "root" / "usr" / "local" / "etc" / "haproxy" / "haproxy.cfg"
        inside.parent.mkdir(parents=True)
        if same_file:
            os.link(str(source), str(inside))
        else:
            inside.write_text("old\n")
        directory = tmp_path / "host"
        info = {"Mounts": [{"Type": "bind", "Source": str(source), "Destination": "/usr/local/etc/haproxy/haproxy.cfg"},
                           {"Type": "bind", "Source": str(directory), "Destination": "/data"},
                           {"Type": "volume", "Source": str(source), "Destination": "/v"}]}
        return info, str(source)

    def test_a_replaced_file_is_stale(self, tmp_path):
        info, source = self.setup(tmp_path, same_file=False)
        assert edge_reload.stale_file_mounts(info, 100, str(tmp_path / "proc")) == [
            ("/usr/local/etc/haproxy/haproxy.cfg", source)]

    def test_the_same_file_is_not(self, tmp_path):
        info, _source = self.setup(tmp_path, same_file=True)
        assert edge_reload.stale_file_mounts(info, 100, str(tmp_path / "proc")) == []

    def test_a_container_this_host_cannot_look_into_is_not_checked(self, tmp_path):
        info, _source = self.setup(tmp_path, same_file=False)
        assert edge_reload.stale_file_mounts(info, 999, str(tmp_path / "proc")) == []

    def test_the_module_fails_before_signalling(self, engine, run, tmp_path, monkeypatch):
        info, source = self.setup(tmp_path, same_file=False)
        container = haproxy(engine)
        container.mounts = info["Mounts"]
        original = edge_reload.Reload.__init__

        def init(self, *a, **kw):
            original(self, *a, **kw)
            self.proc = str(tmp_path / "proc")

        monkeypatch.setattr(edge_reload.Reload, "__init__", init)
        result = run(edge_reload, args(engine))
        assert result["failed"] is True and container.signals == []
        assert result["msg"] == (
            "The container edge does not see the current /usr/local/etc/haproxy/haproxy.cfg: %s was replaced (by a "
            "rename) after the container started, and a single-file bind mount keeps the file it started with, so a "
            "reload would read the old one. Mount the directory instead, or recreate the container." % source)


class TestDocumentation:
    def test_the_options_are_the_argument_spec(self):
        # the engine socket comes from the gatewayops.litellm.docker fragment
        documented = dict(yaml.safe_load(edge_reload.DOCUMENTATION)["options"],
                          **yaml.safe_load(docker_fragment.ModuleDocFragment.DOCUMENTATION)["options"])
        spec = edge_reload.argument_spec()
        assert sorted(documented) == sorted(spec)
        for name, option in spec.items():
            assert documented[name]["type"] == option["type"], name
            assert documented[name].get("default") == option.get("default"), name
            assert documented[name].get("required", False) == option.get("required", False), name

    def test_it_is_in_the_action_group(self):
        runtime = os.path.join(os.path.dirname(edge_reload.__file__), "..", "..", "meta", "runtime.yml")
        with open(runtime) as handle:
            assert "edge_reload" in yaml.safe_load(handle)["action_groups"]["litellm"]
