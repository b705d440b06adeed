#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark LiteLLM variants side by side on this host, with the collection's own proxy role
and the load_test module's load generator (plugins/module_utils/_loadgen/).

  benchmarks/run.sh [--quick] [--variants a,b] [--phases matrix,soak,recycle] [--recycles rc-gu,...] [--requests N]

What runs is in plan.py (FULL, or QUICK with --quick); benchmarks/README.md explains it.
Everything the run starts is removed at its end, also when it fails."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / ".cache" / "collections"))

import plan  # noqa: E402  pylint: disable=wrong-import-position
import probe  # noqa: E402  pylint: disable=wrong-import-position
import report  # noqa: E402  pylint: disable=wrong-import-position
import stack  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.gatewayops.litellm.plugins.module_utils._loadgen.config import LoadConfig  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.gatewayops.litellm.plugins.module_utils._loadgen.runner import run_load  # noqa: E402  pylint: disable=wrong-import-position


SETTLE_S = 8.0
# log lines that mark recycling: gunicorn's arbiter, uvicorn's limit (INFO), uvicorn's supervisor
LOG_MARKERS = ("Booting worker", "Maximum request limit", "Child process", "Waiting for child process")


def log_line(text):
    stamp = datetime.datetime.now().strftime("%H:%M:%S")
    print("[%s] %s" % (stamp, text), flush=True)


def figures(summary):
    """The numbers a table needs from a load_test summary."""
    lat, over = summary["latency_ms"], summary["overhead_ms"]
    return {
        "requests": summary["requests"], "errors": summary["errors"], "error_kinds": summary["error_kinds"],
        "status_codes": summary["status_codes"], "rps": summary["rps"], "success_rps": summary["success_rps"],
        "elapsed_s": summary["elapsed_s"], "p50_ms": lat["p50"], "p95_ms": lat["p95"], "p99_ms": lat["p99"],
        "max_ms": lat["max"], "overhead_p50_ms": over["p50"], "overhead_p95_ms": over["p95"],
        "overhead_p99_ms": over["p99"], "error_samples": summary["error_samples"][:3],
    }


def timeline(result, step=1.0):
    """Completions and failures per `step` seconds of the measured window."""
    if not result.records:
        return []
    start = result.window_start
    buckets = {}
    for record in result.records:
        index = int((record.ended - start) // step)
        ok, failed = buckets.get(index, (0, 0))
        buckets[index] = (ok + 1, failed) if record.ok else (ok, failed + 1)
    return [{"t": i * step, "ok": buckets.get(i, (0, 0))[0], "failed": buckets.get(i, (0, 0))[1]}
            for i in range(0, max(buckets) + 1)]


class Bench(object):
    def __init__(self, the_plan, results_dir, variants):
        self.plan = the_plan
        self.variants = variants
        self.results_dir = results_dir
        self.log = stack.WORK / "logs" / ("%s-%s.log" % (the_plan.name, time.strftime("%Y%m%d-%H%M%S")))
        self.data = {"plan": asdict(the_plan), "started": datetime.datetime.now().isoformat(timespec="seconds"),
                     "machine": machine(), "variants": {}, "ceiling": [], "runs": [], "soaks": [], "recycles": [],
                     "failures": []}
        for name in variants:
            v = plan.VARIANTS[name]
            self.data["variants"][name] = {"label": v.label, "group": v.group, "note": v.note, "vars": v.vars}

    # -- one measurement ----------------------------------------------------

    def load(self, url, key, model, concurrency, container=None, **overrides):
        p = self.plan
        settings = {"url": url, "api_key": key, "model": model, "mode": "closed", "concurrency": concurrency,
                    "warmup": p.warmup_s, "duration": p.duration_s, "max_requests": p.max_requests,
                    "timeout": p.timeout_s, "max_tokens": 16, "error_samples": 5}
        settings.update(overrides)
        marks = {}

        def mark(name):
            marks[name] = (container.cpu_seconds() if container else None, time.process_time())

        result = run_load(LoadConfig(**settings), hooks={"measure_start": lambda: mark("start"),
                                                         "measure_end": lambda: mark("end")})
        summary = result.summary()
        out = figures(summary)
        out["concurrency"] = concurrency
        requests = max(summary["requests"], 1)
        if "start" in marks and "end" in marks:
            out["client_cpu_ms_per_request"] = round((marks["end"][1] - marks["start"][1]) * 1000.0 / requests, 2)
            if marks["start"][0] is not None and marks["end"][0] is not None:
                cpu_s = marks["end"][0] - marks["start"][0]
                out["proxy_cpu_s"] = round(cpu_s, 2)
                out["cpu_ms_per_request"] = round(cpu_s * 1000.0 / requests, 2)
                out["proxy_cores"] = round(cpu_s / max(summary["elapsed_s"], 1e-9), 2)
        if container is not None:
            out["memory"] = probe.memory_summary(container.processes())
        return out, result

    # -- phases -------------------------------------------------------------

    def ceiling(self, rep):
        url = "http://127.0.0.1:%d" % plan.BACKEND_PORT
        for concurrency in rotate(self.plan.concurrencies, rep):
            out, _result = self.load(url, None, "fake-chat", concurrency)
            out.update(rep=rep)
            self.data["ceiling"].append(out)
            log_line("  ceiling c=%d: %.1f req/s, p99 %s ms, errors %d" % (concurrency, out["rps"], out["p99_ms"], out["errors"]))

    def deploy(self, name, role_vars, tag):
        started = time.monotonic()
        container_name, key = stack.deploy(name, role_vars, self.log)
        deploy_s = time.monotonic() - started
        container = probe.Container(container_name)
        edge_name = stack.edge_container_name(name)
        if edge_name:   # the edge's CPU is part of what a request costs
            container = probe.Group([container, probe.Container(edge_name)])
        idle_s = probe.wait_idle(container)
        log_line("  deployed %s in %.0f s (+%.0f s until idle) [%s]" % (name, deploy_s, idle_s, tag))
        return container, key, round(deploy_s, 1), idle_s

    def variant(self, name, reps, order):
        """Deploy a variant once and measure the repetitions `reps` on that deployment."""
        v = plan.VARIANTS[name]
        url = "http://127.0.0.1:%d" % plan.PORT
        try:
            container, key, deploy_s, idle_s = self.deploy(name, v.vars, "rep %s" % ",".join(str(r + 1) for r in reps))
            boot_mem = probe.memory_summary(container.processes())
            for rep in reps:
                for concurrency in rotate(self.plan.concurrencies, rep):
                    out, _result = self.load(url, key, plan.MODEL, concurrency, container)
                    out.update(variant=name, rep=rep, order=order, deploy_s=deploy_s, idle_wait_s=idle_s, boot_memory=boot_mem)
                    self.data["runs"].append(out)
                    log_line("  %s rep %d c=%d: %.1f req/s, p50/p99 %s/%s ms, overhead p50 %s ms, %s ms CPU/req, errors %d" % (
                        name, rep + 1, concurrency, out["rps"], out["p50_ms"], out["p99_ms"], out["overhead_p50_ms"],
                        out.get("cpu_ms_per_request"), out["errors"]))
                    time.sleep(self.plan.pause_s)
        except (stack.StackError, OSError, subprocess.SubprocessError, ValueError) as exc:
            self.fail("%s reps %s: %s" % (name, list(reps), exc))
        finally:
            stack.down(name, self.log)

    def soak(self, soak, kind, requests=None):
        """A long run (or a recycling experiment) with the container sampled over time."""
        base = plan.VARIANTS[soak.base]
        name = soak.name
        url = "http://127.0.0.1:%d" % plan.PORT
        try:
            container, key, deploy_s, idle_s = self.deploy(name, plan.merge_vars(base.vars, soak.vars), kind)
            sampler = probe.Sampler(container, soak.sample_every)
            sampler.start()
            started = time.monotonic()
            try:
                out, result = self.load(url, key, plan.MODEL, soak.concurrency, None, warmup=0.0,
                                        duration=soak.max_seconds, max_requests=requests or soak.requests,
                                        keepalive=soak.keepalive, error_samples=10)
                time.sleep(SETTLE_S)   # a worker that began to recycle at the end exits meanwhile
            finally:
                sampler.stop()
            events = sampler.recycles()
            shift = result.window_start - started
            exits = [round(t - shift, 1) for t in events["exits"]]
            restarts = stack.run(["docker", "inspect", "-f", "{{.RestartCount}}", container.name]).strip()
            logs = stack.container_logs_count(container.name, LOG_MARKERS, self.log)
            edge_name = stack.edge_container_name(name)
            edge_lines = stack.edge_log(edge_name, self.log) if edge_name else None
            out.update(name=name, label=soak.label, base=soak.base, vars=soak.vars, keepalive=soak.keepalive,
                       deploy_s=deploy_s, idle_wait_s=idle_s, recycles=len(exits), recycle_times_s=exits,
                       replacement_times_s=[round(t - shift, 1) for t in events["replacements"]],
                       failed_per_recycle=round(out["errors"] / float(len(exits)), 2) if exits else None,
                       container_restarts=int(restarts or 0), log_lines=logs, edge=edge_name is not None,
                       edge_abnormal_requests=len(edge_lines) if edge_lines is not None else None,
                       edge_retries=stack.edge_retries(edge_lines) if edge_lines is not None else None,
                       edge_log_samples=(edge_lines or [])[:5],
                       samples=[dict(s, t=round(s["t"] - shift, 2)) for s in sampler.samples],
                       timeline=timeline(result))
            self.data[kind].append(out)
            log_line("  %s: %d requests in %.0f s, %.1f req/s, failed %d %s, worker exits %d, restarts %s, p99/max %s/%s ms" % (
                name, out["requests"], out["elapsed_s"], out["rps"], out["errors"], out["error_kinds"] or "",
                len(exits), restarts, out["p99_ms"], out["max_ms"]))
        except (stack.StackError, OSError, subprocess.SubprocessError, ValueError) as exc:
            self.fail("%s: %s" % (name, exc))
        finally:
            stack.down(name, self.log)

    def fail(self, text):
        self.data["failures"].append(text)
        log_line("  FAILED " + text.split("\n")[0])
        with open(self.log, "a", encoding="utf-8") as handle:
            handle.write("FAILED %s\n" % text)

    # -- the run ------------------------------------------------------------

    def run(self, phases=("matrix", "soak", "recycle"), soaks=None, recycles=None, requests=None):
        p = self.plan
        log_line("plan %s: %d variant(s) x %d repetition(s) x concurrency %s, %s s each; phases %s; log %s" % (
            p.name, len(self.variants), p.repetitions, list(p.concurrencies), p.duration_s, ",".join(phases), self.log))
        stack.start_backend(self.log)
        if "matrix" in phases and p.redeploy_each_rep:
            for rep in range(p.repetitions):
                log_line("repetition %d/%d" % (rep + 1, p.repetitions))
                if p.ceiling:
                    self.ceiling(rep)
                for order, name in enumerate(rotate(self.variants, rep)):
                    self.variant(name, [rep], order)
        elif "matrix" in phases:
            if p.ceiling:
                for rep in range(p.repetitions):
                    self.ceiling(rep)
            for order, name in enumerate(self.variants):
                log_line("variant %s (%d/%d), %d repetitions" % (name, order + 1, len(self.variants), p.repetitions))
                self.variant(name, list(range(p.repetitions)), order)
        if "soak" in phases:
            for soak in p.soaks:
                if soaks is None or soak.name in soaks:
                    log_line("soak %s" % soak.name)
                    self.soak(soak, "soaks", requests)
        if "recycle" in phases:
            for experiment in p.recycles:
                if recycles is None or experiment.name in recycles:
                    log_line("recycling %s" % experiment.name)
                    self.soak(experiment, "recycles", requests)

    def write(self):
        self.data["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
        self.results_dir.mkdir(parents=True, exist_ok=True)
        path = self.results_dir / "results.json"
        path.write_text(json.dumps(self.data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        written = [path] + report.write(self.data, self.results_dir)
        for item in written:
            log_line("wrote %s" % item)


def names(text):
    """A set from a comma-separated option, None when the option was not given."""
    if text is None:
        return None
    return set(n.strip() for n in text.split(",") if n.strip())


def rotate(items, by):
    items = list(items)
    if not items:
        return items
    by %= len(items)
    return items[by:] + items[:by]


def machine():
    info = {"cpus": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
            "backend_delay_s": float(plan.BACKEND_DELAY_S)}
    try:
        with open("/proc/meminfo", encoding="latin-1") as handle:
            info["memory_mb"] = int(handle.readline().split()[1]) // 1024
        with open("/proc/cpuinfo", encoding="latin-1") as handle:
            models = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")]
        info["cpu_model"] = models[0] if models else None
        info["docker"] = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True,
                                        text=True, timeout=30, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        pass
    return info


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: plan.QUICK (1 repetition, 1 concurrency, short)")
    parser.add_argument("--plan", choices=sorted(plan.PLANS), help="full (about 2.5 h), standard (about 50 min) or quick")
    parser.add_argument("--variants", help="comma-separated subset of the plan's variants (%s)" % ", ".join(plan.VARIANTS))
    parser.add_argument("--phases", default="matrix,soak,recycle",
                        help="comma-separated: matrix (variants x concurrency), soak, recycle (default: all)")
    parser.add_argument("--soaks", help="comma-separated subset of the plan's soaks")
    parser.add_argument("--recycles", help="comma-separated subset of the plan's recycling experiments (%s)"
                        % ", ".join(r.name for r in plan.RECYCLES))
    parser.add_argument("--requests", type=int, help="requests per soak / recycling experiment instead of the plan's")
    parser.add_argument("--results", type=Path, help="output directory (default benchmarks/results[/quick])")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    the_plan = plan.PLANS[args.plan] if args.plan else (plan.QUICK if args.quick else plan.FULL)
    variants = list(the_plan.variants)
    if args.variants:
        variants = [v.strip() for v in args.variants.split(",") if v.strip()]
        unknown = [v for v in variants if v not in plan.VARIANTS]
        if unknown:
            sys.exit("unknown variant(s): %s (known: %s)" % (", ".join(unknown), ", ".join(plan.VARIANTS)))
    phases = names(args.phases)
    if not phases or not phases <= {"matrix", "soak", "recycle"}:
        sys.exit("--phases takes matrix, soak and recycle")
    if args.requests is not None and not 1 <= args.requests <= 200000:
        sys.exit("--requests must be from 1 to 200000")
    for chosen, known in ((names(args.soaks), the_plan.soaks), (names(args.recycles), the_plan.recycles)):
        unknown = sorted((chosen or set()) - set(s.name for s in known))
        if unknown:
            sys.exit("not in plan %s: %s (it has %s)" % (the_plan.name, ", ".join(unknown), ", ".join(s.name for s in known)))
    problems = stack.preflight()
    if problems:
        sys.exit("cannot run:\n- " + "\n- ".join(problems))
    results_dir = args.results or (HERE / "results" / ("" if the_plan is plan.FULL else the_plan.name))
    bench = Bench(the_plan, results_dir, variants)

    def interrupted(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)

    signal.signal(signal.SIGTERM, interrupted)
    started = time.monotonic()
    status = 0
    try:
        bench.run(phases=phases, soaks=names(args.soaks), recycles=names(args.recycles), requests=args.requests)
    except KeyboardInterrupt:
        bench.fail("interrupted")
        status = 130
    except Exception:  # pylint: disable=broad-except
        bench.fail("harness error:\n" + traceback.format_exc())
        status = 1
    finally:
        log_line("cleaning up")
        left = stack.cleanup(bench.log)
        if left:
            bench.fail("could not remove stacks: %s" % ", ".join(left))
        bench.write()
    log_line("done in %.0f s, %d failure(s)" % (time.monotonic() - started, len(bench.data["failures"])))
    if bench.data["failures"] and not status:
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
