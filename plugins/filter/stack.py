# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The proxy stack as data, in one pure function.

litellm_stack(settings, sizing, version_info, image) takes the role's public variables (a
mapping of every litellm_* variable), the output of litellm_sizing, the output of
litellm_version_info and the tag of the proxy image, and returns what the templates print and
the tasks use: config.yaml as a mapping, the proxy's non-secret environment, its command line,
the commands that validate config.yaml and haproxy.cfg in their own images, the secrets the
role manages (names and rules, never values) and the model modes model_probe needs. It derives
no number (sizing.py does) and judges no version (versions.py does)."""

from __future__ import annotations

import re
import shlex

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

CONTAINER_CONFIG = "/etc/litellm/config.yaml"
CONTAINER_PORT = 4000
SEPARATE_HEALTH_PORT = 4001
# LiteLLM's separate metrics process (--prometheus_metrics_port): on the compose networks only
METRICS_PORT = 4002
# HAProxy's own Prometheus exporter in the edge (a frontend of haproxy.cfg), never published
EDGE_METRICS_PORT = 8405
PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093
PROMETHEUS_RULES_DIR = "/etc/prometheus/rules"
# the rules the role ships (roles/proxy/files/prometheus/), by the job they are written for
SHIPPED_RULES = {"litellm": "prometheus/litellm-rules.yml", "litellm-edge": "prometheus/litellm-edge-rules.yml"}
# where the workers write their samples (multiprocess mode): a tmpfs of its own in the proxy
# container, so per colour, and present before LiteLLM starts (prometheus_client refuses a
# missing directory; LiteLLM wipes it at start)
PROMETHEUS_MULTIPROC_DIR = "/tmp/prometheus-multiproc"
PROMETHEUS_MULTIPROC_TMPFS_MB = 64
EDGE_CONFIG_DIR = "/usr/local/etc/haproxy"
EDGE_CONFIG = EDGE_CONFIG_DIR + "/haproxy.cfg"
# The edge reads the live proxy's address from this variable, set by colour.cfg (written when a
# switch completes) before haproxy.cfg is parsed: haproxy.cfg itself holds no colour, so a
# backed-up haproxy.cfg restores to whichever colour is live.
EDGE_COLOUR_CONFIG = EDGE_CONFIG_DIR + "/colour.cfg"
LIVE_SERVER_VARIABLE = "LITELLM_LIVE_SERVER"
COLOURS = ("blue", "green")
# the proxy service's name in compose.yaml (recreate) and in each colour's project (blue_green)
PROXY_SERVICE = "litellm"
REDIS_HOST = "redis"
REDIS_PORT = 6379
POSTGRES_HOST = "postgres"
POSTGRES_PORT = 5432
# Secrets reach the containers as files, never as their environment (which `docker inspect` prints
# to anyone with engine access). The proxy reads its .env, mounted read-only here; Redis reads
# requirepass from its config file; Postgres reads POSTGRES_PASSWORD_FILE. Each file is root's,
# mode 0440, in the group of the one service that reads it: the proxy's container gid, and the
# uid/gid the official Redis and Postgres images run as (Redis runs as it; Postgres' entrypoint
# reads the file as root before it drops to that user).
PROXY_SECRETS_FILE = "/run/secrets/litellm.env"
REDIS_CONFIG = "/usr/local/etc/redis/redis.conf"
REDIS_UID = 999
POSTGRES_PASSWORD_FILE = "/run/secrets/postgres_password"
POSTGRES_UID = 999
# Runs in every interpreter the proxy image starts (a .pth file, templates/Dockerfile.j2), before
# LiteLLM reads its settings: the values of the mounted .env become the process's environment
# (a name the container's own environment sets keeps that value). The file is .env as the role
# writes it: NAME='value', no quote or line break inside a value (secrets.py dotenv_quote).
SECRETS_LOADER_MODULE = "gatewayops_secrets"
SECRETS_LOADER = '''"""Loads %(path)s into os.environ when the interpreter starts (gatewayops.litellm.proxy)."""
import os


def _load(path="%(path)s"):
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return
    for line in lines:
        name, sep, value = line.partition("=")
        if not sep or not name or name.startswith("#"):
            continue
        if len(value) >= 2 and value[0] == value[-1] == "\'":
            value = value[1:-1]
        os.environ.setdefault(name, value)


_load()
''' % {"path": PROXY_SECRETS_FILE}

# Error-type-aware retries. Client errors (400 bad request, 401/403 auth, 404, content policy)
# fail the same way on every try: never retried, and they do not cool a deployment down. Rate
# limits, timeouts and 5xx are transient: retried (LiteLLM backs off between tries, honouring
# retry-after), and enough of them cool the deployment down.
RETRY_POLICY = {
    "BadRequestErrorRetries": 0,
    "AuthenticationErrorRetries": 0,
    "NotFoundErrorRetries": 0,
    "ContentPolicyViolationErrorRetries": 0,
    "RateLimitErrorRetries": 3,
    "TimeoutErrorRetries": 2,
    "InternalServerErrorRetries": 3,
    "ServiceUnavailableErrorRetries": 3,
}
ALLOWED_FAILS_POLICY = {
    "BadRequestErrorAllowedFails": 1000,
    "ContentPolicyViolationErrorAllowedFails": 1000,
    "AuthenticationErrorAllowedFails": 3,
    "RateLimitErrorAllowedFails": 100,
    "TimeoutErrorAllowedFails": 10,
    "InternalServerErrorAllowedFails": 10,
    "ServiceUnavailableErrorAllowedFails": 10,
    "BadGatewayErrorAllowedFails": 10,
}
# The edge's route policy (roles/proxy/README.md "The edge as a security boundary"). Paths are
# judged as LiteLLM would route them and in every spelling that could reach it: percent-decoded,
# lower-case, with repeated slashes, with or without /v1, and a route's name followed by anything
# but a name character (/config/update., /config/update/x). Dot segments, backslashes and control
# characters are refused outright (400): no legitimate client sends them.
# Administrative and test routes a production proxy never needs from the network: they rewrite
# the running proxy or run code (LiteLLM advisories 2026), or let a caller make the proxy open
# connections of its choosing.
DENIED_ROUTES = ("/config/update", "/prompts/test", "/guardrails/test_custom_code", "/mcp-rest/test", "/debug",
                 "/health/test_connection")
# every other /config route is refused for any method but GET and HEAD
CONFIG_ROUTES = ("/config",)
# the admin UI and its login, refused while litellm_ui_enabled is false
UI_ROUTES = ("/ui", "/sso", "/login", "/fallback/login", "/onboarding", "/.well-known/litellm-ui-config",
             "/litellm/.well-known/litellm-ui-config")
# what litellm_edge_route_policy: allowlist passes from any address: the OpenAI-compatible API
# (also Azure- and Anthropic-style paths) and the unauthenticated health probes
API_ROUTES = ("/chat/completions", "/completions", "/embeddings", "/models", "/responses", "/moderations",
              "/audio", "/images", "/files", "/batches", "/fine_tuning", "/rerank", "/messages", "/assistants",
              "/threads", "/vector_stores", "/engines", "/openai/deployments", "/utils/token_counter")
HEALTH_ROUTES = ("/health/liveliness", "/health/liveness", "/health/readiness")
ROUTE_POLICIES = ("denylist", "allowlist", "off")
# TLS at the edge (litellm_edge_tls_enabled): HAProxy reads the certificate chain and its key from
# one PEM file in its configuration directory (root's, mode 0440, in the group the official haproxy
# image runs as); the certificate alone is in the project directory for clients and the host's own
# checks. Protocols and ciphers: TLS 1.2 and 1.3 only, forward-secret AEAD ciphers only (the
# "intermediate" profile without its DHE suites, so no Diffie-Hellman parameters are needed).
EDGE_TLS_CONTAINER_PORT = 4443
EDGE_TLS_PEM = EDGE_CONFIG_DIR + "/tls.pem"
EDGE_GID = 99
TLS_VERSIONS = ("TLSv1.2", "TLSv1.3")
TLS12_CIPHERS = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                 "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305")
TLS13_CIPHERSUITES = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
TLS_CERTIFICATE_FILE = "tls-certificate.pem"
EDGE_TLS_FILE = "edge-tls.pem"
ROUTE_PREFIX = re.compile(r"^/[a-z0-9._~-]+(/[a-z0-9._~-]+)*$")

# Probe paths LiteLLM should not write an access-log line for.
QUIET_ACCESS_LOG_PATHS = "/health/liveliness,/health/readiness,/metrics,/metrics/"

_REQUIRED = (
    "litellm_project_dir", "litellm_bind_address", "litellm_port", "litellm_model_list", "litellm_request_timeout",
    "litellm_json_logs", "litellm_prometheus_enabled", "litellm_redis_enabled", "litellm_cache_enabled",
    "litellm_cache_ttl_seconds", "litellm_batch_write_seconds",
    "litellm_litellm_settings", "litellm_general_settings", "litellm_router_settings", "litellm_postgres_enabled",
    "litellm_database_url", "litellm_slack_webhook_url", "litellm_alerting_threshold_seconds", "litellm_num_retries",
    "litellm_allowed_fails", "litellm_cooldown_seconds", "litellm_log_level", "litellm_python_gc_threshold",
    "litellm_environment", "litellm_edge_image", "litellm_project_name", "litellm_prometheus_separate_process",
    "litellm_prometheus_exclude_labels", "litellm_prometheus_max_series_per_metric", "litellm_monitoring_enabled",
    "litellm_edge_enabled", "litellm_edge_metrics_enabled", "litellm_prometheus_image", "litellm_alertmanager_image",
    "litellm_monitoring_bind_address", "litellm_prometheus_port", "litellm_alertmanager_port",
    "litellm_prometheus_scrape_interval_seconds", "litellm_prometheus_shipped_rules", "litellm_prometheus_extra_rule_files",
    "litellm_alertmanager_webhook_urls", "litellm_alertmanager_route",
)


def _bool(value):
    return boolean(value, strict=False)


def _merge(base, override):
    """Recursive dict merge, the operator's values win (like Jinja's combine(recursive=true))."""
    out = dict(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def redis_external(settings):
    """A Redis the role does not run (litellm_redis_host): one that several proxies share."""
    return len(str(settings.get("litellm_redis_host") or "").strip()) > 0


def redis_any(settings):
    """Some Redis the proxy talks to: the bundled one or an external one."""
    return _bool(settings.get("litellm_redis_enabled", False)) or redis_external(settings)


def _redis_endpoint(settings):
    """(host, port) the proxy reaches its Redis on."""
    if redis_external(settings):
        return str(settings["litellm_redis_host"]).strip(), int(settings.get("litellm_redis_port", REDIS_PORT))
    return REDIS_HOST, REDIS_PORT


def _redis_coordination(settings):
    """The router keeps its cooldowns and deployment usage (rpm/tpm) in Redis, so every instance and
    every worker sees them (litellm_redis_coordination; its default: an external, shared Redis)."""
    return redis_any(settings) and _bool(settings.get("litellm_redis_coordination", redis_external(settings)))


def database_enabled(settings):
    """Database mode: the bundled Postgres or an external DATABASE_URL."""
    return _bool(settings.get("litellm_postgres_enabled")) or len(settings.get("litellm_database_url") or "") > 0


def litellm_sizing_inputs(settings):
    """The host as the sizing model (litellm_sizing) takes it, from the role's settings."""
    return {
        "vcpus": settings["litellm_sizing_vcpus"],
        "memory_mb": settings["litellm_sizing_memory_mb"],
        "instances": settings["litellm_instances"],
        "request_timeout": settings["litellm_request_timeout"],
        "redis_bundled": _bool(settings["litellm_redis_enabled"]),
        "redis_external": redis_external(settings),
        "postgres_bundled": _bool(settings["litellm_postgres_enabled"]),
        "database": database_enabled(settings),
        "edge": _bool(settings["litellm_edge_enabled"]),
        "blue_green": deploy_strategy(settings) == "blue_green",
        "monitoring": _bool(settings["litellm_monitoring_enabled"]),
        "edge_buffer_kb": settings["litellm_edge_buffer_kb"],
        "healthcheck_timeout": settings["litellm_healthcheck_timeout_seconds"],
        "readiness_timeout": settings["litellm_readiness_timeout"],
    }


def deploy_strategy(settings):
    """blue_green needs the edge to switch between two proxies; without it a change recreates in place."""
    strategy = str(settings.get("litellm_deploy_strategy") or "blue_green")
    return strategy if _bool(settings["litellm_edge_enabled"]) else "recreate"


def tls_redirects(settings):
    """Whether the plain port only redirects to the TLS port (then everyone, the host's own checks
    included, speaks TLS)."""
    return (_bool(settings.get("litellm_edge_enabled", True)) and _bool(settings.get("litellm_edge_tls_enabled", False))
            and _bool(settings.get("litellm_edge_http_redirect", True)))


def local_url(settings):
    """URL the host itself reaches the published port on (a wildcard bind answers on loopback):
    the TLS port when the plain one only redirects."""
    tls_port = settings.get("litellm_edge_tls_port", 4443) if tls_redirects(settings) else None
    return litellm_local_url(settings["litellm_bind_address"], settings["litellm_port"], tls_port)


def litellm_local_url(bind_address, port, tls_port=None):
    """http://<address>:<port> the host itself reaches a port published on bind_address on;
    https://<address>:<tls_port> when tls_port is given."""
    address = str(bind_address)
    if address in ("0.0.0.0", "::"):
        address = "127.0.0.1"
    elif ":" in address:
        address = "[%s]" % address
    if tls_port:
        return "https://%s:%s" % (address, int(tls_port))
    return "http://%s:%s" % (address, int(port))


def _edge_tls(s):
    """What haproxy.cfg, compose.yaml and the host's own checks need for TLS at the edge (None: off).
    The pair itself is a secret (tls.py resolves it); this is where it goes and how it is served."""
    if not (_bool(s["litellm_edge_enabled"]) and _bool(s.get("litellm_edge_tls_enabled", False))):
        return None
    version = str(s.get("litellm_edge_tls_min_version", "TLSv1.2"))
    if version not in TLS_VERSIONS:
        raise AnsibleFilterError("litellm_edge_tls_min_version must be one of %s (got %r)" % (", ".join(TLS_VERSIONS), version))
    project_dir = str(s["litellm_project_dir"]).rstrip("/")
    supplied = bool(str(s.get("litellm_edge_tls_certificate") or "").strip())
    return {
        "container_port": EDGE_TLS_CONTAINER_PORT,
        "port": int(s.get("litellm_edge_tls_port", 4443)),
        "pem": EDGE_TLS_PEM,
        "pem_file": EDGE_TLS_FILE,
        "edge_gid": EDGE_GID,
        "certificate_file": "%s/%s" % (project_dir, TLS_CERTIFICATE_FILE),
        "min_version": version,
        "ciphers": TLS12_CIPHERS,
        "ciphersuites": TLS13_CIPHERSUITES,
        "alpn": "h2,http/1.1" if _bool(s.get("litellm_edge_tls_http2", True)) else "http/1.1",
        "redirect": tls_redirects(s),
        "hsts_seconds": int(s.get("litellm_edge_tls_hsts_seconds", 0) or 0),
        "self_signed": not supplied,
        # the host's own checks trust the self-signed certificate they were made with (it names the
        # loopback addresses); a supplied one is checked against the system's authorities
        "local_ca_path": None if supplied else "%s/%s" % (project_dir, TLS_CERTIFICATE_FILE),
    }


def _config(s, sizing, features):
    litellm_settings = {
        "request_timeout": int(s["litellm_request_timeout"]),
        "json_logs": _bool(s["litellm_json_logs"]),
        "set_verbose": False,
        "turn_off_message_logging": True,
        "redact_user_api_key_info": True,
    }
    if _bool(s["litellm_prometheus_enabled"]):
        litellm_settings["callbacks"] = ["prometheus"]
        # bounded cardinality: no per-user, per-key or per-client label; a cap per metric
        if s["litellm_prometheus_exclude_labels"]:
            litellm_settings["prometheus_exclude_labels"] = list(s["litellm_prometheus_exclude_labels"])
        if int(s["litellm_prometheus_max_series_per_metric"]) > 0:
            litellm_settings["prometheus_metrics_max_series_per_metric"] = int(s["litellm_prometheus_max_series_per_metric"])
    if _bool(s["litellm_cache_enabled"]) and redis_any(s):
        # the namespace prefixes every cached key: fleets (or tenants) that share one Redis keep apart
        litellm_settings.update(cache=True, cache_params={
            "type": "redis", "ttl": int(s["litellm_cache_ttl_seconds"]),
            "namespace": str(s.get("litellm_cache_namespace") or "litellm.cache")})

    general_settings = {
        "master_key": "os.environ/LITELLM_MASTER_KEY",
        "disable_error_logs": True,
        "proxy_batch_write_at": int(s["litellm_batch_write_seconds"]),
        "health_check_details": False,
        "background_health_checks": False,
    }
    if database_enabled(s):
        general_settings.update(database_connection_pool_limit=sizing["database_connection_pool_limit"],
                                database_connection_timeout=60)
    if features.get("drain_endpoint"):
        general_settings["enable_drain_endpoint"] = True
    if len(s["litellm_slack_webhook_url"] or "") > 0:
        general_settings.update(alerting=["slack"], alerting_threshold=int(s["litellm_alerting_threshold_seconds"]))

    router_settings = {
        "routing_strategy": "simple-shuffle",
        "num_retries": int(s["litellm_num_retries"]),
        "timeout": int(s["litellm_request_timeout"]),
        "allowed_fails": int(s["litellm_allowed_fails"]),
        "cooldown_time": int(s["litellm_cooldown_seconds"]),
        "retry_policy": dict(RETRY_POLICY),
        "allowed_fails_policy": dict(ALLOWED_FAILS_POLICY),
    }
    if _redis_coordination(s):
        host, port = _redis_endpoint(s)
        router_settings.update(redis_host=host, redis_port=port)
        if _redis_password_set(s):
            router_settings["redis_password"] = "os.environ/REDIS_PASSWORD"
    return {
        "model_list": list(s["litellm_model_list"]),
        "litellm_settings": _merge(litellm_settings, s["litellm_litellm_settings"]),
        "general_settings": _merge(general_settings, s["litellm_general_settings"]),
        "router_settings": _merge(router_settings, s["litellm_router_settings"]),
    }


def _container_env(s, sizing, features, health_port):
    env = {
        "LITELLM_LOG": str(s["litellm_log_level"]),
        "LITELLM_MODE": "PRODUCTION",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "PYTHON_GC_THRESHOLD": str(s["litellm_python_gc_threshold"]),
        "GRACEFUL_SHUTDOWN_TIMEOUT": str(sizing["graceful_shutdown_seconds"]),
    }
    if features.get("offline_mode"):
        env["LITELLM_OFFLINE_MODE"] = "true"
    if not _bool(s.get("litellm_ui_enabled", False)):
        env["DISABLE_ADMIN_UI"] = "True"
    if features.get("separate_health_app"):
        env.update(SEPARATE_HEALTH_APP="1", SEPARATE_HEALTH_PORT=str(health_port),
                   SUPERVISORD_STOPWAITSECS=str(sizing["graceful_shutdown_seconds"]))
    if features.get("access_log_path_filter"):
        env["LITELLM_DISABLE_ACCESS_LOG_PATHS"] = QUIET_ACCESS_LOG_PATHS
    if _bool(s["litellm_prometheus_enabled"]):
        # every worker's samples summed on a scrape (without it each scrape sees one worker's counters)
        env["PROMETHEUS_MULTIPROC_DIR"] = PROMETHEUS_MULTIPROC_DIR
    if redis_any(s):
        host, port = _redis_endpoint(s)
        env.update(REDIS_HOST=host, REDIS_PORT=str(port), REDIS_MAX_CONNECTIONS=str(sizing["redis_max_connections"]))
    env.update({str(k): str(v) for k, v in (s["litellm_environment"] or {}).items()})
    return env


def metrics_port(s, features):
    """The container port Prometheus scrapes: LiteLLM's separate metrics process where the release
    has it and the operator keeps it, else the proxy port (authenticated /metrics); None without
    the prometheus callback."""
    if not _bool(s["litellm_prometheus_enabled"]):
        return None
    if _bool(s["litellm_prometheus_separate_process"]) and features.get("prometheus_metrics_port"):
        return METRICS_PORT
    return CONTAINER_PORT


def _command(sizing, port_for_metrics):
    command = ["--config", CONTAINER_CONFIG, "--host", "0.0.0.0", "--port", str(CONTAINER_PORT),
               "--num_workers", str(sizing["num_workers"])]
    if sizing["server"] == "gunicorn":
        command.append("--run_gunicorn")
    if int(sizing["max_requests_before_restart"]) > 0:
        command += ["--max_requests_before_restart", str(sizing["max_requests_before_restart"]),
                    "--max_requests_before_restart_jitter", str(sizing["max_requests_before_restart_jitter"])]
    if port_for_metrics not in (None, CONTAINER_PORT):
        command += ["--prometheus_metrics_port", str(port_for_metrics)]
    return command


def _redis_password_set(s):
    """Whether the proxy authenticates to its Redis: the bundled one always has a password (generated
    once); an external one when litellm_redis_password is given."""
    return _bool(s.get("litellm_redis_enabled", False)) or len(str(s.get("litellm_redis_password") or "")) > 0


def _secrets(s, features):
    """The secrets the role keeps in .env: names and rules, never values (secrets.py resolves them)."""
    specs = [
        {"name": "LITELLM_MASTER_KEY", "setting": "litellm_master_key", "rotate_var": "litellm_master_key_rotate",
         "prefix": "sk-", "consequence": "Clients and scripts that use the current master key would be locked out."},
        {"name": "LITELLM_SALT_KEY", "setting": "litellm_salt_key", "rotate_var": "litellm_salt_key_rotate",
         "prefix": "sk-", "consequence": "A new salt key makes every credential stored in the LiteLLM database unreadable."},
    ]
    if features.get("drain_endpoint"):
        specs.append({"name": "DRAIN_ENDPOINT_TOKEN", "prefix": ""})
    if _bool(s["litellm_redis_enabled"]):
        specs.append({"name": "REDIS_PASSWORD", "setting": "litellm_redis_password",
                      "rotate_var": "litellm_redis_password_rotate", "prefix": ""})
    elif redis_external(s):
        # the shared Redis' own password: taken as given, never generated (an invented one would not match)
        specs.append({"name": "REDIS_PASSWORD", "setting": "litellm_redis_password",
                      "rotate_var": "litellm_redis_password_rotate", "prefix": "", "generate": False,
                      "consequence": "Every proxy of the fleet must use the shared Redis' current password."})
    if _bool(s["litellm_postgres_enabled"]):
        specs.append({"name": "POSTGRES_PASSWORD", "setting": "litellm_postgres_password",
                      "rotate_var": "litellm_postgres_password_rotate", "prefix": "",
                      "consequence": "The database keeps the password it was created with; change it in Postgres first."})
    return specs


def _validate_config_command(env, env_file, image):
    """`litellm --validate_config` in the target image, offline, read-only, no capabilities; root in
    the container so that it can read the template module's 0600 temp file (%s). The candidate
    .env is mounted where the proxy reads its secrets, and the proxy's tmpfs mounts exist there as
    they do in the proxy container."""
    argv = ["docker", "run", "--rm", "--network", "none", "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges", "--user", "0:0", "--volume", "%s:%s:ro" % (env_file, PROXY_SECRETS_FILE)]
    if "PROMETHEUS_MULTIPROC_DIR" in env:
        argv += ["--tmpfs", env["PROMETHEUS_MULTIPROC_DIR"]]
    for name in sorted(env):
        argv += ["--env", "%s=%s" % (name, env[name])]
    head = " ".join(shlex.quote(part) for part in argv)
    tail = " ".join(shlex.quote(part) for part in [image, "--config", CONTAINER_CONFIG, "--validate_config"])
    return "%s --volume %%s:%s:ro %s" % (head, CONTAINER_CONFIG, tail)


def _validate_edge_command(edge_image, live_server, tls_pem=None):
    """haproxy -c in the edge image on the candidate haproxy.cfg (%s), the live server's address set
    as colour.cfg sets it (a name that does not resolve offline: init-addr none accepts it); with
    TLS, the candidate certificate and key where haproxy.cfg loads them (HAProxy checks they match)."""
    head = ("docker run --rm --network none --read-only --cap-drop ALL --security-opt no-new-privileges --user 0:0 --env "
            + shlex.quote("%s=%s" % (LIVE_SERVER_VARIABLE, live_server)))
    if tls_pem:
        head += " --volume %s" % shlex.quote("%s:%s:ro" % (tls_pem, EDGE_TLS_PEM))
    tail = " ".join(shlex.quote(part) for part in ["--entrypoint", "haproxy", edge_image, "-c", "-q", "-f", EDGE_CONFIG])
    return "%s --volume %%s:%s:ro %s" % (head, EDGE_CONFIG, tail)


def litellm_secrets_loader(interpreter):
    """The Dockerfile's RUN (exec form, argv) that writes SECRETS_LOADER into the site-packages of
    the image's interpreter with a .pth file that imports it. The Dockerfile's text names the image
    tag, so it cannot come from the stack model, which takes that tag."""
    code = ("import pathlib, sysconfig; site = pathlib.Path(sysconfig.get_paths()['purelib']); "
            "(site / %r).write_text(%r); (site / %r).write_text(%r)"
            % (SECRETS_LOADER_MODULE + ".py", SECRETS_LOADER, SECRETS_LOADER_MODULE + ".pth",
               "import %s\n" % SECRETS_LOADER_MODULE))
    return [str(interpreter), "-c", code]


def _model_modes(model_list):
    """model_name -> model_info.mode where the config sets one (model_probe's `modes`)."""
    modes = {}
    for entry in model_list:
        mode = (entry.get("model_info") or {}).get("mode") if isinstance(entry, dict) else None
        if mode:
            modes[entry["model_name"]] = mode
    return modes


def _deployment(settings):
    """Where each proxy runs. recreate: the service `litellm` of the main project, replaced in place.
    blue_green: two compose projects <name>-blue and <name>-green, each in its own directory of the
    project directory (the directory's name is the project's name), joined to the main project's
    networks; the edge sends traffic to the live one's container."""
    name = str(settings["litellm_project_name"])
    project_dir = str(settings["litellm_project_dir"]).rstrip("/")
    strategy = deploy_strategy(settings)
    colours = {}
    for colour in COLOURS:
        project = "%s-%s" % (name, colour)
        colours[colour] = {"project": project, "dir": "%s/%s" % (project_dir, project),
                           # compose's container name, which the engine's DNS resolves on the project's networks
                           "server": "%s-%s-1" % (project, PROXY_SERVICE)}
    return {
        "deploy_strategy": strategy,
        "colours": colours,
        "proxy_service": PROXY_SERVICE,
        "networks": {"frontend": "%s_frontend" % name, "backend": "%s_backend" % name},
        "edge_dir": "%s/edge" % project_dir,
        "edge_config_dir": EDGE_CONFIG_DIR,
        "edge_colour_config": EDGE_COLOUR_CONFIG,
        "live_server_variable": LIVE_SERVER_VARIABLE,
        "live_colour_file": "%s/live-colour" % project_dir,
        # recreate: the one proxy, by its service name (the edge) and its container name
        "recreate_server": PROXY_SERVICE,
        "recreate_container": "%s-%s-1" % (name, PROXY_SERVICE),
    }


def _route_regex(prefixes):
    """One regex for the edge (PCRE, no space or backslash, so haproxy.cfg needs no quoting) that
    matches the percent-decoded, lower-cased path of any of the prefixes, in every spelling the
    module constants describe."""
    names = []
    for prefix in sorted(set(prefixes)):
        prefix = str(prefix).lower().rstrip("/")
        if not ROUTE_PREFIX.match(prefix):
            raise AnsibleFilterError("route %r is not a path prefix of letters, digits and . _ ~ - segments" % (prefix,))
        names.append("/+".join(part.replace(".", "[.]") for part in prefix.strip("/").split("/")))
    return "^(/+v1)?/+(%s)([^a-z0-9_-]|$)" % "|".join(names)


def _edge_security(s, sizing):
    """What haproxy.cfg prints for the edge as a security boundary: the route policy as regexes,
    the Host names it accepts, the body limit, and the per-client limits (sizing.py sizes the
    connection limit and the table)."""
    policy = str(s.get("litellm_edge_route_policy", "denylist"))
    if policy not in ROUTE_POLICIES:
        raise AnsibleFilterError("litellm_edge_route_policy must be one of %s (got %r)" % (", ".join(ROUTE_POLICIES), policy))
    ui = _bool(s.get("litellm_ui_enabled", False))
    denied = list(DENIED_ROUTES) + list(s.get("litellm_edge_denied_routes") or []) + ([] if ui else list(UI_ROUTES))
    allowed = list(API_ROUTES) + list(HEALTH_ROUTES) + list(s.get("litellm_edge_allowed_routes") or [])
    hosts = sorted({str(h).lower().rstrip(".") for h in s.get("litellm_edge_allowed_hosts") or []})
    if hosts:
        # the host's own checks (the proxy role's verification, the verify and tune roles) use the local URL
        hosts = sorted(set(hosts) | {local_url(s).split("//", 1)[1].rsplit(":", 1)[0].strip("[]")})
    rate = int(s.get("litellm_edge_rate_limit_requests", 0) or 0)
    return {
        "route_policy": policy,
        "denied_regex": _route_regex(denied) if policy != "off" else None,
        "config_regex": _route_regex(CONFIG_ROUTES) if policy != "off" else None,
        "allowed_regex": _route_regex(allowed) if policy == "allowlist" else None,
        "management_sources": [str(x) for x in s.get("litellm_edge_management_sources") or []],
        "allowed_hosts": hosts,
        "max_body_bytes": int(s.get("litellm_edge_max_body_mb", 32)) * 1024 * 1024,
        "header_timeout_seconds": int(s.get("litellm_edge_header_timeout_seconds", 10)),
        "rate_limit_requests": rate,
        "rate_limit_period_seconds": int(s.get("litellm_edge_rate_limit_period_seconds", 10)),
        "exempt_sources": [str(x) for x in s.get("litellm_edge_rate_limit_exempt_sources") or []],
        "connections_per_client": int(sizing.get("edge_connections_per_client", 0) or 0),
        "client_table_entries": int(sizing.get("edge_client_table_entries", 0) or 0),
    }


def _edge_metrics(s):
    return _bool(s["litellm_edge_enabled"]) and _bool(s["litellm_edge_metrics_enabled"])


def _rule_files(s):
    """The rule files Prometheus loads: the shipped ones (the edge's only with an edge exporter)
    and the operator's, each with the name it gets in the project directory and in the container."""
    sources = []
    if _bool(s["litellm_prometheus_shipped_rules"]):
        sources.append(SHIPPED_RULES["litellm"])
        if _edge_metrics(s):
            sources.append(SHIPPED_RULES["litellm-edge"])
    sources += [str(path) for path in s["litellm_prometheus_extra_rule_files"] or []]
    files, seen = [], {}
    for source in sources:
        name = source.rsplit("/", 1)[-1]
        if not re.match(r"^[A-Za-z0-9_.-]+\.ya?ml$", name):
            raise AnsibleFilterError("litellm_prometheus_extra_rule_files: %r is not a .yml/.yaml file name" % source)
        if name in seen:
            raise AnsibleFilterError("litellm_prometheus_extra_rule_files: %r and %r have the same file name %s"
                                     % (seen[name], source, name))
        seen[name] = source
        files.append({"source": source, "dest": "prometheus-rules-%s" % name,
                      "container_path": "%s/%s" % (PROMETHEUS_RULES_DIR, name)})
    return files


def _validate_head(mounts):
    """`docker run` for a check by an image's own binary: offline, read-only, no capabilities; root in
    the container so that it reads the template module's 0600 temp file (the %s of a `validate:`)."""
    head = ["docker", "run", "--rm", "--network", "none", "--read-only", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges", "--user", "0:0"]
    for source, target in mounts:
        head += ["--volume", "%s:%s:ro" % (source, target)]
    return head


def _join(head, image, argv):
    """One shell command line; the %s placeholder stays unquoted for the template module."""
    parts = head + ["--entrypoint", argv[0], image] + argv[1:]
    return " ".join(part if part.startswith("%s:") else shlex.quote(part) for part in parts)


def _monitoring(s, metrics, candidate_dir):
    """Prometheus and Alertmanager beside the stack (litellm_monitoring_enabled): their configuration
    as data, the rule files, the published addresses and the commands that validate each file."""
    if not _bool(s["litellm_monitoring_enabled"]):
        return {"enabled": False, "rule_files": []}
    if metrics["port"] in (None, CONTAINER_PORT):
        raise AnsibleFilterError(
            "litellm_monitoring_enabled needs LiteLLM's separate metrics process (--prometheus_metrics_port), which "
            "litellm_version %s does not have: its /metrics needs the master key. Use LiteLLM 1.108.7 or later, or scrape "
            "with your own Prometheus and a scoped key." % s.get("litellm_version"))
    interval = "%ds" % int(s["litellm_prometheus_scrape_interval_seconds"])
    scrape = [{"job_name": "litellm", "metrics_path": "/metrics/",
               # every running proxy: both colours while a switch runs (the service name resolves to each)
               "dns_sd_configs": [{"names": [PROXY_SERVICE], "type": "A", "port": metrics["port"], "refresh_interval": "5s"}]}]
    if _edge_metrics(s):
        scrape.append({"job_name": "litellm-edge", "metrics_path": "/metrics",
                       "static_configs": [{"targets": ["edge:%d" % EDGE_METRICS_PORT]}]})
    scrape += [{"job_name": "prometheus", "static_configs": [{"targets": ["localhost:%d" % PROMETHEUS_PORT]}]},
               {"job_name": "alertmanager", "static_configs": [{"targets": ["alertmanager:%d" % ALERTMANAGER_PORT]}]}]
    rule_files = _rule_files(s)
    prometheus = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval,
                   "external_labels": {"litellm_project": str(s["litellm_project_name"])}},
        "rule_files": ["%s/*.yml" % PROMETHEUS_RULES_DIR],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": ["alertmanager:%d" % ALERTMANAGER_PORT]}]}]},
        "scrape_configs": scrape,
    }
    route = _merge({"receiver": "default", "group_by": ["alertname", "requested_model", "model_group", "instance"],
                    "group_wait": "10s", "group_interval": "1m", "repeat_interval": "4h"}, s["litellm_alertmanager_route"])
    receiver = {"name": "default"}
    if s["litellm_alertmanager_webhook_urls"]:
        receiver["webhook_configs"] = [{"url": str(url), "send_resolved": True} for url in s["litellm_alertmanager_webhook_urls"]]
    alertmanager = {"route": route, "receivers": [receiver]}
    prometheus_image, alertmanager_image = str(s["litellm_prometheus_image"]), str(s["litellm_alertmanager_image"])
    rule_mounts = [("%s/%s" % (candidate_dir, f["dest"]), f["container_path"]) for f in rule_files]
    return {
        "enabled": True,
        "prometheus_config": prometheus,
        "alertmanager_config": alertmanager,
        "rule_files": rule_files,
        "prometheus_port": PROMETHEUS_PORT,
        "alertmanager_port": ALERTMANAGER_PORT,
        "prometheus_url": litellm_local_url(s["litellm_monitoring_bind_address"], s["litellm_prometheus_port"]),
        "alertmanager_url": litellm_local_url(s["litellm_monitoring_bind_address"], s["litellm_alertmanager_port"]),
        # prometheus.yml with the candidate rule files where it loads them (promtool also checks those)
        "validate_prometheus_command": _join(
            _validate_head([("%s", "/etc/prometheus/prometheus.yml")] + rule_mounts), prometheus_image,
            ["/bin/promtool", "check", "config", "/etc/prometheus/prometheus.yml"]),
        "validate_rules_command": _join(_validate_head([("%s", "/tmp/rules.yml")]), prometheus_image,
                                        ["/bin/promtool", "check", "rules", "/tmp/rules.yml"]),
        "validate_alertmanager_command": _join(_validate_head([("%s", "/tmp/alertmanager.yml")]), alertmanager_image,
                                               ["/bin/amtool", "check-config", "/tmp/alertmanager.yml"]),
    }


def litellm_stack(settings, sizing, version_info, image):
    """Build the stack model. See the module docstring."""
    if not isinstance(settings, dict):
        raise AnsibleFilterError("litellm_stack needs the role's settings as a mapping, got %s" % type(settings).__name__)
    missing = [name for name in _REQUIRED if name not in settings]
    if missing:
        raise AnsibleFilterError("litellm_stack: settings lack %s" % ", ".join(missing))
    features = (version_info or {}).get("features", {})
    health_port = SEPARATE_HEALTH_PORT if features.get("separate_health_app") else CONTAINER_PORT
    env = _container_env(settings, sizing, features, health_port)
    project_dir = str(settings["litellm_project_dir"]).rstrip("/")
    env_file = "%s/.env" % project_dir
    # every file is rendered and validated here before any replaces its live copy
    candidate_dir = "%s/candidate" % project_dir
    deployment = _deployment(settings)
    port_for_metrics = metrics_port(settings, features)
    tls = _edge_tls(settings)
    # what Prometheus scrapes on the proxy: its port, and whether it needs the master key
    metrics = {"port": port_for_metrics,
               "auth": port_for_metrics == CONTAINER_PORT and bool(features.get("metrics_auth_by_default"))}
    model = {
        "image": image,
        "database": database_enabled(settings),
        "local_url": local_url(settings),
        # the CA the host's own clients of local_url trust: the self-signed certificate when local_url is https
        "local_ca_path": tls["local_ca_path"] if tls and tls["redirect"] else None,
        "container_config": CONTAINER_CONFIG,
        "container_port": CONTAINER_PORT,
        "health_port": health_port,
        "edge_config": EDGE_CONFIG,
        "edge_metrics_port": EDGE_METRICS_PORT,
        "redis": {"external": redis_external(settings), "host": _redis_endpoint(settings)[0],
                  "port": _redis_endpoint(settings)[1], "coordination": _redis_coordination(settings)}
        if redis_any(settings) else None,
        "postgres_host": POSTGRES_HOST,
        "postgres_port": POSTGRES_PORT,
        "env_file": env_file,
        "candidate_dir": candidate_dir,
        "config": _config(settings, sizing, features),
        "container_env": env,
        "command": _command(sizing, port_for_metrics),
        # tmpfs mounts of the proxy container besides /tmp: path -> size in MB
        "proxy_tmpfs": ({PROMETHEUS_MULTIPROC_DIR: PROMETHEUS_MULTIPROC_TMPFS_MB}
                        if "PROMETHEUS_MULTIPROC_DIR" in env else {}),
        "metrics": metrics,
        "secrets": _secrets(settings, features),
        "model_modes": _model_modes(settings["litellm_model_list"]),
        # config.yaml is validated with the candidate .env beside it
        "validate_config_command": _validate_config_command(env, "%s/.env" % candidate_dir, image),
        "validate_edge_command": _validate_edge_command(
            str(settings["litellm_edge_image"]), deployment["colours"]["blue"]["server"],
            "%s/%s" % (candidate_dir, EDGE_TLS_FILE) if tls else None),
        "tls": tls,
        "monitoring": _monitoring(settings, metrics, candidate_dir),
        "edge_security": _edge_security(settings, sizing) if _bool(settings["litellm_edge_enabled"]) else None,
        "secret_files": {"proxy": PROXY_SECRETS_FILE, "redis_config": REDIS_CONFIG, "redis_uid": REDIS_UID,
                         "postgres_password": POSTGRES_PASSWORD_FILE, "postgres_uid": POSTGRES_UID},
    }
    model.update(deployment)
    return model


class FilterModule(object):
    def filters(self):
        return {"litellm_stack": litellm_stack, "litellm_sizing_inputs": litellm_sizing_inputs,
                "litellm_local_url": litellm_local_url, "litellm_secrets_loader": litellm_secrets_loader}
