# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deploy and remove what a benchmark run owns: the fake backend container and its network,
and one LiteLLM stack per variant through the collection's own proxy role.

Only names this harness owns are touched (plan.BACKEND_CONTAINER, plan.NETWORK, compose
projects plan.PROJECT_PREFIX* (with blue_green each stack's proxy runs in <project>-blue or
<project>-green beside the main project), directories under plan.PROJECT_ROOT, the image tag
plan.REBUILD_IMAGE and the proxy images built from it)."""

from __future__ import annotations

import datetime
import json
import os
import re
import shlex
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import plan

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work"
PLAYBOOK = HERE / "deploy.yml"


class StackError(RuntimeError):
    """A deployment or a container operation failed."""


def run(argv, timeout=120, check=True, log=None):
    """Run a command without a shell; its output goes to `log` (a path) or is returned."""
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a", encoding="utf-8") as handle:
            handle.write("$ %s\n" % " ".join(shlex.quote(a) for a in argv))
            handle.flush()
            proc = subprocess.run(argv, stdout=handle, stderr=subprocess.STDOUT, timeout=timeout, check=False)
        output = ""
    else:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        output = proc.stdout
    if check and proc.returncode != 0:
        detail = tail(log) if log is not None else (proc.stderr or proc.stdout).strip()[-2000:]
        raise StackError("%s failed (rc=%d):\n%s" % (" ".join(argv[:3]), proc.returncode, detail))
    return output


def tail(path, lines=30):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return ""


def project_name(name):
    return plan.PROJECT_PREFIX + name


def project_dir(name):
    return Path(plan.PROJECT_ROOT) / name


COLOURS = ("blue", "green")
PROXY_SERVICE = "litellm"
# proxy images the proxy role built from plan.REBUILD_IMAGE during this run (cleanup removes them)
BUILT_IMAGES = set()


def colour_projects(name):
    """The blue_green colour projects of a stack: <project>-blue, <project>-green."""
    return ["%s-%s" % (project_name(name), colour) for colour in COLOURS]


def live_colour(name):
    """The colour <project_dir>/live-colour names (blue_green), None without one (recreate)."""
    try:
        colour = (project_dir(name) / "live-colour").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return colour if colour in COLOURS else None


def proxy_project(name):
    """The compose project that runs the serving proxy: <project>-<live colour> with blue_green,
    <project> with recreate (or without the edge)."""
    colour = live_colour(name)
    return "%s-%s" % (project_name(name), colour) if colour else project_name(name)


def container_name(name):
    """The running proxy container of a stack (the live colour's with blue_green), found by its
    compose labels like `docker compose -p <project> ps -q litellm`; StackError when none runs."""
    projects = [proxy_project(name)]
    projects += [p for p in [project_name(name)] + colour_projects(name) if p not in projects]
    for project in projects:
        out = run(["docker", "ps", "--filter", "label=com.docker.compose.project=%s" % project,
                   "--filter", "label=com.docker.compose.service=%s" % PROXY_SERVICE, "--format", "{{.Names}}"])
        found = out.split()
        if found:
            return found[0]
    raise StackError("no running proxy container in %s" % ", ".join(projects))


def container_state(container):
    """name, id, start time, restarts and image of a container (None when it is gone or None)."""
    if not container:
        return None
    out = run(["docker", "inspect", "-f", "{{.Name}} {{.Id}} {{.State.StartedAt}} {{.RestartCount}} {{.Config.Image}}",
               container], check=False).split()
    if len(out) != 5:
        return None
    return {"name": out[0].lstrip("/"), "id": out[1][:12], "started": out[2], "restarts": int(out[3]), "image": out[4]}


def service_container_name(name, service):
    """The running container of one of the stack's own services (edge, redis), or None when the
    variant runs without it."""
    wanted = "%s-%s-1" % (project_name(name), service)
    out = run(["docker", "ps", "-q", "--filter", "name=^/%s$" % wanted])
    return wanted if out.strip() else None


def edge_container_name(name):
    """The stack's HAProxy container, or None when the variant runs without the edge."""
    return service_container_name(name, "edge")


# HAProxy httplog: ... Tq/Tw/Tc/Tr/Ta status bytes ... actconn/feconn/beconn/srv_conn/retries queue "request"
_HTTPLOG_COUNTERS = re.compile(r' (\d{3}) \d+ .* \d+/\d+/\d+/\d+/(\+?)(\d+) \d+/\d+ "')


def edge_retries(lines):
    """From the edge's log: requests retried (and how many of them then got a 2xx) and the
    status codes of every logged request."""
    retried, answered, statuses = 0, 0, {}
    for line in lines:
        match = _HTTPLOG_COUNTERS.search(line)
        if not match:
            continue
        status, retries = match.group(1), int(match.group(3))
        statuses[status] = statuses.get(status, 0) + 1
        if retries > 0 or match.group(2):
            retried += 1
            answered += status.startswith("2")
    return {"retried": retried, "retried_then_2xx": answered, "logged_statuses": statuses}


EDGE_EVENT_MARKERS = ("Reloading HAProxy", "Loading success", "Loading failure", "New worker", "Former worker",
                      " is DOWN", " is UP", "no server available", "changed its IP", "is going DOWN for maintenance")


def edge_events(container, since, log):
    """What the edge logged from `since` (seconds since the epoch): its reloads and server state
    changes as (seconds since the epoch, text), and the status codes of the abnormal requests it
    logged (option dontlog-normal: errors, retries, <NOSRV>)."""
    since_text = datetime.datetime.fromtimestamp(since, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    proc = subprocess.run(["docker", "logs", "-t", "--since", since_text, container], capture_output=True, text=True,
                          errors="replace", timeout=60, check=False)
    lines = (proc.stdout + proc.stderr).splitlines()
    if log is not None:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write("docker logs -t --since %s %s: %d lines\n" % (since_text, container, len(lines)))
    events, seen = [], set()
    for line in lines:
        stamp, _sep, text = line.partition(" ")
        text = text.strip()
        # HAProxy writes most of them twice (with and without the "[WARNING] (pid) :" prefix)
        bare = (text.split(") : ", 1)[-1] if text.startswith("[") else text).replace("'", "")
        if not any(m in text for m in EDGE_EVENT_MARKERS) or (stamp[:19], bare) in seen:
            continue
        seen.add((stamp[:19], bare))
        try:
            when = datetime.datetime.strptime(stamp[:26].rstrip("Z") + "Z", "%Y-%m-%dT%H:%M:%S.%fZ")
        except ValueError:
            continue
        events.append((when.replace(tzinfo=datetime.timezone.utc).timestamp(), text[:240]))
    return sorted(events), edge_retries(lines)["logged_statuses"]


def edge_log(container, log):
    """The edge's log lines: with `option dontlog-normal` only abnormal requests (errors,
    retries, redispatches) are logged, so every line is one such request."""
    return [line for line in container_log_lines(container, log) if line.strip()]


# ---------------------------------------------------------------- checks before a run

def preflight(images=()):
    """Problems that make a run impossible, as a list of sentences; `images`: more images the
    chosen variants name (the database variant's)."""
    problems = []
    if os.geteuid() != 0:
        problems.append("run as root: the proxy role writes under %s and drives the Docker engine" % plan.PROJECT_ROOT)
    if shutil.which("docker") is None or shutil.which("ansible-playbook") is None:
        problems.append("docker and ansible-playbook must be on PATH (activate the repo's .venv)")
        return problems
    for image in (plan.LITELLM_IMAGE, plan.REDIS_IMAGE, plan.BACKEND_IMAGE) + tuple(images):
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=False).returncode != 0:
            problems.append("image %s is missing: tests/images/build.sh builds it" % image)
    for port in (plan.PORT, plan.BACKEND_PORT):
        busy = run(["docker", "ps", "--filter", "publish=%d" % port, "--format", "{{.Names}}"]).split()
        foreign = [n for n in busy if n != plan.BACKEND_CONTAINER and not n.startswith(plan.PROJECT_PREFIX)]
        if foreign:
            problems.append("port %d is published by %s, which this harness does not own" % (port, ", ".join(foreign)))
    return problems


# ---------------------------------------------------------------- the fake backend

def start_backend(log):
    stop_backend(log)
    run(["docker", "network", "create", "--label", plan.OWNER_LABEL, plan.NETWORK], log=log)
    run(["docker", "run", "-d", "--name", plan.BACKEND_CONTAINER, "--label", plan.OWNER_LABEL,
         "--network", plan.NETWORK, "--network-alias", plan.BACKEND_ALIAS,
         "-e", "FAKE_DELAY_S=" + plan.BACKEND_DELAY_S, "-p", "127.0.0.1:%d:8080" % plan.BACKEND_PORT,
         "--pull", "never", plan.BACKEND_IMAGE], log=log)
    url = "http://127.0.0.1:%d/health" % plan.BACKEND_PORT
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return "http://127.0.0.1:%d" % plan.BACKEND_PORT
        except (OSError, urllib.error.URLError):
            time.sleep(0.5)
    raise StackError("the fake backend did not answer on %s" % url)


def stop_backend(log):
    if run(["docker", "ps", "-aq", "--filter", "name=^%s$" % plan.BACKEND_CONTAINER]).strip():
        run(["docker", "rm", "-f", plan.BACKEND_CONTAINER], log=log)
    if run(["docker", "network", "ls", "-q", "--filter", "name=^%s$" % plan.NETWORK]).strip():
        run(["docker", "network", "rm", plan.NETWORK], log=log, check=False)


# ---------------------------------------------------------------- one LiteLLM stack

def inventory(name, role_vars):
    """Write the variant's inventory (JSON, which Ansible's YAML inventory reads) and return its path."""
    host_vars = dict(plan.COMMON_VARS)
    host_vars.update(role_vars)
    host_vars.update(litellm_project_dir=str(project_dir(name)), litellm_project_name=project_name(name))
    data = {"all": {"hosts": {"localhost": {"ansible_connection": "local",
                                            "ansible_python_interpreter": "{{ ansible_playbook_python }}"}},
                    "vars": host_vars}}
    path = WORK / "inventory" / ("%s.json" % name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def playbook(name, log, extra_vars=None, timeout=1200):
    """Run deploy.yml against the stack's inventory (written by inventory() before), with
    `extra_vars` (a dict) as a JSON extra-vars file. Returns (rc, seconds, the lines of this run's
    output that report a failure); rc is None when the run passed `timeout` and was killed."""
    inv = WORK / "inventory" / ("%s.json" % name)
    argv = ["ansible-playbook", "-i", str(inv), str(PLAYBOOK)]
    if extra_vars is not None:
        extra = WORK / "extra-vars" / ("%s.json" % name)
        extra.parent.mkdir(parents=True, exist_ok=True)
        extra.write_text(json.dumps(extra_vars, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        argv += ["--extra-vars", "@%s" % extra]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".cache" / "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_RETRY_FILES_ENABLED="0")
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as handle:
        handle.write("$ %s\n" % " ".join(shlex.quote(a) for a in argv))
        handle.flush()
        offset = handle.tell()
        started = time.monotonic()
        try:
            rc = subprocess.run(argv, stdout=handle, stderr=subprocess.STDOUT, env=env, timeout=timeout, check=False,
                                cwd=str(REPO)).returncode
        except subprocess.TimeoutExpired:   # subprocess.run has killed it
            rc = None
        seconds = round(time.monotonic() - started, 1)
    with open(log, encoding="utf-8", errors="replace") as handle:
        handle.seek(offset)
        lines = handle.read().splitlines()
    return rc, seconds, failure_lines(lines)


def failure_lines(lines):
    """The task failures an ansible-playbook output reports, without the ignored ones."""
    failures = []
    for index, line in enumerate(lines):
        if not line.startswith(("fatal:", "failed:")):
            continue
        following = next((n.strip() for n in lines[index + 1:] if n.strip()), "")
        if following != "...ignoring":
            failures.append(line.strip()[:1500])
    return failures


def deploy(name, role_vars, log):
    """Deploy with the proxy role (ansible-playbook); returns (container name, master key)."""
    inventory(name, role_vars)
    rc, _seconds, _failures = playbook(name, log)
    if rc != 0:
        raise StackError("deploying %s failed (rc=%s), see %s:\n%s" % (name, rc, log, tail(log)))
    return container_name(name), master_key(name)


def master_key(name):
    """LITELLM_MASTER_KEY from the variant's .env, kept in memory only."""
    with open(project_dir(name) / ".env", encoding="utf-8") as handle:
        for line in handle:
            key, sep, value = line.strip().partition("=")
            if sep and key == "LITELLM_MASTER_KEY":
                words = shlex.split(value)
                if words:
                    return words[0]
    raise StackError("no LITELLM_MASTER_KEY in %s/.env" % project_dir(name))


def _compose_down(project, directory, log):
    args = ["down", "--volumes", "--remove-orphans", "--timeout", "30"]
    with_files = (directory / "compose.yaml").exists()
    run(["docker", "compose", "-p", project] + (["--project-directory", str(directory)] if with_files else []) + args,
        timeout=180, log=log, check=False)
    if with_files and project_containers(project):   # its files did not parse: by the labels alone
        run(["docker", "compose", "-p", project] + args, timeout=180, log=log, check=False)


def project_containers(project):
    return run(["docker", "ps", "-aq", "--filter", "label=com.docker.compose.project=%s" % project]).split()


def down(name, log):
    """Remove a variant's stack (containers, its networks and volumes); files stay until cleanup().
    The colour projects first (blue_green: <project>-blue/-green, in <project_dir>/<project>-<colour>):
    their proxies are attached to the main project's networks."""
    directory = project_dir(name)
    for project in colour_projects(name):
        if project_containers(project):
            _compose_down(project, directory / project, log)
    _compose_down(project_name(name), directory, log)


def owned_projects():
    """Compose projects of this harness that have containers now."""
    out = run(["docker", "ps", "-a", "--filter", "label=com.docker.compose.project",
               "--format", '{{.Label "com.docker.compose.project"}}'])
    return sorted(set(p for p in out.split() if p.startswith(plan.PROJECT_PREFIX)))


def cleanup(log):
    """Remove everything this harness starts: every litellm-bench-* stack, the backend, the
    network and the project directories (their .env holds generated keys)."""
    names = set(p[len(plan.PROJECT_PREFIX):] for p in owned_projects())
    root = Path(plan.PROJECT_ROOT)
    if root.is_dir():
        names.update(d.name for d in root.iterdir() if d.is_dir())
    # shortest first: a stack before its colour projects (<name>-blue), which down() removes first
    for name in sorted(names, key=lambda n: (len(n), n)):
        down(name, log)
    stop_backend(log)
    remove_images(log)
    left = owned_projects()
    if root.is_dir() and not left:
        shutil.rmtree(root)
    return left


def tag_rebuild_image(log):
    """plan.REBUILD_IMAGE: a new tag of plan.LITELLM_IMAGE, which makes the proxy role rebuild its image."""
    run(["docker", "tag", plan.LITELLM_IMAGE, plan.REBUILD_IMAGE], log=log)


def remove_images(log, rebuild_tag=True):
    """The proxy images built from the rebuild tag (only when no container uses them), and the
    tag itself unless rebuild_tag is false."""
    for image in sorted(BUILT_IMAGES) + ([plan.REBUILD_IMAGE] if rebuild_tag else []):
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=False).returncode == 0:
            run(["docker", "image", "rm", image], log=log, check=False)
    BUILT_IMAGES.clear()


def backend_stats():
    with urllib.request.urlopen("http://127.0.0.1:%d/stats" % plan.BACKEND_PORT, timeout=5) as answer:
        return json.loads(answer.read())


def container_log_lines(container, log):
    """The container's log (stdout and stderr) as lines; only their number goes to `log`."""
    proc = subprocess.run(["docker", "logs", container], capture_output=True, text=True, errors="replace",
                          timeout=60, check=False)
    lines = (proc.stdout + proc.stderr).splitlines()
    if log is not None:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write("docker logs %s: %d lines\n" % (container, len(lines)))
    return lines


def container_logs_count(container, patterns, log):
    """How many lines of the container's log contain each pattern (nothing is printed)."""
    lines = container_log_lines(container, log)
    return {p: sum(1 for line in lines if p in line) for p in patterns}
