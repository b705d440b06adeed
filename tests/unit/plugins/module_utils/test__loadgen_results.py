# -*- coding: utf-8 -*-
"""_loadgen.results: the summary of records, the thresholds and their table, the summary line."""

from __future__ import annotations

import pytest

from ansible_collections.gatewayops.litellm.plugins.module_utils._stats import empty_summary

from ansible_collections.gatewayops.litellm.plugins.module_utils._loadgen import config as cfg
from ansible_collections.gatewayops.litellm.plugins.module_utils._loadgen import results as res


def record(seq, intended, ended, status=200, error=None, sent=None, overhead=None, first_token=None, message=None):
    r = res.Record(seq, intended)
    r.sent = intended if sent is None else sent
    r.ended, r.status, r.error, r.overhead_ms, r.first_token, r.message = ended, status, error, overhead, first_token, message
    return r


def result_of(records, dropped=0, **config):
    config.setdefault("model", "m")
    result = res.LoadResult(cfg.LoadConfig(**config))
    result.window_start = 100.0
    result.window_end = 110.0
    result.records = records
    result.dropped = dropped
    return result


class TestSummary:
    def test_counts_rates_statuses_and_percentiles(self):
        records = [record(i, 100.0 + i * 0.1, 100.0 + i * 0.1 + 0.2, overhead=10.0 + i) for i in range(100)]
        records.append(record(100, 105.0, 105.5, status=500, message='{"error": "x"}'))
        records.append(record(101, 105.0, 105.1, status=None, error="reset", message="Connection reset by peer"))
        s = result_of(records).summary()
        assert s["requests"] == 102 and s["successes"] == 100 and s["errors"] == 2
        assert s["rps"] == pytest.approx(10.2) and s["success_rps"] == pytest.approx(10.0)
        assert s["error_rate"] == pytest.approx(2 / 102, abs=1e-6)
        assert s["status_codes"] == {"200": 100, "500": 1}
        assert s["error_kinds"] == {"http_500": 1, "reset": 1}
        assert s["latency_ms"]["p50"] == pytest.approx(200.0) and s["latency_ms"]["count"] == 100
        assert s["overhead_ms"]["p50"] == pytest.approx(59.5) and s["overhead_ms"]["max"] == 109.0
        assert s["ttft_ms"] is None and s["send_lag_ms"] is None
        assert [x["kind"] for x in s["error_samples"]] == ["http_500", "reset"]
        assert s["error_samples"][0]["at_s"] == pytest.approx(5.0)

    def test_samples_are_distinct_and_bounded(self):
        records = [record(i, 101.0, 101.1, status=429, message="slow down") for i in range(10)]
        records += [record(20 + i, 101.0, 101.1, status=500, message="boom %d" % i) for i in range(10)]
        s = result_of(records, error_samples=3).summary()
        assert [(x["status"], x["message"]) for x in s["error_samples"]] == [(429, "slow down"), (500, "boom 0"), (500, "boom 1")]

    def test_open_loop_dropped_late_and_send_lag(self):
        records = [record(i, 100.0 + i, 100.0 + i + 0.05, sent=100.0 + i + (0.02 if i % 2 else 0.001)) for i in range(10)]
        s = result_of(records, dropped=5, mode="open", rate=1.0, concurrency=2).summary()
        assert s["late"] == 5 and s["dropped"] == 5 and s["error_kinds"] == {"dropped": 5}
        assert s["error_rate"] == pytest.approx(5 / 15.0, abs=1e-6)
        assert s["send_lag_ms"]["max"] == pytest.approx(20.0) and s["send_lag_ms"]["p50"] == pytest.approx(10.5)
        # latency counts from the intended time, not from the late send
        assert s["latency_ms"]["max"] == pytest.approx(50.0)

    def test_stream_time_to_first_token(self):
        records = [record(i, 100.0, 100.5, first_token=100.0 + 0.1 * (i + 1)) for i in range(4)]
        records.append(record(9, 100.0, 100.2, error="stream_incomplete"))
        s = result_of(records, stream=True).summary()
        assert s["ttft_ms"]["count"] == 4 and s["ttft_ms"]["min"] == pytest.approx(100.0)
        assert s["ttft_ms"]["p50"] == pytest.approx(250.0)
        assert s["error_kinds"] == {"stream_incomplete": 1}

    def test_nothing_measured(self):
        s = result_of([]).summary()
        assert s["requests"] == 0 and s["rps"] == 0.0 and s["error_rate"] == 0.0
        assert s["latency_ms"] == {"count": 0, "min": None, "max": None, "mean": None,
                                   "p50": None, "p90": None, "p95": None, "p99": None}
        assert "latency p50/p95/p99/max -/-/-/- ms" in res.summary_line(s)


class TestThresholds:
    SUMMARY = {"success_rps": 42.5, "latency_ms": {"p99": 2860.0}, "error_rate": 0.0}

    def test_table_shows_target_measured_and_result(self):
        checks = res.evaluate_thresholds(self.SUMMARY, min_rps=50, max_p99_ms=3000, max_error_rate=0.01)
        assert [c["passed"] for c in checks] == [False, True, True]
        assert res.threshold_table(checks).split("\n") == [
            "check           target   measured  result",
            "--------------  -------  --------  ------",
            "min_rps         >= 50    42.5      FAILED",
            "max_p99_ms      <= 3000  2860      ok",
            "max_error_rate  <= 0.01  0         ok",
        ]

    def test_only_given_thresholds_are_checked(self):
        assert res.evaluate_thresholds(self.SUMMARY) == []
        checks = res.evaluate_thresholds(self.SUMMARY, max_error_rate=0)
        assert checks == [{"name": "max_error_rate", "target": "<= 0", "measured": "0", "passed": True}]

    def test_p99_without_successes_fails(self):
        checks = res.evaluate_thresholds({"success_rps": 0.0, "latency_ms": {"p99": None}, "error_rate": 1.0}, max_p99_ms=100)
        assert checks[0]["measured"] == "no successful request" and not checks[0]["passed"]

    @pytest.mark.parametrize("thresholds, problems", [
        ({}, []),
        ({"min_rps": 0, "max_p99_ms": 0, "max_error_rate": 0}, []),
        ({"max_error_rate": 1.0}, []),
        ({"max_error_rate": 1.5}, ["max_error_rate must be from 0 to 1, got 1.5"]),
        ({"min_rps": -1, "max_p99_ms": -0.5}, ["min_rps must not be negative, got -1", "max_p99_ms must not be negative, got -0.5"]),
    ])
    def test_threshold_problems(self, thresholds, problems):
        assert res.threshold_problems(**thresholds) == problems

    def test_boundaries_pass(self):
        checks = res.evaluate_thresholds(self.SUMMARY, min_rps=42.5, max_p99_ms=2860.0, max_error_rate=0.0)
        assert [(c["name"], c["passed"]) for c in checks] == [("min_rps", True), ("max_p99_ms", True), ("max_error_rate", True)]


class TestSummaryShape:
    def test_every_statistic_has_the_shape_of_the_other_modules(self):
        records = [record(i, 100.0 + i, 100.0 + i + 0.05, sent=100.0 + i + 0.002, overhead=3.0, first_token=100.0 + i + 0.01)
                   for i in range(10)]
        s = result_of(records, mode="open", rate=1.0, stream=True).summary()
        for key in ("latency_ms", "overhead_ms", "ttft_ms", "send_lag_ms"):
            assert list(s[key]) == list(empty_summary()), key
            assert s[key]["count"] == 10

    def test_milliseconds_are_rounded_to_a_tenth(self):
        records = [record(0, 100.0, 100.1234), record(1, 100.0, 100.2)]
        latency = result_of(records).summary()["latency_ms"]
        assert (latency["min"], latency["max"], latency["mean"]) == (123.4, 200.0, 161.7)
