# -*- coding: utf-8 -*-
"""What the Molecule testinfra tests know about the stack a scenario deploys, read from where it
is defined instead of repeated in every test file.

- The scenario's settings are molecule/shared/group_vars/all/main.yml, templated by Ansible
  itself (it holds Jinja: the project directory and port depend on the scenario's name), so
  PROJECT_DIR, PROJECT, PORT ... are what the converge used.
- proxy_settings() resolves the proxy role's variables the way a play sees them: the role's
  defaults, then the scenario's group_vars, then whatever the caller adds (a converge's
  include_role vars).
- read_env()/read_env_file()/master_key() parse a host's .env with the collection's own dotenv_parse, the
  parser the roles use.

Each scenario's tests/conftest.py puts this directory on sys.path; the collection is importable
as ansible_collections.gatewayops.litellm from .cache/collections (scripts/bootstrap links the
checkout in there)."""

from __future__ import annotations

import json
import os
import posixpath
import sys
from pathlib import Path

import yaml

REPO = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY") or Path(__file__).resolve().parents[3])
COLLECTIONS = REPO / ".cache" / "collections"
GROUP_VARS_FILE = REPO / "molecule" / "shared" / "group_vars" / "all" / "main.yml"
PROXY_DEFAULTS_FILE = REPO / "roles" / "proxy" / "defaults" / "main.yml"

if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

# pylint: disable=wrong-import-position
from ansible.parsing.dataloader import DataLoader  # noqa: E402
from ansible.plugins.loader import init_plugin_loader  # noqa: E402
from ansible.template import Templar  # noqa: E402

try:  # ansible-core >= 2.19 templates only strings marked as trusted
    from ansible.template import trust_as_template  # noqa: E402
except ImportError:  # ansible-core 2.17/2.18 templates every string
    def trust_as_template(value):
        return value

# the lookups in the group_vars (ansible.builtin.env) and the collection's filters need it
init_plugin_loader([str(COLLECTIONS)])

from ansible_collections.gatewayops.litellm.plugins.filter.secrets import dotenv_parse  # noqa: E402


def load_yaml(path):
    """A YAML file of the checkout (a path relative to it, or absolute)."""
    with open(REPO / path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _trusted(value):
    """value with every string marked as a template Ansible may render (as a vars file's are)."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {key: _trusted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_trusted(item) for item in value]
    return value


def _plain(value):
    """Ansible's result as plain Python data (str, int, bool, list, dict)."""
    return json.loads(json.dumps(value))


class Variables:
    """Variables in layers (later layers win, like Ansible's precedence), each value templated by
    Ansible on first use with all the others in scope."""

    def __init__(self, *layers):
        merged = {}
        for layer in layers:
            merged.update(layer or {})
        self._raw = _trusted(merged)
        self._templar = Templar(loader=DataLoader(), variables=self._raw)
        self._cache = {}

    def __contains__(self, name):
        return name in self._raw

    def __getitem__(self, name):
        if name not in self._cache:
            if name not in self._raw:
                raise KeyError(f"{name} is not defined in the layers given (defaults, group_vars, ...)")
            self._cache[name] = _plain(self._templar.template(self._raw[name]))
        return self._cache[name]

    def get(self, name, default=None):
        return self[name] if name in self else default


GROUP_VARS = load_yaml(GROUP_VARS_FILE)
STACK = Variables(GROUP_VARS)


def proxy_settings(*layers):
    """The proxy role's variables as a play in this scenario sees them: role defaults, then the
    scenario's group_vars, then `layers` (for example a converge's include_role vars)."""
    return Variables(load_yaml(PROXY_DEFAULTS_FILE), GROUP_VARS, *layers)


SCENARIO = STACK["gatewayops_scenario"]
PROJECT_DIR = STACK["litellm_project_dir"]
# the scenario's own directory on the host and in the instance (results, sizing renders)
SCENARIO_DIR = posixpath.dirname(PROJECT_DIR)
PROJECT = STACK["litellm_project_name"]
PORT = int(STACK["litellm_port"])
# the instance shares the host's network: the published port is loopback for both
BASE = f"http://127.0.0.1:{PORT}"
# TLS at the edge (default scenario): the published TLS port and the self-signed certificate
TLS_PORT = int(STACK["litellm_edge_tls_port"])
TLS_BASE = f"https://127.0.0.1:{TLS_PORT}"
TLS_CERTIFICATE = f"{PROJECT_DIR}/tls-certificate.pem"
FAKE_BACKEND = STACK["gatewayops_fake_backend"]
MODEL_LIST = STACK["litellm_model_list"]


def read_env(host, path=None):
    """The host's .env (default: the scenario's project directory) as the roles parse it."""
    return dotenv_parse(host.file(path or f"{PROJECT_DIR}/.env").content_string)


def read_env_file(path):
    """A .env file the controller itself can read (the scenarios' project directories are on the
    host too), as the roles parse it."""
    return dotenv_parse(Path(path).read_text())


def master_key(host, path=None):
    """LITELLM_MASTER_KEY from the host's .env."""
    path = path or f"{PROJECT_DIR}/.env"
    values = read_env(host, path)
    if "LITELLM_MASTER_KEY" not in values:
        raise AssertionError(f"no LITELLM_MASTER_KEY in {path}")
    return values["LITELLM_MASTER_KEY"]


def live_colour(host):
    """The colour that serves (litellm_deploy_strategy: blue_green), '' for a recreate deployment."""
    path = f"{PROJECT_DIR}/live-colour"
    return host.file(path).content_string.strip() if host.file(path).exists else ""


def proxy_project(host):
    """The compose project that runs the live proxy: <project>-<colour>, or the stack's own."""
    colour = live_colour(host)
    return f"{PROJECT}-{colour}" if colour else PROJECT


def project_of(host, service):
    """The compose project of one of the stack's services (the proxy may live in a colour's)."""
    return proxy_project(host) if service == "litellm" else PROJECT


def stack_projects():
    """Every compose project the stack may use: its own and both colours'."""
    return [PROJECT, f"{PROJECT}-blue", f"{PROJECT}-green"]
