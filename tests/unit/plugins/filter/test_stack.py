# -*- coding: utf-8 -*-
"""The stack model (plugins/filter/stack.py): pure, so every branch is checked here."""

from __future__ import annotations

import os
import pathlib
import shlex
import tempfile

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.gatewayops.litellm.plugins.filter.sizing import litellm_sizing
from ansible_collections.gatewayops.litellm.plugins.filter.stack import (
    ALLOWED_FAILS_POLICY, RETRY_POLICY, litellm_local_url, litellm_sizing_inputs, litellm_stack, local_url)
from ansible_collections.gatewayops.litellm.plugins.filter.versions import litellm_version_info

DEFAULTS = pathlib.Path(__file__).resolve().parents[4] / "roles" / "proxy" / "defaults" / "main.yml"
IMAGE = "gatewayops/litellm-proxy:1.108.7-0123456789ab"
MODELS = [
    {"model_name": "chat", "litellm_params": {"model": "openai/x", "api_base": "http://b:8080/v1"}},
    {"model_name": "embed", "litellm_params": {"model": "openai/e"}, "model_info": {"mode": "embedding"}},
]


def settings(**changes):
    """The role's defaults (templated ones as None), as preflight collects them, plus changes."""
    s = {name: None if isinstance(value, str) and "{{" in value else value
         for name, value in yaml.safe_load(DEFAULTS.read_text()).items()}
    s.update(litellm_model_list=MODELS, litellm_sizing_vcpus=4, litellm_sizing_memory_mb=8192)
    s.update(changes)
    if s["litellm_redis_enabled"] is None:   # its default follows the cache unless the Redis is external
        s["litellm_redis_enabled"] = s["litellm_cache_enabled"] and not s["litellm_redis_host"]
    if s["litellm_redis_coordination"] is None:   # its default: on with an external Redis
        s["litellm_redis_coordination"] = bool(s["litellm_redis_host"])
    if s["litellm_instances"] is None:   # the fleet group's size; no group here
        s["litellm_instances"] = 1
    return s


def stack_and_sizing(version="1.108.7", **changes):
    s = settings(**changes)
    sizing = litellm_sizing(litellm_sizing_inputs(s), s["litellm_sizing_overrides"])
    return litellm_stack(s, sizing, litellm_version_info(version, True), IMAGE), sizing


def stack(version="1.108.7", **changes):
    return stack_and_sizing(version, **changes)[0]


def test_defaults_give_the_hardened_config():
    st, sizing = stack_and_sizing()
    config = st["config"]
    assert config["model_list"] == MODELS
    assert config["litellm_settings"] == {
        "request_timeout": 600, "json_logs": True, "set_verbose": False, "turn_off_message_logging": True,
        "redact_user_api_key_info": True, "callbacks": ["prometheus"],
        "prometheus_exclude_labels": ["end_user", "user", "user_email", "hashed_api_key", "api_key_alias",
                                      "client_ip", "user_agent"],
        "prometheus_metrics_max_series_per_metric": 1000}
    assert config["general_settings"]["master_key"] == "os.environ/LITELLM_MASTER_KEY"
    assert "database_connection_pool_limit" not in config["general_settings"]
    assert config["router_settings"]["retry_policy"] == RETRY_POLICY
    assert config["router_settings"]["allowed_fails_policy"] == ALLOWED_FAILS_POLICY
    assert st["database"] is False
    assert st["command"] == ["--config", "/etc/litellm/config.yaml", "--host", "0.0.0.0", "--port", "4000",
                             "--num_workers", str(sizing["num_workers"]), "--run_gunicorn",
                             "--max_requests_before_restart", "10000", "--max_requests_before_restart_jitter", "5000",
                             "--prometheus_metrics_port", "4002"]
    assert st["metrics"] == {"port": 4002, "auth": False}
    assert st["container_env"]["PROMETHEUS_MULTIPROC_DIR"] == "/tmp/prometheus-multiproc"
    assert st["proxy_tmpfs"] == {"/tmp/prometheus-multiproc": 64}
    assert "--tmpfs /tmp/prometheus-multiproc" in st["validate_config_command"]
    assert not [name for name in st["container_env"] if name.startswith("REDIS_")]
    assert "REDIS_PASSWORD" not in [spec["name"] for spec in st["secrets"]]
    assert "redis_cpus" not in sizing
    assert st["container_env"]["LITELLM_DISABLE_ACCESS_LOG_PATHS"].startswith("/health/liveliness")
    assert "SEPARATE_HEALTH_APP" not in st["container_env"]
    assert st["health_port"] == 4000
    assert st["model_modes"] == {"embed": "embedding"}
    assert st["image"] == IMAGE
    # the rendered config is plain YAML data
    assert yaml.safe_load(yaml.safe_dump(config)) == config


def test_operator_sections_win_recursively():
    st = stack(litellm_cache_enabled=True, litellm_litellm_settings={"cache_params": {"ttl": 5}, "drop_params": True},
               litellm_router_settings={"retry_policy": {"TimeoutErrorRetries": 0}})
    assert st["config"]["litellm_settings"]["cache_params"] == {"type": "redis", "ttl": 5, "namespace": "litellm.cache"}
    assert st["config"]["litellm_settings"]["drop_params"] is True
    assert st["config"]["router_settings"]["retry_policy"]["TimeoutErrorRetries"] == 0
    assert st["config"]["router_settings"]["retry_policy"]["RateLimitErrorRetries"] == 3
    # the module-level policy is not changed by a merge
    assert RETRY_POLICY["TimeoutErrorRetries"] == 2


def test_database_mode_and_its_secrets():
    st, sizing = stack_and_sizing(litellm_postgres_enabled=True)
    assert st["database"] is True
    assert st["config"]["general_settings"]["database_connection_pool_limit"] == sizing["database_connection_pool_limit"]
    assert [spec["name"] for spec in st["secrets"]] == [
        "LITELLM_MASTER_KEY", "LITELLM_SALT_KEY", "DRAIN_ENDPOINT_TOKEN", "POSTGRES_PASSWORD"]
    assert stack(litellm_database_url="postgresql://u:p@db/x")["database"] is True


def test_the_response_cache_is_opt_in_and_brings_its_redis():
    st, sizing = stack_and_sizing(litellm_cache_enabled=True)
    assert st["config"]["litellm_settings"]["cache"] is True
    assert st["config"]["litellm_settings"]["cache_params"] == {"type": "redis", "ttl": 600, "namespace": "litellm.cache"}
    assert st["container_env"]["REDIS_HOST"] == "redis"
    assert st["container_env"]["REDIS_MAX_CONNECTIONS"] == str(sizing["redis_max_connections"]) == "50"
    assert "REDIS_PASSWORD" in [spec["name"] for spec in st["secrets"]]
    assert sizing["redis_cpus"] == 0.5
    # Redis the cache does not use (an operator who keeps it for something else): no cache lookups
    kept = stack(litellm_redis_enabled=True)
    assert "cache" not in kept["config"]["litellm_settings"] and kept["container_env"]["REDIS_HOST"] == "redis"


def test_secrets_hold_names_and_rules_never_values():
    st = stack(litellm_master_key="sk-" + "a1" * 20, litellm_redis_password="pw-value")
    text = repr(st["secrets"])
    assert "a1a1" not in text and "pw-value" not in text
    assert st["secrets"][0] == {"name": "LITELLM_MASTER_KEY", "setting": "litellm_master_key",
                                "rotate_var": "litellm_master_key_rotate", "prefix": "sk-",
                                "consequence": "Clients and scripts that use the current master key would be locked out."}


def test_version_features_change_env_and_secrets():
    old, sizing = stack_and_sizing(version="1.84.2")
    assert old["health_port"] == 4001
    assert old["container_env"]["SEPARATE_HEALTH_APP"] == "1"
    assert old["container_env"]["SUPERVISORD_STOPWAITSECS"] == str(sizing["graceful_shutdown_seconds"])
    assert "LITELLM_DISABLE_ACCESS_LOG_PATHS" not in old["container_env"]
    new = stack(version="1.110.2")
    assert new["container_env"]["LITELLM_OFFLINE_MODE"] == "true"
    assert new["config"]["general_settings"]["enable_drain_endpoint"] is True
    assert "DRAIN_ENDPOINT_TOKEN" in [spec["name"] for spec in new["secrets"]]


def test_metrics_come_from_the_separate_process_where_the_release_has_it():
    # an older release (or the operator) keeps /metrics on the proxy port, behind the master key
    for st in (stack(version="1.100.0"), stack(litellm_prometheus_separate_process=False)):
        assert "--prometheus_metrics_port" not in st["command"]
        assert st["metrics"] == {"port": 4000, "auth": True}
        assert st["container_env"]["PROMETHEUS_MULTIPROC_DIR"] == "/tmp/prometheus-multiproc"
    off = stack(litellm_prometheus_enabled=False)
    assert off["metrics"] == {"port": None, "auth": False} and "--prometheus_metrics_port" not in off["command"]
    assert "PROMETHEUS_MULTIPROC_DIR" not in off["container_env"]
    assert "prometheus_exclude_labels" not in off["config"]["litellm_settings"]
    # every label kept, no cap: the keys are left out, not written empty
    open_ended = stack(litellm_prometheus_exclude_labels=[], litellm_prometheus_max_series_per_metric=0)
    assert not {"prometheus_exclude_labels", "prometheus_metrics_max_series_per_metric"} & set(
        open_ended["config"]["litellm_settings"])


def test_slack_alerting_only_with_a_webhook():
    assert "alerting" not in stack()["config"]["general_settings"]
    general = stack(litellm_slack_webhook_url="https://hooks.example/x")["config"]["general_settings"]
    assert general["alerting"] == ["slack"] and general["alerting_threshold"] == 300


def test_one_worker_runs_uvicorn_without_recycling():
    st = stack(litellm_sizing_vcpus=1, litellm_sizing_memory_mb=2048)
    assert "--run_gunicorn" not in st["command"] and "--max_requests_before_restart" not in st["command"]


def test_validate_commands_are_shell_safe():
    st = stack(litellm_environment={"X_NOTE": "a b; rm -rf /"}, litellm_project_dir="/srv/lite llm")
    command = st["validate_config_command"]
    argv = shlex.split(command.replace("%s", "/tmp/candidate"))
    assert argv[:3] == ["docker", "run", "--rm"]
    assert "X_NOTE=a b; rm -rf /" in argv
    # validated beside the candidate .env, before either replaces a live file
    # where the proxy reads its secrets (never --env-file: the container's environment)
    assert "--env-file" not in argv
    assert "/srv/lite llm/candidate/.env:/run/secrets/litellm.env:ro" in argv
    assert argv[-4:] == [IMAGE, "--config", "/etc/litellm/config.yaml", "--validate_config"]
    assert "/tmp/candidate:/etc/litellm/config.yaml:ro" in argv
    edge = shlex.split(st["validate_edge_command"].replace("%s", "/tmp/h.cfg"))
    assert edge[-5:] == ["haproxy:3.0.5-bookworm", "-c", "-q", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]


@pytest.mark.parametrize("address, url", [
    ("127.0.0.1", "http://127.0.0.1:4000"), ("0.0.0.0", "http://127.0.0.1:4000"), ("::", "http://127.0.0.1:4000"),
    ("10.1.2.3", "http://10.1.2.3:4000"), ("::1", "http://[::1]:4000"),
])
def test_local_url(address, url):
    assert local_url({"litellm_bind_address": address, "litellm_port": 4000}) == url
    assert litellm_local_url(address, "4000") == url


def test_missing_settings_fail_clearly():
    s = settings()
    del s["litellm_request_timeout"]
    with pytest.raises(AnsibleFilterError, match="settings lack litellm_request_timeout"):
        litellm_stack(s, {}, {}, IMAGE)


def test_blue_green_deployment_model():
    st, sizing = stack_and_sizing()
    assert st["deploy_strategy"] == "blue_green" and sizing["blue_green"] is True
    name, project_dir = settings()["litellm_project_name"], settings()["litellm_project_dir"].rstrip("/")
    for colour in ("blue", "green"):
        entry = st["colours"][colour]
        # the directory's name is the compose project's name; compose names the container after both
        assert entry["project"] == "%s-%s" % (name, colour)
        assert entry["dir"] == "%s/%s-%s" % (project_dir, name, colour)
        assert entry["server"] == "%s-%s-litellm-1" % (name, colour)
    assert st["networks"] == {"frontend": name + "_frontend", "backend": name + "_backend"}
    assert st["candidate_dir"] == project_dir + "/candidate"
    assert st["edge_dir"] == project_dir + "/edge"
    # haproxy.cfg is validated with the live server's variable set, as colour.cfg sets it
    argv = shlex.split(st["validate_edge_command"].replace("%s", "/tmp/x"))
    assert argv[argv.index("--env") + 1] == "LITELLM_LIVE_SERVER=%s-blue-litellm-1" % name


@pytest.mark.parametrize("changes", [{"litellm_deploy_strategy": "recreate"}, {"litellm_edge_enabled": False}])
def test_recreate_without_a_switch(changes):
    st, sizing = stack_and_sizing(**changes)
    assert st["deploy_strategy"] == "recreate" and sizing["blue_green"] is False
    assert st["recreate_container"] == settings()["litellm_project_name"] + "-litellm-1"


def test_monitoring_scrapes_every_colour_and_the_edge_and_validates_each_file():
    assert stack()["monitoring"] == {"enabled": False, "rule_files": []}
    st = stack(litellm_monitoring_enabled=True, litellm_alertmanager_webhook_urls=["http://fake-openai:8080/hooks/am"],
               litellm_alertmanager_route={"group_wait": "1s"}, litellm_project_name="shop")
    mon = st["monitoring"]
    jobs = {job["job_name"]: job for job in mon["prometheus_config"]["scrape_configs"]}
    assert jobs["litellm"]["dns_sd_configs"] == [{"names": ["litellm"], "type": "A", "port": 4002, "refresh_interval": "5s"}]
    assert jobs["litellm"]["metrics_path"] == "/metrics/"
    assert jobs["litellm-edge"]["static_configs"] == [{"targets": ["edge:8405"]}]
    assert mon["prometheus_config"]["global"]["external_labels"] == {"litellm_project": "shop"}
    assert [f["dest"] for f in mon["rule_files"]] == ["prometheus-rules-litellm-rules.yml", "prometheus-rules-litellm-edge-rules.yml"]
    assert mon["rule_files"][0] == {"source": "prometheus/litellm-rules.yml", "dest": "prometheus-rules-litellm-rules.yml",
                                    "container_path": "/etc/prometheus/rules/litellm-rules.yml"}
    route, receivers = mon["alertmanager_config"]["route"], mon["alertmanager_config"]["receivers"]
    assert route["group_wait"] == "1s" and route["repeat_interval"] == "4h"
    assert receivers == [{"name": "default", "webhook_configs": [{"url": "http://fake-openai:8080/hooks/am", "send_resolved": True}]}]
    assert mon["prometheus_url"] == "http://127.0.0.1:9090" and mon["alertmanager_url"] == "http://127.0.0.1:9093"
    # each file checked by its own image's binary; the rules prometheus.yml loads are mounted where it loads them
    check = shlex.split(mon["validate_prometheus_command"].replace("%s", "TEMPFILE"))
    assert check[-3:] == ["check", "config", "/etc/prometheus/prometheus.yml"]
    assert check[check.index("--entrypoint") + 1] == "/bin/promtool"
    assert "TEMPFILE:/etc/prometheus/prometheus.yml:ro" in check
    assert "/opt/litellm/candidate/prometheus-rules-litellm-edge-rules.yml:/etc/prometheus/rules/litellm-edge-rules.yml:ro" in check
    assert check[check.index("--entrypoint") + 2] == "prom/prometheus:v2.53.4" and "none" in check
    assert shlex.split(mon["validate_rules_command"])[-3:] == ["check", "rules", "/tmp/rules.yml"]
    assert shlex.split(mon["validate_alertmanager_command"])[-2:] == ["check-config", "/tmp/alertmanager.yml"]


def test_monitoring_rules_follow_the_edge_and_the_operator():
    no_edge = stack(litellm_monitoring_enabled=True, litellm_edge_enabled=False)["monitoring"]
    assert [f["source"] for f in no_edge["rule_files"]] == ["prometheus/litellm-rules.yml"]
    assert "litellm-edge" not in [j["job_name"] for j in no_edge["prometheus_config"]["scrape_configs"]]
    own = stack(litellm_monitoring_enabled=True, litellm_prometheus_shipped_rules=False,
                litellm_prometheus_extra_rule_files=["/srv/rules/team.yml"])["monitoring"]
    assert own["rule_files"] == [{"source": "/srv/rules/team.yml", "dest": "prometheus-rules-team.yml",
                                  "container_path": "/etc/prometheus/rules/team.yml"}]
    assert "webhook_configs" not in own["alertmanager_config"]["receivers"][0]
    with pytest.raises(AnsibleFilterError, match="same file name litellm-rules.yml"):
        stack(litellm_monitoring_enabled=True, litellm_prometheus_extra_rule_files=["/srv/litellm-rules.yml"])
    with pytest.raises(AnsibleFilterError, match="not a .yml/.yaml file name"):
        stack(litellm_monitoring_enabled=True, litellm_prometheus_extra_rule_files=["/srv/rules.txt"])
    # an old release has no separate metrics process: its /metrics needs the master key
    with pytest.raises(AnsibleFilterError, match="separate metrics process"):
        stack(version="1.100.0", litellm_monitoring_enabled=True)


# the edge as a security boundary: the route regexes are judged here with Python's re, whose
# syntax for these patterns (classes, groups, alternation, anchors) is PCRE's
def _decoded(path):
    """The path as the edge matches it: percent-decoded and lower-cased (path,url_dec,lower)."""
    from urllib.parse import unquote
    return unquote(path).lower()


@pytest.mark.parametrize("path", [
    "/config/update", "/CONFIG/Update", "/config%2Fupdate", "//config//update", "/config/update.", "/config/update/",
    "/v1/config/update", "/prompts/test", "/guardrails/test_custom_code", "/mcp-rest/test/tools/call",
    "/debug/asyncio-tasks", "/health/test_connection", "/ui", "/ui/", "/sso/key/generate", "/%75i/",
    "/.well-known/litellm-ui-config", "/fallback/login"])
def test_the_denylist_refuses_every_spelling(path):
    import re
    sec = stack()["edge_security"]
    assert sec["route_policy"] == "denylist"
    assert re.search(sec["denied_regex"], _decoded(path)), path


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/chat/completions", "/v1/models", "/models/openai%2Fgpt-4",
                                  "/health/liveliness", "/health/readiness", "/key/generate", "/debugger", "/uix",
                                  "/v1/embeddings", "/config/list", "/metrics/"])
def test_the_denylist_passes_the_api_and_authenticated_management(path):
    import re
    sec = stack()["edge_security"]
    assert not re.search(sec["denied_regex"], _decoded(path)), path


def test_config_reads_pass_and_writes_are_refused_by_method():
    import re
    sec = stack()["edge_security"]
    assert re.search(sec["config_regex"], "/config/field/update") and re.search(sec["config_regex"], "/config/list")
    assert not re.search(sec["config_regex"], "/configuration")


def test_the_ui_routes_follow_litellm_ui_enabled():
    import re
    on = stack(litellm_ui_enabled=True)
    assert not re.search(on["edge_security"]["denied_regex"], "/ui/")
    assert "DISABLE_ADMIN_UI" not in on["container_env"]
    assert stack()["container_env"]["DISABLE_ADMIN_UI"] == "True"


def test_allowlist_passes_only_the_api_and_health_from_anywhere():
    import re
    sec = stack(litellm_edge_route_policy="allowlist", litellm_edge_management_sources=["10.0.0.0/8"],
                litellm_edge_allowed_routes=["/custom/route"])["edge_security"]
    for path in ("/v1/chat/completions", "/embeddings", "/health/readiness", "/custom/route/x", "/openai/deployments/m/chat/completions"):
        assert re.search(sec["allowed_regex"], path), path
    for path in ("/key/generate", "/model/new", "/spend/logs", "/metrics/", "/health", "/modelsx"):
        assert not re.search(sec["allowed_regex"], path), path
    assert sec["management_sources"] == ["10.0.0.0/8"]
    off = stack(litellm_edge_route_policy="off")["edge_security"]
    assert off["denied_regex"] is None and off["allowed_regex"] is None


def test_allowed_hosts_keep_the_local_url_and_limits_are_sized():
    st, sizing = stack_and_sizing(litellm_edge_allowed_hosts=["API.example.com."])
    sec = st["edge_security"]
    assert sec["allowed_hosts"] == ["127.0.0.1", "api.example.com"]
    assert stack()["edge_security"]["allowed_hosts"] == []
    assert sec["connections_per_client"] == sizing["edge_maxconn"] // 2 > 0
    assert sec["max_body_bytes"] == 32 * 1024 * 1024 and sec["rate_limit_requests"] == 1000
    assert stack(litellm_edge_enabled=False)["edge_security"] is None


def test_a_route_that_is_not_a_path_prefix_is_refused():
    with pytest.raises(AnsibleFilterError, match="not a path prefix"):
        stack(litellm_edge_denied_routes=["/a b"])


def test_secrets_reach_the_containers_as_files_and_the_loader_parses_env():
    st = stack(litellm_cache_enabled=True)
    assert not any(name.endswith(("_KEY", "PASSWORD", "TOKEN")) for name in st["container_env"])
    assert st["secret_files"]["proxy"] == "/run/secrets/litellm.env"
    from ansible_collections.gatewayops.litellm.plugins.filter import stack as stack_module
    argv = stack_module.litellm_secrets_loader("python3")
    assert argv[:2] == ["python3", "-c"]
    from ansible_collections.gatewayops.litellm.plugins.filter.secrets import dotenv_render
    source = stack_module.SECRETS_LOADER
    assert repr(source) in argv[2] and repr("import gatewayops_secrets\n") in argv[2]
    namespace = {"__name__": "loader"}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "litellm.env")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(dotenv_render({"LITELLM_MASTER_KEY": "sk-a=b c", "EMPTY": "", "GATEWAYOPS_TEST_KEPT": "file"}))
        os.environ["GATEWAYOPS_TEST_KEPT"] = "environment"
        try:
            exec(compile(source.replace(stack_module.PROXY_SECRETS_FILE, path), "loader", "exec"), namespace)  # pylint: disable=exec-used
            env = {k: os.environ.get(k) for k in ("LITELLM_MASTER_KEY", "EMPTY", "GATEWAYOPS_TEST_KEPT")}
        finally:
            for name in ("LITELLM_MASTER_KEY", "EMPTY", "GATEWAYOPS_TEST_KEPT"):
                os.environ.pop(name, None)
    # values as written (quotes removed, '=' and spaces kept); the container's own environment wins
    assert env == {"LITELLM_MASTER_KEY": "sk-a=b c", "EMPTY": "", "GATEWAYOPS_TEST_KEPT": "environment"}


def test_tls_is_off_by_default_and_needs_the_edge():
    assert stack()["tls"] is None
    assert stack(litellm_edge_tls_enabled=True, litellm_edge_enabled=False)["tls"] is None


def test_tls_at_the_edge_model():
    st = stack(litellm_edge_tls_enabled=True)
    tls = st["tls"]
    assert (tls["port"], tls["container_port"], tls["pem"]) == (4443, 4443, "/usr/local/etc/haproxy/tls.pem")
    assert tls["min_version"] == "TLSv1.2" and tls["alpn"] == "h2,http/1.1" and tls["redirect"]
    # forward-secret AEAD suites only: no CBC, no RSA key exchange, no DHE (no parameters to manage)
    for suite in tls["ciphers"].split(":"):
        assert suite.startswith("ECDHE-") and ("GCM" in suite or "CHACHA20" in suite), suite
    # the plain port redirects, so the host's own checks speak TLS and trust the self-signed certificate
    assert st["local_url"] == "https://127.0.0.1:4443"
    assert tls["self_signed"] and tls["local_ca_path"] == st["local_ca_path"] == "/opt/litellm/tls-certificate.pem"
    # haproxy -c loads the candidate certificate and key where haproxy.cfg names them
    argv = shlex.split(st["validate_edge_command"].replace("%s", "CANDIDATE"))
    assert "/opt/litellm/candidate/edge-tls.pem:/usr/local/etc/haproxy/tls.pem:ro" in argv


def test_tls_without_redirect_keeps_the_plain_local_url_and_a_supplied_pair_trusts_the_system():
    st = stack(litellm_edge_tls_enabled=True, litellm_edge_http_redirect=False, litellm_edge_tls_http2=False,
               litellm_edge_tls_certificate="-----BEGIN CERTIFICATE-----...", litellm_edge_tls_min_version="TLSv1.3")
    assert st["local_url"] == "http://127.0.0.1:4000" and not st["tls"]["redirect"] and st["local_ca_path"] is None
    assert st["tls"]["alpn"] == "http/1.1" and st["tls"]["min_version"] == "TLSv1.3"
    assert not st["tls"]["self_signed"] and st["tls"]["local_ca_path"] is None
    with pytest.raises(AnsibleFilterError, match="litellm_edge_tls_min_version must be one of TLSv1.2, TLSv1.3"):
        stack(litellm_edge_tls_enabled=True, litellm_edge_tls_min_version="TLSv1.1")


def test_local_url_on_the_tls_port():
    assert litellm_local_url("0.0.0.0", 4000, 8443) == "https://127.0.0.1:8443"
    assert litellm_local_url("::1", 4000, None) == "http://[::1]:4000"


def test_an_external_shared_redis_carries_the_cache_and_the_routers_state():
    m, sizing = stack_and_sizing(litellm_redis_host="fleet-redis", litellm_redis_port=6380, litellm_cache_enabled=True,
                                 litellm_redis_password="shared", litellm_cache_namespace="fleet-a", litellm_instances=3)
    assert m["redis"] == {"external": True, "host": "fleet-redis", "port": 6380, "coordination": True}
    env = m["container_env"]
    assert env["REDIS_HOST"] == "fleet-redis" and env["REDIS_PORT"] == "6380"
    assert env["REDIS_MAX_CONNECTIONS"] == str(sizing["redis_max_connections"])
    assert m["config"]["litellm_settings"]["cache_params"] == {"type": "redis", "ttl": 600, "namespace": "fleet-a"}
    router = m["config"]["router_settings"]
    assert (router["redis_host"], router["redis_port"], router["redis_password"]) == (
        "fleet-redis", 6380, "os.environ/REDIS_PASSWORD")
    spec = [x for x in m["secrets"] if x["name"] == "REDIS_PASSWORD"]
    assert spec and spec[0]["generate"] is False
    assert sizing["redis_maxclients"] == 10000 and "redis_mem_limit_mb" not in sizing


def test_the_router_shares_its_state_only_when_asked_or_with_an_external_redis():
    bundled = stack(litellm_cache_enabled=True)
    assert bundled["redis"]["coordination"] is False and "redis_host" not in bundled["config"]["router_settings"]
    assert bundled["config"]["litellm_settings"]["cache_params"]["namespace"] == "litellm.cache"
    asked = stack(litellm_cache_enabled=True, litellm_redis_coordination=True)["config"]["router_settings"]
    assert (asked["redis_host"], asked["redis_port"], asked["redis_password"]) == ("redis", 6379, "os.environ/REDIS_PASSWORD")
    no_password = stack(litellm_redis_host="10.0.0.7")
    assert "redis_password" not in no_password["config"]["router_settings"]
    assert "cache" not in no_password["config"]["litellm_settings"]   # the cache stays opt-in
    assert stack()["redis"] is None
