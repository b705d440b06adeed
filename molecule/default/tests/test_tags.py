"""Each documented tag, run for real on the converged stack, runs exactly the phases it names.

README "Using it" documents litellm_preflight, litellm_configure, litellm_deploy, litellm_verify,
docker_host_install and docker_host_configure. Each is run with the site playbook against the
instance (the same inventory Molecule uses), with Ansible's JSON callback, and the tasks that ran
are compared with what the tag must and must not run. On a converged stack every run changes
nothing and no container is replaced."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import testinfra.utils.ansible_runner
from gatewayops_stack import stack_projects

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]
).get_hosts("all")

PREFLIGHT = "Check the settings"
SIZING = "Size the stack to this host"
STACK = "Build the stack model"
STRUCTURE = "Check the structure of config.yaml"
SECRETS = "Resolve secrets"
BACKUP = "Ask which managed files this run would replace"
RENDER = "Render the other candidate files, each validated by the binary that will read it"
DEPLOY = "Bring the stack up (builds the proxy image when its Dockerfile changed)"
READY = "Wait for /health/readiness"
VERSION = "Check the proxy runs the requested LiteLLM version"
ENGINE = "Install engine packages"
COMPOSE = "Confirm the Compose plugin answers"
DAEMON = "Write daemon.json (log rotation, live-restore)"

# tag -> (tasks that must run, tasks that must not)
EXPECTED = {
    "litellm_preflight": ({PREFLIGHT, SIZING, STACK, STRUCTURE}, {SECRETS, BACKUP, RENDER, DEPLOY, READY, ENGINE}),
    "litellm_configure": ({PREFLIGHT, STACK, STRUCTURE, SECRETS, BACKUP, RENDER}, {DEPLOY, READY, VERSION, ENGINE}),
    "litellm_verify": ({PREFLIGHT, STACK, SECRETS, READY, VERSION}, {STRUCTURE, BACKUP, RENDER, DEPLOY, ENGINE}),
    "litellm_deploy": ({PREFLIGHT, SECRETS, BACKUP, RENDER, DEPLOY, READY, VERSION}, {ENGINE, DAEMON}),
    "docker_host_install": ({ENGINE, COMPOSE}, {DAEMON, PREFLIGHT, SECRETS, DEPLOY}),
    "docker_host_configure": ({DAEMON}, {ENGINE, PREFLIGHT, SECRETS, DEPLOY}),
}


def _containers(host):
    return [line for project in stack_projects() for line in host.check_output(
        "docker ps --filter label=com.docker.compose.project=%s --format '{{.Names}} {{.ID}}'", project).splitlines()]


def _run_site(tag):
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
    cmd = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"],
           os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "converge.yml"), "--tags", tag]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False, env=env)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return json.loads(done.stdout)


def _ran(report):
    """Names of the tasks that ran (not skipped) on some host, and the number of changed results."""
    ran, changed = set(), 0
    for play in report["plays"]:
        for task in play["tasks"]:
            results = task["hosts"].values()
            if any(not result.get("skipped") for result in results):
                # a role's task is reported as "<role> : <name>"
                ran.add(task["task"]["name"].split(" : ", 1)[-1])
            changed += sum(1 for result in results if result.get("changed"))
    return ran, changed


@pytest.fixture(scope="module")
def containers_before(host):
    before = _containers(host)
    assert len(before) >= 3, before
    return before


@pytest.mark.parametrize("tag", list(EXPECTED))
def test_tag_runs_what_it_names(host, containers_before, tag):
    ran, changed = _ran(_run_site(tag))
    must, must_not = EXPECTED[tag]
    assert must <= ran, "%s did not run %s" % (tag, sorted(must - ran))
    assert not (must_not & ran), "%s ran %s" % (tag, sorted(must_not & ran))
    assert changed == 0, "%s changed %d things on a converged stack" % (tag, changed)
    assert _containers(host) == containers_before
