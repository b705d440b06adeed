"""The rendered stack for each machine class carries the sized numbers, and LiteLLM itself
accepts every rendered config (its --validate_config in the target image, offline)."""

from __future__ import annotations

import os
import shlex

import pytest
import testinfra.utils.ansible_runner
import yaml

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]
).get_hosts("all")

ROOT = "/var/tmp/gatewayops-molecule/sizing"
PUBLISHED = "127.0.0.1:4120:4000"   # litellm_port of the sizing scenario (molecule/shared/group_vars)

# name: (workers, gunicorn+recycling, litellm mem_limit MB, cpus, db pool, postgres max_connections,
#        postgres shared_buffers MB or None for an external database)
EXPECTED = {
    "c1-2g": (1, False, 1038, 1.0, 20, 100, 76),
    "c2-4g": (1, False, 2432, 1.25, 20, 100, 153),
    "c4-8g": (2, True, 4480, 3.25, 20, 100, 307),
    "c8-16g": (5, True, 10624, 6.5, 17, 100, 614),
    "c16-64g": (14, True, 29056, 13.5, 10, 153, 2457),
    "c64-256g": (32, True, 65920, 55.5, 10, 333, 4096),
    "fleet4-c8-16g": (6, True, 12672, 7.5, 3, None, None),
    "v184-c4-8g": (2, True, 4480, 3.25, 20, 100, 307),
    "c4-8g-noedge": (2, True, 4480, 3.25, 20, 100, 307),
}
NO_EDGE = {"c4-8g-noedge"}


def _load(host, name, filename):
    return yaml.safe_load(host.file(f"{ROOT}/{name}/{filename}").content_string)


def _option(command, flag):
    return command[command.index(flag) + 1] if flag in command else None


def _mb(value):
    assert str(value).endswith("m"), value
    return int(str(value)[:-1])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_rendered_numbers_match_the_sizing_model(host, name):
    workers, recycling, mem_limit, cpus, pool, max_connections, shared_buffers = EXPECTED[name]
    compose = _load(host, name, "compose.yaml")
    config = _load(host, name, "config.yaml")
    proxy = compose["services"]["litellm"]
    command = proxy["command"]

    assert _option(command, "--num_workers") == str(workers)
    assert ("--run_gunicorn" in command) is recycling
    if recycling and name not in NO_EDGE:
        assert _option(command, "--max_requests_before_restart") == "10000"
        assert _option(command, "--max_requests_before_restart_jitter") == "5000"
    else:
        # 1 worker: recycling would stop the proxy; no edge: a recycle fails the queued requests
        assert "--max_requests_before_restart" not in command
    assert _mb(proxy["mem_limit"]) == mem_limit
    assert float(proxy["cpus"]) == cpus
    assert config["general_settings"]["database_connection_pool_limit"] == pool
    assert proxy["environment"]["GRACEFUL_SHUTDOWN_TIMEOUT"] == "600"
    assert proxy["stop_grace_period"] == "620s"
    assert proxy["healthcheck"]["start_period"] == "300s"  # database mode runs migrations on first boot

    if max_connections is None:
        assert "postgres" not in compose["services"]
        return
    postgres = compose["services"]["postgres"]["command"]
    assert f"max_connections={max_connections}" in postgres
    assert f"shared_buffers={shared_buffers}MB" in postgres
    # the connection budget holds: workers x pool + reserved <= max_connections
    assert workers * pool + 3 <= max_connections


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_edge_owns_the_port_and_is_sized_by_workers(host, name):
    compose = _load(host, name, "compose.yaml")
    proxy = compose["services"]["litellm"]
    if name in NO_EDGE:
        assert "edge" not in compose["services"]
        assert proxy["ports"] == [PUBLISHED]
        assert not host.file(f"{ROOT}/{name}/haproxy.cfg").exists
        return
    edge = compose["services"]["edge"]
    workers = int(_option(proxy["command"], "--num_workers"))
    maxconn = min(16384, max(1024, 512 * workers))
    assert "ports" not in proxy
    assert edge["ports"] == [PUBLISHED]
    assert _mb(edge["mem_limit"]) == 64 + maxconn * 2 * 64 // 1024
    assert edge["stop_signal"] == "SIGUSR1" and edge["stop_grace_period"] == proxy["stop_grace_period"]
    cfg = host.file(f"{ROOT}/{name}/haproxy.cfg").content_string
    assert f"maxconn {maxconn}\n" in cfg
    assert "tune.bufsize 65536" in cfg
    assert "hard-stop-after 600s" in cfg  # = LiteLLM's graceful shutdown
    assert "timeout server 630s" in cfg   # request_timeout + 30 s


def test_fleet_of_four_shares_one_database_within_its_budget(host):
    config = _load(host, "fleet4-c8-16g", "config.yaml")
    compose = _load(host, "fleet4-c8-16g", "compose.yaml")
    workers = int(_option(compose["services"]["litellm"]["command"], "--num_workers"))
    pool = config["general_settings"]["database_connection_pool_limit"]
    assert 4 * workers * pool + 3 <= 100


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_litellm_accepts_every_rendered_config(host, name):
    proxy = _load(host, name, "compose.yaml")["services"]["litellm"]
    models = len(_load(host, name, "config.yaml")["model_list"])
    argv = ["docker", "run", "--rm", "--network", "none", "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL",
            "--user", "0:0", "--env-file", f"{ROOT}/{name}/.env"]
    for key, value in sorted(proxy["environment"].items()):
        argv += ["--env", f"{key}={value}"]
    argv += ["-v", f"{ROOT}/{name}/config.yaml:/etc/litellm/config.yaml:ro", proxy["image"],
             "--config", "/etc/litellm/config.yaml", "--validate_config"]
    result = host.run(" ".join(shlex.quote(part) for part in argv))
    assert result.rc == 0, result.stderr[-2000:]
    assert f"config OK ({models} models)" in result.stdout + result.stderr


def test_a_bad_config_is_rejected_by_the_same_check(host):
    proxy = _load(host, "c2-4g", "compose.yaml")["services"]["litellm"]
    bad = f"{ROOT}/bad-config.yaml"
    host.run("printf 'model_list:\\n  - model_name: x\\n    litellm_params: {}\\n' > %s", bad)
    result = host.run("docker run --rm --network none --read-only --tmpfs /tmp --cap-drop ALL --user 0:0 "
                      "-v %s:/etc/litellm/config.yaml:ro %s --config /etc/litellm/config.yaml --validate_config",
                      bad, proxy["image"])
    assert result.rc != 0
    assert "config validation failed" in result.stdout + result.stderr


def test_release_features_follow_the_version(host):
    current = _load(host, "c4-8g", "compose.yaml")["services"]["litellm"]
    older = _load(host, "v184-c4-8g", "compose.yaml")["services"]["litellm"]
    # 1.108.7: no separate health app (it does nothing there), drain endpoint on, access-log filter on
    assert "SEPARATE_HEALTH_APP" not in current["environment"]
    assert "4000/health/liveliness" in current["healthcheck"]["test"][-1]
    assert _load(host, "c4-8g", "config.yaml")["general_settings"]["enable_drain_endpoint"] is True
    assert "DRAIN_ENDPOINT_TOKEN=" in host.file(f"{ROOT}/c4-8g/.env").content_string
    # 1.84.0: the official image's supervisord health app on 4001, no drain endpoint yet
    assert older["environment"]["SEPARATE_HEALTH_APP"] == "1"
    assert older["environment"]["SUPERVISORD_STOPWAITSECS"] == "600"
    assert "4001/health/liveliness" in older["healthcheck"]["test"][-1]
    assert "enable_drain_endpoint" not in _load(host, "v184-c4-8g", "config.yaml")["general_settings"]
    assert "LITELLM_DISABLE_ACCESS_LOG_PATHS" not in older["environment"]


def test_slack_alerting_only_with_a_webhook(host):
    with_slack = _load(host, "v184-c4-8g", "config.yaml")["general_settings"]
    assert with_slack["alerting"] == ["slack"] and with_slack["alerting_threshold"] == 300
    env = host.file(f"{ROOT}/v184-c4-8g/.env").content_string
    assert "SLACK_WEBHOOK_URL='https://hooks.slack.invalid/" in env
    assert "hooks.slack" not in host.file(f"{ROOT}/v184-c4-8g/config.yaml").content_string
    assert "alerting" not in _load(host, "c4-8g", "config.yaml")["general_settings"]
