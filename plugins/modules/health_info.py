#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: health_info
short_description: Liveness, readiness, version and optional deep health of a LiteLLM proxy
version_added: 0.1.0
description:
  - Asks a LiteLLM proxy C(/health/liveliness) (alive) and C(/health/readiness) (ready; database
    and cache status), optionally C(/health/readiness/details) (running version, needs a key) and
    the deep C(/health) (asks every model's provider, needs a key).
  - An unhealthy or unreachable proxy is data, not a failure, as with
    M(community.postgresql.postgresql_ping) - test RV(alive) and RV(ready). The task fails only
    for invalid arguments, a key the proxy refuses, or when O(wait_for) times out; the message
    then says what was seen last.
  - Never reports a change.
author:
  - gatewayops engineering (@gatewayops)
extends_documentation_fragment:
  - gatewayops.litellm.connection
  - gatewayops.litellm.attributes
  - gatewayops.litellm.attributes.info_module
  - gatewayops.litellm.attributes.actiongroup
options:
  details:
    description:
      - Also read C(/health/readiness/details) for the running version, the cache type and the
        active callbacks. Needs O(api_key).
    type: bool
    default: false
  deep:
    description:
      - Also call C(/health), which sends a real request to every model's provider (or to
        O(deep_model) only). B(This costs money with paid providers) and takes as long as the
        slowest provider. Needs O(api_key).
    type: bool
    default: false
  deep_model:
    description:
      - Limit O(deep) to this model name.
    type: str
  deep_timeout:
    description:
      - Seconds to wait for the answer of C(/health) (LiteLLM's own per-model health check
        timeout is 60 s).
    type: float
    default: 120.0
  wait_for:
    description:
      - V(none) checks once.
      - V(alive) repeats until C(/health/liveliness) answers 200, V(ready) until
        C(/health/readiness) also says C(healthy), for at most O(wait_timeout) seconds.
    type: str
    choices: [none, alive, ready]
    default: none
  wait_timeout:
    description:
      - Seconds O(wait_for) may take before the task fails.
    type: float
    default: 120.0
  wait_interval:
    description:
      - Seconds between two attempts of O(wait_for).
    type: float
    default: 2.0
  container:
    description:
      - Name or ID of the Docker container that serves O(url), watched while O(wait_for) waits
        (not used without it). Every attempt also inspects it through the Docker engine's API,
        and the wait fails at once, without waiting for O(wait_timeout), when the container
        restarts more than O(max_restarts) times, stops (status C(exited) or C(dead)) or is
        removed. RV(container) then says what was seen.
      - A container recreated under the same name during the wait is followed; restarts of the
        one it replaced count too.
    type: str
  max_restarts:
    description:
      - Restarts of O(container) (by its restart policy) during the wait that are tolerated.
    type: int
    default: 0
  docker_socket:
    description:
      - Path of the Docker engine's unix socket on the target, for O(container).
    type: path
    default: /var/run/docker.sock
notes:
  - Readiness is public in LiteLLM; with a database configured it answers 503 while the
    database is unreachable. Without one, RV(db) is C(Not connected) and the proxy is ready.
  - O(container) needs access to O(docker_socket) (root or the C(docker) group).
seealso:
  - module: gatewayops.litellm.model_probe
  - module: gatewayops.litellm.metrics_info
  - module: gatewayops.litellm.edge_reload
"""

EXAMPLES = r"""
- name: Is the proxy alive and ready, and which version runs?
  gatewayops.litellm.health_info:
    url: http://127.0.0.1:4000
    api_key: "{{ litellm_master_key }}"
    details: true
  register: health

- name: Fail when it is not ready
  ansible.builtin.assert:
    that: health.ready
    fail_msg: "LiteLLM is not ready: {{ health.readiness.error }}"

- name: Wait up to 3 minutes for readiness after a restart
  gatewayops.litellm.health_info:
    url: http://127.0.0.1:4000
    wait_for: ready
    wait_timeout: 180

- name: Wait for readiness, but fail at once when the container crash-loops
  gatewayops.litellm.health_info:
    url: http://127.0.0.1:4000
    wait_for: ready
    wait_timeout: 300
    container: litellm-litellm-1

- name: Deep check of one model (makes one real provider call)
  gatewayops.litellm.health_info:
    api_key: "{{ litellm_master_key }}"
    deep: true
    deep_model: gpt-4o-mini
  register: deep

- name: Same connection settings for every module of the collection
  module_defaults:
    group/gatewayops.litellm.litellm:
      url: https://llm.example.com
      api_key: "{{ litellm_master_key }}"
  block:
    - name: Check health
      gatewayops.litellm.health_info:
        details: true
"""

RETURN = r"""
url:
  description: The proxy URL that was checked.
  returned: always
  type: str
  sample: http://127.0.0.1:4000
alive:
  description: C(/health/liveliness) answered HTTP 200.
  returned: always
  type: bool
  sample: true
ready:
  description: C(/health/readiness) answered HTTP 200 with status C(healthy).
  returned: always
  type: bool
  sample: true
state:
  description: V(ready), V(alive) (alive but not ready) or V(down).
  returned: always
  type: str
  sample: ready
db:
  description: Database status from readiness (C(connected), C(Not connected) when none is configured, C(disconnected) ...).
  returned: always
  type: str
  sample: Not connected
cache:
  description: Cache type from the details (C(redis) ...), null without O(details).
  returned: always
  type: str
  sample: redis
version:
  description: LiteLLM version from the details, null without O(details).
  returned: always
  type: str
  sample: 1.108.7
error:
  description: What went wrong with the last check that failed (connection or HTTP), empty when all answered well.
  returned: always
  type: str
  sample: "connection refused (GET http://127.0.0.1:4000/health/liveliness)"
liveness:
  description: Answer of C(/health/liveliness).
  returned: always
  type: dict
  contains:
    status_code:
      description: HTTP status, null when there was no HTTP answer.
      type: int
      sample: 200
    ok:
      description: The status was 2xx.
      type: bool
    latency_ms:
      description: Milliseconds until the answer (or the error).
      type: float
      sample: 4.2
    error:
      description: The error, null when the answer was 2xx.
      type: str
readiness:
  description: Answer of C(/health/readiness), like RV(liveness) plus its JSON body.
  returned: always
  type: dict
  contains:
    status_code:
      description: HTTP status, null when there was no HTTP answer or the proxy is not alive.
      type: int
    ok:
      description: The status was 2xx.
      type: bool
    latency_ms:
      description: Milliseconds until the answer.
      type: float
    error:
      description: The error, null when the answer was 2xx.
      type: str
    body:
      description: The JSON answer.
      type: dict
      sample: {"status": "healthy", "db": "Not connected"}
details:
  description: >-
    Body of C(/health/readiness/details) (status, db, cache, litellm_version, success_callbacks,
    log_level ...) without fields that could hold credentials.
  returned: when O(details=true) and the proxy is alive
  type: dict
deep:
  description: Result of C(/health).
  returned: when O(deep=true) and the proxy is alive
  type: dict
  contains:
    status_code:
      description: HTTP status (503 when a model asked for by O(deep_model) has no healthy endpoint).
      type: int
    latency_ms:
      description: Milliseconds the deep check took.
      type: float
    healthy_count:
      description: Healthy deployments.
      type: int
    unhealthy_count:
      description: Unhealthy deployments.
      type: int
    healthy_endpoints:
      description: Healthy deployments (model, api_base, model_id), credentials removed.
      type: list
      elements: dict
    unhealthy_endpoints:
      description: Unhealthy deployments with their error (first line), credentials removed.
      type: list
      elements: dict
wait:
  description: How O(wait_for) went.
  returned: when O(wait_for) is not V(none)
  type: dict
  contains:
    condition:
      description: V(alive) or V(ready).
      type: str
    met:
      description: The condition was met.
      type: bool
    attempts:
      description: Checks made.
      type: int
    elapsed_s:
      description: Seconds spent waiting.
      type: float
    restarts:
      description: Restarts of O(container) seen while waiting; only with O(container).
      type: int
      sample: 0
container:
  description: >-
    State of O(container) as last seen, null when there was no such container.
  returned: when O(container) is set and O(wait_for) is not V(none)
  type: dict
  contains:
    id:
      description: Container ID.
      type: str
    name:
      description: Container name.
      type: str
      sample: litellm-litellm-1
    status:
      description: V(created), V(running), V(paused), V(restarting), V(removing), V(exited) or V(dead).
      type: str
      sample: restarting
    running:
      description: The container runs (also while paused).
      type: bool
    restarting:
      description: The engine is about to restart it (restart policy).
      type: bool
    restart_count:
      description: Restarts by the restart policy since the container was created.
      type: int
      sample: 3
    exit_code:
      description: Exit code of its last run (0 while it runs for the first time).
      type: int
      sample: 1
    oom_killed:
      description: Its last run was killed for lack of memory.
      type: bool
    started_at:
      description: When it last started (RFC 3339), null when never.
      type: str
    finished_at:
      description: When it last stopped (RFC 3339), null when never.
      type: str
    health:
      description: Status of its healthcheck (V(starting), V(healthy), V(unhealthy)), null without one.
      type: str
    error:
      description: The engine's error for it (a failed start), null when none.
      type: str
timings:
  description: Milliseconds each request took (null when not made) and the whole run.
  returned: always
  type: dict
  sample: {"liveness_ms": 3.9, "readiness_ms": 4.4, "details_ms": 8.1, "deep_ms": null, "total_ms": 17.0}
"""

import time
from urllib.parse import quote

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gatewayops.litellm.plugins.module_utils._docker import (
    DEFAULT_SOCKET,
    DockerClient,
    DockerError,
    state_summary,
)
from ansible_collections.gatewayops.litellm.plugins.module_utils._http import Client, connection_argument_spec
from ansible_collections.gatewayops.litellm.plugins.module_utils._litellm import (
    auth_message,
    auth_rejected,
    sanitize,
)


def check(client, want_ready, timeout=None):
    """One round: liveness, then readiness when alive (or when readiness is the goal)."""
    liveness = client.get("/health/liveliness", auth=False, timeout=timeout)
    readiness = None
    if liveness.ok or want_ready:
        readiness = client.get("/health/readiness", auth=False, timeout=timeout)
    return liveness, readiness


def is_ready(readiness):
    body = readiness.json() if readiness is not None else None
    return bool(readiness is not None and readiness.ok and isinstance(body, dict) and body.get("status") == "healthy")


def last_seen(liveness, readiness):
    seen = "liveliness: %s" % liveness.describe()
    if readiness is not None:
        seen += "; readiness: %s" % readiness.describe()
    return seen


class ContainerWatch(object):
    """The container that serves the URL, inspected on each attempt of wait_for: whether it
    restarted more often than tolerated, stopped for good or is gone."""

    def __init__(self, client, name, max_restarts, clock=time.monotonic):
        self.client = client
        self.name = name
        self.max_restarts = max_restarts
        self.clock = clock
        self.started = clock()
        self.summary = None
        self.restarts = 0
        self._baseline = None
        self._before = 0
        self._exit_code = None

    def look(self):
        """None while the wait may go on, else the message why it cannot succeed."""
        elapsed = self.clock() - self.started
        try:
            info = self.client.inspect_container(self.name)
        except DockerError as exc:
            return "Cannot inspect the container %s: %s." % (self.name, exc)
        if info is None:
            if self.summary is None:
                return "There is no container %s (Docker engine at %s)." % (self.name, self.client.socket_path)
            return "The container %s is gone: removed %.1f s into the wait (last seen with status %s, exit code %s)." % (
                self.name, elapsed, self.summary["status"], self.summary["exit_code"])
        summary = state_summary(info)
        if self.summary is None or summary["id"] != self.summary["id"]:
            # the first look, or a container recreated under the name: its restarts count from here
            self._before = self.restarts
            self._baseline = summary["restart_count"] or 0
        self.summary = summary
        self.restarts = self._before + (summary["restart_count"] or 0) - self._baseline
        if summary["status"] != "running" or summary["restarting"]:
            self._exit_code = summary["exit_code"]
        if self.restarts > self.max_restarts:
            return "The container %s restarted %d time%s in %.1f s (exit code %s, status %s%s): it crash-loops." % (
                self.name, self.restarts, "" if self.restarts == 1 else "s", elapsed,
                "not seen" if self._exit_code is None else self._exit_code, summary["status"],
                ", OOM killed" if summary["oom_killed"] else "")
        if summary["status"] in ("exited", "dead"):
            return "The container %s stopped %.1f s into the wait (status %s, exit code %s%s%s): it will not answer." % (
                self.name, elapsed, summary["status"], summary["exit_code"],
                ", OOM killed" if summary["oom_killed"] else "",
                (", error: %s" % summary["error"]) if summary["error"] else "")
        return None


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        details={"type": "bool", "default": False},
        deep={"type": "bool", "default": False},
        deep_model={"type": "str"},
        deep_timeout={"type": "float", "default": 120.0},
        wait_for={"type": "str", "choices": ["none", "alive", "ready"], "default": "none"},
        wait_timeout={"type": "float", "default": 120.0},
        wait_interval={"type": "float", "default": 2.0},
        container={"type": "str"},
        max_restarts={"type": "int", "default": 0},
        docker_socket={"type": "path", "default": DEFAULT_SOCKET},
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("details", True, ("api_key",)), ("deep", True, ("api_key",))],
    )
    params = module.params
    if params["deep_model"] and not params["deep"]:
        module.fail_json(msg="deep_model is only used with deep=true")
    for name in ("deep_timeout", "wait_timeout", "wait_interval"):
        if params[name] <= 0:
            module.fail_json(msg="%s must be a positive number of seconds, got %s" % (name, params[name]))
    if params["max_restarts"] < 0:
        module.fail_json(msg="max_restarts must be 0 or more, got %s" % params["max_restarts"])
    client = Client.from_module(module, "health_info")
    started = time.monotonic()
    want_ready = params["wait_for"] == "ready"
    watch = None
    if params["container"] and params["wait_for"] != "none":
        watch = ContainerWatch(DockerClient(params["docker_socket"]), params["container"], params["max_restarts"])
        problem = watch.look()
        if problem:
            module.fail_json(msg=problem, changed=False, url=client.base_url, container=watch.summary,
                             wait={"condition": params["wait_for"], "met": False, "attempts": 0, "elapsed_s": 0.0,
                                   "restarts": watch.restarts})

    attempts = 0
    problem = None
    while True:
        attempts += 1
        remaining = params["wait_timeout"] - (time.monotonic() - started)
        timeout = min(client.timeout, max(remaining, 1.0)) if params["wait_for"] != "none" else None
        liveness, readiness = check(client, want_ready, timeout)
        alive, ready = liveness.ok, is_ready(readiness)
        met = {"none": True, "alive": alive, "ready": ready}[params["wait_for"]]
        problem = watch.look() if watch is not None else None
        if problem:
            met = False
            break
        elapsed = time.monotonic() - started
        if met or elapsed >= params["wait_timeout"]:
            break
        time.sleep(min(params["wait_interval"], params["wait_timeout"] - elapsed))

    readiness_body = readiness.json() if readiness is not None else None
    result = {
        "changed": False,
        "url": client.base_url,
        "alive": alive,
        "ready": ready,
        "state": "ready" if ready else ("alive" if alive else "down"),
        "db": readiness_body.get("db") if isinstance(readiness_body, dict) else None,
        "cache": None,
        "version": None,
        "liveness": liveness.summary(),
        "readiness": dict(readiness.summary() if readiness is not None else
                          {"status_code": None, "ok": False, "latency_ms": None, "error": "not checked: the proxy is not alive"},
                          body=readiness_body if isinstance(readiness_body, dict) else None),
        "timings": {"liveness_ms": round(liveness.elapsed_ms, 1),
                    "readiness_ms": round(readiness.elapsed_ms, 1) if readiness is not None else None,
                    "details_ms": None, "deep_ms": None},
    }
    errors = [r.describe() for r in (liveness, readiness) if r is not None and not r.ok]
    if params["wait_for"] != "none":
        result["wait"] = {"condition": params["wait_for"], "met": met, "attempts": attempts,
                          "elapsed_s": round(time.monotonic() - started, 2)}
        if watch is not None:
            result["wait"]["restarts"] = watch.restarts
            result["container"] = watch.summary
        if problem:
            result["error"] = errors[-1] if errors else ""
            result["timings"]["total_ms"] = round((time.monotonic() - started) * 1000.0, 1)
            module.fail_json(msg="%s The proxy at %s: %s (%d checks)." % (
                problem, client.base_url, last_seen(liveness, readiness), attempts), **result)
        if not met:
            result["error"] = errors[-1] if errors else ""
            result["timings"]["total_ms"] = round((time.monotonic() - started) * 1000.0, 1)
            module.fail_json(msg="The proxy at %s was not %s within %s s (%d checks). Last seen: %s." % (
                client.base_url, params["wait_for"], params["wait_timeout"], attempts, last_seen(liveness, readiness)),
                **result)

    if alive and params["details"]:
        answer = client.get("/health/readiness/details")
        result["timings"]["details_ms"] = round(answer.elapsed_ms, 1)
        if auth_rejected(answer):
            module.fail_json(msg=auth_message(answer, "/health/readiness/details", True), **result)
        body = answer.json() if answer.ok else None
        result["details"] = sanitize(body) if isinstance(body, dict) else {}
        if isinstance(body, dict):
            result["version"] = body.get("litellm_version")
            result["cache"] = body.get("cache")
        else:
            errors.append(answer.describe())

    if alive and params["deep"]:
        path = "/health" + ("?model=" + quote(params["deep_model"], safe="") if params["deep_model"] else "")
        answer = client.get(path, timeout=params["deep_timeout"])
        result["timings"]["deep_ms"] = round(answer.elapsed_ms, 1)
        if auth_rejected(answer):
            module.fail_json(msg=auth_message(answer, "/health", True), **result)
        body = answer.json()
        body = sanitize(body) if isinstance(body, dict) else {}
        result["deep"] = {
            "status_code": answer.status,
            "latency_ms": round(answer.elapsed_ms, 1),
            "healthy_count": body.get("healthy_count", 0),
            "unhealthy_count": body.get("unhealthy_count", 0),
            "healthy_endpoints": body.get("healthy_endpoints", []),
            "unhealthy_endpoints": body.get("unhealthy_endpoints", []),
        }
        if not answer.answered or "healthy_count" not in body:
            errors.append(answer.describe())

    result["error"] = errors[-1] if errors else ""
    result["timings"]["total_ms"] = round((time.monotonic() - started) * 1000.0, 1)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
