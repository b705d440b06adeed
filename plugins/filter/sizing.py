# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The only place the proxy stack's numbers are derived (templates only print them).

litellm_sizing(host, overrides) takes the host (vCPUs, RAM, how many proxy instances share
the database, which services are bundled on the host) and returns one coherent set of
settings, each with the reason it has that value, plus the invariants it breaks once the
operator's overrides are applied. roles/proxy/README.md documents every formula."""

from __future__ import annotations

import difflib
import math

from ansible.errors import AnsibleFilterError

# Measured on litellm 1.108.7 (research/litellm-tuning.md): a worker settles at 335-360 MB RSS,
# the master (gunicorn arbiter or uvicorn supervisor) at about 320 MB. The budget doubles the
# worker figure for growth between recycles. Database mode (Molecule database, 1.108.7 with the
# test-only WebAssembly query engine): a worker with its engine measured 890-942 MiB after about
# 13,000 requests at c=100; 2 GiB per worker keeps the same twofold headroom.
WORKER_MEMORY_MB = 768
WORKER_MEMORY_DB_MB = 2048
MASTER_MEMORY_MB = 384
WORKER_RSS_MB = 360
MAX_WORKERS = 32              # past this, run more instances behind a load balancer
DB_POOL_DEFAULT = 10          # LiteLLM's own default per worker process
DB_POOL_MIN = 2
DB_POOL_MAX = 20
PG_SUPERUSER_RESERVED = 3     # Postgres' superuser_reserved_connections default
PG_ADMIN_HEADROOM = 10        # migrations, psql, monitoring
REDIS_POOL_PER_WORKER = 50    # redis-py BlockingConnectionPool default
REDIS_DEFAULT_MAXCLIENTS = 10000  # Redis' own default, assumed for a Redis the role does not run
RECYCLE_AFTER_REQUESTS = 10000
HEALTHCHECK_START_PERIOD = 60
# database mode: the first boot migrates an empty database before the server binds. Measured with
# the test-only litellm-db image (Molecule database): 31-40 s to serving on 2 vCPUs, 39-56 s by hand
# on 1 CPU (220 migrations); about 3x the slowest, for CPUs 2-3x slower
HEALTHCHECK_START_PERIOD_DB = 150
STOP_GRACE_HEADROOM = 20            # gunicorn's graceful_timeout is GRACEFUL_SHUTDOWN_TIMEOUT + 10
EDGE_MAXCONN_PER_WORKER = 512       # concurrent client connections the edge takes per LiteLLM worker
EDGE_MAXCONN_MIN = 1024
EDGE_MAXCONN_MAX = 16384
# one client address may hold at most this share of the edge's connections (litellm_edge_* limits)
EDGE_CONNECTIONS_PER_CLIENT_SHARE = 2
# client addresses the edge tracks for its per-client limits (about 100 bytes each)
EDGE_CLIENT_TABLE_ENTRIES = 20000
EDGE_BASE_MEMORY_MB = 64
EDGE_TIMEOUT_HEADROOM = 30          # the edge waits longer than LiteLLM's own request timeout
HEALTHCHECK_PROBE_MARGIN = 1        # the probe's own HTTP timeout ends before the engine's
POSTGRES_STOP_GRACE = 60            # a fast shutdown checkpoint; Postgres needs no request drain
READINESS_POLL_SECONDS = 3
ALERTMANAGER_MEMORY_MB = 64         # holds alerts and silences; 30-40 MB RSS
PROMETHEUS_MEMORY_MIN_MB = 256      # one stack's few thousand series need ~150 MB
PROMETHEUS_MEMORY_MAX_MB = 2048

INT_KEYS = (
    "num_workers", "litellm_mem_limit_mb", "litellm_mem_reservation_mb", "max_requests_before_restart",
    "max_requests_before_restart_jitter", "database_connection_pool_limit", "db_max_connections",
    "redis_max_connections", "redis_maxmemory_mb", "redis_mem_limit_mb", "redis_maxclients",
    "postgres_shared_buffers_mb", "postgres_effective_cache_size_mb", "postgres_mem_limit_mb",
    "graceful_shutdown_seconds", "stop_grace_period_seconds", "healthcheck_start_period_seconds",
    "edge_maxconn", "edge_mem_limit_mb", "edge_timeout_seconds", "postgres_stop_grace_period_seconds",
    "prometheus_mem_limit_mb", "alertmanager_mem_limit_mb", "edge_connections_per_client", "edge_client_table_entries",
)
FLOAT_KEYS = ("litellm_cpus", "redis_cpus", "postgres_cpus", "edge_cpus", "monitoring_cpus")
CHOICE_KEYS = {"server": ("uvicorn", "gunicorn")}
# keys whose value may be 0 (recycling off); every other number must be positive
ZERO_ALLOWED = ("max_requests_before_restart", "max_requests_before_restart_jitter", "edge_connections_per_client")
OVERRIDES_VAR = "litellm_sizing_overrides"


def _clamp(value, low, high):
    return max(low, min(high, value))


def _host_inputs(host):
    try:
        vcpus = int(host["vcpus"])
        memory_mb = int(host["memory_mb"])
        instances = int(host.get("instances", 1))
        request_timeout = int(host.get("request_timeout", 600))
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError("litellm_sizing needs integer vcpus, memory_mb, instances, request_timeout: %s" % exc)
    if vcpus < 1 or memory_mb < 512 or instances < 1 or request_timeout < 1:
        raise AnsibleFilterError(
            "litellm_sizing: vcpus >= 1, memory_mb >= 512, instances >= 1 and request_timeout >= 1 are required "
            "(got vcpus=%d, memory_mb=%d, instances=%d, request_timeout=%d)" % (vcpus, memory_mb, instances, request_timeout))
    try:
        edge_buffer_kb = int(host.get("edge_buffer_kb", 64))
        healthcheck_timeout = int(host.get("healthcheck_timeout", 10))
        readiness_timeout = int(host.get("readiness_timeout", 180))
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError("litellm_sizing needs integer edge_buffer_kb, healthcheck_timeout, readiness_timeout: %s" % exc)
    edge = bool(host.get("edge"))
    return (vcpus, memory_mb, instances, request_timeout, bool(host.get("redis_bundled")),
            bool(host.get("postgres_bundled")), bool(host.get("database")), edge, edge_buffer_kb,
            healthcheck_timeout, readiness_timeout, edge and bool(host.get("blue_green")), bool(host.get("monitoring")),
            bool(host.get("redis_external")) and not bool(host.get("redis_bundled")))


def redis_mem_limit_mb(maxmemory_mb):
    """Redis' container limit for a maxmemory: 25 % for fragmentation and 64 MB for the server."""
    return int(int(maxmemory_mb) * 1.25 + 64)


def _services(vcpus, memory_mb, redis, postgres, monitoring=False):
    """Budgets of the bundled services and of the OS; what is left belongs to the proxy."""
    out, why = {}, {}
    os_reserve = int(_clamp(memory_mb * 0.10, 512, 2048))
    why["os_reserve_mb"] = "10 % of RAM for the OS and the engine, at least 512 MB, at most 2 GiB"
    cpu_reserve = 0.0
    used = os_reserve
    if redis:
        out["redis_maxmemory_mb"] = int(_clamp(memory_mb * 0.05, 64, 4096))
        out["redis_mem_limit_mb"] = redis_mem_limit_mb(out["redis_maxmemory_mb"])
        out["redis_cpus"] = 0.5 if vcpus <= 4 else 1.0
        why["redis_maxmemory_mb"] = "5 % of RAM (64 MB..4 GiB): a response cache, evicted allkeys-lru"
        why["redis_mem_limit_mb"] = "maxmemory + 25 % for fragmentation + 64 MB for the server"
        cpu_reserve += 0.25 if vcpus <= 4 else 0.5
        used += out["redis_mem_limit_mb"]
    if postgres:
        budget = int(_clamp(memory_mb * 0.15, 256, 16384))
        out["postgres_mem_limit_mb"] = budget
        out["postgres_shared_buffers_mb"] = budget // 4
        out["postgres_effective_cache_size_mb"] = budget * 3 // 4
        out["postgres_cpus"] = 1.0 if vcpus <= 4 else float(max(2, vcpus // 8))
        why["postgres_mem_limit_mb"] = "15 % of RAM (256 MB..16 GiB) for the bundled Postgres"
        why["postgres_shared_buffers_mb"] = "25 % of Postgres' own budget (not of the host's RAM)"
        why["postgres_effective_cache_size_mb"] = "75 % of Postgres' own budget"
        cpu_reserve += 0.5 if vcpus <= 4 else max(1, vcpus // 8)
        used += budget
    if monitoring:
        out["prometheus_mem_limit_mb"] = int(_clamp(memory_mb * 0.05, PROMETHEUS_MEMORY_MIN_MB, PROMETHEUS_MEMORY_MAX_MB))
        out["alertmanager_mem_limit_mb"] = ALERTMANAGER_MEMORY_MB
        out["monitoring_cpus"] = 0.5 if vcpus <= 4 else 1.0
        why["prometheus_mem_limit_mb"] = "5 %% of RAM (%d MB..%d MB): one stack's series, 15 s scrapes" % (
            PROMETHEUS_MEMORY_MIN_MB, PROMETHEUS_MEMORY_MAX_MB)
        why["alertmanager_mem_limit_mb"] = "alerts and silences of one stack"
        why["monitoring_cpus"] = "a cap for Prometheus and for Alertmanager each; 0.25 vCPU reserved for them"
        cpu_reserve += 0.25
        used += out["prometheus_mem_limit_mb"] + out["alertmanager_mem_limit_mb"]
    out["os_reserve_mb"] = os_reserve
    return out, why, cpu_reserve, memory_mb - used


def _workers(vcpus, cpu_reserve, proxy_memory_mb, worker_memory_mb):
    by_cpu = max(1, int(math.floor(vcpus - cpu_reserve + 0.5)))
    by_memory = max(1, (proxy_memory_mb - MASTER_MEMORY_MB) // worker_memory_mb)
    workers = min(by_cpu, by_memory, MAX_WORKERS)
    limit = "cpu" if workers == by_cpu else ("memory" if workers == by_memory else "cap")
    why = ("min(vCPUs - %.2f reserved for bundled services (rounded) = %d, (RAM left for the proxy %d MB - %d MB "
           "master) / %d MB per worker = %d, cap %d): bound by %s"
           % (cpu_reserve, by_cpu, proxy_memory_mb, MASTER_MEMORY_MB, worker_memory_mb, by_memory, MAX_WORKERS, limit))
    return workers, why


def litellm_sizing(host, overrides=None):
    """Derive the stack's settings for one host. See the module docstring."""
    (vcpus, memory_mb, instances, request_timeout, redis, postgres, database, edge, edge_buffer_kb,
     healthcheck_timeout, readiness_timeout, blue_green, monitoring, redis_external) = _host_inputs(host)
    database = database or postgres
    override_problems = []
    result, why, cpu_reserve, proxy_memory_mb = _services(vcpus, memory_mb, redis, postgres, monitoring)
    worker_memory_mb = WORKER_MEMORY_DB_MB if database else WORKER_MEMORY_MB

    result["num_workers"], why["num_workers"] = _workers(vcpus, cpu_reserve, proxy_memory_mb, worker_memory_mb)
    result.update(_apply(overrides, ("num_workers",), override_problems))
    workers = result["num_workers"]

    result["litellm_cpus"] = round(max(1.0, vcpus - cpu_reserve), 2)
    why["litellm_cpus"] = "all vCPUs but the share reserved for bundled services"
    steady_mb = MASTER_MEMORY_MB + workers * WORKER_RSS_MB
    result["litellm_mem_limit_mb"] = min(MASTER_MEMORY_MB + workers * worker_memory_mb, max(proxy_memory_mb, steady_mb))
    why["litellm_mem_limit_mb"] = "%d MB master + %d MB per worker%s, at most the RAM left for the proxy (%d MB)" % (
        MASTER_MEMORY_MB, worker_memory_mb, " (database mode: Prisma engine)" if database else "", proxy_memory_mb)
    result["litellm_mem_reservation_mb"] = steady_mb
    why["litellm_mem_reservation_mb"] = "measured steady RSS: %d MB master + %d MB per worker" % (MASTER_MEMORY_MB, WORKER_RSS_MB)

    result["server"] = "gunicorn" if workers >= 2 else "uvicorn"
    why["server"] = ("gunicorn: its arbiter forks a replacement worker from the preloaded master in about 2 s "
                     "(uvicorn re-imports LiteLLM for about 15 s)" if workers >= 2 else "uvicorn: one worker needs no arbiter")
    if workers >= 2 and edge:
        result["max_requests_before_restart"] = RECYCLE_AFTER_REQUESTS
        result["max_requests_before_restart_jitter"] = RECYCLE_AFTER_REQUESTS // 2
        why["max_requests_before_restart"] = (
            "recycle workers to bound slow leaks; the edge retries the requests a recycling worker closes unanswered")
        why["max_requests_before_restart_jitter"] = "50 %: evenly loaded workers draw limits far enough apart not to recycle together"
    else:
        result["max_requests_before_restart"] = 0
        result["max_requests_before_restart_jitter"] = 0
        why["max_requests_before_restart"] = (
            "off: with one worker LiteLLM stops serving when the limit is hit" if workers < 2 else
            "off: without the edge every recycle fails the requests queued on the worker's keep-alive connections")
    if edge:
        _edge(result, why, workers, edge_buffer_kb, vcpus, request_timeout)

    _surge(result, why, blue_green, proxy_memory_mb)
    # a blue/green switch holds one more set of connections while both proxies run
    # an operator's max_connections (an external database's real one) is what the pools divide
    stated = _apply(overrides, ("db_max_connections",), override_problems).get("db_max_connections")
    _database(result, why, database, postgres, instances + (1 if blue_green else 0), workers, stated)
    if redis or redis_external:
        result["redis_max_connections"] = REDIS_POOL_PER_WORKER
        why["redis_max_connections"] = "per worker process (REDIS_MAX_CONNECTIONS), redis-py's pool default"
    if redis:
        result["redis_maxclients"] = max(1000, 2 * instances * workers * REDIS_POOL_PER_WORKER + 32)
        why["redis_maxclients"] = "2 x instances x workers x pool (+32): LiteLLM briefly holds two pools when it rotates one"
    elif redis_external:
        result["redis_maxclients"] = REDIS_DEFAULT_MAXCLIENTS
        why["redis_maxclients"] = ("external Redis shared by %d instance(s): Redis' default maxclients; set "
                                   "litellm_sizing_overrides.redis_maxclients to yours" % instances)

    result["graceful_shutdown_seconds"] = request_timeout
    result["stop_grace_period_seconds"] = request_timeout + STOP_GRACE_HEADROOM
    result["healthcheck_start_period_seconds"] = HEALTHCHECK_START_PERIOD_DB if database else HEALTHCHECK_START_PERIOD
    why["healthcheck_start_period_seconds"] = (
        "database mode: the first boot migrates an empty database (measured 31-56 s), about 3x that" if database else
        "LiteLLM imports itself in about 15 s (as a uvicorn worker re-import does) before it serves; failed probes before this do not count")
    why["graceful_shutdown_seconds"] = "= request_timeout: a stop lets the longest allowed request finish"
    why["stop_grace_period_seconds"] = "graceful shutdown + %d s before SIGKILL" % STOP_GRACE_HEADROOM
    _timers(result, why, healthcheck_timeout, readiness_timeout, postgres)

    result.update(_apply(overrides, tuple(k for k in INT_KEYS + FLOAT_KEYS + ("server",)
                                          if k not in ("num_workers", "db_max_connections")), override_problems))
    override_problems += _unknown_overrides(overrides)
    result.update(vcpus=vcpus, memory_mb=memory_mb, instances=instances, request_timeout=request_timeout,
                  worker_memory_mb=worker_memory_mb, database=database, redis_bundled=redis, redis_external=redis_external,
                  postgres_bundled=postgres,
                  edge=edge, edge_buffer_kb=edge_buffer_kb, healthcheck_timeout=healthcheck_timeout,
                  readiness_timeout=readiness_timeout, blue_green=blue_green, proxy_memory_mb=proxy_memory_mb,
                  monitoring=monitoring)
    result["why"] = why
    # an override that is not a valid value says so first; the invariants judge what is left
    result["problems"] = override_problems + sizing_problems(result)
    return result


def _timers(result, why, healthcheck_timeout, readiness_timeout, postgres):
    """Timeouts that follow from other settings (the templates print them, never compute them)."""
    result["healthcheck_probe_timeout_seconds"] = max(1, healthcheck_timeout - HEALTHCHECK_PROBE_MARGIN)
    why["healthcheck_probe_timeout_seconds"] = (
        "the probe's HTTP timeout: the healthcheck timeout - %d s, so the probe reports before the engine kills it"
        % HEALTHCHECK_PROBE_MARGIN)
    result["readiness_poll_seconds"] = READINESS_POLL_SECONDS
    result["readiness_retries"] = int(math.ceil(readiness_timeout / float(READINESS_POLL_SECONDS)))
    why["readiness_retries"] = "readiness timeout %d s / one poll every %d s (rounded up)" % (
        readiness_timeout, READINESS_POLL_SECONDS)
    if postgres:
        result["postgres_stop_grace_period_seconds"] = POSTGRES_STOP_GRACE
        why["postgres_stop_grace_period_seconds"] = "a fast shutdown writes a checkpoint; nothing to drain"


def _surge(result, why, blue_green, proxy_memory_mb):
    """A blue/green switch runs the live proxy and its candidate at once, each at its steady RSS."""
    result["surge_memory_mb"] = 2 * result["litellm_mem_reservation_mb"] if blue_green else result["litellm_mem_reservation_mb"]
    if blue_green:
        why["surge_memory_mb"] = (
            "blue/green: the live proxy and its candidate run at once during a switch: 2 x %d MB steady RSS = %d MB "
            "of the %d MB RAM left for the proxy" % (result["litellm_mem_reservation_mb"], result["surge_memory_mb"], proxy_memory_mb))
    else:
        why["surge_memory_mb"] = "one proxy at a time: a change recreates it in place (litellm_deploy_strategy: recreate, or no edge)"


def _edge_memory_mb(maxconn, buffer_kb):
    """What the edge may use: a base plus two buffers (request, response) of tune.bufsize per connection."""
    return EDGE_BASE_MEMORY_MB + int(math.ceil(maxconn * 2 * buffer_kb / 1024.0))


def _edge(result, why, workers, buffer_kb, vcpus, request_timeout):
    """HAProxy in front of the proxy: connection cap and the memory its buffers may take."""
    result["edge_maxconn"] = int(_clamp(workers * EDGE_MAXCONN_PER_WORKER, EDGE_MAXCONN_MIN, EDGE_MAXCONN_MAX))
    why["edge_maxconn"] = "%d client connections per LiteLLM worker, %d..%d" % (
        EDGE_MAXCONN_PER_WORKER, EDGE_MAXCONN_MIN, EDGE_MAXCONN_MAX)
    result["edge_mem_limit_mb"] = _edge_memory_mb(result["edge_maxconn"], buffer_kb)
    why["edge_mem_limit_mb"] = "%d MB + maxconn x 2 buffers x %d KB" % (EDGE_BASE_MEMORY_MB, buffer_kb)
    result["edge_cpus"] = 0.5 if vcpus <= 4 else 1.0
    result["edge_bufsize_bytes"] = buffer_kb * 1024
    why["edge_bufsize_bytes"] = "litellm_edge_buffer_kb: requests up to this size are buffered whole and can be retried"
    result["edge_timeout_seconds"] = request_timeout + EDGE_TIMEOUT_HEADROOM
    why["edge_timeout_seconds"] = "LiteLLM's request_timeout + %d s: LiteLLM answers (or times out) first" % EDGE_TIMEOUT_HEADROOM
    why["edge_cpus"] = "a cap, not a reservation: HAProxy spends microseconds per request where LiteLLM spends milliseconds"
    result["edge_connections_per_client"] = result["edge_maxconn"] // EDGE_CONNECTIONS_PER_CLIENT_SHARE
    why["edge_connections_per_client"] = (
        "maxconn / %d: one client address cannot take the whole edge (0 in litellm_sizing_overrides: no limit)"
        % EDGE_CONNECTIONS_PER_CLIENT_SHARE)
    result["edge_client_table_entries"] = EDGE_CLIENT_TABLE_ENTRIES
    why["edge_client_table_entries"] = ("client addresses tracked for the per-client limits, about 100 bytes each; "
                                        "the least recently seen is dropped first")


def _database(result, why, database, postgres, instances, workers, stated_max_connections=None):
    if not database:
        return
    clients = instances * workers
    reserve = PG_SUPERUSER_RESERVED + PG_ADMIN_HEADROOM
    if stated_max_connections is not None:
        result["db_max_connections"] = stated_max_connections
        why["db_max_connections"] = "litellm_sizing_overrides.db_max_connections (shared by %d proxy set(s))" % instances
    elif postgres:
        result["db_max_connections"] = max(100, clients * DB_POOL_DEFAULT + reserve)
        why["db_max_connections"] = "bundled Postgres: instances x workers x %d + %d reserved, at least 100" % (DB_POOL_DEFAULT, reserve)
    else:
        result["db_max_connections"] = 100
        why["db_max_connections"] = ("external Postgres shared by %d proxy set(s): Postgres' default; set "
                                     "litellm_sizing_overrides.db_max_connections to yours" % instances)
    result["database_connection_pool_limit"] = int(_clamp((result["db_max_connections"] - reserve) // clients, DB_POOL_MIN, DB_POOL_MAX))
    why["database_connection_pool_limit"] = "(max_connections - %d reserved) / (instances x workers), %d..%d" % (
        reserve, DB_POOL_MIN, DB_POOL_MAX)


def _apply(overrides, keys, problems):
    """Operator values that replace derived ones ('auto', '' and None mean: derive). A value of the
    wrong type or range is not applied: it becomes a problem that names the variable."""
    out = {}
    for key in keys:
        value = (overrides or {}).get(key)
        if value in (None, "", "auto"):
            continue
        name = "%s.%s" % (OVERRIDES_VAR, key)
        if key in CHOICE_KEYS:
            if value not in CHOICE_KEYS[key]:
                problems.append("%s must be one of %s or 'auto' (got %r)" % (name, ", ".join(CHOICE_KEYS[key]), value))
            else:
                out[key] = value
            continue
        number = as_number(value, key in INT_KEYS)
        if number is None:
            problems.append("%s must be a %s or 'auto' (got %r)" % (
                name, "whole number" if key in INT_KEYS else "number", value))
        elif number < 0 or (number == 0 and key not in ZERO_ALLOWED):
            problems.append("%s must be %s (got %r)" % (name, "0 or more" if key in ZERO_ALLOWED else "more than 0", value))
        else:
            out[key] = number
    return out


def as_number(value, whole):
    """int (whole=True) or float from an int, float or numeric string; None for anything else
    (bools, NaN, infinities, and fractions where a whole number is asked). settings_check.py
    judges the role's variables with it too."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(number) or math.isinf(number):
        return None
    if whole:
        return int(number) if number == int(number) else None
    return number


def _unknown_overrides(overrides):
    if overrides is None:
        return []
    if not isinstance(overrides, dict):
        return ["%s must be a mapping of sizing keys to values (got %s)" % (OVERRIDES_VAR, type(overrides).__name__)]
    known = set(INT_KEYS + FLOAT_KEYS) | set(CHOICE_KEYS)
    problems = []
    for key in sorted(set(overrides) - known, key=str):
        close = difflib.get_close_matches(str(key), sorted(known), n=1)
        problems.append("%s.%s is not a sizing key%s" % (
            OVERRIDES_VAR, key, (" (did you mean %s?)" % close[0]) if close else " (keys: %s)" % ", ".join(sorted(known))))
    return problems


def sizing_problems(s):
    """Invariants, each broken one stated with its arithmetic."""
    problems = []
    workers = s["num_workers"]
    if workers < 1:
        problems.append("num_workers must be at least 1 (got %d)" % workers)
    if s.get("max_requests_before_restart") and workers < 2:
        problems.append("worker recycling (max_requests_before_restart=%d) needs at least 2 workers: with %d worker "
                        "LiteLLM stops serving when the limit is hit" % (s["max_requests_before_restart"], workers))
    if s.get("edge"):
        needed = _edge_memory_mb(s["edge_maxconn"], s["edge_buffer_kb"])
        if s["edge_mem_limit_mb"] < needed:
            problems.append("edge mem_limit %d MB is below what %d connections with %d KB buffers may take: %d + %d x 2 x %d KB = %d MB"
                            % (s["edge_mem_limit_mb"], s["edge_maxconn"], s["edge_buffer_kb"], EDGE_BASE_MEMORY_MB,
                               s["edge_maxconn"], s["edge_buffer_kb"], needed))
    if s.get("server") not in ("uvicorn", "gunicorn"):
        problems.append("server must be uvicorn or gunicorn (got %r)" % s.get("server"))
    if s["litellm_mem_reservation_mb"] > s["litellm_mem_limit_mb"]:
        problems.append("litellm mem_reservation %d MB exceeds mem_limit %d MB" % (s["litellm_mem_reservation_mb"], s["litellm_mem_limit_mb"]))
    floor = MASTER_MEMORY_MB + workers * WORKER_RSS_MB
    if s["litellm_mem_limit_mb"] < floor:
        problems.append("litellm mem_limit %d MB is below what %d workers use: %d + %d x %d = %d MB"
                        % (s["litellm_mem_limit_mb"], workers, MASTER_MEMORY_MB, workers, WORKER_RSS_MB, floor))
    if s.get("blue_green"):
        surge = 2 * s["litellm_mem_reservation_mb"]
        if surge > s["proxy_memory_mb"]:
            problems.append(
                "a blue/green switch runs two proxies at once: 2 x mem_reservation %d MB = %d MB > %d MB RAM left for the proxy; "
                "set litellm_deploy_strategy: recreate (each change then costs one LiteLLM boot without answers) or lower "
                "%s.num_workers" % (s["litellm_mem_reservation_mb"], surge, s["proxy_memory_mb"], OVERRIDES_VAR))
    if s.get("database"):
        sets = s["instances"] + (1 if s.get("blue_green") else 0)
        used = sets * workers * s["database_connection_pool_limit"] + PG_SUPERUSER_RESERVED
        if used > s["db_max_connections"]:
            problems.append(
                "database connections: %d instances%s x %d workers x pool %d + %d reserved = %d > max_connections %d"
                % (sets, " (one more while a blue/green switch runs both)" if s.get("blue_green") else "", workers,
                   s["database_connection_pool_limit"], PG_SUPERUSER_RESERVED, used, s["db_max_connections"]))
    if s.get("redis_bundled") or s.get("redis_external"):
        redis_clients = 2 * s["instances"] * workers * s["redis_max_connections"]
        if redis_clients > s["redis_maxclients"]:
            problems.append("redis clients: 2 x %d instances x %d workers x pool %d = %d > maxclients %d"
                            % (s["instances"], workers, s["redis_max_connections"], redis_clients, s["redis_maxclients"]))
    if s["graceful_shutdown_seconds"] < s["request_timeout"]:
        problems.append("graceful shutdown %d s is shorter than request_timeout %d s: a stop would cut allowed requests"
                        % (s["graceful_shutdown_seconds"], s["request_timeout"]))
    if s["stop_grace_period_seconds"] <= s["graceful_shutdown_seconds"] + 10:
        problems.append("stop_grace_period %d s must exceed graceful shutdown %d s + 10 s (gunicorn's own headroom)"
                        % (s["stop_grace_period_seconds"], s["graceful_shutdown_seconds"]))
    return problems


class FilterModule(object):
    def filters(self):
        return {"litellm_sizing": litellm_sizing}
