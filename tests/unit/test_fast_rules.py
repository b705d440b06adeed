"""tests/tools/fast_rules.py: the time-compressed copy of a rule file that the live monitoring test
loads beside the shipped rules."""

from __future__ import annotations

import importlib.util
import pathlib
import shutil
import subprocess

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("fast_rules", ROOT / "tests" / "tools" / "fast_rules.py")
fast_rules = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(fast_rules)

RULES = {"groups": [
    {"name": "r", "interval": "30s", "rules": [
        {"record": "x:requests:rate5m", "expr": "sum(rate(requests_total[5m]))"},
        {"record": "x:requests:rate5m_by_model", "expr": "sum by (m) (rate(requests_total[5m:1m]))"},
        {"record": "x:ratio", "expr": "x:requests:rate5m / x:requests:rate5m_by_model"}]},
    {"name": "a", "rules": [
        {"alert": "High", "expr": "x:ratio > 0.5 and increase(y[30m]) > 0", "for": "5m",
         "labels": {"severity": "warning"}, "annotations": {"summary": "{{ $value }}"}},
        {"alert": "Down", "expr": "up == 0"}]},
]}


def test_durations_shrink_and_names_move_aside():
    copy = fast_rules.fast_copy(RULES, 10)
    recording, alerts = copy["groups"]
    assert recording["name"] == "r.fast" and recording["interval"] == "3s"
    assert [r["record"] for r in recording["rules"]] == ["fast:x:requests:rate5m", "fast:x:requests:rate5m_by_model", "fast:x:ratio"]
    assert recording["rules"][1]["expr"] == "sum by (m) (rate(requests_total[30s:1m]))"
    # a name that is a prefix of another is replaced as a whole name only
    assert recording["rules"][2]["expr"] == "fast:x:requests:rate5m / fast:x:requests:rate5m_by_model"
    high, down = alerts["rules"]
    assert high["alert"] == "HighFast" and high["for"] == "30s"
    assert high["expr"] == "fast:x:ratio > 0.5 and increase(y[180s]) > 0"
    assert high["labels"] == {"severity": "warning", "copy": "fast"} and high["annotations"] == {"summary": "{{ $value }}"}
    assert down == {"alert": "DownFast", "expr": "up == 0", "labels": {"copy": "fast"}}
    # the source is not changed
    assert RULES["groups"][0]["rules"][0]["record"] == "x:requests:rate5m"


def test_durations_never_drop_below_one_second():
    assert fast_rules.compress("5s", 10) == "1s" and fast_rules.compress("1h30m", 10) == "540s"
    with pytest.raises(ValueError):
        fast_rules.seconds("five minutes")


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool checks the copy where it is installed (scripts/test)")
def test_the_shipped_rules_copy_loads_in_promtool(tmp_path):
    for name in ("litellm-rules.yml", "litellm-edge-rules.yml"):
        dest = tmp_path / name
        assert fast_rules.main([str(ROOT / "roles" / "proxy" / "files" / "prometheus" / name), str(dest)]) == 0
        assert yaml.safe_load(dest.read_text())["groups"]
        result = subprocess.run(["promtool", "check", "rules", str(dest)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
