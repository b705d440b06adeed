#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: container_stats_info
short_description: One sample of the CPU, memory and PID counters of Docker containers
version_added: 0.1.0
description:
  - Reads the resource counters of containers from the Docker engine's API on its unix socket
    (C(GET /containers/{id}/stats), one sample each) and returns them flat, one entry per
    container - CPU time used, CPU throttling, memory usage and working set, limits and PIDs.
  - The CPU and throttling values are counters since the container started. Sample twice and
    compare, for example CPUs used = delta of RV(containers[].cpu_total_ns) / 1e9 / delta of
    RV(sampled_at).
  - The containers are found and inspected first, then their counters are read one after the
    other; RV(sampled_at) and RV(sampled_ms) cover that reading only.
  - A container asked for by name that does not exist is listed in RV(missing), not a failure.
    A stopped container is returned with RV(containers[].running) false and null counters.
  - Fails when the Docker engine cannot be reached or answers with an error. Never reports a
    change.
author:
  - gatewayops engineering (@gatewayops)
extends_documentation_fragment:
  - gatewayops.litellm.attributes
  - gatewayops.litellm.attributes.info_module
  - gatewayops.litellm.attributes.actiongroup
  - gatewayops.litellm.docker
options:
  containers:
    description:
      - Names or IDs of the containers to sample, in the order they are returned.
      - At least one of O(containers) and O(project) is needed.
    type: list
    elements: str
  project:
    description:
      - Also sample every running container of this docker compose project (label
        C(com.docker.compose.project)), after those of O(containers), sorted by name.
    type: str
notes:
  - Engines before API 1.41 (Docker 20.10) ignore C(one-shot) and take about a second per
    container to answer.
seealso:
  - module: gatewayops.litellm.metrics_info
  - module: gatewayops.litellm.health_info
  - name: Docker Engine API, container stats
    description: The answer the counters are read from.
    link: https://docs.docker.com/reference/api/engine/latest/#tag/Container/operation/ContainerStats
"""

EXAMPLES = r"""
- name: Sample the stack's containers before the load
  gatewayops.litellm.container_stats_info:
    project: litellm
  register: before

- name: Run the load
  gatewayops.litellm.load_test:
    api_key: "{{ litellm_master_key }}"
    model: gpt-4o-mini
    duration: 60

- name: Sample them again
  gatewayops.litellm.container_stats_info:
    project: litellm
  register: after

- name: CPUs each container used in between
  vars:
    seconds: "{{ after.sampled_at - before.sampled_at }}"
    cpu_before: "{{ before.containers | selectattr('running') | items2dict(key_name='name', value_name='cpu_total_ns') }}"
  ansible.builtin.debug:
    msg: >-
      {{ item.name }}: {{ ((item.cpu_total_ns - cpu_before[item.name]) / 1e9 / (seconds | float)) | round(2) }}
      of {{ item.cpus_limit or item.online_cpus }} CPUs,
      working set {{ (item.memory.working_set_bytes / 1048576) | round(1) }} MiB
  loop: "{{ after.containers | selectattr('running') | selectattr('name', 'in', cpu_before) | list }}"
  loop_control:
    label: "{{ item.name }}"

- name: Two containers by name
  gatewayops.litellm.container_stats_info:
    containers:
      - litellm-litellm-1
      - litellm-edge-1
  register: stats
"""

RETURN = r"""
containers:
  description: >-
    One entry per container: those of O(containers) in that order, then the other running ones
    of O(project) sorted by name. A container named twice (by name and ID) is returned once.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Container name.
      type: str
      sample: litellm-litellm-1
    id:
      description: Container ID.
      type: str
    service:
      description: The docker compose service (label C(com.docker.compose.service)), null without it.
      type: str
      sample: litellm
    project:
      description: The docker compose project (label C(com.docker.compose.project)), null without it.
      type: str
      sample: litellm
    running:
      description: The container runs (also while paused); false when it is stopped or restarting.
      type: bool
      sample: true
    read:
      description: The engine's time of the sample (RFC 3339), null when it took none (a stopped container).
      type: str
      sample: "2026-12-02T10:15:30.123456789Z"
    cpu_total_ns:
      description: CPU time the container used since it started, nanoseconds; null when not running.
      type: int
      sample: 48213456000
    online_cpus:
      description: CPUs the container may run on (the host's, or its cpuset); null when not running.
      type: int
      sample: 2
    cpus_limit:
      description: >-
        Its CPU limit in CPUs (C(--cpus), or the CFS quota over its period); null without a limit.
      type: float
      sample: 1.5
    throttling:
      description: >-
        CFS bandwidth control counters since the container started: enforcement periods, those in
        which it was throttled, and the time it was throttled (nanoseconds). Zeros without a CPU
        limit, null when not running.
      type: dict
      sample: {"periods": 15012, "throttled_periods": 312, "throttled_time_ns": 20456789000}
    memory:
      description: >-
        C(usage_bytes) (the cgroup's memory use, page cache included), C(inactive_file_bytes)
        (inactive page cache: C(total_inactive_file) on cgroup v1, C(inactive_file) on v2),
        C(working_set_bytes) (usage less inactive page cache, as C(docker stats) and the kubelet
        count it) and C(limit_bytes) (the container's memory limit, else the engine's, which is
        the host's memory; null when neither is known). Null when not running, except a
        container's own limit.
      type: dict
      sample: {"usage_bytes": 412315648, "inactive_file_bytes": 41943040, "working_set_bytes": 370372608,
               "limit_bytes": 1073741824}
    pids:
      description: Processes and threads in the container; null when not running.
      type: int
      sample: 23
missing:
  description: Names or IDs of O(containers) the engine does not know.
  returned: always
  type: list
  elements: str
  sample: ["litellm-redis-1"]
sampled_at:
  description: UNIX time (seconds) when the reading of the counters began.
  returned: always
  type: float
  sample: 1764670530.1234
sampled_ms:
  description: Milliseconds the reading of the counters of all the containers took.
  returned: always
  type: float
  sample: 12.7
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gatewayops.litellm.plugins.module_utils._docker import (
    DEFAULT_SOCKET,
    DockerClient,
    DockerError,
    stats_summary,
)


def _listed_name(container):
    names = container.get("Names") or []
    return (names[0] if names else container.get("Id") or "").lstrip("/")


def find(client, names, project):
    """The containers to sample as (the name asked for, null for one of the project; its
    inspect), in order and each once, and the names the engine does not know."""
    found, missing, seen = [], [], set()
    for name in names:
        info = client.inspect_container(name)
        if info is None:
            if name not in missing:
                missing.append(name)
        elif info.get("Id") not in seen:
            seen.add(info.get("Id"))
            found.append((name, info))
    if project:
        for listed in sorted(client.list_containers(project), key=_listed_name):
            if listed.get("Id") in seen:
                continue
            info = client.inspect_container(listed.get("Id"))
            if info is not None:  # else removed since it was listed
                seen.add(info.get("Id"))
                found.append((None, info))
    return found, missing


def sample(client, found):
    """The stats_summary of each container found, and the names asked for of those removed since."""
    summaries, gone = [], []
    for name, info in found:
        stats = client.stats(info.get("Id"))
        if stats is None:
            if name is not None:
                gone.append(name)
        else:
            summaries.append(stats_summary(stats, info))
    return summaries, gone


def main():
    module = AnsibleModule(
        argument_spec={
            "containers": {"type": "list", "elements": "str"},
            "project": {"type": "str"},
            "docker_socket": {"type": "path", "default": DEFAULT_SOCKET},
        },
        required_one_of=[("containers", "project")],
        supports_check_mode=True,
    )
    params = module.params
    names = [name for name in (params["containers"] or []) if name]
    if len(names) != len(params["containers"] or []):
        module.fail_json(msg="containers must not hold empty names")
    if params["project"] is not None and not params["project"]:
        module.fail_json(msg="project must not be empty")
    client = DockerClient(params["docker_socket"])
    try:
        found, missing = find(client, names, params["project"])
        sampled_at = time.time()
        started = time.monotonic()
        summaries, gone = sample(client, found)
        sampled_ms = (time.monotonic() - started) * 1000.0
    except DockerError as exc:
        message = str(exc)
        if client.socket_path not in message:
            message += " (Docker engine at %s)" % client.socket_path
        module.fail_json(msg="Cannot read the containers' stats: %s." % message, changed=False)
    module.exit_json(changed=False, containers=summaries,
                     missing=[name for name in dict.fromkeys(names) if name in missing or name in gone],
                     sampled_at=round(sampled_at, 6), sampled_ms=round(sampled_ms, 1))


if __name__ == "__main__":
    main()
