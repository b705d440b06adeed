"""The Prometheus rules the proxy role ships (roles/proxy/files/prometheus/: litellm-rules.yml and
litellm-edge-rules.yml), checked by Prometheus' own promtool: `promtool check rules`, then `promtool test rules` on the
synthetic series of litellm-rules.test.yml.

promtool compares every annotation of a firing alert. The test file states the labels and the
rendered `summary` of each expected alert (`exp_summary`: the part with $value and $labels);
`description` and `runbook` are plain text and are taken from the rule itself here, so the test
file does not repeat paragraphs. Every alert must have a summary, a description and a runbook,
and the test file must show each one firing and each one quiet at least once."""

from __future__ import annotations

import pathlib
import shutil
import subprocess

import pytest
import yaml

HERE = pathlib.Path(__file__).resolve().parent
RULE_DIR = HERE.parents[1] / "roles" / "proxy" / "files" / "prometheus"
RULES = [RULE_DIR / "litellm-rules.yml", RULE_DIR / "litellm-edge-rules.yml"]
TESTS = HERE / "litellm-rules.test.yml"
PROMTOOL = shutil.which("promtool")


def _alerts():
    return {rule["alert"]: rule for path in RULES for group in yaml.safe_load(path.read_text())["groups"]
            for rule in group["rules"] if "alert" in rule}


def _run(*args):
    if PROMTOOL is None:
        pytest.fail("promtool is not installed: apt-get install prometheus (scripts/bootstrap does)")
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, check=False)


def test_promtool_accepts_the_rules():
    result = _run("check", "rules", *map(str, RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_tells_on_call_what_it_means_and_what_to_do():
    for name, rule in _alerts().items():
        annotations = rule.get("annotations", {})
        assert {"summary", "description", "runbook"} <= set(annotations), name
        assert rule["labels"]["severity"] in ("critical", "warning", "info"), name


def expanded_tests(alerts):
    """The test file with each expected alert's annotations filled in, and which alerts it shows
    firing and quiet."""
    spec = yaml.safe_load(TESTS.read_text())
    spec["rule_files"] = [str(path) for path in RULES]
    firing, quiet = set(), set()
    for case in spec["tests"]:
        for check in case.get("alert_rule_test", []):
            name = check["alertname"]
            assert name in alerts, f"the test file names an alert the rules do not have: {name}"
            (firing if check.get("exp_alerts") else quiet).add(name)
            for expected in check.get("exp_alerts") or []:
                static = alerts[name]["annotations"]
                expected["exp_annotations"] = {"summary": expected.pop("exp_summary"),
                                               "description": static["description"], "runbook": static["runbook"]}
    return spec, firing, quiet


def test_each_alert_is_shown_firing_and_quiet():
    alerts = _alerts()
    _spec, firing, quiet = expanded_tests(alerts)
    assert sorted(set(alerts) - firing) == [], "alerts never shown firing"
    assert sorted(set(alerts) - quiet) == [], "alerts never shown quiet"


def test_promtool_unit_tests_pass(tmp_path):
    spec, _firing, _quiet = expanded_tests(_alerts())
    expanded = tmp_path / "litellm-rules.test.yml"
    expanded.write_text(yaml.safe_dump(spec, sort_keys=False))
    result = _run("test", "rules", str(expanded))
    assert result.returncode == 0, result.stdout + result.stderr
