# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tuning loop's arithmetic (roles/tune): what a host did over an observation window, and
what to change because of it. Pure: the role collects two samples, these filters judge them.

litellm_tune_evidence(before, after) turns two samples of a host (metrics_info, the proxy's and
Redis' container_stats_info entries, Redis' INFO counters, each with its time) into the window's
rates: requests, cache hit rate and its basis, LiteLLM's overhead p50/p99 over the window (from
the histogram buckets' difference), CPU used against the container's limit, throttling, memory
against its limit, Redis evictions and the spend-update queue. Whatever makes the window's data
unusable (a counter that went back: the proxy restarted; another container; a container that
is not running; too short a window) is listed in `problems`, and no rule judges such data.

litellm_tune_proposals(evidence, current, rules) applies each documented rule (roles/tune/README.md)
and returns the proposals, each with the rule that fired, the evidence, the value before and the
value proposed, and the proxy role variables that would apply it; plus every rule that did not
fire and why. Machine classes are judged with the sizing model itself (litellm_sizing), so a
proposed class is one the proxy role would size."""

from __future__ import annotations

import math

from ansible.errors import AnsibleFilterError

from ansible_collections.gatewayops.litellm.plugins.filter.sizing import litellm_sizing, redis_mem_limit_mb
from ansible_collections.gatewayops.litellm.plugins.module_utils._stats import histogram_quantile

OVERHEAD_HISTOGRAM = "litellm_overhead_latency_metric"
TOTAL_HISTOGRAM = "litellm_request_total_latency_metric"
SPEND_QUEUE_GAUGE = "litellm_in_memory_spend_update_queue_size"
MIN_WINDOW_SECONDS = 5.0
MB = 1024 * 1024

RULE_KEYS = (
    "min_requests", "cache_hit_rate_low", "cache_hit_rate_off", "cache_ttl_factor", "cache_ttl_max_seconds",
    "redis_evictions_per_minute_max", "redis_maxmemory_share_max", "cpu_high", "cpu_low", "cpu_target",
    "throttled_high", "memory_high", "spend_queue_high", "batch_write_factor", "batch_write_max_seconds",
    "machine_classes",
)


def _num(value):
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _delta(before, after, problems, what):
    """after - before of a counter; None (and a problem) when it went back."""
    b, a = _num(before), _num(after)
    if a is None or b is None:
        return None
    if a < b:
        problems.append("%s went back from %g to %g: the proxy restarted during the window" % (what, b, a))
        return None
    return a - b


def _buckets(metrics, name):
    """{upper bound: cumulative count} of histogram `name`, every series summed, from metrics_info's families."""
    family = ((metrics or {}).get("families") or {}).get(name) or {}
    out = {}
    for sample in family.get("samples") or []:
        if sample.get("name") != name + "_bucket":
            continue
        bound = (sample.get("labels") or {}).get("le")
        try:
            upper = float(bound)
        except (TypeError, ValueError):
            continue
        out[upper] = out.get(upper, 0.0) + float(sample.get("value") or 0)
    return out


def _window_quantiles(before, after, name):
    """p50 / p99 in ms of the observations made between two scrapes, and how many there were."""
    b, a = _buckets(before, name), _buckets(after, name)
    if not a:
        return {"count": 0, "p50": None, "p99": None}
    diff = [(upper, max(0.0, count - b.get(upper, 0.0))) for upper, count in a.items()]
    count = max((c for u, c in diff if u == float("inf")), default=0.0)
    out = {"count": int(count)}
    for key, q in (("p50", 0.5), ("p99", 0.99)):
        value = histogram_quantile(q, diff) if count > 0 else None
        out[key] = None if value is None else round(value * 1000.0, 1)
    return out


def _gauge(metrics, name):
    family = ((metrics or {}).get("families") or {}).get(name) or {}
    values = [_num(s.get("value")) for s in family.get("samples") or [] if s.get("name") == name]
    values = [v for v in values if v is not None]
    return sum(values) if values else None


def _container(before, after, what, problems):
    b, a = before or {}, after or {}
    if not a:
        return None
    if not a.get("running"):
        problems.append("the %s container %s is not running" % (what, a.get("name")))
        return None
    if b.get("id") and a.get("id") and b["id"] != a["id"]:
        problems.append("the %s container changed during the window (%s -> %s): a deploy or a switch ran"
                        % (what, b.get("name"), a.get("name")))
        return None
    return b, a


def _cpu(pair, seconds, problems, what):
    b, a = pair
    used_ns = _delta(b.get("cpu_total_ns"), a.get("cpu_total_ns"), problems, "%s CPU time" % what)
    limit = _num(a.get("cpus_limit")) or _num(a.get("online_cpus"))
    cores = None if used_ns is None else used_ns / 1e9 / seconds
    bt, at = b.get("throttling") or {}, a.get("throttling") or {}
    periods = _delta(bt.get("periods"), at.get("periods"), problems, "%s CFS periods" % what)
    throttled = _delta(bt.get("throttled_periods"), at.get("throttled_periods"), problems, "%s throttled periods" % what)
    return {
        "cores_used": None if cores is None else round(cores, 3),
        "cpus_limit": limit,
        "utilisation": None if cores is None or not limit else round(cores / limit, 3),
        "throttled_share": round(throttled / periods, 3) if periods and throttled is not None else 0.0,
    }


def _memory(pair):
    a = pair[1].get("memory") or {}
    used, limit = _num(a.get("working_set_bytes")), _num(a.get("limit_bytes"))
    return {
        "working_set_mb": None if used is None else round(used / MB, 1),
        "limit_mb": None if limit is None else round(limit / MB, 1),
        "share": None if used is None or not limit else round(used / limit, 3),
    }


def litellm_tune_evidence(before, after):
    """What the host did between two samples. Each sample: {sampled_at (s), metrics (metrics_info's
    result, with the overhead/total histograms and the spend queue in `families`), proxy and redis
    (container_stats_info entries or None), redis_info ({evicted_keys, maxmemory, used_memory} or None)}."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        raise AnsibleFilterError("litellm_tune_evidence needs two samples (dicts), got %r and %r"
                                 % (type(before).__name__, type(after).__name__))
    problems = ["the %s sample of the containers failed: %s" % (when, sample["stats_error"])
                for sample, when in ((before, "first"), (after, "second")) if sample.get("stats_error")]
    seconds = (_num(after.get("sampled_at")) or 0.0) - (_num(before.get("sampled_at")) or 0.0)
    if not problems and seconds < MIN_WINDOW_SECONDS:
        problems.append("the window is %.1f s long; at least %.0f s are needed" % (seconds, MIN_WINDOW_SECONDS))
        seconds = max(seconds, 1e-9)
    mb, ma = before.get("metrics") or {}, after.get("metrics") or {}
    for sample, when in ((mb, "first"), (ma, "second")):
        if not sample or sample.get("failed") or sample.get("msg"):
            problems.append("the %s metrics sample failed: %s" % (when, sample.get("msg", "no metrics") if sample else "no metrics"))
    requests = _delta((mb.get("requests") or {}).get("total"), (ma.get("requests") or {}).get("total"), problems, "requests")
    failures = _delta((mb.get("failures") or {}).get("total"), (ma.get("failures") or {}).get("total"), problems, "failures")
    cb, ca = mb.get("cache") or {}, ma.get("cache") or {}
    hits = _delta(cb.get("hits"), ca.get("hits"), problems, "cache hits")
    llm = _delta(cb.get("requests"), ca.get("requests"), problems, "successful LLM requests")
    evidence = {
        "window": {"start": _num(before.get("sampled_at")), "end": _num(after.get("sampled_at"))},
        "window_seconds": round(seconds, 1),
        "requests": None if requests is None else int(requests),
        "request_rate": None if requests is None else round(requests / seconds, 2),
        "failures": None if failures is None else int(failures),
        "cache": {
            "hits": None if hits is None else int(hits),
            "requests": None if llm is None else int(llm),
            "hit_rate": round(hits / llm, 4) if hits is not None and llm else None,
            # the client's basis too: answers from the cache / successful answers (LiteLLM's
            # litellm_requests_metric_total counts cache hits among its successful calls)
            "basis": "hits/requests",
        },
        "overhead_ms": _window_quantiles(mb, ma, OVERHEAD_HISTOGRAM),
        "latency_ms": _window_quantiles(mb, ma, TOTAL_HISTOGRAM),
        "spend_queue": {"before": _gauge(mb, SPEND_QUEUE_GAUGE), "after": _gauge(ma, SPEND_QUEUE_GAUGE)},
        "cpu": None, "memory": None, "redis": None,
    }
    proxy = _container(before.get("proxy"), after.get("proxy"), "proxy", problems)
    if proxy is None and not after.get("proxy"):
        problems.append("no proxy container was sampled")
    if proxy:
        evidence["cpu"] = _cpu(proxy, seconds, problems, "proxy")
        evidence["memory"] = _memory(proxy)
        evidence["proxy_container"] = proxy[1].get("name")
    rb, ra = before.get("redis_info") or {}, after.get("redis_info") or {}
    if ra:
        evictions = _delta(rb.get("evicted_keys"), ra.get("evicted_keys"), problems, "Redis evicted_keys")
        evidence["redis"] = {
            "evictions": None if evictions is None else int(evictions),
            "evictions_per_minute": None if evictions is None else round(evictions * 60.0 / seconds, 2),
            "used_memory_mb": None if _num(ra.get("used_memory")) is None else round(_num(ra["used_memory"]) / MB, 1),
            "maxmemory_mb": None if not _num(ra.get("maxmemory")) else int(_num(ra["maxmemory"]) // MB),
        }
    evidence["problems"] = problems
    return evidence


def _rules(rules):
    missing = [key for key in RULE_KEYS if key not in (rules or {})]
    if missing:
        raise AnsibleFilterError("litellm_tune_proposals: rules lack %s" % ", ".join(missing))
    out = dict(rules)
    for key in RULE_KEYS:
        if key != "machine_classes":
            out[key] = float(rules[key])
    return out


def _proposal(rule, finding, current, proposed, variables=None, applies=True):
    return {"rule": rule, "finding": finding, "current": current, "proposed": proposed,
            "variables": variables or {}, "applies": bool(applies and variables)}


def _cache_rules(ev, cur, r, proposals, checked):
    cache = ev["cache"]
    if not cur.get("cache_enabled"):
        checked.append({"rule": "cache", "fired": False, "why": "the response cache is off (litellm_cache_enabled: false)"})
        return
    sample, rate = cache["requests"] or 0, cache["hit_rate"]
    if sample < r["min_requests"] or rate is None:
        checked.append({"rule": "cache", "fired": False,
                        "why": "%d successful requests in the window, fewer than litellm_tune_min_requests %d: no judgement "
                               "of the hit rate" % (sample, r["min_requests"])})
        return
    if rate < r["cache_hit_rate_off"]:
        finding = ("hit rate %.1f %% (%d of %d, %s) is below litellm_tune_cache_hit_rate_off %.1f %%: the cache answers "
                   "almost nothing and costs a Redis lookup and write per request (+2.4 to +6.0 ms CPU per request "
                   "measured on unique prompts, benchmarks/results) and Redis' memory"
                   % (100 * rate, cache["hits"], sample, cache["basis"], 100 * r["cache_hit_rate_off"]))
        off = {"litellm_cache_enabled": False}
        proposals.append(_proposal("cache_off", finding, {"litellm_cache_enabled": True}, off, off))
        return
    ttl = int(cur.get("cache_ttl_seconds") or 0)
    if rate < r["cache_hit_rate_low"]:
        if ttl >= r["cache_ttl_max_seconds"]:
            checked.append({"rule": "cache_ttl", "fired": False,
                            "why": "hit rate %.1f %% is low but the TTL %d s is already at litellm_tune_cache_ttl_max_seconds"
                                   % (100 * rate, ttl)})
        else:
            new_ttl = int(min(r["cache_ttl_max_seconds"], max(ttl + 1, ttl * r["cache_ttl_factor"])))
            proposals.append(_proposal(
                "cache_ttl",
                "hit rate %.1f %% (%d of %d) is below litellm_tune_cache_hit_rate_low %.0f %%: keep answers longer "
                "(TTL x %g, at most %d s)" % (100 * rate, cache["hits"], sample, 100 * r["cache_hit_rate_low"],
                                              r["cache_ttl_factor"], r["cache_ttl_max_seconds"]),
                {"litellm_cache_ttl_seconds": ttl}, {"litellm_cache_ttl_seconds": new_ttl},
                {"litellm_cache_ttl_seconds": new_ttl}))
            return
    else:
        checked.append({"rule": "cache", "fired": False,
                        "why": "hit rate %.1f %% (%d of %d) is at or above litellm_tune_cache_hit_rate_low %.0f %%: the cache "
                               "earns its cost" % (100 * rate, cache["hits"], sample, 100 * r["cache_hit_rate_low"])})
    _redis_rule(ev, cur, r, proposals, checked)


def _redis_rule(ev, cur, r, proposals, checked):
    redis = ev.get("redis")
    if not redis or redis.get("evictions_per_minute") is None:
        checked.append({"rule": "redis_memory", "fired": False, "why": "no Redis counters were read"})
        return
    per_minute = redis["evictions_per_minute"]
    if per_minute <= r["redis_evictions_per_minute_max"]:
        checked.append({"rule": "redis_memory", "fired": False,
                        "why": "%g evictions per minute, at most litellm_tune_redis_evictions_per_minute_max %g"
                               % (per_minute, r["redis_evictions_per_minute_max"])})
        return
    current = int(redis.get("maxmemory_mb") or cur.get("redis_maxmemory_mb") or 0)
    ceiling = int(int(cur["host_memory_mb"]) * r["redis_maxmemory_share_max"])
    proposed = min(ceiling, current * 2)
    if proposed <= current:
        checked.append({"rule": "redis_memory", "fired": False,
                        "why": "%g evictions per minute, but maxmemory %d MB is already at litellm_tune_redis_maxmemory_share_max "
                               "(%d MB of %d MB RAM)" % (per_minute, current, ceiling, int(cur["host_memory_mb"]))})
        return
    overrides = dict(cur.get("sizing_overrides") or {}, redis_maxmemory_mb=proposed, redis_mem_limit_mb=redis_mem_limit_mb(proposed))
    proposals.append(_proposal(
        "redis_memory",
        "Redis evicts %g keys per minute while the cache answers %.1f %%: entries leave before they are reused"
        % (per_minute, 100 * (ev["cache"]["hit_rate"] or 0)),
        {"redis_maxmemory_mb": current}, {"redis_maxmemory_mb": proposed},
        {"litellm_sizing_overrides": overrides}))


def _batch_rule(ev, cur, r, proposals, checked):
    if not cur.get("database"):
        checked.append({"rule": "batch_writes", "fired": False, "why": "no database: nothing writes spend"})
        return
    queue = ev["spend_queue"]
    before, after = queue.get("before"), queue.get("after")
    if after is None:
        checked.append({"rule": "batch_writes", "fired": False,
                        "why": "the proxy exports no %s (its Prometheus callback is off?)" % SPEND_QUEUE_GAUGE})
        return
    current = int(cur.get("batch_write_seconds") or 0)
    growing = before is not None and after > before
    if after < r["spend_queue_high"] or not growing:
        checked.append({"rule": "batch_writes", "fired": False,
                        "why": "spend-update queue %s -> %g items, not growing above litellm_tune_spend_queue_high %g"
                               % ("?" if before is None else "%g" % before, after, r["spend_queue_high"])})
        return
    proposed = int(min(r["batch_write_max_seconds"], current * r["batch_write_factor"]))
    if proposed <= current:
        checked.append({"rule": "batch_writes", "fired": False,
                        "why": "the queue grows (%g -> %g) but proxy_batch_write_at %d s is at litellm_tune_batch_write_max_seconds "
                               "(the spend an operator accepts to lose on a crash): the database needs more capacity"
                               % (before, after, current)})
        return
    proposals.append(_proposal(
        "batch_writes",
        "the spend-update queue grew from %g to %g items over the window: the database does not keep up with "
        "flushes every %d s; fewer, larger transactions. A crash loses up to %d s of spend instead of %d s"
        % (before, after, current, proposed, current),
        {"litellm_batch_write_seconds": current}, {"litellm_batch_write_seconds": proposed},
        {"litellm_batch_write_seconds": proposed}))


def _class_cpus(machine, sizing_inputs):
    host = dict(sizing_inputs, vcpus=int(machine["vcpus"]), memory_mb=int(machine["memory_mb"]))
    return float(litellm_sizing(host)["litellm_cpus"])


def _capacity_rule(ev, cur, r, proposals, checked):
    cpu = ev.get("cpu") or {}
    cores, utilisation = cpu.get("cores_used"), cpu.get("utilisation")
    if cores is None or utilisation is None:
        checked.append({"rule": "capacity", "fired": False, "why": "no CPU figures for the proxy container"})
        return
    classes = sorted(r["machine_classes"], key=lambda m: (int(m["vcpus"]), int(m["memory_mb"])))
    inputs = cur["sizing_inputs"]
    saturated = utilisation >= r["cpu_high"] or cpu.get("throttled_share", 0) >= r["throttled_high"]
    here = "%d vCPU / %d MB" % (int(cur["host_vcpus"]), int(cur["host_memory_mb"]))
    fits = [m for m in classes if cores / _class_cpus(m, inputs) <= r["cpu_target"]]
    if saturated:
        larger = [m for m in fits if int(m["vcpus"]) > int(cur["host_vcpus"])]
        if larger:
            target = larger[0]
            proposed = {"machine_class": "%d vCPU / %d MB" % (int(target["vcpus"]), int(target["memory_mb"]))}
            how = "the smallest class the sizing model gives enough CPU to run this load at litellm_tune_cpu_target %.0f %%" % (
                100 * r["cpu_target"])
        else:
            biggest = classes[-1]
            per_instance = _class_cpus(biggest, inputs) * r["cpu_target"]
            proposed = {"instances": int(math.ceil(cores / per_instance)) * int(cur.get("instances") or 1),
                        "machine_class": "%d vCPU / %d MB" % (int(biggest["vcpus"]), int(biggest["memory_mb"]))}
            how = "no class holds it at the target: more instances of the largest"
        proposals.append(_proposal(
            "capacity",
            "the proxy used %.2f of its %.2f CPUs (%.0f %%, throttled in %.0f %% of periods) at %s req/s on %s: "
            "saturated (litellm_tune_cpu_high %.0f %%, litellm_tune_throttled_high %.0f %%); %s"
            % (cores, cpu["cpus_limit"], 100 * utilisation, 100 * cpu.get("throttled_share", 0), ev["request_rate"], here,
               100 * r["cpu_high"], 100 * r["throttled_high"], how),
            {"machine_class": here}, proposed, applies=False))
        return
    smaller = [m for m in fits if int(m["vcpus"]) < int(cur["host_vcpus"])]
    if utilisation <= r["cpu_low"] and smaller and (ev["requests"] or 0) >= r["min_requests"]:
        target = smaller[0]
        proposals.append(_proposal(
            "capacity",
            "the proxy used %.2f of its %.2f CPUs (%.0f %%, below litellm_tune_cpu_low %.0f %%) at %s req/s: "
            "over-provisioned; %d vCPU / %d MB would run this load at %.0f %% or less"
            % (cores, cpu["cpus_limit"], 100 * utilisation, 100 * r["cpu_low"], ev["request_rate"],
               int(target["vcpus"]), int(target["memory_mb"]), 100 * r["cpu_target"]),
            {"machine_class": here},
            {"machine_class": "%d vCPU / %d MB" % (int(target["vcpus"]), int(target["memory_mb"]))}, applies=False))
        return
    checked.append({"rule": "capacity", "fired": False,
                    "why": "the proxy used %.2f of its %.2f CPUs (%.0f %%), between litellm_tune_cpu_low %.0f %% and "
                           "litellm_tune_cpu_high %.0f %%" % (cores, cpu["cpus_limit"], 100 * utilisation,
                                                              100 * r["cpu_low"], 100 * r["cpu_high"])})


def _memory_rule(ev, r, checked, notes):
    memory = ev.get("memory") or {}
    share = memory.get("share")
    if share is not None and share >= r["memory_high"]:
        notes.append("the proxy's working set is %.0f MB of its %.0f MB limit (%.0f %%, litellm_tune_memory_high %.0f %%): "
                     "workers grow between recycles; lower litellm_sizing_overrides.max_requests_before_restart or give the "
                     "host more RAM" % (memory["working_set_mb"], memory["limit_mb"], 100 * share, 100 * r["memory_high"]))
    checked.append({"rule": "memory", "fired": bool(share is not None and share >= r["memory_high"]),
                    "why": "working set %s of the limit" % ("unknown" if share is None else "%.0f %%" % (100 * share))})


def litellm_tune_proposals(evidence, current, rules):
    """Proposals for one host from its evidence. `current`: what runs (cache_enabled, cache_ttl_seconds,
    batch_write_seconds, database, redis_maxmemory_mb, sizing_overrides, host_vcpus, host_memory_mb,
    instances, sizing_inputs); `rules`: the role's litellm_tune_* thresholds without the prefix."""
    r = _rules(rules)
    ev = evidence or {}
    if ev.get("problems"):
        return {"verdict": "no-data", "proposals": [], "checked": [], "notes": [], "overrides": {},
                "why": "no proposal from this window: " + "; ".join(ev["problems"])}
    proposals, checked, notes = [], [], []
    _cache_rules(ev, current, r, proposals, checked)
    _batch_rule(ev, current, r, proposals, checked)
    _capacity_rule(ev, current, r, proposals, checked)
    _memory_rule(ev, r, checked, notes)
    overrides = {}
    for proposal in proposals:
        if proposal["applies"]:
            overrides.update(proposal["variables"])
    if proposals:
        why = "; ".join(p["rule"] for p in proposals) + " fired"
    else:
        why = "nothing to change: " + "; ".join(c["why"] for c in checked if not c["fired"])
    return {"verdict": "change" if proposals else "nothing", "proposals": proposals, "checked": checked, "notes": notes,
            "overrides": overrides, "why": why}


def litellm_tune_line(report):
    """One host's entry of the fleet summary (fleet.json, AWX's set_stats)."""
    report = report or {}
    applied = report.get("applied") or {}
    return {
        "verdict": report.get("verdict"),
        "rules": [p["rule"] for p in report.get("proposals") or []],
        "proposed": dict(report.get("overrides") or {}),
        "reported_only": [dict(p["proposed"], rule=p["rule"]) for p in report.get("proposals") or [] if not p["applies"]],
        "applied": applied.get("result"),
        "why": report.get("why"),
    }


def litellm_tune_text_line(report):
    """One host's line of the fleet summary as the play prints it."""
    line = litellm_tune_line(report)
    applied = line["applied"] or ("no (check mode)" if (report or {}).get("check_mode") and line["proposed"] else "-")
    return "%-24s %-11s %-28s %s" % (str((report or {}).get("host"))[:24], line["verdict"],
                                     ",".join(line["rules"]) or "-", applied)


class FilterModule(object):
    def filters(self):
        return {"litellm_tune_evidence": litellm_tune_evidence, "litellm_tune_proposals": litellm_tune_proposals,
                "litellm_tune_line": litellm_tune_line, "litellm_tune_text_line": litellm_tune_text_line}
