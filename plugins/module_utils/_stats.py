# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Percentiles of measured values and quantiles estimated from Prometheus histograms, and the
one summary shape (count, min, max, mean, p50, p90, p95, p99) every module returns them in.

Private to this collection; standard library only (runs on targets)."""

from __future__ import annotations

import math

INF = float("inf")


def _check_q(q):
    if isinstance(q, bool) or not isinstance(q, (int, float)) or math.isnan(q) or not 0.0 <= q <= 1.0:
        raise ValueError("a quantile must be a number from 0 to 1, got %r" % (q,))


def percentile(values, q):
    """The q-quantile (0 <= q <= 1) of measured values, interpolating linearly between the
    two nearest ranks (what numpy calls "linear", spreadsheets PERCENTILE.INC).

    Returns None for no values; NaN values are ignored."""
    _check_q(q)
    data = sorted(v for v in values if v is not None and not math.isnan(v))
    if not data:
        return None
    position = q * (len(data) - 1)
    lower = int(math.floor(position))
    upper = min(lower + 1, len(data) - 1)
    return data[lower] + (data[upper] - data[lower]) * (position - lower)


# The quantiles every summary of the collection reports (load_test, model_probe, metrics_info):
# one shape, so that a playbook reads the same keys whichever module measured.
QUANTILES = (0.5, 0.9, 0.95, 0.99)


def empty_summary(quantiles=QUANTILES):
    """The shape of a summary without values: count 0, min, max, mean and every quantile None."""
    result = {"count": 0, "min": None, "max": None, "mean": None}
    for q in quantiles:
        result[quantile_key(q)] = None
    return result


def _rounded(value, digits):
    return value if value is None or digits is None else round(value, digits)


def summarize(values, quantiles=QUANTILES, digits=None):
    """count, min, max, mean and the given quantiles (keys p50, p90, p95, p99 ...) of measured
    values, each rounded to `digits` decimals when given. None and NaN values are ignored."""
    data = sorted(v for v in values if v is not None and not math.isnan(v))
    result = empty_summary(quantiles)
    if data:
        result.update(count=len(data), min=_rounded(data[0], digits), max=_rounded(data[-1], digits),
                      mean=_rounded(sum(data) / len(data), digits))
        for q in quantiles:
            result[quantile_key(q)] = _rounded(percentile(data, q), digits)
    return result


def summarize_histogram(buckets, count, total_sum, quantiles=QUANTILES, scale=1.0, digits=3):
    """The summary shape of a histogram: count, mean and quantiles estimated from its buckets
    (histogram_quantile()), multiplied by `scale` (1000 turns seconds into milliseconds) and
    rounded to `digits` decimals. min and max stay None: a histogram does not keep them."""
    result = empty_summary(quantiles)
    result["count"] = count
    mean = histogram_mean(total_sum, count)
    result["mean"] = _rounded(None if mean is None else mean * scale, digits)
    for q in quantiles:
        estimate = histogram_quantile(q, buckets)
        result[quantile_key(q)] = _rounded(None if estimate is None else estimate * scale, digits)
    return result


def quantile_key(q):
    """0.5 -> 'p50', 0.99 -> 'p99', 0.999 -> 'p99.9'."""
    text = ("%.4f" % (q * 100)).rstrip("0").rstrip(".")
    return "p" + text


def merge_buckets(series):
    """Add up cumulative bucket counts of several histogram series by upper bound.

    `series` is an iterable of iterables of (upper_bound, cumulative_count). All series of one
    histogram share their bounds; a bound missing from one series adds nothing for it."""
    totals = {}
    for buckets in series:
        for upper, count in buckets:
            totals[float(upper)] = totals.get(float(upper), 0.0) + float(count)
    return sorted(totals.items())


def histogram_quantile(q, buckets):
    """Estimate the q-quantile (0 <= q <= 1) of the observations in a histogram, the way
    PromQL's histogram_quantile() does for classic histograms.

    `buckets` is a list of (upper_bound, cumulative_count) and must contain the +Inf bucket.
    Observations are assumed to be spread evenly inside a bucket; the lowest bucket starts at
    0 (when its upper bound is positive). A quantile that falls into the +Inf bucket is
    reported as the largest finite upper bound. Returns None when there is nothing to
    estimate from (no +Inf bucket, fewer than two buckets, or no observations)."""
    _check_q(q)
    ordered = sorted((float(upper), float(count)) for upper, count in buckets)
    if len(ordered) < 2 or ordered[-1][0] != INF:
        return None
    # counts of a scrape taken while observations are added can be non-monotonic: repair
    # like Prometheus does, by carrying the highest count seen so far upwards
    repaired = []
    highest = 0.0
    for upper, count in ordered:
        highest = max(highest, count)
        repaired.append((upper, highest))
    observations = repaired[-1][1]
    if observations <= 0:
        return None
    rank = q * observations
    index = None
    for i, (_upper, count) in enumerate(repaired[:-1]):
        if count >= rank and count > 0:
            index = i
            break
    if index is None:
        return repaired[-2][0]
    upper, count = repaired[index]
    if index == 0 and upper <= 0:
        return upper
    lower = 0.0
    below = 0.0
    if index > 0:
        lower, below = repaired[index - 1]
    in_bucket = count - below
    return lower + (upper - lower) * ((rank - below) / in_bucket)


def histogram_mean(total_sum, count):
    """Mean of a histogram's observations from its _sum and _count; None without observations."""
    if not count:
        return None
    return float(total_sum) / float(count)


def ratio(numerator, denominator):
    """numerator / denominator, or None when the denominator is zero or missing."""
    if not denominator:
        return None
    return float(numerator or 0) / float(denominator)
