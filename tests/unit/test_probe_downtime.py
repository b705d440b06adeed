"""Outage arithmetic of tests/tools/probe_downtime.py (pure logic)."""

from __future__ import annotations

import importlib.util
import pathlib

spec = importlib.util.spec_from_file_location(
    "probe_downtime", pathlib.Path(__file__).resolve().parents[1] / "tools" / "probe_downtime.py")
probe_downtime = importlib.util.module_from_spec(spec)
spec.loader.exec_module(probe_downtime)


def test_outage_lasts_until_the_next_success():
    samples = [(0.0, True), (1.0, False), (2.0, False), (3.5, True), (4.0, False), (4.5, True)]
    assert probe_downtime.outages(samples) == [(1.0, 2.5), (4.0, 0.5)]


def test_an_outage_still_running_at_the_end_counts_until_the_last_sample():
    assert probe_downtime.outages([(0.0, True), (1.0, False), (3.0, False)]) == [(1.0, 2.0)]


def test_no_failure_no_outage():
    assert probe_downtime.outages([(0.0, True), (1.0, True)]) == []
