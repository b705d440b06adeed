"""Makes the shared test helper, molecule/shared/tests/gatewayops_stack.py, importable, and
imports it before any test module: it puts the collection (.cache/collections) on sys.path and
starts Ansible's collection loader, so tests can import from ansible_collections.gatewayops.litellm.
At the end of the run it prints the scenario's measurements."""

from __future__ import annotations

import json
import sys
from pathlib import Path

SHARED = str(Path(__file__).resolve().parents[2] / "shared" / "tests")
if SHARED not in sys.path:
    sys.path.insert(0, SHARED)

import gatewayops_stack  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import


def pytest_terminal_summary(terminalreporter):
    """The scenario's measurements (results/database-*.json, written by the tests) at the end of
    the run, passed or failed: the figures README and roles/proxy/README quote."""
    results = Path(gatewayops_stack.SCENARIO_DIR) / "results"
    terminalreporter.section("database mode measurements")
    for path in sorted(results.glob("database-*.json")):
        data = json.loads(path.read_text())
        if isinstance(data, dict):
            data = {key: value for key, value in data.items() if key != "processes"}
        terminalreporter.write_line("%s: %s" % (path.stem, json.dumps(data, sort_keys=True)))
