# -*- coding: utf-8 -*-
"""Run a module's main() in-process with arguments, and a stub LiteLLM proxy to point it at."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "module_utils"))

from litellm_stub import StubProxy  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture
def stub():
    server = StubProxy().start()
    yield server
    server.stop()


@pytest.fixture
def run(capsys):
    """run(module, args) -> the module's result dict (with 'failed' when it failed)."""
    def runner(module, args):
        with patch_module_args(args):
            with pytest.raises(SystemExit):
                module.main()
        return json.loads(capsys.readouterr().out)
    return runner
