"""Monitoring against the real thing (litellm_monitoring_enabled in this scenario): Prometheus
scrapes LiteLLM's separate metrics process and the edge's exporter with the shipped rules and a
time-compressed copy of them loaded (tests/tools/fast_rules.py), Alertmanager posts to a receiver
on the fake backend, LiteLLM's Slack alerting posts to another.

What is measured (the outage's pending, firing and resolved times) is written to
<scenario dir>/results/monitoring.json for docs/observability.md."""

from __future__ import annotations

import collections
import json
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
import testinfra.utils.ansible_runner
import yaml
from gatewayops_stack import BASE, PROJECT, PROJECT_DIR, REPO, SCENARIO_DIR, STACK, proxy_project
from gatewayops_stack import master_key as _master_key

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts("all")

PROMETHEUS = f"http://127.0.0.1:{STACK['litellm_prometheus_port']}"
ALERTMANAGER = f"http://127.0.0.1:{STACK['litellm_alertmanager_port']}"
RESULTS = f"{SCENARIO_DIR}/results"
DASHBOARD = REPO / "roles" / "proxy" / "files" / "grafana" / "litellm-dashboard.json"
RULE_FILES = [REPO / "roles" / "proxy" / "files" / "prometheus" / name for name in ("litellm-rules.yml", "litellm-edge-rules.yml")]
# series that exist only after an event this scenario does not cause on purpose
MAY_BE_EMPTY = {"litellm:deployment_cooldowns:increase10m"}


def _http(url, body=None, key=None, timeout=30):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _json(url, body=None, key=None):
    status, data = _http(url, body, key)
    assert status == 200, (url, status, data[:300])
    return json.loads(data)


def _query(expr):
    return _json(f"{PROMETHEUS}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))["data"]["result"]


def _chat(key, model, text):
    status, _data = _http(f"{BASE}/v1/chat/completions", {"model": model, "messages": [{"role": "user", "content": text}]}, key, 60)
    return status


def _wait(what, predicate, timeout, interval=2.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(interval)


def _ip(host, container, network):
    return host.check_output("docker inspect --format '{{(index .NetworkSettings.Networks \"%s\").IPAddress}}' %s",
                             network, container)


def _proxy_container(host):
    return f"{proxy_project(host)}-litellm-1"


def _metrics_process(host):
    """LiteLLM's separate metrics process of the live proxy (never published: its address on the
    stack's frontend network, which the host routes to)."""
    ip = _ip(host, _proxy_container(host), f"{PROJECT}_frontend")
    status, data = _http(f"http://{ip}:4002/metrics/")
    assert status == 200, status
    return data.decode()


def _counter(text, name, **labels):
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _hooks(host, name):
    ip = _ip(host, STACK["gatewayops_fake_backend"], STACK["gatewayops_network"])
    return f"http://{ip}:8080/hooks/{name}", f"http://{ip}:8080/outages"


def _save(name, data):
    os.makedirs(RESULTS, exist_ok=True)
    path = f"{RESULTS}/{name}"
    existing = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            existing = json.load(handle)
    existing.update(data)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(existing, handle, indent=2, sort_keys=True)


@pytest.fixture(scope="module")
def key(host):
    return _master_key(host)


@pytest.fixture(scope="module")
def traffic(key):
    """Every kind of request the rules and the dashboard look at: answers, a cache hit, provider
    errors, embeddings; then long enough for two scrapes and rule evaluations."""
    run = uuid.uuid4().hex[:8]
    for i in range(20):
        assert _chat(key, "fake-chat", f"monitoring {run} {i}") == 200
    for _attempt in range(2):  # the same request twice: the second is a cache hit
        assert _chat(key, "fake-chat", f"cached {run}") == 200
        time.sleep(1)
    for i in range(4):
        assert _chat(key, "fake-fail-500", f"fail {run} {i}") == 500
    assert _http(f"{BASE}/v1/embeddings", {"model": "fake-embedding", "input": f"emb {run}"}, key)[0] == 200
    return run


def test_prometheus_scrapes_the_live_proxy_and_the_edge(host):
    def targets():
        active = _json(f"{PROMETHEUS}/api/v1/targets")["data"]["activeTargets"]
        by_job = {}
        for target in active:
            by_job.setdefault(target["labels"]["job"], []).append(target)
        ready = all(by_job.get(job) and all(t["health"] == "up" for t in by_job[job])
                    for job in ("litellm", "litellm-edge", "prometheus", "alertmanager"))
        return by_job if ready else None
    by_job = _wait("every scrape target up", targets, 60)
    ip = _ip(host, _proxy_container(host), f"{PROJECT}_frontend")
    # the live colour only: the other one is stopped, DNS no longer names it
    assert [t["labels"]["instance"] for t in by_job["litellm"]] == [f"{ip}:4002"]
    assert by_job["litellm-edge"][0]["labels"]["instance"] == "edge:8405"


def test_the_shipped_rules_and_their_fast_copy_are_loaded_and_healthy():
    groups = _json(f"{PROMETHEUS}/api/v1/rules")["data"]["groups"]
    names = {group["name"] for group in groups}
    assert {"litellm.recording", "litellm.alerts", "litellm-edge.recording", "litellm-edge.alerts",
            "litellm.recording.fast", "litellm.alerts.fast"} <= names, names
    broken = [(rule["name"], rule.get("lastError")) for group in groups for rule in group["rules"] if rule["health"] == "err"]
    assert broken == []


# run in the proxy container: the gunicorn workers, the processes whose parent runs the same command line
WORKERS_SCRIPT = """
import os
procs = {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        stat = open("/proc/%s/stat" % pid).read()
        procs[int(pid)] = (int(stat.rsplit(")", 1)[1].split()[1]), open("/proc/%s/cmdline" % pid, "rb").read())
    except OSError:
        pass
print(" ".join(str(pid) for pid, (ppid, cmd) in sorted(procs.items()) if ppid in procs and procs[ppid][1] == cmd))
"""


def _requests_counted(host):
    return _counter(_metrics_process(host), "litellm_proxy_total_requests_metric_total", requested_model="fake-chat")


def _send_and_count(host, key, label, count, before):
    for i in range(count):
        assert _chat(key, "fake-chat", f"{label} {i}") == 200

    def counted():
        value = _requests_counted(host)
        return value if value >= before + count else None

    # LiteLLM's callback runs after the answer was sent
    return _wait(f"{count} requests counted", counted, 20, 1)


def test_counters_are_summed_over_workers_and_survive_a_worker_exit(host, key):
    container = _proxy_container(host)

    def workers():
        return host.check_output("docker exec %s python3 -c %s", container, WORKERS_SCRIPT).split()

    def sample_pids():
        return set(re.findall(r"counter_(\d+)\.db", host.check_output("docker exec %s ls /tmp/prometheus-multiproc", container)))

    run = uuid.uuid4().hex[:8]
    first_workers = workers()
    assert len(first_workers) >= 2, first_workers
    before = _requests_counted(host)
    after = _send_and_count(host, key, f"count {run}", 30, before)
    assert after == before + 30
    # more than one worker wrote samples, and one scrape sums them
    assert len(set(first_workers) & sample_pids()) >= 2, (first_workers, sample_pids())
    # a worker exits as recycling after max_requests makes it do; gunicorn starts another
    victim = first_workers[0]
    host.check_output("docker exec %s python3 -c %s", container, f"import os, signal; os.kill({victim}, signal.SIGTERM)")

    def replacement():
        now = workers()
        return now if victim not in now and len(now) == len(first_workers) else None

    replaced = _wait("a replacement worker", replacement, 60)
    kept = _requests_counted(host)
    assert kept >= after, "the counter dropped when a worker exited"
    final = _send_and_count(host, key, f"count-after {run}", 30, kept)
    assert final == kept + 30
    _save("monitoring.json", {"counter": {"before": before, "after_30": after, "after_worker_exit": kept, "after_30_more": final,
                                          "workers_before": first_workers, "workers_after": replaced,
                                          "sample_file_pids": sorted(sample_pids())}})


def test_labels_are_bounded_and_nothing_is_published_beyond_loopback(host, traffic, key):
    text = _metrics_process(host)
    for label in ("end_user", "hashed_api_key", "api_key_alias", "user_agent", "client_ip", "user_email"):
        assert f'{label}="' not in text, label
    # the proxy port's /metrics still needs a key; the metrics process and the edge exporter are not published
    assert _http(f"{BASE}/metrics/")[0] == 401
    assert _http(f"{BASE}/metrics/", key=key)[0] == 200
    edge_ports = host.check_output("docker port %s-edge-1", PROJECT)
    assert "8405" not in edge_ports and "4002" not in host.check_output("docker port %s", _proxy_container(host))
    for service in ("prometheus", "alertmanager"):
        published = host.check_output("docker port %s-%s-1", PROJECT, service).splitlines()
        assert published and all(line.split(" -> ")[1].startswith("127.0.0.1:") for line in published), published


def _recording_rules():
    return [rule["record"] for path in RULE_FILES for group in yaml.safe_load(path.read_text())["groups"]
            for rule in group["rules"] if "record" in rule]


def _panel_queries():
    dashboard = json.loads(DASHBOARD.read_text())
    return [(panel["title"], target["expr"]) for panel in dashboard["panels"] for target in panel.get("targets", [])]


def test_every_recording_rule_and_dashboard_query_returns_data(traffic):
    queries = [(f"rule {name}", name) for name in _recording_rules() if name not in MAY_BE_EMPTY]
    queries += [(f"panel {title}", expr) for title, expr in _panel_queries() if not any(n in expr for n in MAY_BE_EMPTY)]
    missing = queries
    deadline = time.monotonic() + 90
    while missing and time.monotonic() < deadline:
        time.sleep(5)
        missing = [(what, expr) for what, expr in missing if not _query(expr)]
    assert missing == [], "no data for: %s" % missing


class SteadyTraffic:
    """Chat requests to one model from a few threads until stopped, at a rate that does not depend
    on how long a failing request takes (the alert needs more than 0.1 req/s in every window)."""

    def __init__(self, key, model, threads=3, pause_s=0.2):
        self.key, self.model, self.pause_s = key, model, pause_s
        self.stop = threading.Event()
        self.statuses = collections.Counter()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def _run(self, index):
        run = uuid.uuid4().hex[:8]
        sent = 0
        while not self.stop.is_set():
            body = {"model": self.model, "messages": [{"role": "user", "content": f"steady {run} {index} {sent}"}],
                    "num_retries": 0}
            status, _data = _http(f"{BASE}/v1/chat/completions", body, self.key, 30)
            self.statuses[status] += 1
            sent += 1
            self.stop.wait(self.pause_s)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(35)


def test_a_model_outage_fires_an_alert_that_reaches_the_receivers_and_resolves(host, key):
    alertmanager_hook, outages = _hooks(host, "alertmanager")
    slack_hook, _outages = _hooks(host, "slack")
    for hook in (alertmanager_hook, slack_hook):
        assert _http(hook + "/reset", {})[0] == 200
    alert = "LiteLLMHighErrorRatioFast"

    def state():
        for item in _json(f"{PROMETHEUS}/api/v1/alerts")["data"]["alerts"]:
            if item["labels"]["alertname"] == alert and item["labels"].get("requested_model") == "fake-outage":
                return item["state"]
        return "inactive"

    def received(status):
        for record in _json(alertmanager_hook)["records"]:
            for item in record["body"].get("alerts", []):
                if item["labels"].get("alertname") == alert and item["status"] == status:
                    return record["at"]
        return None

    def watch(timeline, seen, start, until, timeout, what):
        deadline = time.monotonic() + timeout
        while not until():
            assert time.monotonic() < deadline, f"{what}; alert states seen: {seen}, timeline {timeline}"
            current = state()
            if not seen or seen[-1] != current:
                seen.append(current)
                timeline.setdefault(current, round(time.time() - start, 1))
            time.sleep(1)

    assert state() == "inactive"
    behaviour = "outage-500-molecule"
    timeline, seen = {}, []
    with SteadyTraffic(key, "fake-outage") as traffic:
        start = time.time()
        assert _json(outages, {"behavior": behaviour, "active": True})["active"] == [behaviour]
        try:
            watch(timeline, seen, start, lambda: received("firing"), 150, f"no firing {alert} at the receiver")
            timeline["received_firing"] = round(received("firing") - start, 1)
        finally:
            _json(outages, {"behavior": behaviour, "active": False})
        during = dict(traffic.statuses)
        recovered = time.time()
        watch(timeline, seen, start, lambda: received("resolved"), 180, f"{alert} never resolved at the receiver")
        timeline["received_resolved_after_recovery"] = round(received("resolved") - recovered, 1)
    assert "pending" in seen and "firing" in seen, seen
    # for: 30 s in the fast copy (5 min / 10): firing no sooner than that after pending
    assert timeline["firing"] - timeline["pending"] >= 25, timeline
    # LiteLLM's own Slack alerting saw the outage too: the model and the provider's error, posted to the hook
    texts = _wait("a Slack message about the outage", lambda: [json.dumps(r["body"]) for r in _json(slack_hook)["records"]
                                                               if "outage-500-molecule" in json.dumps(r["body"])], 60)
    assert any("500" in text or "Injected outage" in text for text in texts), texts[:2]
    _save("monitoring.json", {"outage": timeline, "outage_statuses": during, "slack_messages": len(texts)})


def test_the_slack_webhook_stays_in_env(host):
    url = STACK["litellm_slack_webhook_url"]
    assert url in host.file(f"{PROJECT_DIR}/.env").content_string
    for name in ("config.yaml", "compose.yaml", "litellm.yaml", "prometheus.yml", "alertmanager.yml"):
        assert url not in host.file(f"{PROJECT_DIR}/{name}").content_string, name
    logs = host.run("docker logs %s", _proxy_container(host))
    assert url not in logs.stdout + logs.stderr
