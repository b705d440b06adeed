"""The fleet scenario: three proxy hosts sharing one external Redis, rolled out by
playbooks/site.yml one host at a time (converge, then side_effect.yml's good and bad rollouts
under load). What the rollouts wrote to results/ is checked against what the hosts run now, and
the shared Redis is shown to carry the router's cooldowns and the response cache across hosts.
The tests run on the controller: the instances share its network and the engine."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from gatewayops_stack import FAKE_BACKEND, SCENARIO_DIR, read_env_file

RESULTS = Path(SCENARIO_DIR) / "results"
HOSTS = {n: {"name": f"gatewayops-fleet-{n}", "dir": Path(SCENARIO_DIR) / f"host-{n}",
             "project": f"litellm-molecule-fleet-{n}", "url": f"http://127.0.0.1:{4130 + n}"} for n in (1, 2, 3)}
REDIS = "gatewayops-molecule-fleet-redis"
REDIS_PASSWORD = "fleet-redis-password-not-secret"   # a test value (molecule.yml), not a secret


def _fleet(rollout):
    return json.loads((RESULTS / f"rollout-{rollout}" / "fleet.json").read_text())


def _outcomes(rollout):
    return {h["host"]: h for h in _fleet(rollout)["hosts"]}


def _run(rollout):
    return json.loads((RESULTS / f"rollout-{rollout}" / "run.json").read_text())


def _sha(n, name="config.yaml"):
    return hashlib.sha256((HOSTS[n]["dir"] / name).read_bytes()).hexdigest()


def _key(n):
    return read_env_file(HOSTS[n]["dir"] / ".env")["LITELLM_MASTER_KEY"]


def _live_container(n):
    colour = (HOSTS[n]["dir"] / "live-colour").read_text().strip()
    name = f"{HOSTS[n]['project']}-{colour}-litellm-1"
    return name, subprocess.check_output(["docker", "inspect", "--format", "{{.Id}}", name], text=True).strip()


def _chat(n, model, content, timeout=120):
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": content}], "max_tokens": 5}).encode()
    req = urllib.request.Request(HOSTS[n]["url"] + "/v1/chat/completions", data=body, method="POST",
                                 headers={"Authorization": f"Bearer {_key(n)}", "Content-Type": "application/json"})
    start = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode(), time.monotonic() - start
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(), time.monotonic() - start


def _backend_stats():
    code = "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/stats').read().decode())"
    return json.loads(subprocess.check_output(["docker", "exec", FAKE_BACKEND, "python3", "-c", code], text=True))


def _redis(*args):
    return subprocess.check_output(["docker", "exec", REDIS, "redis-cli", "--no-auth-warning", "-a", REDIS_PASSWORD, *args],
                                   text=True)


# ---------------------------------------------------------------- converge: the first rollout

def test_the_first_rollout_deployed_every_host_and_sized_for_the_fleet():
    fleet = _fleet("converge")
    assert fleet["ok"] and [h["outcome"] for h in fleet["hosts"]] == ["changed"] * 3, fleet["markdown"]
    assert fleet["counts"]["changed"] == 3
    for n in HOSTS:
        env = read_env_file(HOSTS[n]["dir"] / ".env")
        assert env["REDIS_PASSWORD"] == REDIS_PASSWORD            # the shared Redis' password, not a generated one
        name = _live_container(n)[0]
        container_env = dict(x.split("=", 1) for x in json.loads(subprocess.check_output(
            ["docker", "inspect", "--format", "{{json .Config.Env}}", name], text=True)))
        assert (container_env["REDIS_HOST"], container_env["REDIS_PORT"]) == ("fleet-redis", "6379")
        assert "REDIS_PASSWORD" not in container_env              # secrets reach the proxy as a file only
        # no bundled Redis: the stack runs the edge and the proxy only
        services = subprocess.check_output(["docker", "compose", "-p", HOSTS[n]["project"], "ps", "--services"], text=True)
        assert "redis" not in services.split()


def test_the_sizing_model_counted_the_fleet_group():
    # litellm_fleet_group: litellm_fleet (3 hosts) is the instance count of every host's sizing
    out = _run("good")["stdout"]
    assert out.count("3 instance(s)") == 3, out[-4000:]


# ---------------------------------------------------------------- the good rollout

def test_the_good_rollout_changed_every_host_one_at_a_time_behind_the_load_gate():
    run, before, after = _run("good"), _outcomes("converge"), _outcomes("good")
    # the LiteLLM containers before the good rollout and after it (before the bad one)
    containers, kept = (json.loads((RESULTS / f"rollout-{r}" / "containers-before.json").read_text()) for r in ("good", "bad"))
    assert run["rc"] == 0
    for n in HOSTS:
        h, was = after[HOSTS[n]["name"]], before[HOSTS[n]["name"]]
        assert h["outcome"] == "changed" and h["config_sha256"] == was["config_sha256"], h
        # the new body limit is live on every host through a hitless reload: same colour, same container
        assert "content-length) gt %d " % (16 * 1024 * 1024) in (HOSTS[n]["dir"] / "edge" / "haproxy.cfg").read_text()
        assert h["colour"] == was["colour"]
    assert containers == kept
    # serial 1: each host's load gate passed before the next host's deployment began
    out = run["stdout"]
    gate_task = "TASK [gatewayops.litellm.proxy : Load-test the host before the next batch]"
    gates = [out.index(f"ok: [gatewayops-fleet-{n}]", out.index(gate_task, out.index(f"[gatewayops-fleet-{n}]")))
             for n in HOSTS]
    starts = [out.index(f"[gatewayops-fleet-{n}]") for n in HOSTS]
    assert gates[0] < starts[1] and gates[1] < starts[2], "the batches overlapped"
    assert out.count(gate_task) == 3


# ---------------------------------------------------------------- the bad rollout

def test_the_bad_rollout_stopped_at_the_second_host_with_the_fleet_summary():
    run, good, bad = _run("bad"), _outcomes("good"), _fleet("bad")
    assert run["rc"] != 0
    outcome = {h["host"]: h for h in bad["hosts"]}
    assert [outcome[HOSTS[n]["name"]]["outcome"] for n in HOSTS] == ["changed", "rolled back", "not reached"], bad["markdown"]
    assert not bad["ok"] and bad["failed"] == ["gatewayops-fleet-2"]
    assert "fake-new-provider" in outcome["gatewayops-fleet-2"]["reason"]
    assert "Fleet summary" in run["stdout"] and "rolled back" in run["stdout"]
    # host 1 runs the new config and answers for the new model
    assert "fake-new-provider" in (HOSTS[1]["dir"] / "config.yaml").read_text()
    assert _chat(1, "fake-new-provider", "fleet")[0] == 200
    # host 2's candidate never took traffic: the live proxy is the container from before the
    # rollout, back on the config of the good rollout, and serving
    before = json.loads((RESULTS / "rollout-bad" / "containers-before.json").read_text())
    name, container = _live_container(2)
    assert before[name] == container
    reason = outcome["gatewayops-fleet-2"]["reason"]
    assert "Probe the required models" in reason and "Rolled back: restored backup set" in reason, reason
    assert "without ever taking traffic" in reason and "kept serving" in reason, reason
    assert _sha(2) == good["gatewayops-fleet-2"]["config_sha256"]
    assert "fake-new-provider" not in (HOSTS[2]["dir"] / "config.yaml").read_text()
    assert _chat(2, "fake-chat", "fleet")[0] == 200
    # host 3 was not touched: the same container and the same config
    name, container = _live_container(3)
    assert before[name] == container
    assert _sha(3) == good["gatewayops-fleet-3"]["config_sha256"]
    assert _chat(3, "fake-chat", "fleet")[0] == 200


@pytest.mark.parametrize("n", [1, 2, 3])
def test_no_client_request_failed_on_any_host_during_both_rollouts(n):
    load = json.loads((RESULTS / f"load-host-{n}.json").read_text())
    assert load["requests"] > 100 and load["failed"] == 0, load
    # a switch's longest pause without a 2xx stays within a few streamed replies
    assert load["longest_gap_without_2xx_s"] < 10, load


# ---------------------------------------------------------------- the shared Redis

def test_a_cooldown_set_by_one_host_is_seen_by_another():
    # host 1's router counts failed requests per deployment (its allowed_fails_policy allows 10 per
    # cooldown_time, 30 s); 12 at once exceed it and cool the deployment down (a slow trickle of
    # one failure every few seconds never would: the counter expires with cooldown_time)
    with ThreadPoolExecutor(12) as pool:
        statuses = [r[0] for r in pool.map(lambda i: _chat(1, "fake-fail-500", f"cool me down {i}"), range(12))]
    assert set(statuses) <= {429, 500}, statuses
    keys = _redis("--scan", "--pattern", "deployment:*:cooldown").split()
    assert len(keys) == 1, "no cooldown in the shared Redis (statuses %s)" % statuses
    time.sleep(2)   # each instance re-reads cooldowns from Redis at most every second
    calls = _backend_stats()["by_model"].get("fail-500", 0)
    # host 3 never called fail-500: it skips the deployment at once instead of calling the provider
    status, body, seconds = _chat(3, "fake-fail-500", "am I cooled down")
    assert status == 429 and "cooldown" in body.lower(), body
    assert _backend_stats()["by_model"].get("fail-500", 0) == calls, "host 3 called the cooled-down provider"
    assert seconds < 5


def test_the_response_cache_is_shared_in_its_namespace():
    prompt = f"cache across the fleet {time.time()}"
    before = _backend_stats()["by_model"].get("fake-chat", 0)
    assert _chat(1, "fake-chat", prompt)[0] == 200
    time.sleep(1)
    assert _chat(3, "fake-chat", prompt)[0] == 200
    assert _backend_stats()["by_model"].get("fake-chat", 0) == before + 1, "host 3 did not answer from the shared cache"
    assert _redis("--scan", "--pattern", "fleet.cache:*").split(), "no key in the fleet's cache namespace"


# ---------------------------------------------------------------- preflight counts the fleet

def test_preflight_refuses_a_fleet_whose_pools_exceed_the_shared_database():
    # the three hosts would share one external database that allows 40 connections: with 4 workers
    # each, even the smallest pool (2) needs (3 + 1 during a switch) x 4 x 2 + 3 = 35; 2 workers
    # more per host do not fit. Only preflight runs (its tag), on one host: nothing changes.
    config_before = _sha(1)
    extra = {"litellm_database_url": "postgresql://litellm:not-a-secret@shared-db.invalid:5432/litellm",
             "litellm_sizing_overrides": {"num_workers": 6, "db_max_connections": 40}}
    done = subprocess.run(["ansible-playbook", "-i", os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"]),
                           os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "playbooks", "site.yml"),
                           "-e", "litellm_target_hosts=gatewayops-fleet-1", "-e", json.dumps(extra),
                           "--tags", "litellm_preflight"], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode != 0
    expected = ("database connections: 4 instances (one more while a blue/green switch runs both) x 6 workers x pool 2 "
                "+ 3 reserved = 51 > max_connections 40")
    assert expected in done.stdout, done.stdout[-3000:]
    assert "not-a-secret" not in done.stdout
    assert _sha(1) == config_before
