# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a container uses: CPU seconds from its cgroup (v1 cpuacct or v2 cpu.stat), and its
processes (master, workers) with their RSS from /proc, sampled in a thread over time."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")


class Container(object):
    """A running container seen from the host (root needed to read /proc of its processes)."""

    def __init__(self, name):
        self.name = name
        out = subprocess.run(["docker", "inspect", "-f", "{{.Id}}", name], capture_output=True, text=True,
                             timeout=30, check=True).stdout.strip()
        self.id = out
        self.cpu_file, self.procs_file, self.scale = self._cgroup_files(out)

    @staticmethod
    def _cgroup_files(cid):
        candidates = [  # (cpu usage file, procs file, seconds per unit)
            (CGROUP / "cpuacct" / "docker" / cid / "cpuacct.usage", CGROUP / "cpuacct" / "docker" / cid / "cgroup.procs", 1e-9),
            (CGROUP / "cpu,cpuacct" / "docker" / cid / "cpuacct.usage", CGROUP / "cpu,cpuacct" / "docker" / cid / "cgroup.procs", 1e-9),
            (CGROUP / "docker" / cid / "cpu.stat", CGROUP / "docker" / cid / "cgroup.procs", 1e-6),
            (CGROUP / "system.slice" / ("docker-%s.scope" % cid) / "cpu.stat",
             CGROUP / "system.slice" / ("docker-%s.scope" % cid) / "cgroup.procs", 1e-6),
        ]
        for cpu_file, procs_file, scale in candidates:
            if cpu_file.exists():
                return cpu_file, procs_file, scale
        return None, None, None

    def cpu_seconds(self):
        """CPU seconds the container's processes used since it started (exited workers included);
        None when no cgroup file was found."""
        if self.cpu_file is None:
            return None
        text = self.cpu_file.read_text()
        if self.cpu_file.name == "cpu.stat":
            for line in text.splitlines():
                key, _sep, value = line.partition(" ")
                if key == "usage_usec":
                    return int(value) * self.scale
            return None
        return int(text.strip()) * self.scale

    def processes(self):
        """[{pid, ppid, role, rss_mb}] of the container's processes; role is init, master,
        worker or helper (multiprocessing's resource tracker)."""
        if self.procs_file is None:
            return []
        procs = []
        for pid_text in self.procs_file.read_text().split():
            info = _proc(int(pid_text))
            if info is not None:
                procs.append(info)
        pids = set(p["pid"] for p in procs)
        init = set(p["pid"] for p in procs if p["cmd"].endswith("docker-init") or p["cmd"] == "tini")
        for p in procs:
            if p["pid"] in init:
                p["role"] = "init"
            elif "resource_tracker" in p["args"]:
                p["role"] = "helper"
            elif p["ppid"] in init or p["ppid"] not in pids:
                p["role"] = "master"
            else:
                p["role"] = "worker"
            del p["args"]
        return procs


def _proc(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            args = handle.read().split(b"\0")
        with open("/proc/%d/stat" % pid, encoding="latin-1") as handle:
            stat = handle.read()
        with open("/proc/%d/status" % pid, encoding="latin-1") as handle:
            status = handle.read()
    except OSError:
        return None  # exited meanwhile
    ppid = int(stat.rsplit(")", 1)[1].split()[1])
    rss_kb = 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            rss_kb = int(line.split()[1])
    cmd = args[0].decode("utf-8", "replace") if args and args[0] else ""
    return {"pid": pid, "ppid": ppid, "cmd": cmd, "args": b" ".join(args).decode("utf-8", "replace"),
            "rss_mb": round(rss_kb / 1024.0, 1)}


def memory_summary(procs):
    """master, workers (list) and total RSS in MB of a processes() list."""
    master = sum(p["rss_mb"] for p in procs if p["role"] == "master")
    workers = sorted((p["rss_mb"] for p in procs if p["role"] == "worker"), reverse=True)
    return {"master_mb": round(master, 1), "workers_mb": workers,
            "total_mb": round(sum(p["rss_mb"] for p in procs), 1)}


class Group(object):
    """Several containers counted as one for CPU (the proxy, its edge, its Redis); processes and
    memory are the first one's (the proxy's). `roles` names each container's part in the stack."""

    def __init__(self, containers, roles):
        self.containers = containers
        self.roles = list(roles)
        self.name = containers[0].name

    def cpu_seconds(self):
        values = list(self.cpu_by_role().values())
        return None if None in values else sum(values)

    def cpu_by_role(self):
        """{role: CPU seconds} of each container (None where its counter cannot be read)."""
        return {role: c.cpu_seconds() for role, c in zip(self.roles, self.containers)}

    def processes(self):
        return self.containers[0].processes()


class Sampler(threading.Thread):
    """Samples a container every `interval` seconds until stop(): time, CPU seconds, RSS per
    role, and the serving processes (the workers, or the master when it serves alone): one that
    disappears has exited (a recycled worker, or a proxy that stopped), one that appears after
    the first sample is a replacement."""

    def __init__(self, container, interval, clock=time.monotonic):
        super().__init__(daemon=True)
        self.container = container
        self.interval = interval
        self.clock = clock
        self.samples = []
        self.started = {}          # serving pid -> seconds when first seen (None: there at the start)
        self.exited = {}           # serving pid -> seconds when first missed
        self._alive = set()
        self._stop_event = threading.Event()
        self.t0 = clock()

    def sample(self):
        now = self.clock() - self.t0
        procs = self.container.processes()
        workers = [p for p in procs if p["role"] == "worker"]
        # one uvicorn worker is the master itself: then the master is what serves (and restarts)
        serving = set(p["pid"] for p in (workers or [p for p in procs if p["role"] == "master"]))
        for pid in serving - set(self.started):
            self.started[pid] = None if not self.samples else round(now, 2)
        for pid in self._alive - serving:
            self.exited.setdefault(pid, round(now, 2))
        self._alive = serving
        mem = memory_summary(procs)
        self.samples.append({"t": round(now, 2), "cpu_s": self.container.cpu_seconds(),
                             "total_mb": mem["total_mb"], "master_mb": mem["master_mb"],
                             "workers_mb": mem["workers_mb"], "workers": len(workers)})

    def run(self):
        while not self._stop_event.is_set():
            try:
                self.sample()
            except (OSError, ValueError):
                pass  # the container restarts or exits: keep sampling
            self._stop_event.wait(self.interval)

    def stop(self):
        self._stop_event.set()
        self.join(timeout=10)
        try:
            self.sample()
        except (OSError, ValueError):
            pass

    def recycles(self):
        """{exits: [seconds], replacements: [seconds]} of serving processes, from the sampler's start."""
        return {"exits": sorted(self.exited.values()),
                "replacements": sorted(t for t in self.started.values() if t is not None)}


def wait_idle(container, seconds=2.0, threshold=0.15, timeout=120.0):
    """Wait until the container uses less than `threshold` CPU cores over `seconds` (workers
    have finished booting); returns the seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        before = container.cpu_seconds()
        time.sleep(seconds)
        after = container.cpu_seconds()
        if before is None or after is None or (after - before) / seconds < threshold:
            break
    return round(time.monotonic() - start, 1)
