# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Markdown tables and PNG plots of a benchmark run's results.json."""

from __future__ import annotations

import statistics
from pathlib import Path


def median_range(values, fmt="%.1f"):
    """'median (min–max)' of the non-None values, '-' when none, just the value when one."""
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    if len(values) == 1:
        return fmt % values[0]
    return "%s (%s–%s)" % (fmt % statistics.median(values), fmt % min(values), fmt % max(values))


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt_num(value, fmt="%.0f"):
    return "-" if value is None else fmt % value


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _column in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def grouped(runs):
    """{(variant, concurrency): [runs]} in the order variants first appear."""
    groups = {}
    for run in runs:
        groups.setdefault((run.get("variant", "ceiling"), run["concurrency"]), []).append(run)
    return groups


def memory_text(memory):
    if not memory:
        return "-"
    workers = memory.get("workers_mb") or []
    text = "%.0f" % memory["master_mb"]
    if workers:
        text += " + " + " + ".join("%.0f" % w for w in workers)
    return "%s = %.0f" % (text, memory["total_mb"])


def success_rps(run):
    """2xx answers per second (results written before that figure existed only have rps)."""
    return run.get("success_rps", run["rps"])


def cpu_per_request(run):
    """The run's proxy CPU per request; None when the cgroup counter went backwards (the
    container restarted during the run, which starts a new counter)."""
    value = run.get("cpu_ms_per_request")
    return value if value is not None and value >= 0 else None


def throughput_rows(data):
    rows = []
    labels = {name: v["label"] for name, v in data["variants"].items()}
    for (name, concurrency), runs in grouped(data["ceiling"] + data["runs"]).items():
        errors = sum(r["errors"] for r in runs)
        rows.append([
            labels.get(name, "fake backend alone (ceiling)"), concurrency, len(runs),
            median_range([success_rps(r) for r in runs]),
            fmt_num(median([r["p50_ms"] for r in runs])),
            median_range([r["p99_ms"] for r in runs], "%.0f"),
            "%s / %s" % (fmt_num(median([r["overhead_p50_ms"] for r in runs])), fmt_num(median([r["overhead_p99_ms"] for r in runs]))),
            errors,
            median_range([cpu_per_request(r) for r in runs]),
            fmt_num(median([r.get("client_cpu_ms_per_request") for r in runs]), "%.1f"),
            memory_text(runs[-1].get("memory")),
        ])
    return rows


def soak_rows(soaks):
    rows = []
    for s in soaks:
        samples = [x for x in s.get("samples", []) if x.get("total_mb")]
        first, last = (samples[0], samples[-1]) if samples else ({}, {})
        peak = max((x["total_mb"] for x in samples), default=None)
        worker_peak = max((max(x["workers_mb"]) for x in samples if x.get("workers_mb")), default=None)
        rows.append([
            s["label"], s["requests"], "%.0f" % s["elapsed_s"], "%.1f" % s["rps"], s["errors"],
            ", ".join("%s %d" % kv for kv in sorted(s["error_kinds"].items())) or "-",
            s["recycles"], s["container_restarts"],
            "%s → %s (peak %s)" % (fmt_num(first.get("total_mb")), fmt_num(last.get("total_mb")), fmt_num(peak)),
            fmt_num(worker_peak), "%s / %s" % (fmt_num(s["p99_ms"]), fmt_num(s["max_ms"])),
        ])
    return rows


def recycle_rows(recycles):
    rows = []
    for r in recycles:
        rows.append([
            r["label"], "yes" if r["keepalive"] else "no", r["requests"], "%.1f" % r["rps"], r["recycles"],
            r["container_restarts"], r["errors"], fmt_num(r["failed_per_recycle"], "%.1f"),
            ", ".join("%s %d" % kv for kv in sorted(r["error_kinds"].items())) or "-",
            "%s / %s" % (fmt_num(r["p99_ms"]), fmt_num(r["max_ms"])),
            sum(1 for t in r.get("timeline", [])[1:-1] if t["ok"] == 0),
            _edge_retried(r),
        ])
    return rows


def _edge_retried(r):
    """'-' without an edge; else the requests the edge retried and how many then got a 2xx."""
    retries = r.get("edge_retries")
    if not r.get("edge") or retries is None:
        return "-"
    return "%d (%d then 2xx)" % (retries["retried"], retries["retried_then_2xx"])


def markdown(data, plots):
    plan, machine = data["plan"], data["machine"]
    out = ["# LiteLLM benchmark (%s run)" % plan["name"], "",
           "Started %s, finished %s. Host: %s vCPU (%s), %s MB RAM, kernel %s, Docker %s. Fake backend with %s s "
           "latency per request. Load generator: gatewayops.litellm.load_test's core (closed loop, keep-alive, "
           "unique prompts, no retries) on the same host, against 127.0.0.1." % (
               data["started"], data.get("finished"), machine.get("cpus"), machine.get("cpu_model"),
               machine.get("memory_mb"), machine.get("kernel"), machine.get("docker"), machine.get("backend_delay_s")),
           "",
           "Per measurement: %s s warm-up (not measured), %s s measured (at most %s requests), timeout %s s; "
           "%d repetition(s), %s, concurrency order rotated between repetitions." % (
               plan["warmup_s"], plan["duration_s"], plan["max_requests"], plan["timeout_s"], plan["repetitions"],
               "each on a fresh deployment, variants rotated" if plan.get("redeploy_each_rep", True)
               else "back to back on one deployment per variant"),
           "", "## Variants", "",
           table(["id", "variant", "what"], [[n, v["label"], v["note"]] for n, v in data["variants"].items()]),
           "", "## Throughput, latency, CPU and memory", "",
           "Median over repetitions, (min–max) where there are several. Latency and LiteLLM's "
           "`x-litellm-overhead-duration-ms` of successful requests. CPU: the proxy container's (and its edge's) cgroup CPU time during "
           "the measured window / requests; client CPU: the load generator's own. RSS: master + workers = total (MB, "
           "after the last measurement).", "",
           table(["variant", "conc.", "runs", "2xx req/s", "p50 ms", "p99 ms", "overhead p50 / p99 ms", "errors",
                  "proxy CPU ms/req", "client CPU ms/req", "RSS MB"], throughput_rows(data))]
    if data["soaks"]:
        out += ["", "## Soaks (RSS over time)", "",
                table(["soak", "requests", "s", "req/s", "failed", "failures", "recycles", "container restarts",
                       "RSS total MB first → last", "worker peak MB", "p99 / max ms"], soak_rows(data["soaks"]))]
    if data["recycles"]:
        out += ["", "## Worker recycling: failed requests per recycle", "",
                "Recycles: serving processes (workers; the master when it serves alone) whose PID disappeared from the "
                "container (sampled every 0.5 s). Failed: every request of the run without a 2xx answer; the load "
                "generator never retries. Seconds with 0 completions: whole seconds inside the run in which no "
                "request finished. Edge retried: requests HAProxy sent again after LiteLLM closed the connection "
                "without an answer (from its log, which records only abnormal requests).", "",
                table(["experiment", "client keep-alive", "requests", "req/s", "recycles", "container restarts",
                       "failed", "failed / recycle", "failures", "p99 / max ms", "seconds with 0 completions",
                       "edge retried"],
                      recycle_rows(data["recycles"]))]
    if plots:
        out += ["", "## Plots", ""] + ["![%s](%s)" % (p.stem, p.name) for p in plots]
    if data["failures"]:
        out += ["", "## Failures during the run", ""] + ["- " + f.split("\n")[0] for f in data["failures"]]
    return "\n".join(out) + "\n"


def plot(data, directory):
    """PNG plots (needs matplotlib); returns the paths written, [] without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    written = []
    labels = {name: v["label"] for name, v in data["variants"].items()}
    groups = grouped(data["ceiling"] + data["runs"])
    series = {}
    for (name, concurrency), runs in groups.items():
        series.setdefault(name, []).append((concurrency, runs))
    # the backend alone answers 10x more than any proxy: its line would flatten the others
    charts = [(success_rps, "2xx answers / s (median, min–max); the backend alone is in the table", "throughput.png",
               False, False),
              (lambda run: run["p99_ms"], "p99 latency ms (median, min–max)", "p99.png", True, True)]
    for value, ylabel, filename, log, with_ceiling in charts if series else []:
        fig, ax = plt.subplots(figsize=(9, 5.5))
        for name, points in series.items():
            if name == "ceiling" and not with_ceiling:
                continue
            points.sort(key=lambda point: point[0])
            xs = [c for c, _runs in points]
            values = [[v for v in (value(r) for r in runs) if v is not None] for _c, runs in points]
            meds = [median(vs) for vs in values]
            lows = [m - min(vs) if m is not None else 0 for m, vs in zip(meds, values)]
            highs = [max(vs) - m if m is not None else 0 for m, vs in zip(meds, values)]
            style = "k--" if name == "ceiling" else "-o"
            ax.errorbar(xs, meds, yerr=[lows, highs], fmt=style, capsize=3, label=labels.get(name, "fake backend alone"))
        ax.set_xlabel("concurrent clients")
        ax.set_ylabel(ylabel)
        if log:
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="best")
        fig.tight_layout()
        path = Path(directory) / filename
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    if data["soaks"]:
        fig, ax = plt.subplots(figsize=(9, 5.5))
        for soak in data["soaks"]:
            samples = [s for s in soak["samples"] if s.get("total_mb")]
            ax.plot([s["t"] for s in samples], [s["total_mb"] for s in samples], label=soak["label"] + " (total)")
            peaks = [(s["t"], max(s["workers_mb"])) for s in samples if s.get("workers_mb")]
            if peaks:
                ax.plot([t for t, _m in peaks], [m for _t, m in peaks], ":", label=soak["label"] + " (largest worker)")
        ax.set_xlabel("seconds into the soak")
        ax.set_ylabel("RSS MB")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="best")
        fig.tight_layout()
        path = Path(directory) / "rss.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    runs = data["soaks"] + data["recycles"]
    if runs:
        fig, axes = plt.subplots(len(runs), 1, figsize=(9, 1.8 * len(runs) + 0.6), sharex=True, squeeze=False)
        for ax, run in zip(axes[:, 0], runs):
            line = run.get("timeline", [])
            ax.plot([t["t"] for t in line], [t["ok"] for t in line], "g-", lw=0.8, label="completed / s")
            ax.plot([t["t"] for t in line], [t["failed"] for t in line], "r-", lw=0.8, label="failed / s")
            for t in run.get("recycle_times_s", []):
                ax.axvline(t, color="grey", lw=0.6, alpha=0.7)
            ax.set_title(run["label"], fontsize=8)
            ax.tick_params(labelsize=7)
        axes[0, 0].legend(fontsize=7, loc="upper right")
        axes[-1, 0].set_xlabel("seconds (grey lines: a worker exited)")
        fig.tight_layout()
        path = Path(directory) / "timelines.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    return written


def write(data, directory):
    plots = plot(data, directory)
    path = Path(directory) / "summary.md"
    path.write_text(markdown(data, plots), encoding="utf-8")
    return plots + [path]
