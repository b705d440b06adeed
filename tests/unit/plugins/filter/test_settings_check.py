# -*- coding: utf-8 -*-
"""Preflight checks of value (plugins/filter/settings_check.py)."""

from __future__ import annotations

import pathlib

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.gatewayops.litellm.plugins.filter.settings_check import (
    litellm_role_variables, litellm_settings_problems, litellm_unknown_variables)

ROLES = pathlib.Path(__file__).resolve().parents[4] / "roles"
GOOD = {
    "litellm_project_dir": "/opt/litellm", "litellm_project_name": "litellm", "litellm_version": "1.108.7",
    "litellm_port": 4000, "litellm_bind_address": "127.0.0.1", "litellm_instances": 1, "litellm_batch_write_seconds": 60,
    "litellm_log_level": "ERROR",
    "litellm_postgres_enabled": False, "litellm_database_url": "", "litellm_required_models": ["chat"],
    "litellm_base_image": "ghcr.io/berriai/litellm:v1.108.7",
    "litellm_edge_enabled": True, "litellm_edge_image": "haproxy:3.0.5-bookworm", "litellm_edge_buffer_kb": 64,
    "litellm_edge_retries": 3, "litellm_edge_keepalive_seconds": 60, "litellm_edge_max_body_mb": 32,
    "litellm_edge_header_timeout_seconds": 10, "litellm_edge_rate_limit_requests": 1000,
    "litellm_edge_rate_limit_period_seconds": 10,
    "litellm_model_list": [{"model_name": "chat", "litellm_params": {"model": "openai/x", "api_base": "http://b:8080/v1"}},
                           {"model_name": "azure", "litellm_params": {"model": "azure/x", "api_base": "os.environ/AZ_BASE"}}],
}


def problems(**changes):
    return litellm_settings_problems(dict(GOOD, **changes))


def test_good_settings_have_no_problem():
    assert problems() == []


def test_only_the_failing_settings_are_named():
    found = problems(litellm_port=70000, litellm_bind_address="999.1.1.1")
    assert found == [
        "litellm_port must be a whole number from 1 to 65535 (got 70000)",
        "litellm_bind_address must be an IPv4 or IPv6 address of this host, e.g. 127.0.0.1 or 0.0.0.0 (got '999.1.1.1')",
    ]
    assert not any("litellm_project_dir" in p or "litellm_version" in p for p in found)


@pytest.mark.parametrize("changes, expected", [
    ({"litellm_project_dir": "opt/litellm"}, "litellm_project_dir must be an absolute path (got 'opt/litellm')"),
    ({"litellm_project_name": "My.Stack"}, "litellm_project_name must be lower-case letters"),
    ({"litellm_version": "latest"}, "litellm_version must be X.Y.Z, e.g. 1.108.7 (got 'latest')"),
    ({"litellm_port": "http"}, "litellm_port must be a whole number from 1 to 65535 (got 'http')"),
    ({"litellm_instances": 0}, "litellm_instances must be a whole number >= 1 (got 0)"),
    ({"litellm_batch_write_seconds": 0}, "litellm_batch_write_seconds must be a whole number from 1 to 3600 (got 0)"),
    ({"litellm_log_level": "TRACE"}, "litellm_log_level must be one of DEBUG/INFO/WARNING/ERROR/CRITICAL (got 'TRACE')"),
    ({"litellm_postgres_enabled": True, "litellm_database_url": "postgresql://x"},
     "litellm_postgres_enabled and litellm_database_url are both set"),
    ({"litellm_required_models": ["chat", "gpt-5"]},
     "litellm_required_models names gpt-5, which litellm_model_list does not have"),
    ({"litellm_cache_enabled": True, "litellm_redis_enabled": False},
     "litellm_cache_enabled: true needs the Redis it caches in: set litellm_redis_enabled: true"),
    ({"litellm_edge_buffer_kb": 8}, "litellm_edge_buffer_kb must be a whole number from 16 to 1024 (got 8)"),
    ({"litellm_edge_image": ""}, "litellm_edge_image must name an image"),
    ({"litellm_model_list": []}, "litellm_model_list must be a list of at least one model"),
    ({"litellm_model_list": ["chat"]}, "litellm_model_list[0] must be a mapping"),
    ({"litellm_model_list": [{"model_name": "chat"}]}, "litellm_model_list[0].litellm_params must be a mapping"),
    ({"litellm_model_list": [{"model_name": "", "litellm_params": {"model": "m"}}]},
     "litellm_model_list[0].model_name must be a non-empty string (got '')"),
    ({"litellm_model_list": [{"model_name": "chat\nmodel", "litellm_params": {"model": "m"}}]},
     "litellm_model_list[0].model_name contains a control character (\\n): 'chat\\nmodel'"),
    ({"litellm_model_list": [{"model_name": "chat", "litellm_params": {"model": "m\x1b[31m"}}]},
     "litellm_model_list[0].litellm_params.model contains a control character (\\x1b)"),
    ({"litellm_model_list": [{"model_name": "chat", "litellm_params": {"model": "m", "api_base": "http://h/v1\r\nX: y"}}]},
     "litellm_model_list[0].litellm_params.api_base contains a control character (\\r)"),
    ({"litellm_model_list": [{"model_name": "chat", "litellm_params": {"model": "m", "api_base": "ftp://h/v1"}}]},
     "litellm_model_list[0].litellm_params.api_base must be an http:// or https:// URL with a host"),
    ({"litellm_model_list": [{"model_name": " chat", "litellm_params": {"model": "m"}}]},
     "litellm_model_list[0].model_name has leading or trailing white space"),
])
def test_each_rule_names_its_variable(changes, expected):
    found = problems(**changes)
    assert len(found) >= 1
    assert found[0].startswith(expected), found


def test_edge_settings_are_not_checked_without_the_edge():
    assert problems(litellm_edge_enabled=False, litellm_edge_buffer_kb=1, litellm_edge_image="") == []


def test_ipv6_and_wildcard_bind_addresses_are_accepted():
    assert problems(litellm_bind_address="::1") == problems(litellm_bind_address="0.0.0.0") == []


def test_unknown_variables_get_the_closest_real_name():
    known = litellm_role_variables(ROLES)
    assert "litellm_num_retries" in known and "docker_host_manage_service" in known
    messages = litellm_unknown_variables(["litellm_port", "litellm_readines_timeout", "litellm_zzz"], known)
    assert messages == [
        "litellm_readines_timeout is not a variable of gatewayops.litellm and is ignored (did you mean litellm_readiness_timeout?)",
        "litellm_zzz is not a variable of gatewayops.litellm and is ignored",
    ]


def test_role_variables_need_argument_specs(tmp_path):
    with pytest.raises(AnsibleFilterError, match="no meta/argument_specs.yml"):
        litellm_role_variables(tmp_path)


MONITORING = {"litellm_monitoring_enabled": True, "litellm_prometheus_enabled": True, "litellm_prometheus_separate_process": True,
              "litellm_prometheus_port": 9090, "litellm_alertmanager_port": 9093, "litellm_monitoring_bind_address": "127.0.0.1",
              "litellm_prometheus_scrape_interval_seconds": 15, "litellm_prometheus_retention": "15d",
              "litellm_alertmanager_webhook_urls": ["http://receiver:8080/hooks/am"], "litellm_alertmanager_route": {},
              "litellm_prometheus_image": "prom/prometheus:v2.53.4", "litellm_alertmanager_image": "prom/alertmanager:v0.28.1"}


def monitoring(**changes):
    settings = dict(MONITORING)
    settings.update(changes)
    return problems(**settings)


@pytest.mark.parametrize("changes, expected", [
    ({"litellm_prometheus_separate_process": False}, "litellm_monitoring_enabled needs litellm_prometheus_separate_process: true"),
    ({"litellm_prometheus_enabled": False}, "litellm_monitoring_enabled needs litellm_prometheus_enabled: true"),
    ({"litellm_prometheus_port": 4000}, "litellm_port, litellm_prometheus_port and litellm_alertmanager_port must differ"),
    ({"litellm_alertmanager_port": 70000}, "litellm_alertmanager_port"),
    ({"litellm_monitoring_bind_address": "localhost"}, "litellm_monitoring_bind_address must be an IPv4 or IPv6 address"),
    ({"litellm_prometheus_retention": "two weeks"}, "litellm_prometheus_retention must be a Prometheus duration"),
    ({"litellm_alertmanager_webhook_urls": ["receiver:8080"]}, "litellm_alertmanager_webhook_urls: every entry must be an http(s) URL"),
    ({"litellm_prometheus_scrape_interval_seconds": 0}, "litellm_prometheus_scrape_interval_seconds"),
])
def test_monitoring_settings_name_their_variable(changes, expected):
    assert monitoring() == []
    found = monitoring(**changes)
    assert len(found) == 1 and expected in found[0], found
    # a webhook URL may hold a token: a problem never repeats it
    assert "receiver:8080" not in " ".join(monitoring(litellm_alertmanager_webhook_urls=["receiver:8080"]))


def test_monitoring_settings_are_not_checked_while_it_is_off():
    assert monitoring(litellm_monitoring_enabled=False, litellm_prometheus_port=4000) == []


@pytest.mark.parametrize("changes, expected", [
    ({"litellm_edge_route_policy": "closed"}, "litellm_edge_route_policy must be denylist, allowlist or off"),
    ({"litellm_edge_denied_routes": ["spend"]}, "litellm_edge_denied_routes: 'spend' must be a path prefix"),
    ({"litellm_edge_allowed_routes": ["/a/../b c"]}, "litellm_edge_allowed_routes: '/a/../b c' must be a path prefix"),
    ({"litellm_edge_management_sources": ["10.0.0.0/33"]}, "litellm_edge_management_sources: '10.0.0.0/33' is not"),
    ({"litellm_edge_rate_limit_exempt_sources": ["lb"]}, "litellm_edge_rate_limit_exempt_sources: 'lb' is not"),
    ({"litellm_edge_allowed_hosts": ["api.example.com:443"]}, "litellm_edge_allowed_hosts: 'api.example.com:443'"),
    ({"litellm_edge_max_body_mb": 0}, "litellm_edge_max_body_mb must be a whole number from 1 to 1024"),
    ({"litellm_edge_header_timeout_seconds": 0}, "litellm_edge_header_timeout_seconds must be"),
    ({"litellm_edge_rate_limit_requests": -1}, "litellm_edge_rate_limit_requests must be a whole number >= 0"),
    ({"litellm_edge_rate_limit_period_seconds": 0}, "litellm_edge_rate_limit_period_seconds must be"),
])
def test_edge_security_settings_name_their_variable(changes, expected):
    found = problems(**changes)
    assert len(found) == 1 and expected in found[0], found


def test_good_edge_security_settings_pass():
    assert problems(litellm_edge_route_policy="allowlist", litellm_edge_management_sources=["10.0.0.0/8", "::1"],
                    litellm_edge_allowed_hosts=["api.example.com", "192.0.2.7"],
                    litellm_edge_denied_routes=["/spend/calculate"]) == []


@pytest.mark.parametrize("reference, expected", [
    ("haproxy", "'haproxy' is not pinned: give a version tag"),
    ("haproxy:latest", "'haproxy:latest' is not pinned"),
    ("registry.example:5000/haproxy", "is not pinned"),
    ("haproxy@sha256:abc", "the digest of 'haproxy@sha256:abc' must be sha256: and 64"),
    ("", "litellm_edge_image must name an image"),
    ("haproxy :3.0", "litellm_edge_image must name an image"),
])
def test_an_unpinned_image_is_refused_with_its_variable(reference, expected):
    found = problems(litellm_edge_image=reference)
    assert len(found) == 1 and found[0].startswith("litellm_edge_image") and expected in found[0], found


@pytest.mark.parametrize("reference", ["haproxy:3.0.5-bookworm", "registry.example:5000/team/haproxy:3.0",
                                       "haproxy@sha256:" + "a" * 64, "haproxy:3.0@sha256:" + "0" * 64,
                                       "haproxy:latest@sha256:" + "0" * 64])
def test_a_tag_or_a_digest_pins_an_image(reference):
    assert problems(litellm_edge_image=reference) == []


def test_images_of_parts_that_are_off_are_not_judged():
    assert problems(litellm_redis_image="redis", litellm_postgres_image="postgres") == []
    assert problems(litellm_redis_enabled=True, litellm_redis_image="redis")[0].startswith("litellm_redis_image")


def test_tls_settings_are_checked_only_when_tls_is_on():
    assert problems(litellm_edge_tls_enabled=False, litellm_edge_tls_port=4000, litellm_edge_tls_certificate="x") == []
    assert problems(litellm_edge_tls_enabled=True, litellm_edge_tls_port=4443, litellm_edge_tls_min_valid_days=14,
                    litellm_edge_tls_hsts_seconds=0) == []


def test_tls_ports_versions_and_a_lone_certificate_are_named():
    base = dict(litellm_edge_tls_enabled=True, litellm_edge_tls_min_valid_days=14, litellm_edge_tls_hsts_seconds=0)
    assert problems(litellm_edge_tls_port=4000, **base) == [
        "litellm_edge_tls_port and litellm_port must differ (both are 4000): TLS has a port of its own, and "
        "litellm_port redirects to it (litellm_edge_http_redirect)"]
    assert problems(litellm_edge_tls_port=70000, **base) == [
        "litellm_edge_tls_port must be a whole number from 1 to 65535 (got 70000)"]
    assert problems(litellm_edge_tls_port=4443, litellm_edge_tls_min_version="SSLv3", **base) == [
        "litellm_edge_tls_min_version must be one of TLSv1.2, TLSv1.3 (got 'SSLv3')"]
    assert problems(litellm_edge_tls_port=4443, litellm_edge_tls_private_key="-----BEGIN PRIVATE KEY-----", **base) == [
        "litellm_edge_tls_certificate and litellm_edge_tls_private_key go together: give both (PEM text), or neither "
        "for a self-signed pair"]


@pytest.mark.parametrize("changes, expected", [
    ({"litellm_redis_enabled": True, "litellm_redis_host": "redis.fleet", "litellm_redis_port": 6379,
      "litellm_redis_image": "redis:7.4.2-bookworm"},
     "litellm_redis_enabled and litellm_redis_host are both set"),
    ({"litellm_redis_host": "redis fleet", "litellm_redis_port": 6379}, "litellm_redis_host must be a host name or an IP address"),
    ({"litellm_redis_host": "10.0.0.5", "litellm_redis_port": 0}, "litellm_redis_port must be"),
    ({"litellm_cache_enabled": True}, "litellm_cache_enabled: true needs the Redis it caches in"),
    ({"litellm_redis_coordination": True}, "litellm_redis_coordination: true needs a Redis"),
    ({"litellm_cache_namespace": "a b"}, "litellm_cache_namespace must be"),
])
def test_redis_settings_name_their_variable(changes, expected):
    found = problems(**changes)
    assert len(found) == 1 and found[0].startswith(expected), found


def test_an_external_redis_serves_the_cache_and_the_router():
    assert problems(litellm_redis_host="redis.fleet.internal", litellm_redis_port=6380, litellm_cache_enabled=True,
                    litellm_redis_coordination=True, litellm_cache_namespace="team-a:cache") == []
    assert problems(litellm_redis_host="fd00::5", litellm_redis_port=6379, litellm_redis_enabled=False) == []


def test_the_fleet_group_must_exist_in_the_inventory():
    settings = dict(GOOD, litellm_fleet_group="proxies")
    assert litellm_settings_problems(settings, ["all", "ungrouped", "proxies"]) == []
    found = litellm_settings_problems(settings, ["all", "ungrouped", "litellm_fleet", "edge"])
    assert found == ["litellm_fleet_group names 'proxies', which the inventory does not have (groups: edge, "
                     "litellm_fleet): the sizing model would count 1 instance where a fleet shares the database and Redis"]
    assert litellm_settings_problems(settings) == []   # no inventory given: not judged


@pytest.mark.parametrize("settings, expected", [
    ({"Shared Preload": "x"}, "litellm_postgres_settings: 'Shared Preload' is not a Postgres parameter name"),
    ({"work_mem": {"a": 1}}, "litellm_postgres_settings.work_mem must be a string or a number"),
    ({"log_line_prefix": "a\nb"}, "litellm_postgres_settings.log_line_prefix must be a string or a number"),
    (["shared_preload_libraries=pg_stat_statements"], "litellm_postgres_settings must be a mapping"),
])
def test_postgres_settings_name_their_variable(settings, expected):
    found = problems(litellm_postgres_settings=settings)
    assert len(found) == 1 and expected in found[0]


def test_postgres_settings_take_parameter_names_and_scalar_values():
    assert problems(litellm_postgres_settings={
        "shared_preload_libraries": "pg_stat_statements", "work_mem": "8MB", "pg_stat_statements.max": 5000}) == []
