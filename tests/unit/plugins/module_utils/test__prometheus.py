# -*- coding: utf-8 -*-
"""The Prometheus text parser and the LiteLLM summary, on hand-written text and on
/metrics/ captured from a real LiteLLM 1.108.7 proxy (tests/unit/fixtures)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from ansible_collections.gatewayops.litellm.plugins.module_utils import _prometheus as p

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "litellm-1.108.7-metrics.txt"


@pytest.fixture(scope="module")
def real():
    return p.parse(FIXTURE.read_text(encoding="utf-8"))


class TestSampleLines:
    def test_name_labels_value(self):
        sample = p.parse_sample('http_requests_total{method="post",code="200"} 1027')
        assert (sample.name, sample.labels, sample.value, sample.timestamp) == (
            "http_requests_total", {"method": "post", "code": "200"}, 1027.0, None)

    def test_timestamp_and_no_labels(self):
        sample = p.parse_sample("metric_without_labels 12.47 1395066363000")
        assert sample.labels == {}
        assert sample.value == 12.47
        assert sample.timestamp == 1395066363000

    def test_label_values_with_escapes_braces_commas_and_hashes(self):
        line = r'msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\"",x="a,b} # c"} 1.458255915e9'
        sample = p.parse_sample(line)
        assert sample.labels == {"path": "C:\\DIR\\FILE.TXT", "error": 'Cannot find file:\n"FILE.TXT"', "x": "a,b} # c"}
        assert sample.value == 1458255915.0

    @pytest.mark.parametrize("text, check", [
        ("+Inf", lambda v: v == float("inf")),
        ("-Inf", lambda v: v == float("-inf")),
        ("NaN", math.isnan),
        ("-1.5e-3", lambda v: v == -0.0015),
        ("0", lambda v: v == 0.0),
    ])
    def test_special_and_scientific_values(self, text, check):
        assert check(p.parse_sample("m " + text).value)

    def test_trailing_comma_and_spaces_in_label_set(self):
        assert p.parse_sample('m{ a="1" , b="2", } 3').labels == {"a": "1", "b": "2"}

    def test_openmetrics_exemplar_is_ignored(self):
        sample = p.parse_sample('foo_bucket{le="0.1"} 8 # {trace_id="KOO5S4vxi0o"} 0.067 1520879607.789')
        assert (sample.labels, sample.value, sample.timestamp) == ({"le": "0.1"}, 8.0, None)

    @pytest.mark.parametrize("line, message", [
        ("9metric 1", "must start with a metric name"),
        ('m{a="1" 2', "expected ',' or '}'"),
        ('m{a="1"', "not closed with '}'"),
        ('m{a="1} 2', "not closed with a quote"),
        ("m{a=1} 2", 'must be followed by ="value"'),
        ('m{a="1",a="2"} 3', "label a appears twice"),
        ('m{1a="x"} 3', "invalid label name"),
        ("m", "expected a value"),
        ("m 1 2 3", "expected a value"),
        ("m one", "'one' is not a number"),
        ("m 1_000", "is not a number"),
        ("m 1 yesterday", "timestamp 'yesterday'"),
        ('m{a="x"}1', "expected a space"),
    ])
    def test_errors_name_the_line_and_the_problem(self, line, message):
        with pytest.raises(p.PrometheusParseError) as err:
            p.parse("# HELP m fine\n\n" + line + "\n")
        assert str(err.value).startswith("line 3: ")
        assert message in str(err.value)
        assert err.value.line_number == 3


class TestFamilies:
    TEXT = "\n".join([
        "# A plain comment",
        "# HELP http_requests_total The total number of HTTP requests.",
        "# TYPE http_requests_total counter",
        'http_requests_total{method="post",code="200"} 1027 1395066363000',
        'http_requests_total{method="post",code="400"}    3 1395066363000',
        "",
        "# HELP rpc_duration_seconds A summary of the RPC duration in seconds.",
        "# TYPE rpc_duration_seconds summary",
        'rpc_duration_seconds{quantile="0.5"} 4773',
        "rpc_duration_seconds_sum 1.7560473e+07",
        "rpc_duration_seconds_count 2693",
        "# TYPE http_request_duration_seconds histogram",
        'http_request_duration_seconds_bucket{le="0.05"} 24054',
        'http_request_duration_seconds_bucket{le="0.1"} 33444',
        'http_request_duration_seconds_bucket{le="+Inf"} 144320',
        "http_request_duration_seconds_sum 53423",
        "http_request_duration_seconds_count 144320",
        "stray_metric 4",
        "# HELP escaped Line one\\nline two \\\\ done",
        "escaped 1",
    ])

    def test_groups_samples_into_typed_families(self):
        families = p.parse(self.TEXT)
        assert list(families) == ["http_requests_total", "rpc_duration_seconds", "http_request_duration_seconds",
                                  "stray_metric", "escaped"]
        assert families["http_requests_total"].type == "counter"
        assert families["http_requests_total"].help == "The total number of HTTP requests."
        assert [s.value for s in families["http_requests_total"].samples] == [1027.0, 3.0]
        assert [s.name for s in families["rpc_duration_seconds"].samples] == [
            "rpc_duration_seconds", "rpc_duration_seconds_sum", "rpc_duration_seconds_count"]
        assert len(families["http_request_duration_seconds"].samples) == 5

    def test_undeclared_samples_and_help_only_families_are_untyped(self):
        families = p.parse(self.TEXT)
        assert families["stray_metric"].type == "untyped"
        assert families["escaped"].type == "untyped"
        assert families["escaped"].help == "Line one\nline two \\ done"

    def test_counter_declared_without_total_owns_its_total_samples(self):
        families = p.parse("# TYPE requests counter\nrequests_total 5\nrequests_created 1.7e9\n")
        assert list(families) == ["requests"]
        assert [s.name for s in families["requests"].samples] == ["requests_total", "requests_created"]

    def test_a_suffix_only_attaches_to_a_family_of_the_matching_type(self):
        families = p.parse("# TYPE cpu gauge\ncpu 1\ncpu_total 2\n")
        assert [s.name for s in families["cpu"].samples] == ["cpu"]
        assert families["cpu_total"].type == "untyped"

    def test_openmetrics_unit_and_eof(self):
        families = p.parse("# TYPE t_seconds gauge\n# UNIT t_seconds seconds\nt_seconds 2\n# EOF\nignored 1\n")
        assert families["t_seconds"].unit == "seconds"
        assert "ignored" not in families

    @pytest.mark.parametrize("text, message", [
        ("# TYPE m counter\n# TYPE m gauge\n", "line 2: second # TYPE line for m"),
        ("# TYPE m summery\n", "line 1: unknown metric type 'summery' for m"),
        ("m 1\n# TYPE m gauge\n", "line 2: # TYPE line for m after its samples"),
        ("# TYPE\n", "line 1: # TYPE needs a metric name"),
    ])
    def test_declaration_errors(self, text, message):
        with pytest.raises(p.PrometheusParseError, match="^" + message):
            p.parse(text)

    def test_histogram_merges_series_by_bound(self):
        text = "\n".join([
            "# TYPE lat histogram",
            'lat_bucket{model="a",le="0.1"} 1', 'lat_bucket{model="a",le="1.0"} 3', 'lat_bucket{model="a",le="+Inf"} 4',
            'lat_sum{model="a"} 2.5', 'lat_count{model="a"} 4',
            'lat_bucket{model="b",le="0.1"} 0', 'lat_bucket{model="b",le="1.0"} 2', 'lat_bucket{model="b",le="+Inf"} 2',
            'lat_sum{model="b"} 1.0', 'lat_count{model="b"} 2',
        ])
        families = p.parse(text)
        merged = p.histogram(families, "lat")
        assert merged == {"buckets": [(0.1, 1.0), (1.0, 5.0), (float("inf"), 6.0)], "count": 6.0, "sum": 3.5}
        only_b = p.histogram(families, "lat", lambda labels: labels["model"] == "b")
        assert only_b["count"] == 2.0
        assert p.histogram_summary(only_b) == {"count": 2, "min": None, "max": None, "mean": 0.5,
                                               "p50": 0.55, "p90": 0.91, "p95": 0.955, "p99": 0.991}
        assert p.histogram(families, "missing") is None

    def test_histogram_summary_without_data_and_in_milliseconds(self):
        assert p.histogram_summary(None) == {"count": 0, "min": None, "max": None, "mean": None,
                                             "p50": None, "p90": None, "p95": None, "p99": None}
        hist = {"buckets": [(0.5, 2.0), (float("inf"), 2.0)], "count": 2.0, "sum": 0.5}
        assert p.histogram_summary(hist, quantiles=(0.5,), scale=1000.0) == {"count": 2, "min": None, "max": None,
                                                                             "mean": 250.0, "p50": 250.0}

    def test_number_makes_counters_readable_and_json_safe(self):
        assert [p.number(v) for v in (3.0, 2.5, float("nan"), float("inf"), float("-inf"), None)] == [
            3, 2.5, None, "+Inf", "-Inf", None]

    def test_select_families_by_name_and_prefix(self):
        families = p.parse(self.TEXT)
        selected = p.select_families(families, ["http_request*", "escaped", "absent"])
        assert sorted(selected) == ["escaped", "http_request_duration_seconds", "http_requests_total"]
        assert selected["http_requests_total"]["samples"][1] == {
            "name": "http_requests_total", "labels": {"method": "post", "code": "400"}, "value": 3}


class TestRealLiteLLMMetrics:
    """Expected figures were read off the fixture with grep and awk, not with this parser."""

    def test_parses_every_line(self, real):
        text = FIXTURE.read_text(encoding="utf-8")
        sample_lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
        assert sum(len(f.samples) for f in real.values()) == len(sample_lines)
        declared = {ln.split()[2] for ln in text.splitlines() if ln.startswith("# TYPE ")}
        assert set(real) == declared  # prometheus_client declares every family it writes

    def test_family_types(self, real):
        assert real["litellm_proxy_total_requests_metric_total"].type == "counter"
        assert real["litellm_request_total_latency_metric"].type == "histogram"
        assert real["litellm_deployment_state"].type == "gauge"
        assert real["litellm_in_flight_requests"].samples[0].value == 1.0

    def test_request_and_failure_totals(self, real):
        summary = p.litellm_summary(real)
        assert summary["requests"]["total"] == 20
        assert summary["requests"]["by_model"]["fake-chat"] == 4
        assert summary["requests"]["by_status"]["500"] == 3
        assert summary["requests"]["by_status"]["200"] == 11
        assert summary["requests"]["by_route"]["/v1/embeddings"] == 3
        assert summary["failures"]["total"] == 9
        assert summary["failures"]["by_status"]["500"] == 3
        assert summary["failures"]["by_model"]["fake-fail-500"] == 2
        assert summary["failures"]["by_class"]["Openai.RateLimitError"] == 1
        assert "" not in summary["requests"]["by_model"]

    def test_latency_quantiles_from_the_merged_histogram(self, real):
        total = p.litellm_summary(real)["latency_ms"]["total"]
        assert total["count"] == 11
        assert total["mean"] == pytest.approx(4956.24 / 11, abs=0.01)
        assert total["p50"] == pytest.approx(205.0)
        assert total["p90"] == pytest.approx(1450.0)
        assert total["p99"] == pytest.approx(1945.0)
        assert total["p50"] <= total["p90"] <= total["p99"]

    def test_latency_by_model_group(self, real):
        by_model = p.litellm_summary(real)["latency_by_model_ms"]
        assert sorted(by_model) == ["fake-chat", "fake-embedding", "fake-slow"]
        assert by_model["fake-slow"]["count"] == 2
        # both fake-slow requests took 1.5-2 s (slow-1500): both quantiles in (1.0, 2.0]
        assert 1000.0 < by_model["fake-slow"]["p50"] <= 2000.0

    def test_cache_hit_rate_uses_requests_when_misses_are_not_exported(self, real):
        cache = p.litellm_summary(real)["cache"]
        assert cache == {"hits": 2, "misses": None, "requests": 11, "hit_rate": round(2 / 11, 4),
                         "hit_rate_basis": "hits/requests", "cached_tokens": 14}

    def test_cache_hit_rate_is_hits_per_request_also_when_misses_are_exported(self):
        families = p.parse("\n".join([
            "# TYPE litellm_cache_hits_metric_total counter", 'litellm_cache_hits_metric_total{model="a"} 3',
            "# TYPE litellm_cache_misses_metric_total counter", 'litellm_cache_misses_metric_total{model="a"} 1',
            "# TYPE litellm_requests_metric_total counter", 'litellm_requests_metric_total{model="a"} 40',
        ]))
        cache = p.litellm_summary(families)["cache"]
        # LiteLLM's miss counter undercounts (only calls whose payload says cache_hit False): shown, not used
        assert (cache["hit_rate"], cache["hit_rate_basis"], cache["misses"]) == (0.075, "hits/requests", 1)

    def test_deployment_states_with_their_model_groups(self, real):
        summary = p.litellm_summary(real)
        by_group = {d["model_group"]: d for d in summary["deployments"]}
        assert by_group["fake-chat"]["state"] == "healthy"
        assert by_group["fake-fail-500"]["state"] == "partial_outage"
        assert by_group["fake-fail-500"]["model"] == "fail-500"
        assert by_group["fake-fail-500"]["state_code"] == 1
        assert summary["deployment_states"] == {"healthy": 3, "partial_outage": 5, "complete_outage": 0}
        # a state LiteLLM's own /health check leaves behind has no deployment id: left out
        assert all(d["model_id"] for d in summary["deployments"])

    def test_empty_text_gives_an_empty_summary(self):
        summary = p.litellm_summary(p.parse(""))
        assert summary["requests"] == {"total": 0, "by_status": {}, "by_route": {}, "by_model": {}}
        assert summary["cache"]["hit_rate"] is None
        assert summary["latency_ms"]["total"]["p50"] is None
        assert summary["deployments"] == [] and summary["in_flight_requests"] is None
