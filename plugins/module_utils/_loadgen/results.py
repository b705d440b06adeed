# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Results of a load test: one Record per request, the LoadResult of a run and its summary
(statistics in the shape of _stats.summarize), the threshold checks and their table, and the
one-line summary. No I/O.

Private to this collection; standard library only (runs on targets and in benchmarks/)."""

from __future__ import annotations

from ansible_collections.gatewayops.litellm.plugins.module_utils._stats import summarize

# an open-loop request sent later than this after its intended time counts as late
LATE_AFTER_S = 0.010
# milliseconds in a summary are rounded to 0.1 ms
MS_DIGITS = 1


class Record(object):
    """One measured request. Times are time.monotonic() seconds; `intended` is when it should
    have been sent (closed loop: when it was), `sent` when it was, `ended` when it finished."""

    __slots__ = ("seq", "intended", "sent", "ended", "status", "error", "overhead_ms", "first_token", "message")

    def __init__(self, seq, intended):
        self.seq = seq
        self.intended = intended
        self.sent = None
        self.ended = None
        self.status = None
        self.error = None
        self.overhead_ms = None
        self.first_token = None
        self.message = None

    @property
    def ok(self):
        return self.error is None and self.status is not None and 200 <= self.status < 300

    @property
    def latency_ms(self):
        return (self.ended - self.intended) * 1000.0


def _ms_summary(values):
    """count, min, max, mean, p50, p90, p95 and p99 of milliseconds; None fields when empty."""
    return summarize(values, digits=MS_DIGITS)


class LoadResult(object):
    """Raw records of a run and the figures derived from them (summary())."""

    def __init__(self, config):
        self.config = config
        self.records = []          # measured requests that were sent
        self.dropped = 0           # open loop: arrivals that never got a connection in time
        self.warmup_requests = 0
        self.started = None        # monotonic time of the run's start (warm-up included)
        self.window_start = None   # start of the measured window
        self.window_end = None     # when the last measured request finished (or the window closed)

    @property
    def elapsed(self):
        if self.window_start is None or self.window_end is None:
            return 0.0
        return max(self.window_end - self.window_start, 1e-9)

    def summary(self):
        config = self.config
        records = self.records
        ok = [r for r in records if r.ok]
        failed = [r for r in records if not r.ok]
        status_codes = {}
        error_kinds = {}
        for record in records:
            if record.status is not None:
                key = str(record.status)
                status_codes[key] = status_codes.get(key, 0) + 1
            if not record.ok:
                kind = record.error or "http_%d" % record.status
                error_kinds[kind] = error_kinds.get(kind, 0) + 1
        if self.dropped:
            error_kinds["dropped"] = self.dropped
        elapsed = self.elapsed
        attempts = len(records) + self.dropped
        samples = []
        seen = set()
        for record in failed:
            kind = record.error or "http_%d" % record.status
            key = (kind, record.message)
            if key in seen:
                continue
            seen.add(key)
            if len(samples) >= config.error_samples:
                break
            samples.append({"kind": kind, "status": record.status, "message": record.message,
                            "at_s": round(record.intended - self.window_start, 3)})
        summary = {
            "mode": config.mode,
            "endpoint": config.endpoint,
            "model": config.model,
            "stream": bool(config.stream),
            "keepalive": bool(config.keepalive),
            "concurrency": config.concurrency,
            "rate": config.rate if config.mode == "open" else None,
            "warmup_s": config.warmup,
            "duration_s": config.duration,
            "max_requests": config.max_requests,
            "elapsed_s": round(elapsed, 3),
            "warmup_requests": self.warmup_requests,
            "requests": len(records),
            "successes": len(ok),
            "errors": len(failed),
            "dropped": self.dropped,
            "error_rate": round((len(failed) + self.dropped) / float(attempts), 6) if attempts else 0.0,
            "rps": round(len(records) / elapsed, 2) if records else 0.0,
            "success_rps": round(len(ok) / elapsed, 2) if ok else 0.0,
            "latency_ms": _ms_summary([r.latency_ms for r in ok]),
            "overhead_ms": _ms_summary([r.overhead_ms for r in ok]),
            "ttft_ms": None,
            "send_lag_ms": None,
            "late": 0,
            "status_codes": status_codes,
            "error_kinds": error_kinds,
            "error_samples": samples,
        }
        if config.stream:
            summary["ttft_ms"] = _ms_summary([(r.first_token - r.intended) * 1000.0 for r in ok if r.first_token is not None])
        if config.mode == "open":
            lags = [(r.sent - r.intended) for r in records if r.sent is not None]
            summary["late"] = sum(1 for lag in lags if lag > LATE_AFTER_S)
            summary["send_lag_ms"] = _ms_summary([lag * 1000.0 for lag in lags])
        return summary


# ---------------------------------------------------------------- thresholds

def evaluate_thresholds(summary, min_rps=None, max_p99_ms=None, max_error_rate=None):
    """One check per given threshold: name, target, measured, passed."""
    checks = []
    if min_rps is not None:
        measured = summary["success_rps"]
        checks.append({"name": "min_rps", "target": ">= %s" % format_number(min_rps), "measured": format_number(measured),
                       "passed": measured >= min_rps})
    if max_p99_ms is not None:
        measured = summary["latency_ms"]["p99"]
        checks.append({"name": "max_p99_ms", "target": "<= %s" % format_number(max_p99_ms),
                       "measured": "no successful request" if measured is None else format_number(measured),
                       "passed": measured is not None and measured <= max_p99_ms})
    if max_error_rate is not None:
        measured = summary["error_rate"]
        checks.append({"name": "max_error_rate", "target": "<= %s" % format_number(max_error_rate), "measured": format_number(measured),
                       "passed": measured <= max_error_rate})
    return checks


def threshold_problems(min_rps=None, max_p99_ms=None, max_error_rate=None):
    """What is wrong with the given thresholds (empty when they can be checked)."""
    problems = []
    if max_error_rate is not None and not 0.0 <= max_error_rate <= 1.0:
        problems.append("max_error_rate must be from 0 to 1, got %r" % max_error_rate)
    for name, value in (("min_rps", min_rps), ("max_p99_ms", max_p99_ms)):
        if value is not None and value < 0:
            problems.append("%s must not be negative, got %r" % (name, value))
    return problems


def format_number(value):
    """A number for a message or a table: floats with at most 4 decimals, no trailing zeros."""
    if isinstance(value, float):
        text = ("%.4f" % value).rstrip("0").rstrip(".")
        return text or "0"
    return str(value)


def threshold_table(checks):
    """Plain-text table: check, target, measured, result."""
    rows = [("check", "target", "measured", "result")]
    rows += [(c["name"], c["target"], c["measured"], "ok" if c["passed"] else "FAILED") for c in checks]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def summary_line(summary):
    """One line: requests, rate, latency and errors."""
    lat = summary["latency_ms"]
    shown = ["-" if lat[key] is None else format_number(lat[key]) for key in ("p50", "p95", "p99", "max")]
    line = "%d requests in %.1f s (%s loop, %s): %.1f req/s, latency p50/p95/p99/max %s ms, errors %d (%.2f %%)" % (
        summary["requests"], summary["elapsed_s"], summary["mode"],
        ("rate %s/s" % format_number(summary["rate"])) if summary["mode"] == "open" else ("concurrency %d" % summary["concurrency"]),
        summary["rps"], "/".join(shown), summary["errors"], summary["error_rate"] * 100.0)
    if summary["dropped"]:
        line += ", dropped %d" % summary["dropped"]
    if summary["late"]:
        line += ", late %d" % summary["late"]
    return line
