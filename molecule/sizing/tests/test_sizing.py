"""The rendered stack for each machine class carries exactly the numbers the sizing filter derives
for it, and LiteLLM itself accepts every rendered config (its --validate_config in the target
image, offline).

The expected numbers are not written down here: for each machine class of converge.yml this
test resolves the proxy role's variables as that converge does (role defaults, the scenario's
group_vars, the include_role vars for the machine), calls plugins/filter/sizing.py's
litellm_sizing with them and compares its output, key by key, with the rendered compose.yaml,
config.yaml and haproxy.cfg."""

from __future__ import annotations

import functools
import os
import re
import shlex
import warnings

import pytest
import testinfra.utils.ansible_runner
import yaml
from ansible_collections.gatewayops.litellm.plugins.filter.sizing import litellm_sizing
from ansible_collections.gatewayops.litellm.plugins.filter.stack import litellm_sizing_inputs
from gatewayops_stack import SCENARIO_DIR, load_yaml, proxy_settings

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]
).get_hosts("all")


def _machine_classes():
    """{name: proxy role settings} for each machine class of converge.yml, resolved as its
    include_role of gatewayops.litellm.proxy resolves them (loop over machine_classes)."""
    classes = {}
    for play in load_yaml("molecule/sizing/converge.yml"):
        machines = (play.get("vars") or {}).get("machine_classes")
        if not machines:
            continue
        for task in play.get("tasks") or []:
            include = task.get("ansible.builtin.include_role") or task.get("include_role")
            if not include or include.get("name") != "gatewayops.litellm.proxy":
                continue
            loop_var = (task.get("loop_control") or {}).get("loop_var", "item")
            for machine in machines:
                classes[machine["name"]] = proxy_settings(play["vars"], {loop_var: machine}, task.get("vars"))
    assert classes, "no include_role of gatewayops.litellm.proxy looping over machine_classes in converge.yml"
    return classes


MACHINES = _machine_classes()
# the role's variables litellm_sizing_inputs reads
SIZING_SETTINGS = (
    "litellm_sizing_vcpus", "litellm_sizing_memory_mb", "litellm_instances", "litellm_request_timeout",
    "litellm_redis_enabled", "litellm_postgres_enabled", "litellm_database_url", "litellm_edge_enabled",
    "litellm_edge_buffer_kb", "litellm_healthcheck_timeout_seconds", "litellm_readiness_timeout",
    "litellm_deploy_strategy", "litellm_monitoring_enabled",
)
NAMES = sorted(MACHINES)


def _sizing_inputs(settings):
    """The host as the proxy role hands it to litellm_sizing (roles/proxy/tasks/sizing.yml)."""
    return litellm_sizing_inputs({name: settings[name] for name in SIZING_SETTINGS})


@functools.lru_cache(maxsize=None)
def _sizing(name):
    settings = MACHINES[name]
    return litellm_sizing(_sizing_inputs(settings), settings["litellm_sizing_overrides"])


def _dir(name):
    return MACHINES[name]["litellm_project_dir"]


def _load(host, name, filename):
    data = yaml.safe_load(host.file(f"{_dir(name)}/{filename}").content_string)
    colour_project = f"{_dir(name)}/litellm.yaml"
    if filename == "compose.yaml" and host.file(colour_project).exists:
        # blue_green: the proxy's service is in its own project's file (litellm.yaml)
        data["services"].update(yaml.safe_load(host.file(colour_project).content_string)["services"])
    return data


def test_small_hosts_recreate_and_the_rest_switch_blue_green(host):
    for name in NAMES:
        blue_green = _sizing(name)["blue_green"]
        assert host.file(f"{_dir(name)}/litellm.yaml").exists == blue_green, name
        compose = yaml.safe_load(host.file(f"{_dir(name)}/compose.yaml").content_string)
        assert ("litellm" in compose["services"]) == (not blue_green), name
        if blue_green:
            assert _sizing(name)["surge_memory_mb"] <= _sizing(name)["proxy_memory_mb"], name
    # 1 vCPU / 2 GiB cannot hold two proxies at once: the converge sets recreate there
    assert not _sizing("c1-2g")["blue_green"] and _sizing("c2-4g")["blue_green"]


def _haproxy(host, name):
    path = f"{_dir(name)}/haproxy.cfg"
    return host.file(path).content_string if host.file(path).exists else None


def _option(command, flag):
    return command[command.index(flag) + 1] if flag in command else None


def _mb(value):
    assert str(value).endswith("m"), value
    return int(str(value)[:-1])


def _seconds(value):
    assert str(value).endswith("s"), value
    return int(str(value)[:-1])


def _find(pattern, text, where):
    match = re.search(pattern, text, re.MULTILINE)
    assert match, f"{pattern!r} not found in {where}"
    return int(match.group(1))


def _rendered(compose, config, haproxy):
    """(sizing key, where, value) for each number of the sizing model that the files carry."""
    services = compose["services"]
    proxy = services["litellm"]
    command, env = proxy["command"], proxy["environment"]
    found = [
        ("num_workers", "litellm --num_workers", int(_option(command, "--num_workers"))),
        ("server", "litellm --run_gunicorn", "gunicorn" if "--run_gunicorn" in command else "uvicorn"),
        ("max_requests_before_restart", "litellm --max_requests_before_restart",
         int(_option(command, "--max_requests_before_restart") or 0)),
        ("max_requests_before_restart_jitter", "litellm --max_requests_before_restart_jitter",
         int(_option(command, "--max_requests_before_restart_jitter") or 0)),
        ("litellm_cpus", "litellm cpus", float(proxy["cpus"])),
        ("litellm_mem_limit_mb", "litellm mem_limit", _mb(proxy["mem_limit"])),
        ("litellm_mem_reservation_mb", "litellm mem_reservation", _mb(proxy["mem_reservation"])),
        ("graceful_shutdown_seconds", "litellm GRACEFUL_SHUTDOWN_TIMEOUT", int(env["GRACEFUL_SHUTDOWN_TIMEOUT"])),
        ("stop_grace_period_seconds", "litellm stop_grace_period", _seconds(proxy["stop_grace_period"])),
        ("healthcheck_start_period_seconds", "litellm healthcheck start_period",
         _seconds(proxy["healthcheck"]["start_period"])),
        ("healthcheck_probe_timeout_seconds", "litellm healthcheck probe timeout=",
         _find(r"timeout=(\d+)\)", proxy["healthcheck"]["test"][-1], "the healthcheck")),
    ]
    if "SUPERVISORD_STOPWAITSECS" in env:
        found.append(("graceful_shutdown_seconds", "litellm SUPERVISORD_STOPWAITSECS", int(env["SUPERVISORD_STOPWAITSECS"])))
    if "REDIS_MAX_CONNECTIONS" in env:
        found.append(("redis_max_connections", "litellm REDIS_MAX_CONNECTIONS", int(env["REDIS_MAX_CONNECTIONS"])))
    if "database_connection_pool_limit" in config["general_settings"]:
        found.append(("database_connection_pool_limit", "config.yaml general_settings.database_connection_pool_limit",
                      config["general_settings"]["database_connection_pool_limit"]))
    if "redis" in services:
        redis = services["redis"]
        line = " ".join(redis["command"])
        found += [
            ("redis_maxmemory_mb", "redis --maxmemory", _find(r"--maxmemory (\d+)mb", line, "redis' command")),
            ("redis_maxclients", "redis --maxclients", _find(r"--maxclients (\d+)", line, "redis' command")),
            ("redis_mem_limit_mb", "redis mem_limit", _mb(redis["mem_limit"])),
            ("redis_cpus", "redis cpus", float(redis["cpus"])),
        ]
    if "postgres" in services:
        postgres = services["postgres"]
        line = " ".join(postgres["command"])
        found += [
            ("db_max_connections", "postgres max_connections", _find(r"max_connections=(\d+)", line, "postgres' command")),
            ("postgres_shared_buffers_mb", "postgres shared_buffers",
             _find(r"shared_buffers=(\d+)MB", line, "postgres' command")),
            ("postgres_effective_cache_size_mb", "postgres effective_cache_size",
             _find(r"effective_cache_size=(\d+)MB", line, "postgres' command")),
            ("postgres_mem_limit_mb", "postgres mem_limit", _mb(postgres["mem_limit"])),
            ("postgres_cpus", "postgres cpus", float(postgres["cpus"])),
            ("postgres_stop_grace_period_seconds", "postgres stop_grace_period", _seconds(postgres["stop_grace_period"])),
        ]
    if "edge" in services:
        edge = services["edge"]
        found += [
            ("edge_mem_limit_mb", "edge mem_limit", _mb(edge["mem_limit"])),
            ("edge_cpus", "edge cpus", float(edge["cpus"])),
            ("stop_grace_period_seconds", "edge stop_grace_period", _seconds(edge["stop_grace_period"])),
        ]
    if haproxy is not None:
        bufsize = _find(r"^\s*tune\.bufsize (\d+)$", haproxy, "haproxy.cfg")
        found += [
            ("edge_maxconn", "haproxy.cfg maxconn", _find(r"^\s*maxconn (\d+)$", haproxy, "haproxy.cfg")),
            ("edge_bufsize_bytes", "haproxy.cfg tune.bufsize", bufsize),
            ("edge_buffer_kb", "haproxy.cfg tune.bufsize / 1024", bufsize / 1024),
            ("graceful_shutdown_seconds", "haproxy.cfg hard-stop-after",
             _find(r"^\s*hard-stop-after (\d+)s$", haproxy, "haproxy.cfg")),
            ("edge_timeout_seconds", "haproxy.cfg timeout client", _find(r"^\s*timeout client (\d+)s$", haproxy, "haproxy.cfg")),
            ("edge_timeout_seconds", "haproxy.cfg timeout server", _find(r"^\s*timeout server (\d+)s$", haproxy, "haproxy.cfg")),
        ]
    return found


# what the filter returns that no file carries: its reasons and problems, budgets that only feed
# other numbers, and (added in the test) the inputs it echoes
NOT_IN_FILES = {"why", "problems", "os_reserve_mb", "worker_memory_mb",
                # the readiness wait of tasks/verify.yml, not a file
                "readiness_poll_seconds", "readiness_retries"}


@pytest.mark.parametrize("name", NAMES)
def test_rendered_numbers_are_the_sizing_filters(host, name):
    inputs = _sizing_inputs(MACHINES[name])
    sized = _sizing(name)
    assert sized["problems"] == []
    compose = _load(host, name, "compose.yaml")
    found = _rendered(compose, _load(host, name, "config.yaml"), _haproxy(host, name))

    # keys by name: a key the filter does not (yet) return is not compared, a new one is reported
    compared = [(key, where, value) for key, where, value in found if key in sized]
    assert {key for key, _where, _value in compared} >= {"num_workers", "litellm_mem_limit_mb", "graceful_shutdown_seconds"}
    wrong = [f"{where} is {value!r}, the filter says {key} = {sized[key]!r}"
             for key, where, value in compared if value != sized[key]]
    assert not wrong, "; ".join(wrong)
    unchecked = set(sized) - {key for key, _where, _value in found} - NOT_IN_FILES - set(inputs)
    if not sized["postgres_bundled"]:
        unchecked.discard("db_max_connections")  # an external database's, not rendered
    if unchecked:
        warnings.warn(f"{name}: sizing keys this test does not find in the rendered files: {', '.join(sorted(unchecked))}")

    command = compose["services"]["litellm"]["command"]
    if sized["num_workers"] < 2 or not sized["edge"]:
        # 1 worker: recycling would stop the proxy; no edge: a recycle fails the queued requests
        assert "--max_requests_before_restart" not in command
    if not sized["postgres_bundled"]:
        assert "postgres" not in compose["services"]
        return
    # the connection budget holds: workers x pool + reserved <= max_connections, in the files
    postgres = " ".join(compose["services"]["postgres"]["command"])
    max_connections = _find(r"max_connections=(\d+)", postgres, "postgres' command")
    pool = _load(host, name, "config.yaml")["general_settings"]["database_connection_pool_limit"]
    workers = int(_option(command, "--num_workers"))
    assert workers * pool + 3 <= max_connections


@pytest.mark.parametrize("name", NAMES)
def test_the_edge_owns_the_port(host, name):
    settings = MACHINES[name]
    compose = _load(host, name, "compose.yaml")
    proxy = compose["services"]["litellm"]
    listens = _option(proxy["command"], "--port")
    published = f"{settings['litellm_bind_address']}:{settings['litellm_port']}:{listens}"
    if not settings["litellm_edge_enabled"]:
        assert "edge" not in compose["services"]
        assert proxy["ports"] == [published]
        assert not host.file(f"{_dir(name)}/haproxy.cfg").exists
        return
    edge = compose["services"]["edge"]
    cfg = _haproxy(host, name)
    assert "ports" not in proxy
    # the edge publishes the port it listens on and forwards to the port LiteLLM listens on
    frontend = _find(r"^\s*bind :(\d+)$", cfg, "haproxy.cfg")
    assert edge["ports"] == [f"{settings['litellm_bind_address']}:{settings['litellm_port']}:{frontend}"]
    # the live proxy by name from colour.cfg (blue_green: the live colour's container, recreate: the service)
    assert re.search(rf'^\s*server litellm "\${{LITELLM_LIVE_SERVER}}:{listens}" ', cfg, re.MULTILINE)
    assert edge["stop_signal"] == "SIGUSR1" and edge["stop_grace_period"] == proxy["stop_grace_period"]
    # LiteLLM answers (or times out) first
    request_timeout = _sizing(name)["request_timeout"]
    assert _find(r"^\s*timeout server (\d+)s$", cfg, "haproxy.cfg") > request_timeout
    assert _find(r"^\s*timeout client (\d+)s$", cfg, "haproxy.cfg") > request_timeout


def test_fleet_of_four_shares_one_database_within_its_budget(host):
    sized = _sizing("fleet4-c8-16g")
    config = _load(host, "fleet4-c8-16g", "config.yaml")
    compose = _load(host, "fleet4-c8-16g", "compose.yaml")
    workers = int(_option(compose["services"]["litellm"]["command"], "--num_workers"))
    pool = config["general_settings"]["database_connection_pool_limit"]
    assert sized["instances"] > 1 and not sized["postgres_bundled"]
    assert sized["instances"] * workers * pool + 3 <= sized["db_max_connections"]


# The converge already ran this check on every class (the template's `validate:`); here it runs
# again, visibly, on one class of each kind of config: the smallest (recreate, one worker), one
# without the response cache, a fleet on an external database, an older release with Slack
# alerting. The other classes differ from these only in numbers (about 20 s of LiteLLM start-up
# per check).
VALIDATED_AGAIN = ["c1-2g", "c2-4g", "fleet4-c8-16g", "v184-c4-8g"]


@pytest.mark.parametrize("name", VALIDATED_AGAIN)
def test_litellm_accepts_the_rendered_config_of_each_kind(host, name):
    proxy = _load(host, name, "compose.yaml")["services"]["litellm"]
    models = len(_load(host, name, "config.yaml")["model_list"])
    argv = ["docker", "run", "--rm", "--network", "none", "--read-only", "--cap-drop", "ALL",
            "--user", "0:0", "-v", f"{_dir(name)}/.env:/run/secrets/litellm.env:ro"]
    # the proxy's tmpfs mounts (/tmp, the Prometheus multiprocess directory), as compose gives them
    for mount in proxy["tmpfs"]:
        argv += ["--tmpfs", mount]
    for key, value in sorted(proxy["environment"].items()):
        argv += ["--env", f"{key}={value}"]
    argv += ["-v", f"{_dir(name)}/config.yaml:/etc/litellm/config.yaml:ro", proxy["image"],
             "--config", "/etc/litellm/config.yaml", "--validate_config"]
    result = host.run(" ".join(shlex.quote(part) for part in argv))
    assert result.rc == 0, result.stderr[-2000:]
    assert f"config OK ({models} models)" in result.stdout + result.stderr


def test_a_bad_config_is_rejected_by_the_same_check(host):
    proxy = _load(host, "c2-4g", "compose.yaml")["services"]["litellm"]
    bad = f"{SCENARIO_DIR}/bad-config.yaml"
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
    assert "DRAIN_ENDPOINT_TOKEN=" in host.file(f"{_dir('c4-8g')}/.env").content_string
    # 1.84.0: the official image's supervisord health app on 4001, no drain endpoint yet
    assert older["environment"]["SEPARATE_HEALTH_APP"] == "1"
    assert older["environment"]["SUPERVISORD_STOPWAITSECS"] == str(_sizing("v184-c4-8g")["graceful_shutdown_seconds"])
    assert "4001/health/liveliness" in older["healthcheck"]["test"][-1]
    assert "enable_drain_endpoint" not in _load(host, "v184-c4-8g", "config.yaml")["general_settings"]
    assert "LITELLM_DISABLE_ACCESS_LOG_PATHS" not in older["environment"]


def test_slack_alerting_only_with_a_webhook(host):
    with_slack = _load(host, "v184-c4-8g", "config.yaml")["general_settings"]
    threshold = MACHINES["v184-c4-8g"]["litellm_alerting_threshold_seconds"]
    assert with_slack["alerting"] == ["slack"] and with_slack["alerting_threshold"] == threshold
    env = host.file(f"{_dir('v184-c4-8g')}/.env").content_string
    assert "SLACK_WEBHOOK_URL='https://hooks.slack.invalid/" in env
    assert "hooks.slack" not in host.file(f"{_dir('v184-c4-8g')}/config.yaml").content_string
    assert "alerting" not in _load(host, "c4-8g", "config.yaml")["general_settings"]


def test_the_response_cache_is_opt_in_and_brings_its_redis(host):
    """c2-4g keeps the role's default (no cache): no Redis service, no cache in config.yaml, no Redis
    variables, and the CPU a Redis would have reserved goes to LiteLLM; c4-8g opts in."""
    assert MACHINES["c2-4g"]["litellm_cache_enabled"] in (False, "False")
    without = _load(host, "c2-4g", "compose.yaml")["services"]
    config = _load(host, "c2-4g", "config.yaml")["litellm_settings"]
    assert "redis" not in without and "cache" not in config and "cache_params" not in config
    assert not any(key.startswith("REDIS_") for key in without["litellm"]["environment"])
    assert "REDIS_PASSWORD=" not in host.file(f"{_dir('c2-4g')}/.env").content_string
    assert "redis_cpus" not in _sizing("c2-4g")
    with_cache = _load(host, "c4-8g", "config.yaml")["litellm_settings"]
    assert with_cache["cache"] is True and with_cache["cache_params"]["type"] == "redis"
    assert "redis" in _load(host, "c4-8g", "compose.yaml")["services"]
