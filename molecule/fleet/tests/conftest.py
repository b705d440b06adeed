"""Makes the shared test helper, molecule/shared/tests/gatewayops_stack.py, importable, and
imports it before any test module: it puts the collection (.cache/collections) on sys.path and
starts Ansible's collection loader, so tests can import from ansible_collections.gatewayops.litellm."""

from __future__ import annotations

import sys
from pathlib import Path

SHARED = str(Path(__file__).resolve().parents[2] / "shared" / "tests")
if SHARED not in sys.path:
    sys.path.insert(0, SHARED)

import gatewayops_stack  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
