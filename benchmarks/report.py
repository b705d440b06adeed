# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Markdown tables and PNG plots of a benchmark run's results.json."""

from __future__ import annotations

import re
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


def _cpu_values(runs):
    return [v for v in (cpu_per_request(r) for r in runs) if v is not None]


def ablation_rows(data):
    """Per feature and concurrency: the CPU per request the feature adds (the baseline with it
    minus the variant without it: median, and the range from the extremes of both), the same as
    a share of the baseline, req/s and p99 with → without, and what the feature buys."""
    groups = grouped(data["runs"])
    rows = []
    for variant, feature, baseline, buys in data.get("ablations", []):
        for concurrency in sorted({c for (n, c) in groups if n == variant}):
            with_runs, without_runs = groups.get((baseline, concurrency), []), groups.get((variant, concurrency), [])
            b, v = _cpu_values(with_runs), _cpu_values(without_runs)
            if not b or not v:
                continue
            added = statistics.median(b) - statistics.median(v)
            rows.append({
                "feature": feature, "variant": variant, "baseline": baseline, "concurrency": concurrency, "buys": buys,
                "added_ms": round(added, 2), "added_low_ms": round(min(b) - max(v), 2),
                "added_high_ms": round(max(b) - min(v), 2), "share": added / statistics.median(b),
                "rps_with": median([success_rps(r) for r in with_runs]),
                "rps_without": median([success_rps(r) for r in without_runs]),
                "p99_with": median([r["p99_ms"] for r in with_runs]), "p99_without": median([r["p99_ms"] for r in without_runs]),
            })
    return rows


def ablation_markdown(data):
    rows = ablation_rows(data)
    if not rows:
        return []
    out = ["", "## What each feature costs per request", "",
           "CPU per request of every container of the stack (LiteLLM, its edge, its Redis, its Postgres) over the measured window. "
           "Added = the baseline's median minus the variant's (the feature on minus the feature off, the same load); "
           "the range pairs the extremes of both (baseline min − variant max … baseline max − variant min). "
           "A negative figure: the stack without the feature costs more.", "",
           table(["feature", "conc.", "CPU ms/req it adds", "share of the baseline", "2xx req/s with → without",
                  "p99 ms with → without", "what it buys"],
                 [[r["feature"], r["concurrency"],
                   "%+.2f (%+.2f … %+.2f)" % (r["added_ms"], r["added_low_ms"], r["added_high_ms"]),
                   "%+.0f %%" % (100 * r["share"]),
                   "%s → %s" % (fmt_num(r["rps_with"], "%.1f"), fmt_num(r["rps_without"], "%.1f")),
                   "%s → %s" % (fmt_num(r["p99_with"]), fmt_num(r["p99_without"])), r["buys"]] for r in rows])]
    breakdown = []
    labels = {name: v["label"] for name, v in data["variants"].items()}
    for (name, concurrency), runs in grouped(data["runs"]).items():
        parts = {}
        for r in runs:
            for role, value in (r.get("cpu_ms_per_request_by_container") or {}).items():
                parts.setdefault(role, []).append(value)
        breakdown.append([labels.get(name, name), concurrency, median_range(_cpu_values(runs), "%.2f")]
                         + [fmt_num(median(parts.get(role, [])), "%.2f") for role in ("proxy", "edge", "redis", "postgres")])
    out += ["", "CPU ms per request by container (median over repetitions):", "",
            table(["variant", "conc.", "stack", "LiteLLM", "edge", "Redis", "Postgres"], breakdown)]
    targets = target_lines(data)
    if targets:
        out += ["", "### Against issue 16's targets", ""] + ["- " + t for t in targets]
    return out


def target_lines(data):
    """(c) against (a) side by side: CPU per request, req/s at c=100, errors at c=200."""
    groups = grouped(data["runs"])
    lines = []
    for concurrency in sorted({c for (n, c) in groups if n == "sized"}):
        sized, shipped = groups.get(("sized", concurrency), []), groups.get(("shipped", concurrency), [])
        if not sized or not shipped:
            continue
        cs, ca = median(_cpu_values(sized)), median(_cpu_values(shipped))
        rs, ra = median([success_rps(r) for r in sized]), median([success_rps(r) for r in shipped])
        if cs and ca:
            lines.append("c=%d: CPU per request (c) %.2f ms / (a) %.2f ms = %.2f× (target ≤ 1.05×: %s); "
                         "2xx req/s (c) %.1f / (a) %.1f = %.2f×%s; errors (c) %d, (a) %d" % (
                             concurrency, cs, ca, cs / ca, "met" if cs / ca <= 1.05 else "missed", rs, ra, rs / ra,
                             " (target ≥ 1.6× at c=100: %s)" % ("met" if rs / ra >= 1.6 else "missed")
                             if concurrency == 100 else "",
                             sum(r["errors"] for r in sized), sum(r["errors"] for r in shipped)))
    return lines


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


STRATEGY_LABELS = {"blue_green": "blue/green", "recreate": "recreate"}


def change_groups(changes):
    """({change: {strategy: [records]}} in the order changes first appear, [strategies in order of
    appearance])."""
    groups, strategies = {}, []
    for record in changes:
        groups.setdefault(record["change"], {}).setdefault(record["strategy"], []).append(record)
        if record["strategy"] not in strategies:
            strategies.append(record["strategy"])
    return groups, strategies


def refused_text(records):
    """For a bad change: yes / NO (with the playbook's rc), counted over repetitions; for a good one
    '-', or the playbook's failure."""
    if not records:
        return "-"
    if not records[0]["bad"]:
        failed = [r for r in records if r["change"] != "baseline" and r["playbook_rc"] != 0]
        return "-" if not failed else "playbook failed (%s)" % ", ".join(
            "rc %d" % r["playbook_rc"] if r["playbook_rc"] is not None else "timed out" for r in failed)
    refused = sum(1 for r in records if r.get("refused"))
    if refused == len(records):
        steps = sorted(set(filter(None, (refused_at(r) for r in records))))
        return ("yes" if len(records) == 1 else "yes (%d/%d)" % (refused, len(records))) + \
            (", at %s" % " / ".join(steps) if steps else "")
    rcs = ", ".join("rc %d" % r["playbook_rc"] if r["playbook_rc"] is not None else "timed out"
                    for r in records if not r.get("refused"))
    return "**NO** (%d/%d refused; %s)" % (refused, len(records), rcs)


def refused_at(record):
    """The role's step that refused a change ('Probe the required models'), from the playbook's
    last failure line, None when it names none."""
    for line in reversed(record.get("playbook_failures") or []):
        match = re.search(r'failed at \\"([^"\\]+)\\"', line)
        if match:
            return "\"%s\"" % match.group(1)
    return None


def change_rows(changes):
    groups, strategies = change_groups(changes)
    rows = []
    for change, by_strategy in groups.items():
        first = next(iter(by_strategy.values()))[0]
        row = ["%s: %s" % (change, first["label"]) if change != "baseline" else "none: %s" % first["label"]]
        for strategy in strategies:
            records = by_strategy.get(strategy, [])
            loads = [r["load"] for r in records]
            if not records:
                row += ["-"] * 5
                continue
            row += [
                median_range([x["failed"] for x in loads], "%.0f"),
                median_range([x["longest_gap_without_2xx_s"] for x in loads], "%.2f"),
                "%d / %d" % (sum(x["streams"]["complete"] for x in loads), sum(x["streams"]["started"] for x in loads)),
                median_range([r["playbook_s"] for r in records], "%.0f"),
                refused_text(records),
            ]
        rows.append(row)
    return strategies, rows


def gaps_text(load, start, most=5):
    """The `most` longest gaps over 1 s, in time order, as 'seconds at offset from `start`', and
    how many more there were."""
    gaps = sorted(load["gaps_over_1s"], key=lambda g: -g["seconds"])
    shown = sorted(gaps[:most], key=lambda g: g["start_s"])
    text = ", ".join("%.1f s at %+.0f" % (g["seconds"], g["start_s"] - start) for g in shown)
    if len(gaps) > most:
        text += " (+%d more of %.1f s or less)" % (len(gaps) - most, gaps[most]["seconds"])
    return text


def change_detail_rows(changes):
    """Per run of a change: requests, failures by kind, and the gaps over 1 s placed on the
    playbook's run (seconds from its start; the playbook ran from 0 to its duration)."""
    rows = []
    for r in changes:
        load = r["load"]
        start = (r.get("playbook_window_s") or [0.0])[0]
        gaps = gaps_text(load, start)
        before, after = r.get("proxy_before") or {}, r.get("proxy_after") or {}
        if not after:
            proxy = "none runs"
        elif before.get("id") == after.get("id"):
            proxy = "same (%s)" % after.get("name")
        elif before.get("name") == after.get("name"):
            proxy = "recreated (%s)" % after.get("name")
        else:
            proxy = "%s → %s" % (before.get("name"), after.get("name"))
        edge_before, edge_after = r.get("edge_before") or {}, r.get("edge_after") or {}
        rows.append([
            STRATEGY_LABELS.get(r["strategy"], r["strategy"]), r["rep"] + 1, r["change"], load["requests"],
            ", ".join("%s %d" % kv for kv in load["failures_by_kind"].items()) or "-",
            gaps or "-", proxy,
            "same" if edge_before.get("id") == edge_after.get("id") else "recreated",
            server_events_text(r.get("edge_events"), start),
            ", ".join("%s %d" % kv for kv in sorted((r.get("edge_logged_statuses") or {}).items())) or "-",
            "; ".join(r.get("traces_left") or []) or "-",
        ])
    return rows


def server_events_text(events, start, most=6):
    """'DOWN +359 (Layer7 timeout), UP +361' from the edge's events (seconds from `start`)."""
    if events is None:
        return "-"
    items = []
    for event in events:
        text = event["text"]
        if " is DOWN" in text:
            reason = text.split("reason: ", 1)[1].split(",", 1)[0] if "reason: " in text else ""
            items.append("DOWN %+.0f%s" % (event["t_s"] - start, " (%s)" % reason if reason else ""))
        elif " is UP" in text:
            items.append("UP %+.0f" % (event["t_s"] - start))
    if len(items) > most:
        items = items[:most] + ["+%d more" % (len(items) - most)]
    return ", ".join(items) or "none"


def changes_markdown(data):
    strategies, rows = change_rows(data["changes"])
    header = ["change"]
    for strategy in strategies:
        name = STRATEGY_LABELS.get(strategy, strategy)
        header += ["%s: failed" % name, "%s: longest without 2xx s" % name, "%s: streams complete / started" % name,
                   "%s: playbook s" % name, "%s: refused" % name]
    phase = data["plan"].get("changes") or {}
    deploys = data.get("change_deploys", [])
    out = ["", "## Change under load", "",
           "The %s variant deployed once per `litellm_deploy_strategy` (%s), then each change applied with "
           "`ansible-playbook benchmarks/deploy.yml` and the change's variables as extra vars (the good changes "
           "accumulate, as an inventory would; each bad one comes on top of them alone) while "
           "`tests/tools/change_load.py` keeps %s openai-SDK clients busy through the edge (%s of them streaming "
           "`%s`, ~10 chunks 500 ms apart; %s ms pause after each answer; no retries). The load starts before the "
           "playbook (after its first 2xx) and stops %s s after it. Failed: requests without a 2xx; longest "
           "without 2xx: the longest interval in which no request completed successfully; refused: the playbook "
           "failed and nothing of the change stayed (config.yaml / .env of the live proxy, /v1/models). "
           "Median (min–max) over %s repetition(s); first deployments took %s s." % (
               phase.get("variant", "sized"), ", ".join(STRATEGY_LABELS.get(s, s) for s in strategies),
               phase.get("clients"), phase.get("stream_clients"), "bench-drip", fmt_num(phase.get("think_ms")),
               fmt_num(phase.get("settle_s")), phase.get("repetitions"),
               ", ".join("%s %s" % (STRATEGY_LABELS.get(d["strategy"], d["strategy"]), fmt_num(d["deploy_s"]))
                         for d in deploys) or "-"),
           "", table(header, rows),
           "", "Per run: the failures by kind; the five longest stretches over 1 s without a 2xx, each with its "
           "start in seconds from the playbook's start (negative: before it; the baseline: from the load's "
           "start); the live proxy container and the edge container before → after; when the edge marked its "
           "server down and up (and why), and the status codes of the requests it logged as abnormal "
           "(`option dontlog-normal`: errors, `<NOSRV>`, retries).", "",
           table(["strategy", "rep", "change", "requests", "failures", "gaps > 1 s (s at s)", "live proxy",
                  "edge container", "edge: server down / up (s)", "edge: abnormal requests",
                  "left of a bad change"], change_detail_rows(data["changes"]))]
    return out


def markdown(data, plots):
    plan, machine = data["plan"], data["machine"]
    out = ["# LiteLLM benchmark (%s run)" % plan["name"], "",
           "Started %s, finished %s. Host: %s vCPU (%s), %s MB RAM, kernel %s, Docker %s. Fake backend with %s s "
           "latency per request. Load generator: gatewayops.litellm.load_test's core (closed loop, keep-alive, "
           "unique prompts unless a variant says otherwise, no retries) on the same host, against 127.0.0.1." % (
               data["started"], data.get("finished"), machine.get("cpus"), machine.get("cpu_model"),
               machine.get("memory_mb"), machine.get("kernel"), machine.get("docker"), machine.get("backend_delay_s")),
           "",
           "Per measurement: %s s warm-up (not measured), %s s measured (at most %s requests), timeout %s s; "
           "%d repetition(s), %s, concurrency order rotated between repetitions." % (
               plan["warmup_s"], plan["duration_s"], plan["max_requests"], plan["timeout_s"], plan["repetitions"],
               "each on a fresh deployment, variants rotated" if plan.get("redeploy_each_rep", True)
               else "back to back on one deployment per variant"),
           "", "## Variants", "",
           table(["id", "variant", "what"], [[n, v["label"], v["note"]] for n, v in data["variants"].items()])]
    if data["ceiling"] or data["runs"]:
        out += ["", "## Throughput, latency, CPU and memory", "",
                "Median over repetitions, (min–max) where there are several. Latency and LiteLLM's "
                "`x-litellm-overhead-duration-ms` of successful requests. CPU: the cgroup CPU time of every container of the stack (LiteLLM, its edge, "
                "its Redis and its Postgres, where the variant has them) during the measured window / requests; client CPU: the load generator's own. RSS: "
                "master + workers = total (MB, after the last measurement).", "",
                table(["variant", "conc.", "runs", "2xx req/s", "p50 ms", "p99 ms", "overhead p50 / p99 ms", "errors",
                       "stack CPU ms/req", "client CPU ms/req", "RSS MB"], throughput_rows(data))]
    out += ablation_markdown(data)
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
    if data.get("changes"):
        out += changes_markdown(data)
    if plots:
        out += ["", "## Plots", ""] + ["![%s](%s)" % (p.stem, p.name) for p in plots]
    if data.get("findings"):
        out += ["", "## Findings", ""] + ["- " + f for f in data["findings"]]
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
    if data.get("changes"):
        written.append(plot_changes(data["changes"], Path(directory) / "changes.png", plt))
    rows = ablation_rows(data)
    if rows:
        written.append(plot_ablation(rows, Path(directory) / "ablation.png", plt))
    return written


def plot_ablation(rows, path, plt):
    """Horizontal bars: the CPU per request each feature adds, one bar per concurrency, with the
    range from the repetitions' extremes."""
    features = []
    for r in rows:
        if r["feature"] not in features:
            features.append(r["feature"])
    concurrencies = sorted({r["concurrency"] for r in rows})
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(features) * len(concurrencies) + 1.5))
    height = 0.8 / len(concurrencies)
    for i, concurrency in enumerate(concurrencies):
        by_feature = {r["feature"]: r for r in rows if r["concurrency"] == concurrency}
        ys = [k + i * height for k in range(len(features))]
        values = [by_feature[f]["added_ms"] if f in by_feature else 0 for f in features]
        lows = [v - by_feature[f]["added_low_ms"] if f in by_feature else 0 for f, v in zip(features, values)]
        highs = [by_feature[f]["added_high_ms"] - v if f in by_feature else 0 for f, v in zip(features, values)]
        ax.barh(ys, values, height=height, xerr=[lows, highs], capsize=3, label="c=%d" % concurrency)
    ax.set_yticks([k + height * (len(concurrencies) - 1) / 2 for k in range(len(features))])
    ax.set_yticklabels(features, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("CPU ms/request the feature adds (LiteLLM + edge + Redis)\nbars: median, lines: range")
    return _finish(fig, ax, path, plt, "x", "best")


def plot_changes(changes, path, plt):
    """Grouped bars: the longest time without a 2xx per change type and strategy (median over
    repetitions, log scale), the failed requests written on each bar; a hatched bar: a bad change
    that was not refused."""
    groups, strategies = change_groups(changes)
    names = list(groups)
    width = 0.8 / max(len(strategies), 1)
    fig, ax = plt.subplots(figsize=(max(9, 1.3 * len(names)), 5.5))
    tallest, lowest = 1.0, 0.1
    for index, strategy in enumerate(strategies):
        xs, heights, labels, hatches = [], [], [], []
        for position, change in enumerate(names):
            records = groups[change].get(strategy, [])
            if not records:
                continue
            xs.append(position + (index - (len(strategies) - 1) / 2.0) * width)
            heights.append(max(median([r["load"]["longest_gap_without_2xx_s"] for r in records]) or 0.0, 0.01))
            labels.append("%s failed" % fmt_num(median([r["load"]["failed"] for r in records])))
            hatches.append("//" if any(r["bad"] and not r.get("refused") for r in records) else "")
        tallest, lowest = max([tallest] + heights), min([lowest] + [h / 2.0 for h in heights])
        bars = ax.bar(xs, heights, width, label=STRATEGY_LABELS.get(strategy, strategy))
        for rect, text, hatch in zip(bars, labels, hatches):
            rect.set_hatch(hatch)
            ax.annotate(text, (rect.get_x() + rect.get_width() / 2.0, rect.get_height()), xytext=(0, 3),
                        textcoords="offset points", ha="center", va="bottom", fontsize=7, rotation=90)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    ax.set_yscale("log")
    ax.set_ylim(lowest, tallest * 12)   # room for the labels above the bars
    ax.set_ylabel("longest time without a 2xx answer, s (log)")
    ax.set_title("Change under load: longest gap per change, median (failed requests on the bars; "
                 "hatched: a bad change that was not refused)", fontsize=9)
    return _finish(fig, ax, path, plt, "y", "upper left")


def _finish(fig, ax, path, plt, grid_axis, legend_loc):
    """Grid, legend, saved as PNG at `path`, closed; returns the path."""
    ax.grid(True, axis=grid_axis, alpha=0.3)
    ax.legend(fontsize=8, loc=legend_loc)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write(data, directory):
    plots = plot(data, directory)
    path = Path(directory) / "summary.md"
    path.write_text(markdown(data, plots), encoding="utf-8")
    return plots + [path]
