# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Everything a benchmark run does, in one place: the variants (role variables), the loads,
the soaks, the recycling experiments and the changes under load, for the full run and for --quick.

benchmarks/README.md explains why each variant has the values it has."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

# ---------------------------------------------------------------- what the harness owns
PORT = 4500                                  # the proxy under test (one variant at a time)
BACKEND_PORT = 4590                          # the fake backend, published for the ceiling run
BACKEND_CONTAINER = "gatewayops-bench-fake-openai"
BACKEND_ALIAS = "bench-fake-openai"
NETWORK = "gatewayops-bench"
OWNER_LABEL = "org.gatewayops.benchmark=litellm"
PROJECT_PREFIX = "litellm-bench-"            # compose project litellm-bench-<variant>
PROJECT_ROOT = "/opt/litellm-bench"          # project dir /opt/litellm-bench/<variant>
IMAGE_PREFIX = "gatewayops-test"
LITELLM_IMAGE = IMAGE_PREFIX + "/litellm:1.108.7"
# TEST-ONLY: LiteLLM's database mode on Prisma's WebAssembly engines (tests/images/litellm-db)
LITELLM_DB_IMAGE = IMAGE_PREFIX + "/litellm-db:1.108.7"
POSTGRES_IMAGE = IMAGE_PREFIX + "/postgres:15"
REDIS_IMAGE = IMAGE_PREFIX + "/redis:7"
EDGE_IMAGE = IMAGE_PREFIX + "/haproxy:2.6"
BACKEND_IMAGE = IMAGE_PREFIX + "/fake-openai:latest"
BACKEND_DELAY_S = "0.1"
MODEL = "bench-chat"

# Role variables every variant shares: the local images, the fake backend, our port and names.
COMMON_VARS = {
    "litellm_port": PORT,
    "litellm_base_image": LITELLM_IMAGE,
    "litellm_redis_image": REDIS_IMAGE,
    "litellm_edge_image": EDGE_IMAGE,
    "litellm_extra_networks": [NETWORK],
    "litellm_readiness_timeout": 300,
    # the load generator is one client address sending far more than one client should: the
    # per-client request limit would answer most of the load itself (the edge's other checks stay)
    "litellm_edge_rate_limit_requests": 0,
    "litellm_model_list": [{
        "model_name": MODEL,
        "litellm_params": {"model": "openai/fake-chat", "api_base": "http://%s:8080/v1" % BACKEND_ALIAS,
                           "api_key": "fake-key-not-secret"},
    }],
}

# LiteLLM's own runtime defaults where they matter for speed (what `litellm --config` does
# without flags): one uvicorn worker, INFO logs with uvicorn's access log, text logs, the
# interpreter's GC thresholds, no callbacks, no cache, message logging on.
LITELLM_DEFAULTS = {
    "litellm_log_level": "INFO",
    "litellm_json_logs": False,
    "litellm_python_gc_threshold": "",
    "litellm_prometheus_enabled": False,
    "litellm_cache_enabled": False,
    "litellm_litellm_settings": {"turn_off_message_logging": False, "redact_user_api_key_info": False},
    "litellm_edge_enabled": False,
}
NO_RECYCLING = {"litellm_sizing_overrides": {"max_requests_before_restart": 0, "max_requests_before_restart_jitter": 0}}
ONE_UVICORN_WORKER = {"num_workers": 1, "server": "uvicorn", "max_requests_before_restart": 0,
                      "max_requests_before_restart_jitter": 0}


@dataclass(frozen=True)
class Variant:
    name: str            # short id: compose project litellm-bench-<name>
    label: str           # in tables and plots
    group: str           # shipped / seed / sized / sweep
    vars: dict = field(default_factory=dict)
    note: str = ""
    load: dict = field(default_factory=dict)   # load generator settings of its own (e.g. repeated prompts)


def _sweep(server, workers):
    overrides = {"num_workers": workers, "server": server}
    if workers == 1:   # the role refuses recycling with one worker (LiteLLM would stop serving)
        overrides.update(max_requests_before_restart=0, max_requests_before_restart_jitter=0)
    return Variant("%s-%dw" % (server[:2], workers), "%s %d worker%s" % (server, workers, "s" if workers > 1 else ""), "sweep",
                   {"litellm_sizing_overrides": overrides},
                   "the sized configuration (c) with %s and %d worker(s)" % (server, workers))


VARIANTS = {v.name: v for v in [
    Variant("shipped", "(a) LiteLLM as shipped", "shipped",
            dict(LITELLM_DEFAULTS, litellm_sizing_overrides=dict(ONE_UVICORN_WORKER)),
            "1 uvicorn worker, INFO + access log, text logs, default GC, no Prometheus, no cache"),
    Variant("seed", "(b) seed plan, literally", "seed",
            {"litellm_log_level": "ERROR", "litellm_json_logs": False, "litellm_python_gc_threshold": "",
             "litellm_edge_enabled": False,
             "litellm_prometheus_enabled": True, "litellm_cache_enabled": True,
             "litellm_litellm_settings": {"turn_off_message_logging": False, "redact_user_api_key_info": False},
             "litellm_general_settings": {"database_connection_pool_limit": 50},
             "litellm_sizing_overrides": dict(ONE_UVICORN_WORKER, graceful_shutdown_seconds=3600,
                                              stop_grace_period_seconds=3620),
             # the role refuses recycling with one worker; the seed sets it on the CLI, so does this
             "litellm_environment": {"MAX_REQUESTS_BEFORE_RESTART": "10000", "REDIS_MAX_CONNECTIONS": "50",
                                     "SEPARATE_HEALTH_APP": "1", "SEPARATE_HEALTH_PORT": "4001"}},
            "1 uvicorn worker, ERROR logs, recycling 10000 (no jitter), pools 50, graceful 1 h, "
            "separate health app, Prometheus, Redis cache"),
    Variant("sized", "(c) collection, sized", "sized", {},
            "role defaults on this host: HAProxy edge, 2 gunicorn workers, recycling 10000 + jitter 5000, "
            "ERROR + JSON logs, GC 10000,50,100, Prometheus, no response cache (opt-in), cpus 2"),
    # what metrics cost per request: (c) without the Prometheus callback, and (c) with it but without
    # the separate metrics process (samples still written by every worker, multiprocess mode)
    Variant("nometrics", "(c) without Prometheus", "metrics", {"litellm_prometheus_enabled": False},
            "the sized configuration (c) with litellm_prometheus_enabled: false"),
    Variant("metrics-main", "(c), /metrics on the proxy port only", "metrics", {"litellm_prometheus_separate_process": False},
            "the sized configuration (c) without LiteLLM's separate metrics process"),
] + [_sweep(server, workers) for server in ("uvicorn", "gunicorn") for workers in (1, 2, 3, 4)
     if (server, workers) != ("gunicorn", 2)] + [
    # the ablation: (c) minus one production feature at a time (nometrics, metrics-main and uv-2w above too)
    Variant("no-edge", "(c) without the edge", "ablation", {"litellm_edge_enabled": False},
            "the sized configuration (c) with litellm_edge_enabled: false (LiteLLM publishes the port)"),
    # the response cache is opt-in (it was on in (c) until the 2026-12-02 ablation): (c) with it
    Variant("cache", "(c) with the response cache", "ablation", {"litellm_cache_enabled": True},
            "the sized configuration (c) with litellm_cache_enabled: true (Redis bundled, a lookup and a write per request)"),
    Variant("repeat", "(c), repeated prompts", "ablation", {},
            "the sized configuration (c) (no cache); every request sends the same prompt", load={"vary_prompt": False}),
    Variant("repeat-cache", "(c) with the cache, repeated prompts", "ablation", {"litellm_cache_enabled": True},
            "cache with the same prompt in every request, so the cache answers all but the first",
            load={"vary_prompt": False}),
    Variant("text-logs", "(c) with text logs", "ablation", {"litellm_json_logs": False},
            "the sized configuration (c) with litellm_json_logs: false"),
    Variant("no-gc", "(c) with the interpreter's GC thresholds", "ablation", {"litellm_python_gc_threshold": ""},
            "the sized configuration (c) without PYTHON_GC_THRESHOLD"),
    Variant("no-recycle", "(c) without recycling", "ablation", dict(NO_RECYCLING),
            "the sized configuration (c) with max_requests_before_restart 0"),
    # database mode: the bundled Postgres sized by the role; every request's spend log and the
    # master key's spend go through LiteLLM's batch writer (test-only engines, see the README)
    Variant("database", "(c) in database mode", "ablation",
            {"litellm_postgres_enabled": True, "litellm_base_image": LITELLM_DB_IMAGE, "litellm_postgres_image": POSTGRES_IMAGE},
            "the sized configuration (c) with litellm_postgres_enabled: true (bundled Postgres, spend logs; "
            "TEST-ONLY image litellm-db with Prisma's WebAssembly engines)"),
]}

# What each ablation variant takes away from (c) and what that feature buys; the baseline is
# the variant the cost is measured against (the same load, with the feature on).
ABLATIONS = (
    # (variant, feature, baseline, what it buys)
    ("no-edge", "HAProxy edge", "sized",
     "no failed request when a worker recycles or a colour switches (retries on closed connections), health-gated "
     "blue/green, a hitless reload; edge metrics"),
    ("nometrics", "Prometheus callback (multiprocess mode)", "sized",
     "request, error, latency, token and spend metrics summed over workers; the alerts and dashboard"),
    ("metrics-main", "LiteLLM's separate metrics process", "sized",
     "negative when it costs less than serving /metrics from the workers' port (scrapes are not part of this load)"),
    ("sized", "Redis response cache (opt-in), unique prompts", "cache",
     "nothing when no prompt repeats: a lookup and a write to Redis per request; off by default for that reason"),
    ("repeat", "Redis response cache (opt-in), repeated prompts", "repeat-cache",
     "answers without a call to the provider (negative: the cache saves CPU as well as provider calls)"),
    ("text-logs", "JSON logs", "sized", "machine-readable logs (one JSON object per line) for log shippers"),
    ("no-gc", "PYTHON_GC_THRESHOLD 10000,50,100", "sized", "fewer garbage collections per request"),
    ("uv-2w", "gunicorn instead of uvicorn (2 workers each)", "sized",
     "a worker that exits is replaced by the master without dropping the port; 1 s instead of 49 s without "
     "completions per recycle (README recycling table)"),
    ("sized", "database mode (bundled Postgres, spend logs, test-only engines)", "database",
     "virtual keys, budgets, rate limits per key and spend tracking; the figure includes our WebAssembly query "
     "engine, not the official image's native one"),
    ("no-recycle", "worker recycling 10000 + jitter 5000", "sized",
     "bounded worker memory on long runs; costs nothing until a worker reaches its limit (none does in 12 s)"),
)

# ---------------------------------------------------------------- soaks and recycling


@dataclass(frozen=True)
class Soak:
    name: str
    base: str                 # variant whose vars it starts from
    vars: dict
    label: str
    requests: int
    concurrency: int
    max_seconds: float
    keepalive: bool = True
    sample_every: float = 2.0


def _recycle(name, label, server, overrides=None, extra=None, keepalive=True, requests=4000, concurrency=50,
             max_seconds=150.0, limit=200, jitter=100, edge=False):
    sizing = {"num_workers": 2, "server": server, "max_requests_before_restart": limit,
              "max_requests_before_restart_jitter": jitter}
    sizing.update(overrides or {})
    role_vars = {"litellm_sizing_overrides": sizing, "litellm_edge_enabled": edge}
    role_vars.update(extra or {})
    return Soak(name, "sized", role_vars, label, requests, concurrency, max_seconds, keepalive, sample_every=0.5)


SOAKS = [
    Soak("soak-sized-norecycle", "sized", NO_RECYCLING, "(c) without recycling", 32000, 50, 900.0),
    # 32000 requests over 2 workers: each serves about 16000, past its 10000..15000 limit
    Soak("soak-sized-recycle", "sized", {}, "(c) as shipped, recycling 10000 + jitter 5000", 32000, 50, 900.0),
    # the seed's 1 worker with recycling at 10000: what happens at the limit
    Soak("soak-seed", "seed", {}, "(b) seed: 1 uvicorn worker, recycling 10000", 12000, 50, 600.0),
]

# Low recycle limit (200 + jitter 100) to count failed requests per recycle. Without the edge
# unless the name says edge: the client talks to LiteLLM directly.
RECYCLES = [
    _recycle("rc-edge-gu", "edge + gunicorn 2w, 200+100 (the role's setup)", "gunicorn", edge=True),
    _recycle("rc-edge-uv", "edge + uvicorn 2w, 200+100", "uvicorn", edge=True),
    _recycle("rc-edge-gu-noka", "edge + gunicorn 2w, 200+100, client without keep-alive", "gunicorn", edge=True,
             keepalive=False),
    _recycle("rc-gu-control", "gunicorn 2w, no recycling (control)", "gunicorn",
             {"max_requests_before_restart": 0, "max_requests_before_restart_jitter": 0}),
    _recycle("rc-uv", "uvicorn 2w, 200+100", "uvicorn"),
    _recycle("rc-uv-ka1", "uvicorn 2w, 200+100, KEEPALIVE_TIMEOUT=1", "uvicorn",
             extra={"litellm_environment": {"KEEPALIVE_TIMEOUT": "1"}}),
    _recycle("rc-uv-ka75", "uvicorn 2w, 200+100, KEEPALIVE_TIMEOUT=75", "uvicorn",
             extra={"litellm_environment": {"KEEPALIVE_TIMEOUT": "75"}}),
    _recycle("rc-gu", "gunicorn 2w, 200+100 (graceful 600 s)", "gunicorn"),
    _recycle("rc-gu-grace30", "gunicorn 2w, 200+100, graceful 30 s (LiteLLM default)", "gunicorn",
             {"graceful_shutdown_seconds": 30, "stop_grace_period_seconds": 50}, {"litellm_request_timeout": 20}),
    _recycle("rc-gu-grace3600", "gunicorn 2w, 200+100, graceful 3600 s", "gunicorn",
             {"graceful_shutdown_seconds": 3600, "stop_grace_period_seconds": 3620}),
    _recycle("rc-gu-ka75", "gunicorn 2w, 200+100, KEEPALIVE_TIMEOUT=75 (gunicorn ignores it)", "gunicorn",
             extra={"litellm_environment": {"KEEPALIVE_TIMEOUT": "75"}}),
    _recycle("rc-gu-noka-control", "gunicorn 2w, no recycling, client without keep-alive (control)", "gunicorn",
             {"max_requests_before_restart": 0, "max_requests_before_restart_jitter": 0}, keepalive=False),
    _recycle("rc-gu-noka", "gunicorn 2w, 200+100, client without keep-alive", "gunicorn", keepalive=False),
    _recycle("rc-uv-noka", "uvicorn 2w, 200+100, client without keep-alive", "uvicorn", keepalive=False),
]
RECYCLE_BY_NAME = {r.name: r for r in RECYCLES}


# ---------------------------------------------------------------- changes under load
# The sized variant (c) deployed once per deploy strategy, then changed again and again while
# tests/tools/change_load.py keeps it busy through the edge; each change is one ansible-playbook
# run of deploy.yml with the change's variables as extra vars (a JSON file).

STRATEGIES = ("blue_green", "recreate")      # litellm_deploy_strategy; order rotated per repetition
DRIP_MODEL = "bench-drip"                    # what the streaming clients ask for
CHANGE_MODELS = COMMON_VARS["litellm_model_list"] + [{
    "model_name": DRIP_MODEL,                # ~10 SSE chunks, one every 500 ms (tests/fixtures/fake_openai)
    "litellm_params": {"model": "openai/drip-500", "api_base": "http://%s:8080/v1" % BACKEND_ALIAS,
                       "api_key": "fake-key-not-secret"},
}]
CHANGE_BASE_VARS = {"litellm_model_list": CHANGE_MODELS, "litellm_required_models": [MODEL]}
REBUILD_IMAGE = LITELLM_IMAGE + "-bench-rebuild"   # `docker tag` of LITELLM_IMAGE; removed in cleanup


def change_run_name(strategy):
    """changes-blue-green / changes-recreate: compose project litellm-bench-<that>. A hyphen for the
    strategy's underscore: the name goes into container names, which the edge resolves by DNS."""
    return "changes-" + strategy.replace("_", "-")


@dataclass(frozen=True)
class Change:
    name: str
    label: str
    vars: dict = field(default_factory=dict)      # role variables it sets (replacing their values)
    add_models: tuple = ()                         # entries appended to litellm_model_list
    add_required: tuple = ()                       # model names appended to litellm_required_models
    bad: bool = False      # must be refused: the playbook fails, and its variables do not stay
    traces: tuple = ()     # text that must not be in the live config.yaml / .env after a refusal
    gone_models: tuple = ()  # model names that must not be listed by /v1/models after a refusal


def _bench_model(name, model):
    return {"model_name": name, "litellm_params": {"model": model, "api_base": "http://%s:8080/v1" % BACKEND_ALIAS,
                                                   "api_key": "fake-key-not-secret"}}


# In this order; the good ones are cumulative (each keeps the variables of the ones before, as an
# inventory would); each bad one is applied on top of all good ones, alone.
CHANGES = (
    Change("model-added", "a model added", add_models=(_bench_model("bench-added", "openai/fake-chat"),)),
    Change("setting-changed", "litellm_cooldown_seconds 30 -> 45 (config.yaml only)", {"litellm_cooldown_seconds": 45}),
    Change("image-rebuilt", "base image re-tagged: the proxy image is rebuilt", {"litellm_base_image": REBUILD_IMAGE}),
    Change("env-secret-added", "a provider secret added to .env",
           {"litellm_provider_secrets": {"BENCH_PROVIDER_KEY": "bench-provider-key-not-secret"}}),
    Change("haproxy-cfg-changed", "litellm_edge_keepalive_seconds 60 -> 30 (haproxy.cfg only)",
           {"litellm_edge_keepalive_seconds": 30}),
    Change("bad-required-model", "bad: a new required model whose backend answers 503",
           add_models=(_bench_model("bench-broken", "openai/fail-503"),), add_required=("bench-broken",), bad=True,
           traces=("fail-503",), gone_models=("bench-broken",)),
    Change("bad-crash-loop", "bad: a database URL nothing listens on (LiteLLM exits on start)",
           {"litellm_database_url": "postgresql://x:y@127.0.0.1:1/x"}, bad=True, traces=("127.0.0.1:1/",)),
)
CHANGE_BY_NAME = {c.name: c for c in CHANGES}


def change_vars(changes, base=None):
    """The extra vars of the last of `changes` (in order): the good ones before it accumulate, bad
    ones before it are left out (they were refused), models and required models append."""
    base = CHANGE_BASE_VARS if base is None else base
    models, required, role_vars = list(base["litellm_model_list"]), list(base["litellm_required_models"]), {}
    for index, change in enumerate(changes):
        if change.bad and index != len(changes) - 1:
            continue
        role_vars.update(change.vars)
        models += list(change.add_models)
        required += list(change.add_required)
    role_vars.update(litellm_model_list=models, litellm_required_models=required)
    return role_vars


@dataclass(frozen=True)
class ChangePhase:
    repetitions: int
    strategies: tuple = STRATEGIES
    changes: tuple = tuple(c.name for c in CHANGES)
    variant: str = "sized"
    clients: int = 20
    stream_clients: int = 5
    think_ms: float = 200.0
    request_timeout_s: float = 30.0
    ready_timeout_s: float = 60.0      # the load's first 2xx
    baseline_s: float = 15.0           # the load alone, no change: what the same load shows without one
    settle_s: float = 5.0              # load kept running after the playbook ended
    playbook_timeout_s: float = 600.0  # one ansible-playbook run (1.5-4 min here under load)
    max_load_s: float = 660.0          # change_load.py --max-seconds: the playbook's bound + settle
    stop_timeout_s: float = 60.0       # for change_load.py to drain (request timeout + 1) and write
    idle_timeout_s: float = 60.0       # for the new proxy to settle (CPU idle) before the next change


MERGED_KEYS = ("litellm_sizing_overrides", "litellm_environment", "litellm_litellm_settings", "litellm_general_settings")


def merge_vars(*layers):
    """Role variables of several layers, later ones win; the dict-valued knobs merge key by key."""
    merged = {}
    for layer in layers:
        for key, value in layer.items():
            if key in MERGED_KEYS and isinstance(merged.get(key), dict):
                merged[key] = dict(merged[key], **value)
            else:
                merged[key] = value
    return merged


# ---------------------------------------------------------------- the plans

# the full and standard matrices: every variant but the ablation's own
MATRIX_VARIANTS = tuple(n for n, v in VARIANTS.items() if v.group != "ablation")


@dataclass(frozen=True)
class Plan:
    name: str
    variants: tuple
    repetitions: int
    concurrencies: tuple
    warmup_s: float
    duration_s: float
    max_requests: int          # per measurement (a cap; duration normally ends it)
    timeout_s: float
    pause_s: float             # between two measurements on one deployment
    soaks: tuple
    recycles: tuple
    ceiling: bool = True
    changes: ChangePhase = None    # the change-under-load phase (None: the plan has none)
    # more concurrencies for some variants: {variant: (concurrency, ...)}
    extra_concurrencies: dict = field(default_factory=dict)
    # True: every repetition deploys every variant again (variants rotated between repetitions);
    # False: one deployment per variant, its repetitions back to back (concurrency order rotated)
    redeploy_each_rep: bool = True


FULL = Plan(
    name="full",
    variants=MATRIX_VARIANTS,
    repetitions=3,
    concurrencies=(20, 100, 200),
    warmup_s=3.0,
    duration_s=20.0,
    max_requests=20000,
    timeout_s=60.0,
    pause_s=2.0,
    soaks=tuple(SOAKS),
    recycles=tuple(RECYCLES),
    changes=ChangePhase(repetitions=2),
)

QUICK = Plan(
    name="quick",
    variants=("shipped", "sized"),
    repetitions=1,
    concurrencies=(20,),
    warmup_s=2.0,
    duration_s=8.0,
    max_requests=2000,
    timeout_s=60.0,
    pause_s=1.0,
    soaks=(Soak("soak-sized-recycle", "sized",
                {"litellm_sizing_overrides": {"max_requests_before_restart": 500, "max_requests_before_restart_jitter": 250}},
                "(c) with recycling 500 + jitter 250 (quick)", 1500, 20, 120.0),),
    recycles=(_recycle("rc-gu", "gunicorn 2w, 200+100 (graceful 600 s)", "gunicorn", requests=1000, concurrency=20,
                       max_seconds=60.0),),
    # one good and one bad change per strategy (about 12 minutes)
    changes=ChangePhase(repetitions=1, changes=("model-added", "bad-crash-loop"), baseline_s=10.0),
)


# What one working session can afford (about 50 minutes on 2 vCPUs, plus 25 for the changes):
# every variant of FULL, 3 repetitions on one deployment each, 12 s per measurement; two
# 20,000-request soaks of (c) (recycling at 2000 + 1000 so that workers recycle several times
# during it, and none); the recycling experiments that compare the edge with talking to LiteLLM
# directly; every change under load with both deploy strategies, once.
STANDARD_RECYCLES = ("rc-edge-gu", "rc-gu", "rc-edge-uv", "rc-uv", "rc-edge-gu-noka", "rc-gu-noka", "rc-gu-control")
STANDARD = Plan(
    name="standard",
    variants=MATRIX_VARIANTS,
    repetitions=3,
    concurrencies=(20, 100, 200),
    warmup_s=3.0,
    duration_s=12.0,
    max_requests=20000,
    timeout_s=60.0,
    pause_s=1.0,
    soaks=(
        Soak("soak-sized-norecycle", "sized", NO_RECYCLING, "(c) without recycling", 20000, 50, 600.0),
        Soak("soak-sized-recycle", "sized",
             {"litellm_sizing_overrides": {"max_requests_before_restart": 2000, "max_requests_before_restart_jitter": 1000}},
             "(c) recycling every 2000 + jitter 1000 requests per worker", 20000, 50, 600.0),
    ),
    recycles=tuple(RECYCLE_BY_NAME[n] for n in STANDARD_RECYCLES),
    redeploy_each_rep=False,
    # every change, both strategies, once (about 25 minutes)
    changes=ChangePhase(repetitions=1),
)

# What each production feature costs per request (issue 16): LiteLLM as shipped, (c), and (c) minus
# one feature at a time, at c=20 and c=100 (and (c) at c=200: errors), 3 repetitions back to back on
# one deployment per variant; CPU over every container of the stack (about 40 minutes).
ABLATION = Plan(
    name="ablation",
    variants=("shipped", "sized", "no-edge", "nometrics", "metrics-main", "cache", "text-logs", "no-gc", "uv-2w",
              "no-recycle", "repeat", "repeat-cache"),
    repetitions=3,
    concurrencies=(20, 100),
    extra_concurrencies={"sized": (200,), "shipped": (200,)},
    warmup_s=3.0,
    duration_s=12.0,
    max_requests=20000,
    timeout_s=60.0,
    pause_s=1.0,
    soaks=(),
    recycles=(),
    ceiling=False,
    redeploy_each_rep=False,
)
# The issue-16 targets, side by side: (a), (c) as the role now ships it (no response cache), (c)
# with the cache and (c) without recycling (the ablation's one unexplained cost), at the
# ablation's loads, but each deployed again for every repetition with the variants rotated, so
# that drift of a shared host spreads over all of them instead of favouring whichever ran last
# (about 16 minutes).
TARGETS = replace(ABLATION, name="targets", variants=("shipped", "sized", "cache", "no-recycle"), redeploy_each_rep=True)
# What database mode costs per request (issue 11): (c) and (c) with the bundled Postgres, side by
# side at the ablation's loads, each deployed again for every repetition (about 12 minutes).
DATABASE = replace(ABLATION, name="database", variants=("sized", "database"), extra_concurrencies={}, redeploy_each_rep=True)
PLANS = {p.name: p for p in (FULL, STANDARD, QUICK, ABLATION, TARGETS, DATABASE)}
