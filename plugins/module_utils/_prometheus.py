# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parser for the Prometheus text exposition format (0.0.4, and the OpenMetrics 1.0 text
that prometheus_client writes), plus the summary of LiteLLM's metrics that
gatewayops.litellm.metrics_info returns.

Private to this collection; standard library only (runs on targets)."""

from __future__ import annotations

import math
import re

from ansible_collections.gatewayops.litellm.plugins.module_utils._stats import (
    QUANTILES,
    empty_summary,
    merge_buckets,
    ratio,
    summarize_histogram,
)

_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_FLOAT = re.compile(r"^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[Ii]nf(?:inity)?|NaN)$")
_TIMESTAMP = re.compile(r"^-?[0-9]+(?:\.[0-9]+)?$")
_TYPES = frozenset(("counter", "gauge", "histogram", "gaugehistogram", "summary", "untyped", "unknown", "info", "stateset"))
# sample-name suffixes that belong to the family without them, per family type
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gaugehistogram": ("_bucket", "_gcount", "_gsum"),
    "summary": ("_count", "_sum", "_created"),
    "info": ("_info",),
}
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}


class PrometheusParseError(ValueError):
    """The text is not in the exposition format; the message names the line."""

    def __init__(self, line_number, message):
        super(PrometheusParseError, self).__init__("line %d: %s" % (line_number, message))
        self.line_number = line_number


class Sample(object):
    """One sample line: name, labels (dict), value (float), timestamp (float or None)."""

    __slots__ = ("name", "labels", "value", "timestamp")

    def __init__(self, name, labels, value, timestamp=None):
        self.name = name
        self.labels = labels
        self.value = value
        self.timestamp = timestamp

    def __repr__(self):
        return "Sample(%r, %r, %r)" % (self.name, self.labels, self.value)


class MetricFamily(object):
    """A metric family: its name, type, help text and samples (in the order of the text)."""

    __slots__ = ("name", "type", "help", "unit", "samples")

    def __init__(self, name, metric_type="untyped", help_text=None):
        self.name = name
        self.type = metric_type
        self.help = help_text
        self.unit = None
        self.samples = []

    def to_dict(self):
        """A JSON-friendly copy (values made readable by number())."""
        return {
            "type": self.type,
            "help": self.help,
            "samples": [{"name": s.name, "labels": dict(s.labels), "value": number(s.value)} for s in self.samples],
        }


def number(value):
    """A float as int when it is integral (counters read better), None for NaN, the float otherwise.
    Infinite values become the strings '+Inf' / '-Inf' (JSON has no infinity)."""
    if value is None or math.isnan(value):
        return None
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 2 ** 53:
        return int(value)
    return value


def _unescape(text, line_number, what):
    out = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            if i + 1 >= len(text):
                raise PrometheusParseError(line_number, "%s ends in a lone backslash" % what)
            nxt = text[i + 1]
            # the text format leaves unknown escapes alone; only \\, \" and \n mean something
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _parse_float(text, line_number, what):
    if not _FLOAT.match(text):
        raise PrometheusParseError(line_number, "%s %r is not a number" % (what, text))
    return float(text)


def _parse_labels(line, pos, line_number):
    """Parse `{name="value",...}` starting at line[pos] == '{'; return (labels, position after '}')."""
    labels = {}
    pos += 1
    while True:
        while pos < len(line) and line[pos] in " \t":
            pos += 1
        if pos >= len(line):
            raise PrometheusParseError(line_number, "label set is not closed with '}'")
        if line[pos] == "}":
            return labels, pos + 1
        match = _LABEL_NAME.match(line, pos)
        if not match:
            raise PrometheusParseError(line_number, "invalid label name at column %d" % (pos + 1))
        name = match.group(0)
        pos = match.end()
        while pos < len(line) and line[pos] in " \t":
            pos += 1
        if line[pos:pos + 2] != '="':
            raise PrometheusParseError(line_number, "label %s must be followed by =\"value\"" % name)
        pos += 2
        start = pos
        while pos < len(line) and line[pos] != '"':
            pos += 2 if line[pos] == "\\" else 1
        if pos >= len(line):
            raise PrometheusParseError(line_number, "value of label %s is not closed with a quote" % name)
        if name in labels:
            raise PrometheusParseError(line_number, "label %s appears twice" % name)
        labels[name] = _unescape(line[start:pos], line_number, "value of label %s" % name)
        pos += 1
        while pos < len(line) and line[pos] in " \t":
            pos += 1
        if pos < len(line) and line[pos] == ",":
            pos += 1
        elif pos < len(line) and line[pos] != "}":
            raise PrometheusParseError(line_number, "expected ',' or '}' after the value of label %s" % name)


def parse_sample(line, line_number=1):
    """Parse one sample line into a Sample."""
    match = _METRIC_NAME.match(line)
    if not match:
        raise PrometheusParseError(line_number, "a sample must start with a metric name")
    name = match.group(0)
    pos = match.end()
    labels = {}
    if pos < len(line) and line[pos] == "{":
        labels, pos = _parse_labels(line, pos, line_number)
    rest = line[pos:]
    # OpenMetrics exemplar: "<value> [<timestamp>] # {labels} <value> [<timestamp>]"
    rest = rest.split(" # ", 1)[0]
    if rest and rest[0] not in " \t":
        raise PrometheusParseError(line_number, "expected a space between the metric and its value")
    fields = rest.split()
    if not fields or len(fields) > 2:
        raise PrometheusParseError(line_number, "expected a value and an optional timestamp after %s" % name)
    value = _parse_float(fields[0], line_number, "value")
    timestamp = None
    if len(fields) == 2:
        if not _TIMESTAMP.match(fields[1]):
            raise PrometheusParseError(line_number, "timestamp %r is not a number" % fields[1])
        timestamp = float(fields[1])
    return Sample(name, labels, value, timestamp)


def _family_for(name, families):
    family = families.get(name)
    if family is not None:
        return family
    for family_type, suffixes in _SUFFIXES.items():
        for suffix in suffixes:
            if name.endswith(suffix):
                base = families.get(name[:-len(suffix)])
                if base is not None and base.type == family_type:
                    return base
    return None


def parse(text):
    """Parse exposition text into {family name: MetricFamily}, in the order of the text.

    A sample belongs to the family whose # TYPE/# HELP names it exactly, or to the family
    its name extends by a suffix of that family's type (_bucket, _count, _sum, _total,
    _created ...). Samples of undeclared families form untyped families of their own."""
    families = {}
    typed = set()
    for line_number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            parts = line[1:].strip().split(None, 2)
            if not parts or parts[0] not in ("HELP", "TYPE", "UNIT", "EOF"):
                continue  # a plain comment
            if parts[0] == "EOF":
                break
            if len(parts) < 2 or not _METRIC_NAME.fullmatch(parts[1]):
                raise PrometheusParseError(line_number, "# %s needs a metric name" % parts[0])
            name = parts[1]
            family = families.setdefault(name, MetricFamily(name))
            argument = parts[2] if len(parts) > 2 else ""
            if parts[0] == "HELP":
                family.help = _unescape(argument, line_number, "help text")
            elif parts[0] == "UNIT":
                family.unit = argument
            else:
                if argument not in _TYPES:
                    raise PrometheusParseError(line_number, "unknown metric type %r for %s" % (argument, name))
                if name in typed:
                    raise PrometheusParseError(line_number, "second # TYPE line for %s" % name)
                if family.samples:
                    raise PrometheusParseError(line_number, "# TYPE line for %s after its samples" % name)
                typed.add(name)
                family.type = argument
            continue
        sample = parse_sample(line, line_number)
        family = _family_for(sample.name, families)
        if family is None:
            family = families.setdefault(sample.name, MetricFamily(sample.name))
        family.samples.append(sample)
    return families


# ---------------------------------------------------------------- queries

def samples(families, name, sample_name=None, where=None):
    """Samples of family `name` (only those named `sample_name` when given) whose labels
    pass `where` (a callable taking the labels dict)."""
    family = families.get(name)
    if family is None:
        return []
    return [s for s in family.samples
            if (sample_name is None or s.name == sample_name) and (where is None or where(s.labels))]


def total(sample_list):
    """Sum of the sample values (NaN ignored)."""
    return sum(s.value for s in sample_list if not math.isnan(s.value))


def sum_by(sample_list, label, skip_empty=False):
    """{label value: sum of values}; samples without the label count under ''."""
    sums = {}
    for s in sample_list:
        key = s.labels.get(label, "")
        if skip_empty and key in ("", "None"):
            continue
        if not math.isnan(s.value):
            sums[key] = sums.get(key, 0.0) + s.value
    return sums


def histogram(families, name, where=None):
    """Merge every series of histogram `name` (passing `where`) into one:
    {'buckets': [(upper bound, cumulative count)], 'count': n, 'sum': s}, or None."""
    family = families.get(name)
    if family is None or family.type != "histogram":
        return None
    series = {}
    count = 0.0
    total_sum = 0.0
    for s in family.samples:
        if where is not None and not where(s.labels):
            continue
        if s.name == name + "_bucket":
            if "le" not in s.labels:
                continue
            key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
            series.setdefault(key, []).append((_parse_bound(s.labels["le"]), s.value))
        elif s.name == name + "_count":
            count += s.value
        elif s.name == name + "_sum":
            total_sum += s.value
    return {"buckets": merge_buckets(series.values()), "count": count, "sum": total_sum}


def _parse_bound(text):
    try:
        return float(text)
    except ValueError:
        return float("nan")


def histogram_summary(hist, quantiles=QUANTILES, scale=1.0):
    """The summary shape of _stats (count, min, max, mean, p50, p90, p95, p99) of a merged
    histogram, values multiplied by `scale` (1000 turns seconds into milliseconds); min and max
    are None, a histogram does not keep them."""
    if not hist:
        return empty_summary(quantiles)
    return summarize_histogram(hist["buckets"], number(hist["count"]), hist["sum"], quantiles=quantiles, scale=scale)


# ---------------------------------------------------------------- LiteLLM

DEPLOYMENT_STATES = {0: "healthy", 1: "partial_outage", 2: "complete_outage"}
LATENCY_HISTOGRAMS = {
    "total": "litellm_request_total_latency_metric",
    "llm_api": "litellm_llm_api_latency_metric",
    "overhead": "litellm_overhead_latency_metric",
    "queue": "litellm_request_queue_time_seconds",
}


def _counts(mapping):
    return {k: number(v) for k, v in sorted(mapping.items())}


def litellm_summary(families):
    """What gatewayops.litellm.metrics_info returns, from LiteLLM's Prometheus families
    (names as LiteLLM 1.108.7 exports them). Counters are totals since the proxy started."""
    requests = samples(families, "litellm_proxy_total_requests_metric_total", "litellm_proxy_total_requests_metric_total")
    failures = samples(families, "litellm_proxy_failed_requests_metric_total", "litellm_proxy_failed_requests_metric_total")
    result = {
        "requests": {
            "total": number(total(requests)),
            "by_status": _counts(sum_by(requests, "status_code")),
            "by_route": _counts(sum_by(requests, "route")),
            "by_model": _counts(sum_by(requests, "requested_model", skip_empty=True)),
        },
        "failures": {
            "total": number(total(failures)),
            "by_status": _counts(sum_by(failures, "exception_status")),
            "by_class": _counts(sum_by(failures, "exception_class")),
            "by_model": _counts(sum_by(failures, "requested_model", skip_empty=True)),
        },
        "latency_ms": {},
        "latency_by_model_ms": {},
        "cache": _cache(families),
        "tokens": {
            "total": number(total(samples(families, "litellm_total_tokens_metric_total"))),
            "input": number(total(samples(families, "litellm_input_tokens_metric_total"))),
            "output": number(total(samples(families, "litellm_output_tokens_metric_total"))),
        },
        "in_flight_requests": None,
    }
    for key, name in LATENCY_HISTOGRAMS.items():
        result["latency_ms"][key] = histogram_summary(histogram(families, name), scale=1000.0)
    total_latency = families.get(LATENCY_HISTOGRAMS["total"])
    if total_latency is not None:
        groups = sorted({s.labels.get("model_group", "") for s in total_latency.samples} - {"", "None"})
        for group in groups:
            hist = histogram(families, LATENCY_HISTOGRAMS["total"], lambda labels, g=group: labels.get("model_group") == g)
            result["latency_by_model_ms"][group] = histogram_summary(hist, scale=1000.0)
    in_flight = samples(families, "litellm_in_flight_requests")
    if in_flight:
        result["in_flight_requests"] = number(total(in_flight))
    result["deployments"], result["deployment_states"] = _deployments(families)
    return result


def _cache(families):
    hits = total(samples(families, "litellm_cache_hits_metric_total", "litellm_cache_hits_metric_total"))
    miss_samples = samples(families, "litellm_cache_misses_metric_total", "litellm_cache_misses_metric_total")
    misses = total(miss_samples)
    # The rate is hits / successful LLM calls (litellm_requests_metric_total counts cache hits
    # too), never hits / (hits + misses): LiteLLM 1.108.7 counts a miss only where a call's
    # logging payload says cache_hit False, and most misses leave it unset, so its miss counter
    # is absent or a fraction of the misses (a miss-based rate read 100 % or flipped between
    # runs). The same basis as the tune role's evidence and the clients' own count.
    llm_requests = total(samples(families, "litellm_requests_metric_total", "litellm_requests_metric_total"))
    rate, basis = ratio(hits, llm_requests), "hits/requests"
    return {
        "hits": number(hits),
        "misses": number(misses) if miss_samples else None,
        "requests": number(llm_requests),
        "hit_rate": None if rate is None else round(rate, 4),
        "hit_rate_basis": basis,
        "cached_tokens": number(total(samples(families, "litellm_cached_tokens_metric_total", "litellm_cached_tokens_metric_total"))),
    }


def _deployments(families):
    # litellm_deployment_state carries no model group: learn it from the per-deployment counters
    groups = {}
    for name in ("litellm_deployment_total_requests_total", "litellm_deployment_success_responses_total",
                 "litellm_deployment_failure_responses_total"):
        for s in samples(families, name):
            model_id, group = s.labels.get("model_id"), s.labels.get("model_group")
            if model_id and group:
                groups.setdefault(model_id, group)
    deployments = []
    counts = dict.fromkeys(DEPLOYMENT_STATES.values(), 0)
    for s in samples(families, "litellm_deployment_state"):
        if not s.labels.get("model_id"):
            continue  # LiteLLM's own /health check sets a state for a deployment without an id
        code = None if math.isnan(s.value) else int(s.value)
        state = DEPLOYMENT_STATES.get(code, "unknown")
        counts[state] = counts.get(state, 0) + 1
        deployments.append({
            "model_group": groups.get(s.labels.get("model_id")),
            "model": s.labels.get("litellm_model_name"),
            "model_id": s.labels.get("model_id"),
            "api_base": s.labels.get("api_base"),
            "provider": s.labels.get("api_provider"),
            "state": state,
            "state_code": code,
        })
    deployments.sort(key=lambda d: (d["model_group"] or "", d["model"] or "", d["model_id"] or ""))
    return deployments, counts


def select_families(families, names):
    """{name: family as dict} for the requested names that exist (a name may end in '*')."""
    selected = {}
    for pattern in names:
        if pattern.endswith("*"):
            matches = [n for n in families if n.startswith(pattern[:-1])]
        else:
            matches = [pattern] if pattern in families else []
        for name in matches:
            selected[name] = families[name].to_dict()
    return selected
