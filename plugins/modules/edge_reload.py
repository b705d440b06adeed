#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: edge_reload
short_description: Apply a new haproxy.cfg to a running HAProxy edge container without recreating it
version_added: 0.1.0
description:
  - Reloads HAProxy in master-worker mode (C(haproxy -W -db -f <cfg>), the master being the
    container's main process) in place, through the Docker engine's API on its unix socket.
    The published port stays open; requests in flight are not cut.
  - Sends O(signal) (C(SIGUSR2), HAProxy's reload) to the container, then waits until the master
    has a worker that was not there before. The master reads the configuration again and forks
    that worker only when the configuration loads; when none appears within O(start_timeout) the
    reload failed and the task fails with the container's last 20 log lines, where HAProxy writes
    its parse errors. HAProxy's C(Loading failure!) log line ends the wait at once.
  - With O(wait_for_drain), then waits until every old worker has exited. Old workers stop
    listening at once and finish their requests and streams in flight, for at most HAProxy's
    C(hard-stop-after); the task fails after O(drain_timeout) naming the old workers that remain.
  - Processes are read from the engine's C(top) endpoint (C(ps) on the host, so PIDs are the
    host's, not the ones HAProxy's log lines show). The master is the container's main process
    (the one whose parent is not a process of the container; an init such as C(docker run --init)
    is looked through), its workers are its children.
  - The container must see the new file. A single-file bind mount keeps the file it was started
    with when the file is replaced by a rename, as M(ansible.builtin.template) and
    M(ansible.builtin.copy) do; mount the directory instead. When this host can look into the
    container's mounts (C(/proc/<pid>/root), as root on the Docker host) the module fails before
    signalling if a single-file bind mount no longer shows its source file.
  - A failed reload leaves HAProxy as it was, old workers serving with the old configuration
    (HAProxy 2.6).
author:
  - gatewayops engineering (@gatewayops)
extends_documentation_fragment:
  - gatewayops.litellm.attributes
  - gatewayops.litellm.attributes.actiongroup
  - gatewayops.litellm.docker
options:
  container:
    description:
      - Name or ID of the HAProxy container.
    type: str
    required: true
  signal:
    description:
      - Signal sent to the container's main process, by name (C(SIGUSR2) or C(USR2)) or number.
    type: str
    default: SIGUSR2
  start_timeout:
    description:
      - Seconds the master may take to fork a new worker before the reload counts as failed.
    type: float
    default: 30.0
  wait_for_drain:
    description:
      - Wait until every old worker has exited.
      - V(false) returns as soon as the new worker runs; the old workers drain in the background.
    type: bool
    default: true
  drain_timeout:
    description:
      - Seconds the old workers may take to exit, counted from the new worker's start. Set it
        above the configuration's C(hard-stop-after) (the proxy role sets that to
        C(litellm_request_timeout), 600 s by default).
    type: float
    default: 660.0
  poll_interval:
    description:
      - Seconds between two looks at the container's processes.
    type: float
    default: 0.5
attributes:
  check_mode:
    support: full
    details:
      - Checks that the container exists, runs and has a master with workers, then reports
        C(changed=true) without sending the signal.
  diff_mode:
    support: none
  idempotent:
    support: none
    details:
      - Every run reloads HAProxy and reports C(changed); run it when the configuration changed
        (a handler).
seealso:
  - module: gatewayops.litellm.health_info
  - name: HAProxy management guide, reloading
    description: How the master process reloads and what old workers do.
    link: https://docs.haproxy.org/2.6/management.html#4
"""

EXAMPLES = r"""
- name: Write the new HAProxy configuration (its directory is mounted into the container)
  ansible.builtin.template:
    src: haproxy.cfg.j2
    dest: /opt/litellm/edge/haproxy.cfg
    mode: "0644"
    validate: docker run --rm -v %s:/tmp/haproxy.cfg:ro haproxy:2.6 haproxy -c -f /tmp/haproxy.cfg
  notify: Reload the edge

# handlers:
- name: Reload the edge
  gatewayops.litellm.edge_reload:
    container: litellm-edge-1
  register: reload

- name: Return once the new worker runs; old ones finish their streams in the background
  gatewayops.litellm.edge_reload:
    container: litellm-edge-1
    wait_for_drain: false
    start_timeout: 10
"""

RETURN = r"""
master_pid:
  description: Host PID of HAProxy's master process.
  returned: always
  type: int
  sample: 8275
old_workers:
  description: Host PIDs of the workers before the reload (in check mode, the current ones).
  returned: always
  type: list
  elements: int
  sample: [8307]
new_workers:
  description: Host PIDs of the workers the reload started; empty in check mode.
  returned: always
  type: list
  elements: int
  sample: [8387]
seconds_to_new_worker:
  description: Seconds from the signal until the new worker was seen; null in check mode.
  returned: always
  type: float
  sample: 0.03
seconds_to_drain:
  description: >-
    Seconds from the signal until the last old worker had exited; null in check mode or without
    O(wait_for_drain).
  returned: always
  type: float
  sample: 0.51
remaining_workers:
  description: Host PIDs of the old workers still running when O(drain_timeout) ran out.
  returned: when the old workers did not drain in time
  type: list
  elements: int
  sample: [8307]
logs:
  description: The container's last 20 log lines.
  returned: when the reload failed or the container stopped during it
  type: list
  elements: str
  sample:
    - "[ALERT]    (1) : config : parsing [/usr/local/etc/haproxy/haproxy.cfg:9] : unknown keyword 'bogus' in 'frontend' section"
    - "[WARNING]  (1) : Loading failure!"
container:
  description: State of the container (after the reload).
  returned: when the container exists
  type: dict
  contains:
    id:
      description: Container ID.
      type: str
    name:
      description: Container name.
      type: str
      sample: litellm-edge-1
    status:
      description: V(created), V(running), V(paused), V(restarting), V(removing), V(exited) or V(dead).
      type: str
      sample: running
    running:
      description: The container runs (also while paused).
      type: bool
    restarting:
      description: The engine is about to restart it (restart policy).
      type: bool
    restart_count:
      description: Restarts by the restart policy since the container was created.
      type: int
      sample: 0
    exit_code:
      description: Exit code of its last run (0 while it runs for the first time).
      type: int
    oom_killed:
      description: Its last run was killed for lack of memory.
      type: bool
    started_at:
      description: When it last started (RFC 3339), null when never.
      type: str
      sample: "2026-12-01T23:04:38.590290335Z"
    finished_at:
      description: When it last stopped (RFC 3339), null when never.
      type: str
    health:
      description: Status of its healthcheck (V(starting), V(healthy), V(unhealthy)), null without one.
      type: str
    error:
      description: The engine's error for it (a failed start), null when none.
      type: str
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gatewayops.litellm.plugins.module_utils._docker import (
    DEFAULT_SOCKET,
    DockerClient,
    DockerError,
    describe_state,
    state_summary,
)

LOG_LINES = 20
# what HAProxy's master logs when the reloaded configuration does not load (2.x)
LOAD_FAILURE = "Loading failure!"
# the Docker engine's signal names on Linux, without SIG (moby/sys/signal), and RTMIN+n / RTMAX-n
SIGNALS = frozenset((
    "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT", "KILL", "PIPE",
    "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP", "TTIN", "TTOU",
    "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ", "RTMIN", "RTMAX",
) + tuple("RTMIN+%d" % n for n in range(1, 16)) + tuple("RTMAX-%d" % n for n in range(1, 15)))


class ReloadError(Exception):
    """The reload cannot go on; `extra` goes into the failed result."""

    def __init__(self, message, **extra):
        super(ReloadError, self).__init__(message)
        self.extra = extra


def signal_name(value):
    """SIGUSR2 for 'SIGUSR2', 'usr2' or ' USR2 '; a number as it is. ValueError for anything else."""
    text = str(value).strip().upper()
    if text.isdigit() and 0 < int(text) < 65:
        return text
    bare = text[3:] if text.startswith("SIG") else text
    if bare not in SIGNALS:
        raise ValueError("signal %r is not a signal name (such as SIGUSR2) or number" % (value,))
    return "SIG" + bare


def is_defunct(row):
    """ps shows an exited process its parent has not reaped yet as '[haproxy] <defunct>'."""
    return str(row.get("command", "")).rstrip().endswith("<defunct>")


def _program(row):
    words = str(row.get("command", "")).split()
    return os.path.basename(words[0]) if words else ""


def children(rows, pid):
    """PIDs of the live children of `pid`, in ascending order."""
    return sorted(r["pid"] for r in rows if r.get("ppid") == pid and not is_defunct(r))


def find_master(rows, main_pid=None):
    """The row of HAProxy's master among a container's processes: the root of its tree (a process
    whose parent is not in the container), the one that is `main_pid` (the inspect's State.Pid)
    when processes run in the container by docker exec are roots too. An init as the main process
    (docker-init, tini) with one child: the child. ValueError when it cannot be told."""
    pids = set(r.get("pid") for r in rows)
    roots = [r for r in rows if r.get("ppid") not in pids and not is_defunct(r)]
    chosen = [r for r in roots if main_pid is not None and r.get("pid") == main_pid] or roots
    if len(chosen) != 1:
        raise ValueError("cannot tell HAProxy's master among the container's processes (%s)" % describe_processes(rows))
    master = chosen[0]
    kids = [r for r in rows if r.get("ppid") == master["pid"] and not is_defunct(r)]
    if "haproxy" not in _program(master) and len(kids) == 1 and "haproxy" in _program(kids[0]):
        master = kids[0]
    return master


def describe_processes(rows):
    """'8275 (parent 8255): haproxy -W ...; 8307 (parent 8275): haproxy ...' for a message."""
    return "; ".join("%s (parent %s): %s" % (r.get("pid"), r.get("ppid"), r.get("command", "")) for r in rows) or "none"


def config_files(info):
    """The -f arguments of the container's command (files or directories HAProxy reads)."""
    args = [info.get("Path") or ""] + list(info.get("Args") or [])
    return [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == "-f"]


def stale_file_mounts(info, main_pid, proc="/proc"):
    """(destination, source) of the single-file bind mounts whose file inside the container is not
    the source file on this host any more (it was replaced by a rename after the start). Only
    checked where this host can see both: mounts it cannot look into are left out."""
    stale = []
    for mount in info.get("Mounts") or []:
        source, destination = mount.get("Source"), mount.get("Destination")
        if mount.get("Type") != "bind" or not source or not destination or not os.path.isfile(source):
            continue
        try:
            inside = os.stat(os.path.join(proc, str(main_pid), "root", destination.lstrip("/")))
            outside = os.stat(source)
        except OSError:
            continue
        if (inside.st_dev, inside.st_ino) != (outside.st_dev, outside.st_ino):
            stale.append((destination, source))
    return stale


class Reload(object):
    """One reload of the HAProxy in `container`."""

    def __init__(self, client, container, poll_interval=0.5, clock=time.monotonic, sleep=time.sleep, proc="/proc"):
        self.client = client
        self.container = container
        self.poll_interval = poll_interval
        self.clock = clock
        self.sleep = sleep
        self.proc = proc
        self.info = None
        self.summary = None
        self.master_pid = None

    def inspect(self):
        """The container's state summary; ReloadError when it is gone."""
        info = self.client.inspect_container(self.container)
        if info is None:
            raise ReloadError("There is no container %s (Docker engine at %s)." % (self.container, self.client.socket_path))
        self.info = info
        self.summary = state_summary(info)
        return self.summary

    def logs(self):
        """The container's last log lines, or what kept them from being read."""
        try:
            text = self.client.logs_tail(self.container, LOG_LINES, tty=self._tty())
        except DockerError as exc:
            return ["(the container's logs could not be read: %s)" % exc]
        return text.splitlines()[-LOG_LINES:]

    def _tty(self):
        return bool(((self.info or {}).get("Config") or {}).get("Tty"))

    def _failed(self, message, with_logs=True):
        extra = {"container": self.summary}
        if with_logs:
            extra["logs"] = self.logs()
            message += " Last log lines:\n" + "\n".join(extra["logs"])
        return ReloadError(message, **extra)

    def prepare(self):
        """Check the container runs HAProxy in master-worker mode; return the current workers."""
        summary = self.inspect()
        if summary["status"] != "running":
            raise ReloadError("The container %s is not running (%s)." % (self.container, describe_state(summary)),
                              container=summary)
        rows = self.client.top(self.container)
        try:
            master = find_master(rows, (self.info.get("State") or {}).get("Pid"))
        except ValueError as exc:
            raise ReloadError("The container %s: %s." % (self.container, exc), container=summary)
        self.master_pid = master["pid"]
        workers = children(rows, self.master_pid)
        if not workers:
            raise ReloadError("The HAProxy master (PID %s) of container %s has no worker: is it in master-worker mode "
                              "(haproxy -W)? Processes: %s." % (self.master_pid, self.container, describe_processes(rows)),
                              container=summary)
        stale = stale_file_mounts(self.info, (self.info.get("State") or {}).get("Pid") or self.master_pid, self.proc)
        if stale:
            raise ReloadError(
                "The container %s does not see the current %s: %s was replaced (by a rename) after the container "
                "started, and a single-file bind mount keeps the file it started with, so a reload would read the "
                "old one. Mount the directory instead, or recreate the container." % (
                    self.container, ", ".join(d for d, _s in stale), ", ".join(s for _d, s in stale)),
                container=summary)
        return workers

    def processes(self):
        """The container's processes now; ReloadError when it stopped or its master is gone."""
        try:
            rows = self.client.top(self.container)
        except DockerError as exc:
            summary = self.inspect()
            if summary["status"] != "running":
                raise self._failed("The container %s stopped during the reload (%s)." % (
                    self.container, describe_state(summary)))
            raise ReloadError("Cannot list the processes of container %s: %s" % (self.container, exc), container=summary)
        if self.master_pid not in set(r.get("pid") for r in rows):
            self.inspect()
            raise self._failed("The HAProxy master (PID %s) of container %s is gone (%s)." % (
                self.master_pid, self.container, describe_state(self.summary)))
        return rows

    def load_failed(self, since):
        """HAProxy logged a failed load after the UNIX time `since` (False when logs cannot be read)."""
        try:
            return LOAD_FAILURE in self.client.logs_tail(self.container, None, tty=self._tty(), since=since)
        except DockerError:
            return False

    def wait_new_workers(self, old, signalled, timeout, since):
        """PIDs of the master's workers that were not there before, once there is one. `signalled`
        is the clock() and `since` the UNIX time of the signal."""
        deadline = signalled + timeout
        while True:
            new = [pid for pid in children(self.processes(), self.master_pid) if pid not in old]
            if new:
                return new
            if self.load_failed(since):
                raise self._failed("HAProxy in container %s did not load the new configuration (it logged %r); the "
                                   "old workers %s go on with the old one." % (self.container, LOAD_FAILURE, old))
            if self.clock() >= deadline:
                raise self._failed("HAProxy in container %s started no new worker within %s s of the signal: the "
                                   "reload failed; the old workers %s go on." % (self.container, timeout, old))
            self.sleep(max(0.0, min(self.poll_interval, deadline - self.clock())))

    def wait_drained(self, old, new, timeout):
        """Wait until none of the `old` workers runs; the new ones must keep running."""
        deadline = self.clock() + timeout
        while True:
            workers = set(children(self.processes(), self.master_pid))
            remaining = [pid for pid in old if pid in workers]
            if not any(pid in workers for pid in new):
                raise self._failed("The new HAProxy worker%s %s of container %s exited." % (
                    "s" if len(new) > 1 else "", new, self.container))
            if not remaining:
                return
            if self.clock() >= deadline:
                raise ReloadError("The old HAProxy worker%s %s of container %s still run%s %s s after the new worker "
                                  "started (requests or streams in flight; HAProxy's hard-stop-after ends them)." % (
                                      "s" if len(remaining) > 1 else "", remaining, self.container,
                                      "" if len(remaining) > 1 else "s", timeout),
                                  container=self.summary, remaining_workers=remaining)
            self.sleep(max(0.0, min(self.poll_interval, deadline - self.clock())))


def reloaded_message(container, old, new, to_new, to_drain):
    """What a reload did, in one sentence."""
    if to_drain is None:
        drained = "the old worker%s %s drain%s in the background" % (
            "s" if len(old) > 1 else "", old, "" if len(old) > 1 else "s")
    else:
        drained = "the old worker%s %s exited after %.2f s" % ("s" if len(old) > 1 else "", old, to_drain)
    return "HAProxy in container %s reloaded: new worker%s %s after %.2f s, %s." % (
        container, "s" if len(new) > 1 else "", new, to_new, drained)


def argument_spec():
    return {
        "container": {"type": "str", "required": True},
        "docker_socket": {"type": "path", "default": DEFAULT_SOCKET},
        "signal": {"type": "str", "default": "SIGUSR2"},
        "start_timeout": {"type": "float", "default": 30.0},
        "wait_for_drain": {"type": "bool", "default": True},
        "drain_timeout": {"type": "float", "default": 660.0},
        "poll_interval": {"type": "float", "default": 0.5},
    }


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    for name in ("start_timeout", "drain_timeout", "poll_interval"):
        if params[name] <= 0:
            module.fail_json(msg="%s must be a positive number of seconds, got %s" % (name, params[name]))
    if not params["container"].strip():
        module.fail_json(msg="container is empty")
    try:
        signal = signal_name(params["signal"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))

    reload = Reload(DockerClient(params["docker_socket"]), params["container"].strip(), params["poll_interval"])
    result = {"changed": False, "master_pid": None, "old_workers": [], "new_workers": [],
              "seconds_to_new_worker": None, "seconds_to_drain": None}
    try:
        old = reload.prepare()
        result.update(master_pid=reload.master_pid, old_workers=old)
        if module.check_mode:
            result.update(changed=True, container=reload.summary,
                          msg="Would send %s to HAProxy (master PID %s, workers %s) in container %s." % (
                              signal, reload.master_pid, old, reload.container))
            module.exit_json(**result)
        since, signalled = time.time(), reload.clock()
        reload.client.kill(reload.container, signal)
        result["changed"] = True
        new = reload.wait_new_workers(old, signalled, params["start_timeout"], since)
        to_new = round(reload.clock() - signalled, 3)
        result.update(new_workers=new, seconds_to_new_worker=to_new)
        to_drain = None
        if params["wait_for_drain"]:
            reload.wait_drained(old, new, params["drain_timeout"])
            to_drain = round(reload.clock() - signalled, 3)
            result["seconds_to_drain"] = to_drain
        result["container"] = reload.inspect()
    except ReloadError as exc:
        result.update(exc.extra)
        if result.get("container") is None:
            result.pop("container", None)
        module.fail_json(msg=str(exc), **result)
    except DockerError as exc:
        if reload.summary is not None:
            result["container"] = reload.summary
        module.fail_json(msg="Container %s: %s" % (reload.container, exc), **result)
    result["msg"] = reloaded_message(reload.container, old, new, to_new, to_drain)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
