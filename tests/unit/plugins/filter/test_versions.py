# -*- coding: utf-8 -*-
"""Tests of the LiteLLM version gates (pure logic)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.gatewayops.litellm.plugins.filter.versions import litellm_schema_problems, litellm_version_info


@pytest.mark.parametrize("version", ["1.82.7", "1.82.8", "v1.82.8"])
def test_malicious_releases_are_always_refused(version):
    info = litellm_version_info(version, accept_vulnerable=True)
    assert len(info["problems"]) == 1 and "malicious release" in info["problems"][0]


@pytest.mark.parametrize("version", ["1.83.6", "1.81.16", "1.82.6"])
def test_versions_below_the_sqli_fix_need_explicit_risk_acceptance(version):
    refused = litellm_version_info(version)
    assert any("CVE-2026-42208" in p and "litellm_accept_vulnerable_version" in p for p in refused["problems"])
    accepted = litellm_version_info(version, accept_vulnerable=True)
    assert accepted["problems"] == []
    assert accepted["vulnerabilities"]


@pytest.mark.parametrize("version", ["1.83.7", "1.108.7", "1.110.2"])
def test_fixed_versions_pass(version):
    info = litellm_version_info(version)
    assert info["problems"] == [] and info["vulnerabilities"] == []


@pytest.mark.parametrize("version, health_app, drain, offline, access_log", [
    ("1.84.0", True, False, False, False),
    ("1.84.3", True, False, False, False),
    ("1.85.0", False, True, False, False),
    ("1.108.7", False, True, False, True),
    ("1.110.2", False, True, True, True),
])
def test_feature_gates(version, health_app, drain, offline, access_log):
    features = litellm_version_info(version)["features"]
    assert features["separate_health_app"] is health_app
    assert features["drain_endpoint"] is drain
    assert features["offline_mode"] is offline
    assert features["access_log_path_filter"] is access_log


def test_tags_with_suffixes_are_understood():
    assert litellm_version_info("v1.83.10-stable")["version"] == "1.83.10"


def test_garbage_is_rejected():
    with pytest.raises(AnsibleFilterError, match="must look like"):
        litellm_version_info("latest")


SHIPPED = ["20250101000000_base", "20250301000000_spend_index"]


def test_a_release_that_ships_every_applied_migration_may_run():
    assert litellm_schema_problems(SHIPPED, SHIPPED + ["20250401000000_not_applied_yet"], "img") == []
    assert litellm_schema_problems([], SHIPPED, "img") == []


def test_a_database_migrated_by_a_newer_release_is_named_with_its_migrations():
    applied = SHIPPED + ["20260601000000_future_%d" % n for n in range(7)]
    problem, = litellm_schema_problems(applied, SHIPPED, "litellm:1.84.0")
    assert "newer LiteLLM than litellm:1.84.0: 7 applied migration(s)" in problem
    assert "20260601000000_future_0" in problem and "and 2 more" in problem
    assert "litellm_allow_newer_schema" in problem


def test_schema_problems_need_lists():
    with pytest.raises(AnsibleFilterError):
        litellm_schema_problems("20250101000000_base", SHIPPED, "img")
