# -*- coding: utf-8 -*-
"""Table-driven tests of the sizing model (pure logic)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.gatewayops.litellm.plugins.filter.sizing import litellm_sizing, sizing_problems


def size(vcpus, memory_mb, instances=1, redis=True, postgres=False, database=None, overrides=None, request_timeout=600,
         edge=True, edge_buffer_kb=64):
    host = {"vcpus": vcpus, "memory_mb": memory_mb, "instances": instances, "redis_bundled": redis,
            "postgres_bundled": postgres, "database": postgres if database is None else database,
            "request_timeout": request_timeout, "edge": edge, "edge_buffer_kb": edge_buffer_kb}
    return litellm_sizing(host, overrides)


# machine class -> expected key figures (bundled Redis and Postgres on one host)
TABLE = [
    # vcpus, MB, workers, server, mem_limit, pool, max_conn
    (1, 2048, 1, "uvicorn", 1038, 20, 100),
    (2, 4096, 1, "uvicorn", 2432, 20, 100),
    (4, 8192, 2, "gunicorn", 4480, 20, 100),
    (8, 16384, 5, "gunicorn", 10624, 17, 100),
    (16, 65536, 14, "gunicorn", 29056, 10, 153),
    (64, 262144, 32, "gunicorn", 65920, 10, 333),
]


@pytest.mark.parametrize("vcpus, memory_mb, workers, server, mem_limit, pool, max_conn", TABLE)
def test_machine_classes_with_bundled_postgres(vcpus, memory_mb, workers, server, mem_limit, pool, max_conn):
    s = size(vcpus, memory_mb, postgres=True)
    assert s["problems"] == []
    assert s["num_workers"] == workers
    assert s["server"] == server
    assert s["litellm_mem_limit_mb"] == mem_limit
    assert s["database_connection_pool_limit"] == pool
    assert s["db_max_connections"] == max_conn
    # the invariants the model promises, checked independently of its own checker
    assert s["instances"] * workers * pool + 3 <= max_conn
    assert s["litellm_mem_limit_mb"] + s["redis_mem_limit_mb"] + s["postgres_mem_limit_mb"] + s["os_reserve_mb"] <= memory_mb
    assert s["postgres_shared_buffers_mb"] == s["postgres_mem_limit_mb"] // 4
    assert 0 < s["litellm_cpus"] <= vcpus


@pytest.mark.parametrize("vcpus, memory_mb, workers", [(1, 2048, 1), (2, 4096, 2), (4, 8192, 4), (8, 16384, 8), (16, 65536, 16),
                                                       (64, 262144, 32)])
def test_machine_classes_without_database(vcpus, memory_mb, workers):
    s = size(vcpus, memory_mb)
    assert s["num_workers"] == workers
    assert "database_connection_pool_limit" not in s
    assert s["healthcheck_start_period_seconds"] == 60


def test_four_instances_share_one_external_database():
    s = size(8, 16384, instances=4, database=True)
    assert s["num_workers"] == 6
    assert s["database_connection_pool_limit"] == 3          # (100 - 13) // (4 * 6)
    assert 4 * 6 * 3 + 3 <= s["db_max_connections"] == 100
    assert s["redis_maxclients"] >= 2 * 4 * 6 * s["redis_max_connections"]
    assert s["problems"] == []


def test_recycling_only_with_two_or_more_workers():
    one = size(1, 2048)
    assert one["num_workers"] == 1 and one["max_requests_before_restart"] == 0
    two = size(2, 4096)
    assert two["max_requests_before_restart"] == 10000
    assert two["max_requests_before_restart_jitter"] == 5000


def test_recycling_only_behind_the_edge():
    bare = size(4, 8192, edge=False)
    assert bare["num_workers"] == 4 and bare["server"] == "gunicorn"
    assert bare["max_requests_before_restart"] == 0 and bare["max_requests_before_restart_jitter"] == 0
    assert "without the edge" in bare["why"]["max_requests_before_restart"]
    assert "edge_maxconn" not in bare and bare["problems"] == []
    # an operator may still ask for it: that is a choice, not an inconsistency
    assert size(4, 8192, edge=False, overrides={"max_requests_before_restart": 500})["problems"] == []


@pytest.mark.parametrize("vcpus, memory_mb, maxconn, mem_mb, cpus", [
    (1, 2048, 1024, 64 + 128, 0.5),          # 1 worker: the floor
    (4, 8192, 4 * 512, 64 + 256, 0.5),       # 4 workers x 512
    (16, 65536, 16 * 512, 64 + 1024, 1.0),
    (64, 262144, 16384, 64 + 2048, 1.0),     # the cap
])
def test_edge_is_sized_by_workers(vcpus, memory_mb, maxconn, mem_mb, cpus):
    s = size(vcpus, memory_mb)
    assert (s["edge_maxconn"], s["edge_mem_limit_mb"], s["edge_cpus"]) == (maxconn, mem_mb, cpus)
    assert s["problems"] == []


def test_edge_memory_follows_its_buffers():
    s = size(2, 4096, edge_buffer_kb=256)
    assert s["edge_mem_limit_mb"] == 64 + 1024 * 2 * 256 // 1024
    low = size(2, 4096, edge_buffer_kb=256, overrides={"edge_mem_limit_mb": 128})
    assert any("edge mem_limit 128 MB" in p for p in low["problems"])


def test_edge_buffer_must_be_an_integer():
    with pytest.raises(AnsibleFilterError, match="edge_buffer_kb"):
        litellm_sizing({"vcpus": 2, "memory_mb": 4096, "edge_buffer_kb": "big"})


def test_workers_are_bound_by_memory_on_a_small_box():
    s = size(16, 4096, postgres=True)
    assert s["num_workers"] == 1
    assert "bound by memory" in s["why"]["num_workers"]


def test_shutdown_covers_the_request_timeout():
    s = size(2, 4096, request_timeout=300)
    assert s["graceful_shutdown_seconds"] == 300
    assert s["stop_grace_period_seconds"] == 320


def test_every_number_is_explained():
    s = size(4, 8192, postgres=True)
    for key in ("num_workers", "litellm_mem_limit_mb", "database_connection_pool_limit", "db_max_connections",
                "redis_maxmemory_mb", "postgres_shared_buffers_mb", "graceful_shutdown_seconds"):
        assert s["why"][key], key


def test_override_that_breaks_the_connection_budget_is_reported_with_arithmetic():
    s = size(8, 16384, postgres=True, overrides={"database_connection_pool_limit": 50})
    assert s["database_connection_pool_limit"] == 50
    assert s["problems"] == ["database connections: 1 instances x 5 workers x pool 50 + 3 reserved = 253 > max_connections 100"]


def test_recycling_forced_on_one_worker_is_refused():
    s = size(2, 4096, overrides={"num_workers": 1, "max_requests_before_restart": 500})
    assert any("needs at least 2 workers" in p for p in s["problems"])


def test_workers_override_drives_dependent_numbers():
    s = size(2, 4096, overrides={"num_workers": "3"})
    assert s["num_workers"] == 3
    assert s["litellm_mem_limit_mb"] == 384 + 3 * 768
    assert s["server"] == "gunicorn"


def test_auto_and_empty_overrides_mean_derive():
    assert size(2, 4096, overrides={"num_workers": "auto", "litellm_cpus": ""})["num_workers"] == 2


def test_short_graceful_shutdown_is_a_problem():
    s = size(2, 4096, overrides={"graceful_shutdown_seconds": 30})
    assert any("shorter than request_timeout" in p for p in s["problems"])


def test_bad_inputs_fail_clearly():
    with pytest.raises(AnsibleFilterError, match="vcpus >= 1"):
        size(0, 4096)


@pytest.mark.parametrize("overrides, problem", [
    ({"num_workers": "many"}, "litellm_sizing_overrides.num_workers must be a whole number or 'auto' (got 'many')"),
    ({"num_workers": 2.5}, "litellm_sizing_overrides.num_workers must be a whole number or 'auto' (got 2.5)"),
    ({"num_workers": True}, "litellm_sizing_overrides.num_workers must be a whole number or 'auto' (got True)"),
    ({"num_workers": 0}, "litellm_sizing_overrides.num_workers must be more than 0 (got 0)"),
    ({"litellm_cpus": "fast"}, "litellm_sizing_overrides.litellm_cpus must be a number or 'auto' (got 'fast')"),
    ({"litellm_cpus": -1}, "litellm_sizing_overrides.litellm_cpus must be more than 0 (got -1)"),
    ({"server": "granian"}, "litellm_sizing_overrides.server must be one of uvicorn, gunicorn or 'auto' (got 'granian')"),
    ({"max_requests_before_restart": -5}, "litellm_sizing_overrides.max_requests_before_restart must be 0 or more (got -5)"),
    ({"num_worker": 4}, "litellm_sizing_overrides.num_worker is not a sizing key (did you mean num_workers?)"),
])
def test_bad_overrides_are_problems_that_name_the_variable(overrides, problem):
    s = size(4, 8192, overrides=overrides)
    assert s["problems"][0] == problem
    # the bad value is not applied: what is left is the derived stack
    assert s["num_workers"] == size(4, 8192)["num_workers"]


def test_numeric_strings_and_zero_recycling_are_accepted():
    s = size(4, 8192, overrides={"num_workers": "3", "litellm_cpus": "1.5", "max_requests_before_restart": 0,
                                 "max_requests_before_restart_jitter": 0})
    assert s["problems"] == []
    assert (s["num_workers"], s["litellm_cpus"], s["max_requests_before_restart"]) == (3, 1.5, 0)


def test_derived_timers():
    host = {"vcpus": 2, "memory_mb": 4096, "request_timeout": 300, "edge": True, "edge_buffer_kb": 32,
            "postgres_bundled": True, "healthcheck_timeout": 7, "readiness_timeout": 100}
    s = litellm_sizing(host)
    assert s["edge_timeout_seconds"] == 330
    assert s["edge_bufsize_bytes"] == 32 * 1024
    assert s["healthcheck_probe_timeout_seconds"] == 6
    assert (s["readiness_retries"], s["readiness_poll_seconds"]) == (34, 3)
    assert s["postgres_stop_grace_period_seconds"] == 60
    assert "postgres_stop_grace_period_seconds" not in size(2, 4096)
    assert litellm_sizing(dict(host, healthcheck_timeout=1))["healthcheck_probe_timeout_seconds"] == 1


def test_problems_checker_flags_a_too_small_memory_limit():
    s = size(2, 4096, overrides={"litellm_mem_limit_mb": 512, "litellm_mem_reservation_mb": 256})
    assert sizing_problems(s) == ["litellm mem_limit 512 MB is below what 2 workers use: 384 + 2 x 360 = 1104 MB"]


def test_blue_green_surge_fits_or_says_why():
    host = {"vcpus": 2, "memory_mb": 24576, "edge": True, "blue_green": True}
    s = litellm_sizing(host)
    assert s["surge_memory_mb"] == 2 * s["litellm_mem_reservation_mb"] <= s["proxy_memory_mb"]
    assert "2 x %d MB" % s["litellm_mem_reservation_mb"] in s["why"]["surge_memory_mb"]
    assert s["problems"] == []
    # a host with room for one set of workers only: the arithmetic and both ways out are named
    small = litellm_sizing(dict(host, vcpus=8, memory_mb=4096), {"num_workers": 8})
    problem = [p for p in small["problems"] if "blue/green" in p]
    assert problem and "litellm_deploy_strategy: recreate" in problem[0] and "litellm_sizing_overrides.num_workers" in problem[0]
    assert "%d MB" % (2 * small["litellm_mem_reservation_mb"]) in problem[0]
    # recreate (or no edge): one set at a time, no surge problem
    for other in (dict(host, vcpus=8, memory_mb=4096, blue_green=False), dict(host, vcpus=8, memory_mb=4096, edge=False)):
        one = litellm_sizing(other, {"num_workers": 8})
        assert one["surge_memory_mb"] == one["litellm_mem_reservation_mb"]
        assert not [p for p in one["problems"] if "blue/green" in p]


def test_blue_green_database_connections_count_both_sets():
    s = litellm_sizing({"vcpus": 4, "memory_mb": 16384, "edge": True, "blue_green": True, "postgres_bundled": True})
    workers = s["num_workers"]
    assert 2 * workers * s["database_connection_pool_limit"] + 3 <= s["db_max_connections"]
    assert s["problems"] == []


def test_monitoring_takes_its_budget_from_the_proxy():
    host = {"vcpus": 4, "memory_mb": 8192, "edge": True, "redis_bundled": True}
    without, with_monitoring = litellm_sizing(host), litellm_sizing(dict(host, monitoring=True))
    assert "prometheus_mem_limit_mb" not in without
    assert with_monitoring["prometheus_mem_limit_mb"] == 409 and with_monitoring["alertmanager_mem_limit_mb"] == 64
    assert with_monitoring["monitoring_cpus"] == 0.5
    assert without["proxy_memory_mb"] - with_monitoring["proxy_memory_mb"] == 409 + 64
    assert with_monitoring["litellm_cpus"] == without["litellm_cpus"] - 0.25
    for key in ("prometheus_mem_limit_mb", "alertmanager_mem_limit_mb", "monitoring_cpus"):
        assert with_monitoring["why"][key]
    # bounded on small and large hosts; an override wins
    assert litellm_sizing(dict(host, memory_mb=2048, vcpus=1, monitoring=True))["prometheus_mem_limit_mb"] == 256
    assert litellm_sizing(dict(host, memory_mb=262144, vcpus=64, monitoring=True))["prometheus_mem_limit_mb"] == 2048
    assert litellm_sizing(dict(host, monitoring=True), {"prometheus_mem_limit_mb": 1024})["prometheus_mem_limit_mb"] == 1024


def test_a_fleet_too_large_for_the_shared_database_is_refused_with_the_arithmetic():
    # 12 hosts of 8 vCPUs (8 workers each) at the smallest pool still need 13 x 8 x 2 connections
    s = litellm_sizing({"vcpus": 8, "memory_mb": 32768, "instances": 12, "database": True, "edge": True,
                        "blue_green": True})
    assert s["database_connection_pool_limit"] == 2
    assert s["problems"] == [
        "database connections: 13 instances (one more while a blue/green switch runs both) x 8 workers x pool 2 "
        "+ 3 reserved = 211 > max_connections 100"]
    assert "litellm_sizing_overrides.db_max_connections" in s["why"]["db_max_connections"]
    # the shared database's real max_connections, stated by the operator, fits the fleet
    bigger = litellm_sizing({"vcpus": 8, "memory_mb": 32768, "instances": 12, "database": True, "edge": True,
                             "blue_green": True}, {"db_max_connections": 400})
    # the pools are divided out of the stated max_connections: (400 - 13) // (13 x 8) = 3
    assert bigger["problems"] == [] and bigger["db_max_connections"] == 400
    assert bigger["database_connection_pool_limit"] == 3
    assert 13 * 8 * bigger["database_connection_pool_limit"] + 3 <= bigger["db_max_connections"]
    assert "litellm_sizing_overrides.db_max_connections" in bigger["why"]["db_max_connections"]


def test_an_external_redis_sizes_the_client_pool_and_checks_the_shared_maxclients():
    s = litellm_sizing({"vcpus": 4, "memory_mb": 8192, "instances": 3, "redis_external": True})
    assert s["redis_max_connections"] == 50 and s["redis_maxclients"] == 10000
    assert "redis_mem_limit_mb" not in s and s["redis_external"] is True and s["redis_bundled"] is False
    assert "3 instance(s)" in s["why"]["redis_maxclients"]
    small = litellm_sizing({"vcpus": 4, "memory_mb": 8192, "instances": 3, "redis_external": True},
                           {"redis_maxclients": 500})
    workers = small["num_workers"]
    assert small["problems"] == ["redis clients: 2 x 3 instances x %d workers x pool 50 = %d > maxclients 500"
                                 % (workers, 2 * 3 * workers * 50)]
