# -*- coding: utf-8 -*-
"""container_stats_info against a fake Docker engine on a unix socket (test__docker.FakeEngine):
which containers it samples and in which order, what it returns for each, and how it fails."""

from __future__ import annotations

import copy
import errno
import time

import pytest
import yaml

from ansible_collections.gatewayops.litellm.plugins.doc_fragments import docker as docker_fragment
from ansible_collections.gatewayops.litellm.plugins.module_utils import _docker
from ansible_collections.gatewayops.litellm.plugins.modules import container_stats_info

from test__docker import GIB, STATS_V1, STATS_V2, FakeContainer, FakeEngine

PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"


@pytest.fixture
def engine():
    fake = FakeEngine().start()
    yield fake
    fake.stop()


def compose(service, project="litellm"):
    return {PROJECT: project, SERVICE: service, "com.docker.compose.container-number": "1"}


@pytest.fixture
def stack(engine):
    """The collection's stack as docker compose runs it: the proxy (cgroup v2 counters, 1.5 CPUs,
    1 GiB), the edge (a CFS quota of 0.5 CPU), a stopped redis, and another project's container."""
    edge_stats = copy.deepcopy(STATS_V2)
    edge_stats["cpu_stats"]["cpu_usage"]["total_usage"] = 912000000
    edge_stats["memory_stats"]["usage"] = 31457280
    edge_stats["memory_stats"]["stats"]["inactive_file"] = 1048576
    edge_stats["pids_stats"]["current"] = 5
    containers = {
        "litellm": engine.add(FakeContainer("litellm-litellm-1", labels=compose("litellm"),
                                            host_config={"NanoCpus": 1500000000, "Memory": GIB})),
        "edge": engine.add(FakeContainer("litellm-edge-1", labels=compose("edge"), stats=edge_stats,
                                         host_config={"CpuQuota": 50000, "CpuPeriod": 100000})),
        "redis": engine.add(FakeContainer("litellm-redis-1", status="exited", exit_code=0, labels=compose("redis"))),
        "other": engine.add(FakeContainer("other-app-1", labels=compose("app", project="other"), stats=STATS_V1)),
    }
    return containers


def args(engine, **extra):
    return dict({"docker_socket": engine.path}, **extra)


def test_a_compose_project_sorted_by_name(engine, stack, run):
    before = time.time()
    result = run(container_stats_info, args(engine, project="litellm"))
    after = time.time()
    assert "failed" not in result and result["changed"] is False
    # running ones only: the stopped redis is not listed, the other project's container neither
    assert [c["name"] for c in result["containers"]] == ["litellm-edge-1", "litellm-litellm-1"]
    edge, proxy = result["containers"]
    assert proxy == {
        "name": "litellm-litellm-1", "id": stack["litellm"].id, "service": "litellm", "project": "litellm",
        "running": True, "read": "2026-12-02T10:15:30.123456789Z", "cpu_total_ns": 48213456000,
        "online_cpus": 2, "cpus_limit": 1.5,
        "throttling": {"periods": 15012, "throttled_periods": 312, "throttled_time_ns": 20456789000},
        "memory": {"usage_bytes": 412315648, "inactive_file_bytes": 41943040, "working_set_bytes": 370372608,
                   "limit_bytes": GIB},
        "pids": 23}
    assert (edge["service"], edge["cpu_total_ns"], edge["cpus_limit"], edge["pids"]) == ("edge", 912000000, 0.5, 5)
    assert edge["memory"] == {"usage_bytes": 31457280, "inactive_file_bytes": 1048576, "working_set_bytes": 30408704,
                              "limit_bytes": 8335585280}
    assert result["missing"] == []
    assert before <= result["sampled_at"] <= after
    assert 0 <= result["sampled_ms"] <= (after - before) * 1000 + 0.1


def test_the_engine_is_asked_for_one_sample_of_each(engine, stack, run):
    run(container_stats_info, args(engine, project="litellm"))
    stats_calls = engine.calls("GET", "stats")
    assert [path for _method, path, _query in stats_calls] == [
        "/containers/%s/stats" % stack["edge"].id, "/containers/%s/stats" % stack["litellm"].id]
    assert all(query == {"stream": "false", "one-shot": "true"} for _method, _path, query in stats_calls)
    assert engine.requests[0][:2] == ("GET", "/containers/json")
    # the containers are inspected before the first sample is taken
    assert [r[1].rsplit("/", 1)[-1] for r in engine.requests] == ["json", "json", "json", "stats", "stats"]


def test_names_in_the_order_asked_then_the_project_without_duplicates(engine, stack, run):
    result = run(container_stats_info, args(engine, containers=["other-app-1", "nope", "litellm-litellm-1",
                                                                stack["litellm"].id[:12], "nope"],
                                            project="litellm"))
    assert "failed" not in result
    assert [c["name"] for c in result["containers"]] == ["other-app-1", "litellm-litellm-1", "litellm-edge-1"]
    assert result["missing"] == ["nope"]
    other = result["containers"][0]
    # a cgroup v1 answer: CPUs counted from percpu_usage, total_inactive_file
    assert (other["project"], other["service"], other["online_cpus"], other["cpus_limit"]) == ("other", "app", 4, None)
    assert other["memory"]["working_set_bytes"] == 157286400
    assert len(engine.calls("GET", "stats")) == 3


def test_a_stopped_container_asked_by_name(engine, stack, run):
    result = run(container_stats_info, args(engine, containers=["litellm-redis-1"]))
    assert "failed" not in result and result["missing"] == []
    assert result["containers"] == [{
        "name": "litellm-redis-1", "id": stack["redis"].id, "service": "redis", "project": "litellm",
        "running": False, "read": None, "cpu_total_ns": None, "online_cpus": None, "cpus_limit": None,
        "throttling": {"periods": None, "throttled_periods": None, "throttled_time_ns": None},
        "memory": {"usage_bytes": None, "inactive_file_bytes": None, "working_set_bytes": None, "limit_bytes": None},
        "pids": None}]


def test_nothing_found(engine, run):
    result = run(container_stats_info, args(engine, containers=["nope"], project="empty"))
    assert "failed" not in result
    assert (result["containers"], result["missing"], result["changed"]) == ([], ["nope"], False)
    assert engine.calls("GET", "stats") == []


def test_a_container_removed_before_its_sample_is_missing(engine, stack, run):
    answer = engine.answer

    def remove_before_stats(method, path, query):
        if path.endswith("/stats"):
            engine.remove("litellm-litellm-1")
        return answer(method, path, query)

    engine.answer = remove_before_stats
    result = run(container_stats_info, args(engine, containers=["litellm-litellm-1", "litellm-edge-1"]))
    assert "failed" not in result
    assert [c["name"] for c in result["containers"]] == ["litellm-edge-1"]
    assert result["missing"] == ["litellm-litellm-1"]


def test_check_mode_runs_the_same(engine, stack, run):
    result = run(container_stats_info, args(engine, containers=["litellm-litellm-1"], _ansible_check_mode=True))
    assert "failed" not in result and result["changed"] is False
    assert result["containers"][0]["cpu_total_ns"] == 48213456000


def test_containers_or_project_is_required(engine, run):
    result = run(container_stats_info, args(engine))
    assert result["failed"] is True
    assert result["msg"] == "one of the following is required: containers, project"


def test_empty_names_are_refused(engine, run):
    result = run(container_stats_info, args(engine, containers=["litellm-litellm-1", ""]))
    assert result["failed"] is True and result["msg"] == "containers must not hold empty names"
    result = run(container_stats_info, args(engine, project=""))
    assert result["failed"] is True and result["msg"] == "project must not be empty"
    assert engine.requests == []


def test_no_docker_engine(run, tmp_path):
    path = str(tmp_path / "docker.sock")
    result = run(container_stats_info, {"project": "litellm", "docker_socket": path})
    assert result["failed"] is True and result["changed"] is False and "exception" not in result
    assert result["msg"] == ("Cannot read the containers' stats: cannot talk to the Docker engine: there is no socket "
                             "%s (is Docker installed and running?) (GET /containers/json)." % path)


def test_no_permission_on_the_socket(engine, run, monkeypatch):
    def refuse(_connection):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(_docker._UnixConnection, "connect", refuse)
    result = run(container_stats_info, args(engine, containers=["litellm-litellm-1"]))
    assert result["failed"] is True
    assert result["msg"] == ("Cannot read the containers' stats: cannot talk to the Docker engine: permission denied "
                             "on %s (the user needs root or the docker group) (GET /containers/litellm-litellm-1/json)."
                             % engine.path)


def test_an_engine_error_names_the_socket(engine, stack, run):
    engine.answer = lambda method, path, query: (500, "application/json", b'{"message": "cgroup read failed"}', False)
    result = run(container_stats_info, args(engine, containers=["litellm-litellm-1"]))
    assert result["failed"] is True
    assert result["msg"] == ("Cannot read the containers' stats: Docker engine answered HTTP 500 to GET "
                             "/containers/litellm-litellm-1/json: cgroup read failed (Docker engine at %s)." % engine.path)


def test_the_options_are_documented():
    documented = dict(yaml.safe_load(container_stats_info.DOCUMENTATION)["options"],
                      **yaml.safe_load(docker_fragment.ModuleDocFragment.DOCUMENTATION)["options"])
    assert "gatewayops.litellm.docker" in yaml.safe_load(container_stats_info.DOCUMENTATION)["extends_documentation_fragment"]
    assert (documented["containers"]["type"], documented["containers"]["elements"]) == ("list", "str")
    assert documented["project"]["type"] == "str"
    assert (documented["docker_socket"]["type"], documented["docker_socket"]["default"]) == ("path", _docker.DEFAULT_SOCKET)
    returned = yaml.safe_load(container_stats_info.RETURN)
    assert set(returned) == {"containers", "missing", "sampled_at", "sampled_ms"}
    assert set(returned["containers"]["contains"]) == {
        "name", "id", "service", "project", "running", "read", "cpu_total_ns", "online_cpus", "cpus_limit",
        "throttling", "memory", "pids"}
