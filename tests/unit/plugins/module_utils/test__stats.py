# -*- coding: utf-8 -*-
"""Percentiles of measured values and quantiles estimated from histograms (pure logic)."""

from __future__ import annotations

import math

import pytest

from ansible_collections.gatewayops.litellm.plugins.module_utils import _stats as s

INF = float("inf")


class TestPercentile:
    @pytest.mark.parametrize("q, expected", [
        (0.0, 1.0), (0.25, 1.75), (0.5, 2.5), (0.75, 3.25), (1.0, 4.0),
    ])
    def test_interpolates_between_closest_ranks(self, q, expected):
        # numpy.percentile([1, 2, 3, 4], 100*q) with the default "linear" method
        assert s.percentile([4, 1, 3, 2], q) == pytest.approx(expected)

    def test_odd_count_median_is_the_middle_value(self):
        assert s.percentile([10, 30, 20, 50, 40], 0.5) == 30

    def test_p90_of_one_to_ten(self):
        # rank 0.9 * 9 = 8.1 -> 9 + 0.1 * (10 - 9)
        assert s.percentile(range(1, 11), 0.9) == pytest.approx(9.1)

    def test_single_value_is_every_percentile(self):
        assert [s.percentile([7.5], q) for q in (0, 0.5, 0.99, 1)] == [7.5] * 4

    def test_no_values_gives_none_and_nan_and_none_are_ignored(self):
        assert s.percentile([], 0.5) is None
        assert s.percentile([None, float("nan")], 0.5) is None
        assert s.percentile([None, 3.0, float("nan"), 1.0], 0.5) == 2.0

    @pytest.mark.parametrize("q", [-0.1, 1.01, float("nan"), "0.5", True])
    def test_rejects_a_quantile_outside_zero_to_one(self, q):
        with pytest.raises(ValueError, match="quantile must be a number from 0 to 1"):
            s.percentile([1, 2], q)


class TestSummarize:
    def test_counts_min_max_mean_and_quantiles(self):
        result = s.summarize([100.0, 400.0, 200.0, 300.0])
        assert result == {"count": 4, "min": 100.0, "max": 400.0, "mean": 250.0, "p50": 250.0,
                          "p90": pytest.approx(370.0), "p95": pytest.approx(385.0), "p99": pytest.approx(397.0)}

    def test_empty_has_the_same_keys_all_none(self):
        assert s.summarize([]) == {"count": 0, "min": None, "max": None, "mean": None,
                                   "p50": None, "p90": None, "p95": None, "p99": None}
        assert s.summarize([]) == s.empty_summary()

    def test_none_and_nan_are_not_counted(self):
        assert s.summarize([None, 2.0, float("nan"), 4.0]) == s.summarize([2.0, 4.0])
        assert s.summarize([None, float("nan")]) == s.empty_summary()

    def test_rounds_every_value_to_the_digits_given(self):
        result = s.summarize([1.04, 2.06], digits=1)
        assert result == {"count": 2, "min": 1.0, "max": 2.1, "mean": 1.6, "p50": 1.6, "p90": 2.0, "p95": 2.0, "p99": 2.0}
        assert s.summarize([1.04, 2.06])["min"] == 1.04

    def test_other_quantiles_give_other_keys(self):
        assert list(s.summarize([1.0], quantiles=(0.5, 0.999))) == ["count", "min", "max", "mean", "p50", "p99.9"]

    @pytest.mark.parametrize("q, key", [(0.5, "p50"), (0.9, "p90"), (0.99, "p99"), (0.999, "p99.9"), (0.05, "p5"), (1.0, "p100")])
    def test_quantile_keys(self, q, key):
        assert s.quantile_key(q) == key


class TestHistogramQuantile:
    # 100 observations: 10 <= 0.1, 40 in (0.1, 0.25], 30 in (0.25, 0.5], 15 in (0.5, 1], 5 above 1
    BUCKETS = [(0.1, 10), (0.25, 50), (0.5, 80), (1.0, 95), (INF, 100)]

    def test_median_is_interpolated_inside_its_bucket(self):
        # rank 50 is the last observation of (0.1, 0.25]: its upper bound
        assert s.histogram_quantile(0.5, self.BUCKETS) == pytest.approx(0.25)

    def test_p90_falls_two_thirds_into_the_half_to_one_bucket(self):
        # rank 90: 10 of the 15 observations of (0.5, 1] -> 0.5 + 0.5 * 10/15
        assert s.histogram_quantile(0.9, self.BUCKETS) == pytest.approx(0.5 + 0.5 * 10 / 15)

    def test_lowest_bucket_starts_at_zero(self):
        # rank 5 of the 10 observations in (0, 0.1]
        assert s.histogram_quantile(0.05, self.BUCKETS) == pytest.approx(0.05)

    def test_quantile_in_the_inf_bucket_is_the_largest_finite_bound(self):
        assert s.histogram_quantile(0.99, self.BUCKETS) == 1.0
        assert s.histogram_quantile(1.0, self.BUCKETS) == 1.0

    def test_q_zero_is_the_lower_bound_of_the_first_non_empty_bucket(self):
        assert s.histogram_quantile(0.0, [(0.1, 0), (0.5, 0), (1.0, 4), (INF, 4)]) == 0.5

    def test_bucket_order_does_not_matter(self):
        assert s.histogram_quantile(0.9, list(reversed(self.BUCKETS))) == s.histogram_quantile(0.9, self.BUCKETS)

    def test_same_result_as_prometheus_for_a_real_litellm_histogram(self):
        # litellm_request_total_latency_metric of tests/unit/fixtures/litellm-1.108.7-metrics.txt,
        # all series added up; hand-computed: rank 5.5 -> 0.1 + 0.15 * 3.5/5
        buckets = [(0.005, 1), (0.01, 2), (0.025, 2), (0.05, 2), (0.1, 2), (0.25, 7), (0.5, 7), (1.0, 9),
                   (2.0, 11), (5.0, 11), (10.0, 11), (INF, 11)]
        assert s.histogram_quantile(0.5, buckets) == pytest.approx(0.205)
        assert s.histogram_quantile(0.9, buckets) == pytest.approx(1.45)
        assert s.histogram_quantile(0.99, buckets) == pytest.approx(1.945)

    def test_non_monotonic_counts_are_repaired_upwards(self):
        # a scrape racing an observation: 0.5 reads 9 although 0.25 already read 10
        buckets = [(0.25, 10), (0.5, 9), (1.0, 20), (INF, 20)]
        assert s.histogram_quantile(0.5, buckets) == pytest.approx(0.25)
        assert s.histogram_quantile(0.75, buckets) == pytest.approx(0.5 + 0.5 * 5 / 10)

    def test_non_positive_lowest_bound_is_returned_as_is(self):
        assert s.histogram_quantile(0.2, [(-1.0, 5), (0.0, 8), (1.0, 10), (INF, 10)]) == -1.0

    @pytest.mark.parametrize("buckets", [
        [],
        [(INF, 3)],                         # fewer than two buckets
        [(0.1, 1), (1.0, 3)],               # no +Inf bucket
        [(0.1, 0), (1.0, 0), (INF, 0)],     # no observations
    ])
    def test_nothing_to_estimate_gives_none(self, buckets):
        assert s.histogram_quantile(0.5, buckets) is None

    def test_rejects_a_quantile_outside_zero_to_one(self):
        with pytest.raises(ValueError):
            s.histogram_quantile(1.5, self.BUCKETS)


class TestSummarizeHistogram:
    BUCKETS = TestHistogramQuantile.BUCKETS

    def test_the_summary_shape_with_estimated_quantiles_and_no_min_or_max(self):
        result = s.summarize_histogram(self.BUCKETS, 100, 35.0)
        assert list(result) == list(s.empty_summary())
        assert (result["count"], result["min"], result["max"], result["mean"]) == (100, None, None, 0.35)
        assert result["p90"] == round(s.histogram_quantile(0.9, self.BUCKETS), 3)
        assert result["p95"] == 1.0  # rank 95 is the last observation of (0.5, 1]

    def test_scaled_to_milliseconds_and_rounded(self):
        result = s.summarize_histogram(self.BUCKETS, 100, 35.0, scale=1000.0)
        assert (result["mean"], result["p50"], result["p90"]) == (350.0, 250.0, 833.333)

    def test_without_observations_every_estimate_is_none(self):
        result = s.summarize_histogram([(0.1, 0), (INF, 0)], 0, 0.0)
        assert result == dict(s.empty_summary(), count=0)


class TestMergeAndRatios:
    def test_merge_adds_counts_of_the_same_bound(self):
        merged = s.merge_buckets([[(0.1, 1), (1.0, 2), (INF, 3)], [(0.1, 0), (1.0, 5), (INF, 5)]])
        assert merged == [(0.1, 1.0), (1.0, 7.0), (INF, 8.0)]

    def test_merge_of_nothing_is_empty(self):
        assert s.merge_buckets([]) == []

    def test_mean_and_ratio_guard_against_zero(self):
        assert s.histogram_mean(4.95624, 11) == pytest.approx(0.45057, rel=1e-4)
        assert s.histogram_mean(0.0, 0) is None
        assert s.ratio(2, 11) == pytest.approx(0.181818, rel=1e-5)
        assert s.ratio(3, 0) is None
        assert s.ratio(None, 4) == 0.0
        assert math.isclose(s.ratio(1, 3), 1 / 3)
