# -*- coding: utf-8 -*-
"""_loadgen.runner: the open-loop schedule and the runner's refusal of an invalid config (the
runner against a real backend is in tests/unit/plugins/modules/test_load_test.py)."""

from __future__ import annotations

import pytest

from ansible_collections.gatewayops.litellm.plugins.module_utils._loadgen import config as cfg
from ansible_collections.gatewayops.litellm.plugins.module_utils._loadgen import runner


class TestSchedule:
    def test_fixed_rate_from_zero(self):
        assert list(runner.arrival_offsets(4, 0.0, 1.0)) == [0.0, 0.25, 0.5, 0.75]

    def test_window_start_is_inclusive_and_end_exclusive(self):
        assert list(runner.arrival_offsets(10, 0.5, 0.8)) == pytest.approx([0.5, 0.6, 0.7])

    def test_start_between_arrivals_rounds_up(self):
        assert list(runner.arrival_offsets(2, 0.3, 2.0)) == [0.5, 1.0, 1.5]

    def test_limit_and_count(self):
        assert list(runner.arrival_offsets(1000, 0.0, 10.0, limit=3)) == [0.0, 0.001, 0.002]
        assert len(list(runner.arrival_offsets(50, 0.0, 3.0))) == 150

    def test_no_drift_over_many_arrivals(self):
        offsets = list(runner.arrival_offsets(3, 0.0, 1000.0))
        assert len(offsets) == 3000 and offsets[-1] == pytest.approx(2999 / 3.0)

    def test_rate_must_be_positive(self):
        with pytest.raises(ValueError, match="rate must be positive"):
            list(runner.arrival_offsets(0, 0.0, 1.0))


class TestRunner:
    def test_runner_refuses_an_invalid_config(self):
        with pytest.raises(ValueError, match="model is required"):
            runner.LoadRunner(cfg.LoadConfig())
