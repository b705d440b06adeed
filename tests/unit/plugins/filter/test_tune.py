# -*- coding: utf-8 -*-
"""The tuning loop's arithmetic (plugins/filter/tune.py): evidence from two samples, and the rules."""

from __future__ import annotations

import copy
import pathlib

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.gatewayops.litellm.plugins.filter.sizing import litellm_sizing
from ansible_collections.gatewayops.litellm.plugins.filter.tune import (
    litellm_tune_evidence, litellm_tune_line, litellm_tune_proposals, litellm_tune_text_line)

DEFAULTS = yaml.safe_load((pathlib.Path(__file__).resolve().parents[4] / "roles/tune/defaults/main.yml").read_text())
RULES = {name[len("litellm_tune_"):]: value for name, value in DEFAULTS.items()
         if name[len("litellm_tune_"):] in (
             "min_requests", "cache_hit_rate_low", "cache_hit_rate_off", "cache_ttl_factor", "cache_ttl_max_seconds",
             "redis_evictions_per_minute_max", "redis_maxmemory_share_max", "cpu_high", "cpu_low", "cpu_target",
             "throttled_high", "memory_high", "spend_queue_high", "batch_write_factor", "batch_write_max_seconds",
             "machine_classes")}
MB = 1024 * 1024


def _hist(name, counts):
    """metrics_info's family of a histogram: cumulative counts per bound (seconds)."""
    buckets = [{"name": name + "_bucket", "labels": {"le": le}, "value": v} for le, v in counts.items()]
    return {"type": "histogram", "samples": buckets}


def sample(at, requests, hits, llm, cpu_s, overhead=None, periods=0, throttled=0, working_mb=600, redis=None,
           queue=None, container_id="c1"):
    families = {"litellm_overhead_latency_metric": _hist(
        "litellm_overhead_latency_metric", overhead or {"0.005": 0, "0.01": 0, "0.05": 0, "+Inf": 0})}
    if queue is not None:
        families["litellm_in_memory_spend_update_queue_size"] = {
            "type": "gauge", "samples": [{"name": "litellm_in_memory_spend_update_queue_size", "labels": {}, "value": queue}]}
    return {
        "sampled_at": at,
        "metrics": {"requests": {"total": requests}, "failures": {"total": 0},
                    "cache": {"hits": hits, "requests": llm, "hit_rate_basis": "hits/(hits+misses)"}, "families": families},
        "proxy": {"name": "litellm-blue-litellm-1", "id": container_id, "running": True, "cpu_total_ns": int(cpu_s * 1e9),
                  "online_cpus": 2, "cpus_limit": 2.0,
                  "throttling": {"periods": periods, "throttled_periods": throttled, "throttled_time_ns": 0},
                  "memory": {"working_set_bytes": working_mb * MB, "limit_bytes": 1920 * MB}},
        "redis": None,
        "redis_info": redis,
    }


CURRENT = {
    "cache_enabled": True, "cache_ttl_seconds": 600, "batch_write_seconds": 60, "database": False,
    "sizing_overrides": {}, "host_vcpus": 2, "host_memory_mb": 4096, "instances": 1,
    "sizing_inputs": {"vcpus": 2, "memory_mb": 4096, "instances": 1, "request_timeout": 600, "redis_bundled": True,
                      "edge": True, "blue_green": True},
}


def judge(before, after, **current):
    return litellm_tune_proposals(litellm_tune_evidence(before, after), dict(CURRENT, **current), RULES)


def test_evidence_is_the_window_difference():
    before = sample(100.0, 1000, 100, 900, 50.0, overhead={"0.005": 10, "0.01": 20, "0.05": 30, "+Inf": 30},
                    periods=100, throttled=5)
    after = sample(160.0, 1600, 400, 1500, 110.0, overhead={"0.005": 10, "0.01": 320, "0.05": 630, "+Inf": 630},
                   periods=700, throttled=65)
    ev = litellm_tune_evidence(before, after)
    assert ev["problems"] == []
    assert (ev["window_seconds"], ev["requests"], ev["request_rate"]) == (60.0, 600, 10.0)
    assert ev["cache"] == {"hits": 300, "requests": 600, "hit_rate": 0.5, "basis": "hits/requests"}
    # 600 observations in the window: 300 in (5, 10] ms, 300 in (10, 50] ms
    assert ev["overhead_ms"]["count"] == 600
    assert ev["overhead_ms"]["p50"] == 10.0
    assert 48.0 < ev["overhead_ms"]["p99"] <= 50.0
    assert ev["cpu"] == {"cores_used": 1.0, "cpus_limit": 2.0, "utilisation": 0.5, "throttled_share": 0.1}
    assert ev["memory"]["share"] == round(600 / 1920, 3)


@pytest.mark.parametrize("change, problem", [
    ({"requests": 10}, "requests went back from 1000 to 10: the proxy restarted during the window"),
    ({"container_id": "c2"}, "the proxy container changed during the window"),
    ({"at": 101.0}, "the window is 1.0 s long"),
])
def test_bad_data_is_named_and_never_judged(change, problem):
    args = dict(at=160.0, requests=1600, hits=400, llm=1500, cpu_s=110.0)
    args.update(change)
    after = sample(**args)
    result = judge(sample(100.0, 1000, 100, 900, 50.0), after)
    assert result["verdict"] == "no-data" and result["proposals"] == [] and result["overrides"] == {}
    assert problem in result["why"]


def test_a_failed_scrape_or_stopped_proxy_is_no_data():
    after = sample(160.0, 1600, 400, 1500, 110.0)
    after["metrics"] = {"failed": True, "msg": "Cannot read the metrics at http://127.0.0.1:4000/metrics/: refused"}
    assert "the second metrics sample failed: Cannot read" in judge(sample(100.0, 1000, 100, 900, 50.0), after)["why"]
    stopped = sample(160.0, 1600, 400, 1500, 110.0)
    stopped["proxy"]["running"] = False
    assert "is not running" in judge(sample(100.0, 1000, 100, 900, 50.0), stopped)["why"]


def test_near_zero_hit_rate_turns_the_cache_off():
    result = judge(sample(0.0, 0, 0, 0, 0.0), sample(60.0, 1000, 3, 1000, 30.0))
    assert result["verdict"] == "change"
    (proposal,) = result["proposals"]
    assert proposal["rule"] == "cache_off" and proposal["applies"] is True
    assert "0.3 %" in proposal["finding"] and "+2.4 to +6.0 ms" in proposal["finding"]
    assert result["overrides"] == {"litellm_cache_enabled": False}


def test_low_hit_rate_doubles_the_ttl_up_to_the_bound():
    result = judge(sample(0.0, 0, 0, 0, 0.0), sample(60.0, 1000, 150, 1000, 30.0))
    assert result["overrides"] == {"litellm_cache_ttl_seconds": 1200}
    assert judge(sample(0.0, 0, 0, 0, 0.0), sample(60.0, 1000, 150, 1000, 30.0),
                 cache_ttl_seconds=3000)["overrides"] == {"litellm_cache_ttl_seconds": 3600}
    at_max = judge(sample(0.0, 0, 0, 0, 0.0), sample(60.0, 1000, 150, 1000, 30.0), cache_ttl_seconds=3600)
    assert at_max["verdict"] == "nothing" and "already at litellm_tune_cache_ttl_max_seconds" in at_max["why"]


def test_a_useful_cache_and_a_quiet_host_propose_nothing_and_say_why():
    result = judge(sample(0.0, 0, 0, 0, 0.0), sample(60.0, 1000, 800, 1000, 60.0))
    assert result["verdict"] == "nothing" and result["overrides"] == {}
    assert "the cache earns its cost" in result["why"]
    assert "between litellm_tune_cpu_low 15 % and litellm_tune_cpu_high 80 %" in result["why"]


def test_too_small_a_sample_is_not_judged():
    result = judge(sample(0.0, 0, 0, 0, 0.0), sample(60.0, 50, 0, 50, 30.0))
    assert result["overrides"] == {}
    assert "50 successful requests in the window, fewer than litellm_tune_min_requests 200" in result["why"]


def test_cache_off_host_gets_no_cache_rule():
    result = judge(sample(0.0, 0, 0, 0, 0.0), sample(60.0, 1000, 0, 1000, 30.0), cache_enabled=False)
    assert result["verdict"] == "nothing"
    assert "the response cache is off" in result["why"]


def test_evictions_with_a_useful_cache_give_redis_more_memory_within_its_bound():
    before = sample(0.0, 0, 0, 0, 0.0, redis={"evicted_keys": "100", "maxmemory": str(204 * MB), "used_memory": str(200 * MB)})
    after = sample(60.0, 1000, 600, 1000, 30.0,
                   redis={"evicted_keys": "400", "maxmemory": str(204 * MB), "used_memory": str(204 * MB)})
    result = judge(before, after)
    (proposal,) = result["proposals"]
    assert proposal["rule"] == "redis_memory" and "300 keys per minute" in proposal["finding"]
    assert result["overrides"] == {"litellm_sizing_overrides": {"redis_maxmemory_mb": 408, "redis_mem_limit_mb": 574}}
    # already at 10 % of the host's RAM: reported, nothing proposed
    big = sample(0.0, 0, 0, 0, 0.0, redis={"evicted_keys": "0", "maxmemory": str(409 * MB), "used_memory": "1"})
    big_after = sample(60.0, 1000, 600, 1000, 30.0, redis={"evicted_keys": "50", "maxmemory": str(409 * MB), "used_memory": "1"})
    assert judge(big, big_after)["verdict"] == "nothing"


def test_a_growing_spend_queue_in_database_mode_doubles_batch_writes_within_the_loss_bound():
    result = judge(sample(0.0, 0, 0, 0, 0.0, queue=900), sample(60.0, 1000, 800, 1000, 30.0, queue=4000), database=True)
    assert result["overrides"] == {"litellm_batch_write_seconds": 120}
    assert "A crash loses up to 120 s of spend instead of 60 s" in result["proposals"][0]["finding"]
    at_bound = judge(sample(0.0, 0, 0, 0, 0.0, queue=900), sample(60.0, 1000, 800, 1000, 30.0, queue=4000),
                     database=True, batch_write_seconds=120)
    assert at_bound["verdict"] == "nothing" and "the database needs more capacity" in at_bound["why"]
    assert "no database: nothing writes spend" in judge(sample(0.0, 0, 0, 0, 0.0, queue=900),
                                                        sample(60.0, 1000, 800, 1000, 30.0, queue=4000))["why"]


def test_a_saturated_host_gets_the_smallest_class_that_holds_its_load():
    # 1.9 of 2 CPUs used: the load needs 1.9 / 0.6 = 3.2 CPUs of LiteLLM's own; 4 vCPU gives 3.75 (Redis reserve)
    result = judge(sample(0.0, 0, 0, 0, 0.0), sample(60.0, 1000, 800, 1000, 114.0))
    (proposal,) = result["proposals"]
    assert proposal["rule"] == "capacity" and proposal["applies"] is False and result["overrides"] == {}
    cpus_of_4 = litellm_sizing(dict(CURRENT["sizing_inputs"], vcpus=4, memory_mb=8192))["litellm_cpus"]
    assert 1.9 / cpus_of_4 <= 0.6
    assert proposal["proposed"] == {"machine_class": "4 vCPU / 8192 MB"}
    # more than the largest class holds: more instances
    huge = judge(sample(0.0, 0, 0, 0, 0.0), sample(60.0, 1000, 800, 1000, 114.0),
                 host_vcpus=64, host_memory_mb=131072, sizing_inputs=dict(CURRENT["sizing_inputs"], vcpus=64))
    huge_ev = litellm_tune_evidence(sample(0.0, 0, 0, 0, 0.0), sample(60.0, 1000, 800, 1000, 114.0))
    assert huge["proposals"][0]["rule"] == "capacity" and huge_ev["cpu"]["utilisation"] >= 0.8


def test_throttling_alone_counts_as_saturated():
    result = judge(sample(0.0, 0, 0, 0, 0.0, periods=0, throttled=0),
                   sample(60.0, 1000, 800, 1000, 60.0, periods=600, throttled=300))
    assert result["proposals"][0]["rule"] == "capacity" and "throttled in 50 % of periods" in result["proposals"][0]["finding"]


def test_an_idle_big_host_is_reported_over_provisioned():
    big = dict(host_vcpus=16, host_memory_mb=32768, sizing_inputs=dict(CURRENT["sizing_inputs"], vcpus=16, memory_mb=32768))
    before = sample(0.0, 0, 0, 0, 0.0)
    after = sample(60.0, 1000, 800, 1000, 30.0)
    after["proxy"]["cpus_limit"] = 15.75
    result = judge(before, after, **big)
    (proposal,) = result["proposals"]
    assert proposal["rule"] == "capacity" and "over-provisioned" in proposal["finding"]
    assert proposal["proposed"] == {"machine_class": "2 vCPU / 4096 MB"}


def test_memory_near_its_limit_is_a_note():
    result = judge(sample(0.0, 0, 0, 0, 0.0), sample(60.0, 1000, 800, 1000, 60.0, working_mb=1800))
    assert any("working set is 1800 MB of its 1920 MB limit" in note for note in result["notes"])


def test_rules_are_required_and_inputs_checked():
    with pytest.raises(AnsibleFilterError, match="rules lack cpu_high"):
        litellm_tune_proposals({"problems": []}, CURRENT, {k: v for k, v in RULES.items() if k != "cpu_high"})
    with pytest.raises(AnsibleFilterError, match="needs two samples"):
        litellm_tune_evidence(None, {})


def test_fleet_lines():
    result = judge(sample(0.0, 0, 0, 0, 0.0), sample(60.0, 1000, 3, 1000, 30.0))
    report = dict(copy.deepcopy(result), host="proxy-1", check_mode=False, applied={"result": "ok"})
    assert litellm_tune_line(report) == {"verdict": "change", "rules": ["cache_off"], "proposed": {"litellm_cache_enabled": False},
                                         "reported_only": [], "applied": "ok", "why": "cache_off fired"}
    assert litellm_tune_text_line(report).split() == ["proxy-1", "change", "cache_off", "ok"]
    checked = dict(report, check_mode=True, applied=None)
    assert litellm_tune_text_line(checked).endswith("no (check mode)")
