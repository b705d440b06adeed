"""LiteLLM's database mode on the bundled Postgres (TEST-ONLY image litellm-db: Prisma's
WebAssembly engines behind tests/images/litellm-db/prisma-wasm; production keeps the official
image). The tests run on the controller (the instance shares its network and the engine) in file
order, against the stack converge.yml deployed with proxy_batch_write_at 10:

1. the first boot on an empty database (kept by converge.yml) migrated it and is timed against
   the healthcheck's start_period; the idempotence run changed nothing and migrated nothing;
2. virtual keys: spend, rpm limit, budget, a wrong key; a model stored through the API keeps its
   provider key encrypted; a play that would change the salt key is refused;
3. c=100 for 60 s: the proxy's connections in pg_stat_activity against the sizing model's pools,
   then a recycle of every worker, and the writes per request from pg_stat_statements;
4. the switch to proxy_batch_write_at 60 under load: two proxy sets on one database, no failed
   request, pools within max_connections, the new set migrates nothing; the same c=100 load
   again: writes per request compared, no spend lost by the switch or the recycle; memory per
   worker against the sizing model;
5. a release older than the database's schema (a ledger row from the future) is refused, on
   deploy and on an on-demand rollback, before anything changes;
6. spend queued when the proxy is stopped gracefully (last: it stops the proxy).

Every measurement goes to results/database-*.json and is printed (pytest -rP shows it)."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import openai
import pytest
import yaml
from gatewayops_stack import BASE, PROJECT, PROJECT_DIR, REPO, SCENARIO_DIR, read_env_file

RESULTS = Path(SCENARIO_DIR) / "results"
POSTGRES = f"{PROJECT}-postgres-1"
ENGINE_APP = "prisma-wasm-query-engine"   # the application_name our query engine's pool sets
CANARY = "sk-canary-provider-key-4c1d9e"  # a provider key that must never be stored in plain text
LOAD_SECONDS = 60
LOAD_CLIENTS = 100


def _record(name, data):
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"database-{name}.json").write_text(json.dumps(data, indent=2, sort_keys=True))
    print(f"database {name}: {json.dumps(data, sort_keys=True)}")


def psql(sql):
    return subprocess.check_output(["docker", "exec", POSTGRES, "psql", "-U", "litellm", "-d", "litellm", "-AtX",
                                    "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql], text=True, timeout=60).strip()


def master():
    return read_env_file(f"{PROJECT_DIR}/.env")["LITELLM_MASTER_KEY"]


def api(method, path, body=None, key=None, timeout=60):
    """(status, parsed JSON body) of one management API call."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method, headers={
        "Authorization": f"Bearer {key or master()}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def client(key):
    return openai.OpenAI(base_url=BASE + "/v1", api_key=key, max_retries=0, timeout=60)


def chat(key, model="fake-chat", text="hello"):
    return client(key).chat.completions.create(model=model, max_tokens=5, messages=[{"role": "user", "content": text}])


def new_key(**settings):
    """A virtual key; its alias gets a unique suffix (LiteLLM refuses a second key with an alias)."""
    if "key_alias" in settings:
        settings["key_alias"] = "%s-%s" % (settings["key_alias"], uuid.uuid4().hex[:8])
    status, body = api("POST", "/key/generate", settings)
    assert status == 200, body
    return body["key"]


def hashed(key):
    """How LiteLLM stores a virtual key (LiteLLM_VerificationToken.token, LiteLLM_SpendLogs.api_key)."""
    return hashlib.sha256(key.encode()).hexdigest()


def spend_rows(key):
    return int(psql(f"SELECT count(*) FROM \"LiteLLM_SpendLogs\" WHERE api_key = '{hashed(key)}'"))


def _ledger():
    """LiteLLM's migration ledger in short: applied migrations and when the last one finished."""
    count, last = psql("SELECT count(*), max(finished_at) FROM _prisma_migrations").split("\t")
    return {"applied": int(count), "last_finished_at": last}


def live_container():
    return f"{PROJECT}-{_colour()}-litellm-1"


def _colour():
    return (Path(PROJECT_DIR) / "live-colour").read_text().strip()


def inspect(container):
    return json.loads(subprocess.check_output(["docker", "inspect", container], text=True))[0]


def _time(stamp):
    """A Docker RFC 3339 time (nanoseconds) as an aware datetime."""
    stamp = stamp.rstrip("Z")
    whole, fraction = (stamp.split(".", 1) + [""])[:2]
    return datetime.datetime.fromisoformat(whole + "." + (fraction + "000000")[:6]).replace(tzinfo=datetime.timezone.utc)


def _log_lines(text):
    """(time, message) of each line of `docker logs --timestamps`."""
    for line in text.splitlines():
        stamp, message = (line.split(" ", 1) + [""])[:2]
        if stamp[:4].isdigit():
            yield _time(stamp), message


def boot_figures(log_text, started_at):
    """Seconds from the container's start to the server's socket (gunicorn or uvicorn binds it
    once LiteLLM's database setup, migrations included, is over) and to the last worker's
    'Application startup complete' (serving)."""
    start = _time(started_at)
    figures = {}
    for when, message in _log_lines(log_text):
        offset = round((when - start).total_seconds(), 1)
        if ("Listening at:" in message or "Uvicorn running on" in message) and "migrated_s" not in figures:
            figures["migrated_s"] = offset
        if "Application startup complete" in message:
            figures["serving_s"] = offset
    return figures


def litellm_compose():
    """The proxy service as the live colour runs it (its copy of litellm.yaml)."""
    return yaml.safe_load((Path(PROJECT_DIR) / f"{PROJECT}-{_colour()}" / "compose.yaml").read_text())["services"]["litellm"]


def sizing():
    """What the role sized and rendered: workers, pool per worker, max_connections, start_period."""
    config = yaml.safe_load((Path(PROJECT_DIR) / "config.yaml").read_text())
    compose = yaml.safe_load((Path(PROJECT_DIR) / "compose.yaml").read_text())
    command = compose["services"]["postgres"]["command"]
    service = litellm_compose()
    workers = int(service["command"][service["command"].index("--num_workers") + 1])
    return {"workers": workers,
            "pool": int(config["general_settings"]["database_connection_pool_limit"]),
            "max_connections": int(next(c.split("=", 1)[1] for c in command if str(c).startswith("max_connections="))),
            "start_period_s": int(str(service["healthcheck"]["start_period"]).rstrip("s")),
            "batch_write_at": int(config["general_settings"]["proxy_batch_write_at"])}


class Sampler(threading.Thread):
    """pg_stat_activity every 0.5 s: the proxy's connections (our engine's application_name) and
    every client connection, the highest of each, and any 'too many clients' refusal."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.max_engine = self.max_total = self.samples = 0

    def run(self):
        while not self.stop.is_set():
            row = psql("SELECT count(*) FILTER (WHERE application_name = '%s'), count(*) FROM pg_stat_activity "
                       "WHERE backend_type = 'client backend'" % ENGINE_APP)
            engine, total = (int(v) for v in row.split("\t"))
            self.max_engine, self.max_total = max(self.max_engine, engine), max(self.max_total, total)
            self.samples += 1
            self.stop.wait(0.5)

    def result(self):
        self.stop.set()
        self.join(10)
        return {"max_proxy_connections": self.max_engine, "max_client_connections": self.max_total, "samples": self.samples}


def run_load(label, key, seconds, clients, stream_clients=0, stop_file=None):
    """tests/tools/change_load.py (openai SDK clients) against the edge; its JSON summary."""
    out = RESULTS / f"load-{label}.json"
    cmd = ["python", str(REPO / "tests/tools/change_load.py"), "--base-url", BASE + "/v1", "--api-key-env",
           "GATEWAYOPS_LOAD_KEY", "--clients", str(clients), "--stream-clients", str(stream_clients),
           "--stream-model", "fake-chat", "--max-seconds", str(seconds), "--request-timeout", "30",
           "--out", str(out), "--label", label]
    if stop_file:
        cmd += ["--stop-file", str(stop_file)]
    return subprocess.Popen(cmd, env=dict(os.environ, GATEWAYOPS_LOAD_KEY=key)), out


def statement_writes():
    """Calls of INSERT/UPDATE/DELETE statements since the last reset, and the rows they wrote, by kind."""
    kinds = {}
    for line in psql("SELECT lower(substring(query from '^\\s*([A-Za-z]+)')), sum(calls), sum(rows) FROM pg_stat_statements "
                     "WHERE query ~* '^\\s*(insert|update|delete)' GROUP BY 1").splitlines():
        kind, calls, rows = line.split("\t")
        kinds[kind] = {"calls": int(calls), "rows": int(rows)}
    return kinds


def measure_writes(label):
    """c=100 for 60 s with a virtual key: pool use and memory under load, then every worker recycled
    (gunicorn's graceful HUP: new workers, the old ones finish and exit as a request-count recycle
    does, flushing their queued spend on the way out), then the database writes per request
    counted from pg_stat_statements and the spend rows against the requests answered."""
    figures = sizing()
    psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    psql("SELECT pg_stat_statements_reset()")
    commits_before = int(psql("SELECT xact_commit FROM pg_stat_database WHERE datname = 'litellm'"))
    key = new_key(key_alias=f"load-{label}")
    sampler = Sampler()
    sampler.start()
    process, out = run_load(label, key, LOAD_SECONDS, LOAD_CLIENTS)
    process.wait(timeout=LOAD_SECONDS + 120)
    load = json.loads(out.read_text())
    pool = sampler.result()
    memory = {"processes": rss_by_process(live_container()), "container_mib": container_memory_mib(live_container())}
    recycled = time.monotonic()
    subprocess.run(["docker", "kill", "--signal", "HUP", live_container()], check=True, capture_output=True)
    while spend_rows(key) < load["ok"] and time.monotonic() - recycled < 30:
        time.sleep(1)
    flushed_after_s = round(time.monotonic() - recycled, 1)
    kinds = statement_writes()
    calls, rows = sum(k["calls"] for k in kinds.values()), sum(k["rows"] for k in kinds.values())
    commits = int(psql("SELECT xact_commit FROM pg_stat_database WHERE datname = 'litellm'")) - commits_before
    result = dict(figures, **pool, requests=load["requests"], ok=load["ok"], failed=load["failed"],
                  failures_by_kind=load["failures_by_kind"], failure_samples=load["failure_samples"],
                  write_statements=calls, rows_written=rows, writes_by_kind=kinds, commits=commits, spend_rows=spend_rows(key),
                  spend_rows_after_recycle_s=flushed_after_s,
                  write_statements_per_request=round(calls / max(load["ok"], 1), 4),
                  commits_per_request=round(commits / max(load["ok"], 1), 4))
    _record(f"load-batch-{figures['batch_write_at']}", result)
    result["memory"] = memory
    return result


def container_memory_mib(container):
    """The container's memory use as the engine accounts it (cgroup, shared pages counted once)."""
    usage = subprocess.check_output(["docker", "stats", "--no-stream", "--format", "{{.MemUsage}}", container], text=True)
    amount = usage.split("/", maxsplit=1)[0].strip()
    number, unit = float(re.match(r"[0-9.]+", amount).group()), re.sub(r"[0-9. ]", "", amount)
    return round(number * {"B": 1 / 2 ** 20, "KiB": 1 / 1024, "MiB": 1, "GiB": 1024}[unit])


def rss_by_process(container):
    """(pid, ppid, name, argv, RSS MiB) of every process in the container, read from /proc."""
    script = ("import os, json\nout = []\nfor pid in filter(str.isdigit, os.listdir('/proc')):\n"
              "    try:\n        status = open('/proc/%s/status' % pid).read()\n"
              "        argv = open('/proc/%s/cmdline' % pid).read().split(chr(0))\n    except OSError:\n        continue\n"
              "    f = dict(l.split(':', 1) for l in status.splitlines() if ':' in l)\n"
              "    out.append([int(pid), int(f['PPid']), f['Name'].strip(), argv[:4],"
              " int(f.get('VmRSS', '0 kB').split()[0]) / 1024])\nprint(json.dumps(out))")
    return json.loads(subprocess.check_output(["docker", "exec", container, "python3", "-c", script], text=True))


# ---------------------------------------------------------------- 1. first boot, idempotence

def test_the_first_boot_migrated_an_empty_database_within_the_start_period():
    inspected = json.loads((RESULTS / "first-boot-inspect.json").read_text())[0]
    figures = boot_figures((RESULTS / "first-boot.log").read_text(), inspected["State"]["StartedAt"])
    container = live_container()
    shipped = int(subprocess.check_output(["docker", "exec", container, "python3", "-c",
                                           "import litellm_proxy_extras, pathlib; print(sum(1 for d in "
                                           "(pathlib.Path(litellm_proxy_extras.__file__).parent / 'migrations')"
                                           ".iterdir() if d.is_dir()))"], text=True))
    applied = int(psql("SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL"))
    status, ready = api("GET", "/health/readiness")
    result = dict(figures, migrations_shipped=shipped, migrations_applied=applied, readiness=ready, **sizing())
    _record("first-boot", result)
    assert status == 200 and ready["db"] == "connected", ready
    assert applied == shipped > 100, result
    assert "serving_s" in figures, "no 'Application startup complete' in the first boot's log"
    # the start_period leaves the measured first boot at least twice over (slower CPUs, bigger databases)
    assert figures["serving_s"] * 2 <= result["start_period_s"], result


def test_the_second_converge_replaced_nothing_and_migrated_nothing():
    inspected = json.loads((RESULTS / "first-boot-inspect.json").read_text())[0]
    assert inspect(live_container())["Id"] == inspected["Id"], "the idempotence run replaced the proxy container"
    last = psql("SELECT max(finished_at) AT TIME ZONE 'UTC' FROM _prisma_migrations")
    finished = datetime.datetime.fromisoformat(last).replace(tzinfo=datetime.timezone.utc)
    first_boot_end = max(entry[0] for entry in _log_lines((RESULTS / "first-boot.log").read_text()))
    assert finished <= first_boot_end, (finished, first_boot_end)


# ---------------------------------------------------------------- 2. keys, spend, credentials

def test_a_virtual_key_spends_is_limited_and_a_wrong_key_is_refused():
    """rpm_limit is counted by each worker process (no Redis here): with W workers the limit answers
    429 at the latest after W x rpm_limit requests within the minute (README "Known limits")."""
    rpm, workers = 3, sizing()["workers"]
    key = new_key(key_alias="molecule-rpm", rpm_limit=rpm, max_budget=100)
    answered, limited = 0, None
    while limited is None and answered <= workers * rpm:
        try:
            assert chat(key, text=f"rpm {answered}").choices[0].message.content
            answered += 1
        except openai.RateLimitError as err:
            limited = err
    assert limited is not None and limited.status_code == 429, f"{answered} requests answered, no 429"
    assert rpm <= answered <= workers * rpm, answered
    with pytest.raises(openai.AuthenticationError) as refused:
        chat("sk-not-a-key-of-this-proxy")
    assert refused.value.status_code == 401
    # spend reaches the database with the batch writer (proxy_batch_write_at 10 here): the spend
    # rows and the key's spend (each worker's update queue) on their own flushes
    deadline = time.monotonic() + 60
    while True:
        status, info = api("GET", f"/key/info?key={key}")
        rows = psql(f"SELECT count(*), coalesce(sum(spend), 0) FROM \"LiteLLM_SpendLogs\" WHERE api_key = '{hashed(key)}'"
                    " AND status = 'success'")
        count, total = rows.split("\t")
        if (int(count) == answered and abs(info["info"]["spend"] - float(total)) < 1e-9) or time.monotonic() > deadline:
            break
        time.sleep(2)
    _record("key", {"answered_before_429": answered, "workers": workers, "rpm_limit": rpm, "spend_rows": int(count),
                    "spend_rows_total": float(total), "key_info_spend": info["info"]["spend"]})
    assert status == 200 and int(count) == answered, rows
    assert float(total) > 0 and abs(info["info"]["spend"] - float(total)) < 1e-9, (info["info"], rows)


def test_an_exhausted_budget_is_refused_with_litellms_budget_error():
    """LiteLLM 1.108.7 answers an exhausted budget with 422 and type budget_exceeded
    (litellm.budget_exceeded_status_code; 429 before 1.10x)."""
    key = new_key(key_alias="molecule-budget", max_budget=0.001)
    chat(key, text="the one request this budget allows")   # costs about 0.02: more than the budget
    deadline, error = time.monotonic() + 60, None
    while error is None and time.monotonic() < deadline:
        try:
            chat(key, text="over budget")
            time.sleep(1)
        except openai.APIStatusError as err:
            error = err
    assert error is not None, "the key kept answering after its budget was spent"
    body = error.response.json()["error"]
    _record("budget", {"status": error.status_code, "error": body})
    assert error.status_code == 422 and body["type"] == "budget_exceeded", body
    assert "Budget has been exceeded" in body["message"], body


def test_a_model_stored_through_the_api_keeps_its_provider_key_encrypted():
    status, body = api("POST", "/model/new", {"model_name": "db-chat", "litellm_params": {
        "model": "openai/fake-chat", "api_base": "http://fake-openai:8080/v1", "api_key": CANARY}})
    assert status == 200, body
    _every_worker_serves("db-chat")
    stored = psql("SELECT litellm_params::text FROM \"LiteLLM_ProxyModelTable\" WHERE model_name = 'db-chat'")
    assert stored and CANARY not in stored, stored
    dump = subprocess.run(["docker", "exec", POSTGRES, "pg_dump", "-U", "litellm", "litellm"],
                          capture_output=True, text=True, timeout=120, check=True).stdout
    assert CANARY not in dump and "LiteLLM_ProxyModelTable" in dump


def _every_worker_serves(model, tries=12):
    """Workers load models stored in the database on their own schedule: wait until 6 requests in a
    row (spread over the workers) succeed."""
    deadline, streak = time.monotonic() + 90, 0
    while streak < tries // 2:
        try:
            chat(master(), model=model, text=f"stored model {streak}")
            streak += 1
        except openai.APIStatusError:
            assert time.monotonic() < deadline, f"{model} is not served by every worker after 90 s"
            streak = 0
            time.sleep(2)


def test_a_play_that_would_change_the_salt_key_is_refused_before_anything_changes():
    env_before = (Path(PROJECT_DIR) / ".env").read_bytes()
    done = subprocess.run(
        ["ansible-playbook", "-i", os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"]),
         os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "converge.yml"),
         "-e", "litellm_salt_key=sk-another-salt-key-0123456789abcdef", "--tags", "litellm_configure"],
        capture_output=True, text=True, timeout=600, check=False)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-3000:]
    assert "LITELLM_SALT_KEY" in output and "stored in the LiteLLM database unreadable" in output, output[-3000:]
    assert "sk-another-salt-key-0123456789abcdef" not in output
    assert (Path(PROJECT_DIR) / ".env").read_bytes() == env_before


# ---------------------------------------------------------------- 3. pools and writes at batch 10

@pytest.fixture(scope="module")
def batch_10():
    return measure_writes("batch-10")


def test_pools_hold_under_a_hundred_clients(batch_10):
    bound = batch_10["workers"] * batch_10["pool"]
    assert batch_10["batch_write_at"] == 10
    assert batch_10["failed"] == 0 and batch_10["ok"] > 0, batch_10["failure_samples"]
    assert 0 < batch_10["max_proxy_connections"] <= bound, batch_10
    assert batch_10["max_client_connections"] < batch_10["max_connections"], batch_10


# ---------------------------------------------------------------- 4. the switch to batch 60, two sets

@pytest.fixture(scope="module")
def switch_to_60(batch_10):
    colour, ledger_before = _colour(), _ledger()
    key = new_key(key_alias="switch-load")
    stop = RESULTS / "switch-stop"
    stop.unlink(missing_ok=True)
    sampler = Sampler()
    sampler.start()
    process, out = run_load("switch-to-batch-60", key, 900, 20, stream_clients=4, stop_file=stop)
    time.sleep(5)
    start = time.monotonic()
    done = subprocess.run(
        ["ansible-playbook", "-i", os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"]),
         os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "converge.yml"), "-e", "litellm_batch_write_seconds=60"],
        capture_output=True, text=True, timeout=1200, check=False)
    seconds = round(time.monotonic() - start, 1)
    time.sleep(5)
    stop.touch()
    process.wait(timeout=120)
    load = json.loads(out.read_text())
    container = live_container()
    inspected = inspect(container)
    log = subprocess.run(["docker", "logs", "--timestamps", container], capture_output=True, text=True, check=True)
    result = dict(sizing(), **sampler.result(), playbook_rc=done.returncode, playbook_seconds=seconds,
                  colour_before=colour, colour_after=_colour(), requests=load["requests"], failed=load["failed"],
                  longest_gap_without_2xx_s=load["longest_gap_without_2xx_s"], failure_samples=load["failure_samples"],
                  second_boot=boot_figures(log.stdout + log.stderr, inspected["State"]["StartedAt"]),
                  ledger_before=ledger_before, ledger_after=_ledger(), ok=load["ok"])
    _record("switch", result)
    assert done.returncode == 0, done.stdout[-4000:]
    result["key"] = key
    return result


def test_a_switch_runs_two_sets_on_one_database_without_a_failed_request(switch_to_60):
    both = 2 * switch_to_60["workers"] * switch_to_60["pool"]
    assert switch_to_60["colour_after"] != switch_to_60["colour_before"]
    assert switch_to_60["batch_write_at"] == 60
    assert switch_to_60["failed"] == 0 and switch_to_60["requests"] > 0, switch_to_60["failure_samples"]
    assert switch_to_60["max_proxy_connections"] <= both, switch_to_60
    assert switch_to_60["max_client_connections"] < switch_to_60["max_connections"], switch_to_60
    # the new set found the schema migrated and applied nothing
    assert switch_to_60["ledger_after"] == switch_to_60["ledger_before"], switch_to_60


def test_the_stored_model_survives_a_new_container(switch_to_60):
    _every_worker_serves("db-chat")


@pytest.fixture(scope="module")
def batch_60(switch_to_60):
    return measure_writes("batch-60")


def test_spend_is_batched_at_both_intervals_and_a_recycle_loses_none(batch_10, switch_to_60, batch_60):
    """Spend logs are written in batches at either proxy_batch_write_at: far fewer write statements
    than requests. The interval itself barely moves the count (0.029 vs 0.028 and 0.030 vs 0.025
    per request in two runs, 4-17 %): LiteLLM 1.108.7 queues spend logs and per-entity spend
    updates whatever the interval, and one busy key's updates collapse into one per flush at 10 s
    already. What the interval does change is how much queued spend a crash can lose; a recycle or
    a stop loses none (below)."""
    assert batch_60["failed"] == 0 and batch_60["max_proxy_connections"] <= batch_60["workers"] * batch_60["pool"]
    for run in (batch_10, batch_60):
        # every request answered left its spend row, written when the recycled workers exited
        assert run["spend_rows"] == run["ok"], {k: v for k, v in run.items() if k != "memory"}
        assert run["write_statements_per_request"] < 0.1, run["writes_by_kind"]
    # the switch's load: the old set flushed its queue when it stopped, the new set at the recycle
    switch_rows = spend_rows(switch_to_60["key"])
    assert switch_rows == switch_to_60["ok"], (switch_rows, switch_to_60["ok"])
    reduction = 1 - batch_60["write_statements_per_request"] / batch_10["write_statements_per_request"]
    _record("batch-writes", {"write_statements_per_request_10": batch_10["write_statements_per_request"],
                             "write_statements_per_request_60": batch_60["write_statements_per_request"],
                             "commits_per_request_10": batch_10["commits_per_request"],
                             "commits_per_request_60": batch_60["commits_per_request"],
                             "spend_rows_after_recycle_s": [batch_10["spend_rows_after_recycle_s"],
                                                            batch_60["spend_rows_after_recycle_s"]],
                             "switch_requests": switch_to_60["ok"], "switch_spend_rows": switch_rows,
                             "reduction": round(reduction, 3)})


def test_memory_per_worker_stays_within_the_sizing_models_budget(batch_60):
    """RSS of each worker and of the query engine it spawned, right after c=100 for 60 s (about
    3,000 requests per run, 13,000 since the set started counting the earlier loads), against the
    model's database-mode budget per worker; the container's cgroup use against its limit."""
    from ansible_collections.gatewayops.litellm.plugins.filter import sizing as model
    processes = batch_60["memory"]["processes"]
    engines = [p for p in processes if p[2] == "node"]
    parents = {p[1] for p in engines}
    workers = [p for p in processes if p[0] in parents]
    per_worker = [w[4] + sum(e[4] for e in engines if e[1] == w[0]) for w in workers]
    limit = int(str(litellm_compose()["mem_limit"]).rstrip("m"))
    result = {"processes": processes, "worker_rss_mib": [round(w[4]) for w in workers],
              "engine_rss_mib": [round(e[4]) for e in engines], "worker_with_engine_mib": [round(v) for v in per_worker],
              "container_mib": batch_60["memory"]["container_mib"], "container_limit_mib": limit,
              "model_worker_budget_mib": model.WORKER_MEMORY_DB_MB}
    _record("memory", result)
    assert len(workers) == batch_60["workers"], result
    assert max(per_worker) <= model.WORKER_MEMORY_DB_MB / 2, result
    assert batch_60["memory"]["container_mib"] < limit, result


# ---------------------------------------------------------------- 5. a release older than the schema

FUTURE = "29990101000000_added_by_a_newer_litellm"


def _playbook(*args):
    done = subprocess.run(["ansible-playbook", "-i", os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"]), *args],
                          capture_output=True, text=True, timeout=900, check=False)
    return done.returncode, done.stdout + done.stderr


@pytest.fixture()
def schema_from_the_future(switch_to_60):
    """A ledger row no release of ours ships, as a newer LiteLLM's migration would leave it."""
    psql("INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, finished_at, applied_steps_count) "
         f"VALUES ('molecule-future', 'none', '{FUTURE}', now(), now(), 1)")
    yield
    psql("DELETE FROM _prisma_migrations WHERE id = 'molecule-future'")


def test_a_release_older_than_the_schema_is_refused_on_deploy_and_on_rollback(schema_from_the_future):
    container, files = inspect(live_container())["Id"], {
        name: (Path(PROJECT_DIR) / name).read_bytes() for name in ("config.yaml", "litellm.yaml", ".env")}
    sets = sorted(p.name for p in (Path(PROJECT_DIR) / "backups").iterdir())
    assert sets, "the switch to batch 60 took no backup set"
    refusals = {}
    for path, args in (("deploy", [os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "converge.yml"),
                                   "-e", "litellm_batch_write_seconds=30"]),
                       ("rollback", [str(REPO / "playbooks" / "rollback.yml"), "-e", "litellm_target_hosts=all"])):
        rc, output = _playbook(*args)
        refusals[path] = rc
        assert rc != 0, output[-3000:]
        assert "The database was migrated by a newer LiteLLM" in output and FUTURE in output, output[-3000:]
    _record("schema-guard", {"refused": refusals, "future_migration": FUTURE})
    # nothing changed: the same proxy container, the same files, no new backup set, nothing restored
    assert inspect(live_container())["Id"] == container
    assert {name: (Path(PROJECT_DIR) / name).read_bytes() for name in files} == files
    assert sorted(p.name for p in (Path(PROJECT_DIR) / "backups").iterdir()) == sets


# ---------------------------------------------------------------- 6. spend queued at a graceful stop (last)

def test_spend_queued_at_a_graceful_stop(switch_to_60):
    """Requests answered just before a graceful stop, against the spend rows written. The batch
    writer runs every 60 s here, so these requests' spend is still queued when the stop begins;
    LiteLLM 1.108.7 flushes its spend queues on shutdown (proxy_server.py:
    flush_spend_counters_on_shutdown, _flush_spend_logs_queue_on_shutdown), so none is lost."""
    key = new_key(key_alias="graceful-stop")
    made = 20
    for n in range(made):
        chat(key, text=f"before the stop {n}")
    subprocess.run(["docker", "stop", live_container()], check=True, capture_output=True, timeout=300)
    written = spend_rows(key)
    _record("graceful-stop", {"requests": made, "spend_rows": written, "lost": made - written})
    assert written == made
