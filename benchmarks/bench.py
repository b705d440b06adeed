#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark LiteLLM variants side by side on this host, with the collection's own proxy role
and the load_test module's load generator (plugins/module_utils/_loadgen/).

  benchmarks/run.sh [--quick] [--variants a,b] [--phases matrix,soak,recycle,changes] [--recycles rc-gu,...]
                    [--requests N] [--strategies blue_green,recreate] [--changes model-added,...]

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
import urllib.error
import urllib.request
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
CHANGE_LOAD = stack.REPO / "tests" / "tools" / "change_load.py"
PHASES = ("matrix", "soak", "recycle", "changes")
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
                     "change_deploys": [], "changes": [], "findings": [], "failures": [],
                     # the feature comparisons whose two variants this run measures
                     "ablations": [list(a) for a in plan.ABLATIONS if a[0] in variants and a[2] in variants]}
        for name in variants:
            v = plan.VARIANTS[name]
            self.data["variants"][name] = {"label": v.label, "group": v.group, "note": v.note, "vars": v.vars,
                                           "load": v.load}

    # -- one measurement ----------------------------------------------------

    def load(self, url, key, model, concurrency, container=None, **overrides):
        p = self.plan
        settings = {"url": url, "api_key": key, "model": model, "mode": "closed", "concurrency": concurrency,
                    "warmup": p.warmup_s, "duration": p.duration_s, "max_requests": p.max_requests,
                    "timeout": p.timeout_s, "max_tokens": 16, "error_samples": 5}
        settings.update(overrides)
        marks = {}

        def mark(name):
            # each container's counter read once; the stack's total is their sum
            by_role = container.cpu_by_role() if container else {}
            total = None if not by_role or None in by_role.values() else sum(by_role.values())
            marks[name] = (total, time.process_time(), by_role)

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
            start_by, end_by = marks["start"][2], marks["end"][2]
            out["cpu_ms_per_request_by_container"] = {
                role: round((end_by[role] - start_by[role]) * 1000.0 / requests, 2)
                for role in end_by if end_by[role] is not None and start_by.get(role) is not None}
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
        # what a request costs is the CPU of every container of the stack: the proxy, its edge, its
        # Redis, its Postgres (database mode)
        members, roles = [probe.Container(container_name)], ["proxy"]
        for service in ("edge", "redis", "postgres"):
            other = stack.service_container_name(name, service)
            if other:
                members.append(probe.Container(other))
                roles.append(service)
        container = probe.Group(members, roles)
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
            concurrencies = tuple(self.plan.concurrencies) + tuple(self.plan.extra_concurrencies.get(name, ()))
            for rep in reps:
                for concurrency in rotate(concurrencies, rep):
                    out, _result = self.load(url, key, plan.MODEL, concurrency, container, **v.load)
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

    # -- changes under load ------------------------------------------------

    def change_run(self, strategy, rep, order, changes):
        """Deploy the phase's variant with `strategy`, measure the load alone, then apply `changes`
        one after the other under load (the good ones accumulate); the stack is removed at the end."""
        phase = self.plan.changes
        name = plan.change_run_name(strategy)
        role_vars = plan.merge_vars(plan.VARIANTS[phase.variant].vars, {"litellm_deploy_strategy": strategy},
                                    plan.CHANGE_BASE_VARS)
        try:
            _container, _key, deploy_s, idle_s = self.deploy(name, role_vars, "%s, rep %d" % (strategy, rep + 1))
            self.data["change_deploys"].append({"strategy": strategy, "run": name, "rep": rep, "order": order,
                                                "deploy_s": deploy_s, "idle_wait_s": idle_s, "vars": role_vars})
            self.change_step(name, strategy, rep, order, [])
            for index in range(len(changes)):
                self.change_step(name, strategy, rep, order, changes[:index + 1])
        except (stack.StackError, OSError, subprocess.SubprocessError, ValueError) as exc:
            self.fail("changes %s rep %d: %s" % (strategy, rep + 1, exc))
        finally:
            stack.down(name, self.log)
            stack.remove_images(self.log, rebuild_tag=False)   # the next run's image-rebuilt builds again

    def change_step(self, name, strategy, rep, order, applied):
        """One change (the last of `applied`; none: the load alone for baseline_s) under load."""
        phase = self.plan.changes
        change = applied[-1] if applied else None
        label = change.name if change else "baseline"
        proxy_before = stack.container_state(stack.container_name(name))
        edge_before = stack.container_state(stack.edge_container_name(name))
        colour_before = stack.live_colour(name)
        since = time.time()
        load, began = self.start_change_load(name, label)
        epoch_of_began = time.time() - (time.monotonic() - began)   # the load's clock zero, in epoch seconds
        record = {"strategy": strategy, "run": name, "rep": rep, "order": order, "step": len(applied),
                  "change": label, "label": change.label if change else "the load alone, no change",
                  "bad": bool(change and change.bad), "playbook_rc": None, "playbook_s": None,
                  "playbook_window_s": None, "playbook_failures": []}
        try:
            if change is None:
                time.sleep(phase.baseline_s)
            else:
                extra = plan.change_vars(applied)
                record["extra_vars"] = extra
                start = time.monotonic() - began
                rc, seconds, failures = stack.playbook(name, self.log, extra, timeout=phase.playbook_timeout_s)
                record.update(playbook_rc=rc, playbook_s=seconds, playbook_failures=failures[-3:],
                              playbook_window_s=[round(start, 1), round(time.monotonic() - began, 1)])
                time.sleep(phase.settle_s)   # a gap right at the end of the run is still seen
        finally:
            record["load"] = self.stop_change_load(load, name, label)
        try:
            proxy_after = stack.container_state(stack.container_name(name))
        except stack.StackError:
            proxy_after = None
        edge_after = stack.container_state(stack.edge_container_name(name))
        record.update(proxy_before=proxy_before, proxy_after=proxy_after, live_colour_before=colour_before,
                      live_colour_after=stack.live_colour(name), edge_before=edge_before, edge_after=edge_after)
        if edge_after is not None:   # its reloads and server state changes, on the load's clock
            events, statuses = stack.edge_events(edge_after["name"], since, self.log)
            record.update(edge_events=[{"t_s": round(t - epoch_of_began, 2), "text": text} for t, text in events],
                          edge_logged_statuses=statuses)
        if change is not None and change.bad:
            record.update(self.refusal(name, change, record["playbook_rc"]))
        if change is not None and change.name == "image-rebuilt" and proxy_after and proxy_before \
                and proxy_after["image"] != proxy_before["image"]:
            stack.BUILT_IMAGES.add(proxy_after["image"])   # built from plan.REBUILD_IMAGE: ours to remove
        self.data["changes"].append(record)
        summary = record["load"]
        gaps = report.gaps_text(summary, (record["playbook_window_s"] or [0.0])[0], most=3)
        log_line("  %s %s: playbook rc=%s in %s s%s; %d requests, %d failed %s, streams %d/%d, longest gap %.2f s%s" % (
            strategy, label, record["playbook_rc"], record["playbook_s"],
            (", refused" if record.get("refused") else ", NOT REFUSED") if record["bad"] else "",
            summary["requests"], summary["failed"], summary["failures_by_kind"] or "", summary["streams"]["complete"],
            summary["streams"]["started"], summary["longest_gap_without_2xx_s"],
            " (longest gaps > 1 s: %s s from the playbook's start)" % gaps if gaps else ""))
        if change is not None and not change.bad and record["playbook_rc"] != 0:
            self.fail("changes %s %s: the playbook failed (rc=%s): %s" % (
                strategy, label, record["playbook_rc"], (record["playbook_failures"] or ["see " + str(self.log)])[-1]))
        if proxy_after is None:
            raise stack.StackError("no proxy runs after %s" % label)
        probe.wait_idle(probe.Container(proxy_after["name"]), timeout=phase.idle_timeout_s)

    def start_change_load(self, name, label):
        """change_load.py against the edge; returns (process, its clock's start on ours) once its
        first request got a 2xx (the ready file holds that request's end on the tool's clock)."""
        phase = self.plan.changes
        files = {kind: stack.WORK / "changes" / ("%s-%s.%s" % (name, label, kind)) for kind in ("json", "ready", "stop")}
        files["json"].parent.mkdir(parents=True, exist_ok=True)
        for path in files.values():
            if path.exists():
                path.unlink()
        argv = [sys.executable, str(CHANGE_LOAD), "--base-url", "http://127.0.0.1:%d/v1" % plan.PORT,
                "--api-key-file", str(stack.project_dir(name) / ".env"), "--clients", str(phase.clients),
                "--stream-clients", str(phase.stream_clients), "--model", plan.MODEL, "--stream-model", plan.DRIP_MODEL,
                "--think-ms", "%g" % phase.think_ms, "--request-timeout", "%g" % phase.request_timeout_s,
                "--max-seconds", "%g" % phase.max_load_s, "--out", str(files["json"]), "--stop-file", str(files["stop"]),
                "--ready-file", str(files["ready"]), "--label", "%s %s" % (name, label)]
        with open(self.log, "a", encoding="utf-8") as handle:
            handle.write("$ %s\n" % " ".join(argv))
            handle.flush()
            proc = subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT, cwd=str(stack.REPO))
        load = {"proc": proc, "files": files}
        deadline = time.monotonic() + phase.ready_timeout_s
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                text = files["ready"].read_text(encoding="utf-8").strip()
            except OSError:
                text = ""
            if text:
                return load, time.monotonic() - float(text)
            time.sleep(0.1)
        self.stop_change_load(load, name, label)
        raise stack.StackError("the load for %s %s got no 2xx within %.0f s" % (name, label, phase.ready_timeout_s))

    def stop_change_load(self, load, name, label):
        """Stop change_load.py (stop file, then SIGTERM, then SIGKILL) and return its summary."""
        phase = self.plan.changes
        proc, files = load["proc"], load["files"]
        files["stop"].touch()
        for action in (None, proc.terminate, proc.kill):
            if action is not None:
                action()
            try:
                proc.wait(timeout=phase.stop_timeout_s)
                break
            except subprocess.TimeoutExpired:
                continue
        try:
            return json.loads(files["json"].read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise stack.StackError("no summary from the load for %s %s (rc=%s): %s" % (name, label, proc.returncode, exc))

    def refusal(self, name, change, rc):
        """Whether a bad change was refused: the playbook failed and nothing of it stays (its text
        in the live config.yaml / .env, its models in /v1/models)."""
        directory = stack.project_dir(name)
        places = [directory]
        if stack.live_colour(name):
            places.append(directory / stack.proxy_project(name))
        traces = []
        for place in places:
            for filename in ("config.yaml", ".env"):
                try:
                    text = (place / filename).read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                traces += ["%s in %s" % (t, place / filename) for t in change.traces if t in text]
        listed = None
        try:
            request = urllib.request.Request("http://127.0.0.1:%d/v1/models" % plan.PORT,
                                             headers={"Authorization": "Bearer " + stack.master_key(name)})
            with urllib.request.urlopen(request, timeout=15) as answer:
                listed = sorted(m.get("id") for m in json.loads(answer.read()).get("data", []))
        except (OSError, ValueError, stack.StackError, urllib.error.URLError) as exc:
            traces.append("/v1/models did not answer after the change: %s" % exc)
        if listed is not None:
            traces += ["model %s is served" % m for m in change.gone_models if m in listed]
        refused = rc is not None and rc != 0 and not traces
        if not refused:
            finding = "changes %s: the bad change %s was not refused (playbook %s%s)" % (
                name, change.name, "rc=%d" % rc if rc is not None else "timed out and was killed",
                "; " + "; ".join(traces) if traces else "")
            self.data["findings"].append(finding)
            log_line("  FINDING " + finding)
        return {"refused": refused, "traces_left": traces, "models_after": listed}

    def changes(self, rep, strategies=None, selected=None):
        phase = self.plan.changes
        chosen = [plan.CHANGE_BY_NAME[n] for n in phase.changes if selected is None or n in selected]
        for order, strategy in enumerate(rotate([s for s in phase.strategies if strategies is None or s in strategies], rep)):
            log_line("changes under load: %s (%d change(s)), rep %d" % (strategy, len(chosen), rep + 1))
            self.change_run(strategy, rep, order, chosen)

    def fail(self, text):
        self.data["failures"].append(text)
        log_line("  FAILED " + text.split("\n")[0])
        with open(self.log, "a", encoding="utf-8") as handle:
            handle.write("FAILED %s\n" % text)

    # -- the run ------------------------------------------------------------

    def run(self, phases=PHASES, soaks=None, recycles=None, requests=None, strategies=None, changes=None):
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
        if "changes" in phases and p.changes is not None:
            if "image-rebuilt" in p.changes.changes and (changes is None or "image-rebuilt" in changes):
                stack.tag_rebuild_image(self.log)
            for rep in range(p.changes.repetitions):
                self.changes(rep, strategies, changes)

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
    parser.add_argument("--plan", choices=sorted(plan.PLANS),
                        help="full (about 3.5 h), standard (about 80 min), ablation (about 50 min), targets (about 16 min) or quick")
    parser.add_argument("--variants", help="comma-separated subset of the plan's variants (%s)" % ", ".join(plan.VARIANTS))
    parser.add_argument("--phases", default=",".join(PHASES),
                        help="comma-separated: matrix (variants x concurrency), soak, recycle, changes (changes under "
                        "load) (default: all the plan has)")
    parser.add_argument("--soaks", help="comma-separated subset of the plan's soaks")
    parser.add_argument("--recycles", help="comma-separated subset of the plan's recycling experiments (%s)"
                        % ", ".join(r.name for r in plan.RECYCLES))
    parser.add_argument("--requests", type=int, help="requests per soak / recycling experiment instead of the plan's")
    parser.add_argument("--strategies", help="comma-separated subset of the deploy strategies of the changes phase (%s)"
                        % ", ".join(plan.STRATEGIES))
    parser.add_argument("--changes", help="comma-separated subset of the plan's changes (%s); the good ones among them "
                        "accumulate" % ", ".join(c.name for c in plan.CHANGES))
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
    if not phases or not phases <= set(PHASES):
        sys.exit("--phases takes %s" % ", ".join(PHASES))
    if "changes" in phases and the_plan.changes is None and phases == {"changes"}:
        sys.exit("plan %s has no changes phase" % the_plan.name)
    if args.requests is not None and not 1 <= args.requests <= 200000:
        sys.exit("--requests must be from 1 to 200000")
    for chosen, known in ((names(args.soaks), the_plan.soaks), (names(args.recycles), the_plan.recycles)):
        unknown = sorted((chosen or set()) - set(s.name for s in known))
        if unknown:
            sys.exit("not in plan %s: %s (it has %s)" % (the_plan.name, ", ".join(unknown), ", ".join(s.name for s in known)))
    if the_plan.changes is not None:
        for chosen, known, what in ((names(args.strategies), the_plan.changes.strategies, "strategies"),
                                    (names(args.changes), the_plan.changes.changes, "changes")):
            unknown = sorted((chosen or set()) - set(known))
            if unknown:
                sys.exit("%s not in plan %s: %s (it has %s)" % (what, the_plan.name, ", ".join(unknown), ", ".join(known)))
    problems = stack.preflight(tuple(sorted({image for name in variants for key, image in plan.VARIANTS[name].vars.items()
                                             if key in ("litellm_base_image", "litellm_postgres_image")})))
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
        bench.run(phases=phases, soaks=names(args.soaks), recycles=names(args.recycles), requests=args.requests,
                  strategies=names(args.strategies), changes=names(args.changes))
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
