# -*- coding: utf-8 -*-
"""The fleet summary of a rollout (plugins/filter/fleet.py)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.gatewayops.litellm.plugins.filter.fleet import litellm_fleet_summary

OLD = {"config_sha256": "a" * 64, "env_sha256": "e" * 64, "edge_sha256": "c" * 64, "compose_sha256": "d" * 64,
       "colour": "blue", "image": "sha256:1"}
NEW = dict(OLD, config_sha256="b" * 64, colour="green")


def test_every_outcome_in_host_order():
    summary = litellm_fleet_summary({
        "h1": {"before": OLD, "after": NEW, "version": "1.108.7", "failure": None, "rolled_back": False},
        "h2": {"before": OLD, "after": OLD, "version": "1.108.7", "failure": "The change failed at Probe the "
               "required models: chat answered 500", "rolled_back": True},
        "h3": None,
        "h4": {"before": OLD, "after": OLD, "version": "1.108.7", "failure": None, "rolled_back": False},
        "h5": {"before": {}, "after": {}, "version": None, "failure": "Docker engine | failed", "rolled_back": False},
    })
    assert [(h["host"], h["outcome"]) for h in summary["hosts"]] == [
        ("h1", "changed"), ("h2", "rolled back"), ("h3", "not reached"), ("h4", "unchanged"), ("h5", "failed")]
    assert summary["failed"] == ["h2", "h5"] and not summary["ok"]
    assert summary["summary"] == "1 changed, 1 unchanged, 1 rolled back, 1 failed, 1 not reached"
    h1 = summary["hosts"][0]
    assert (h1["version"], h1["config_sha256"], h1["colour"], h1["reason"]) == ("1.108.7", "b" * 64, "green", None)
    # the .env hash decides "changed" (a rotated secret) but is never shown
    assert "e" * 64 not in repr(summary)
    assert "| h2 | rolled back | 1.108.7 | aaaaaaaaaaaa | blue | The change failed at Probe the required models: chat " \
           "answered 500 |" in summary["markdown"]
    assert "| h3 | not reached | - | - | - |  |" in summary["markdown"]


@pytest.mark.parametrize("field", ["env_sha256", "edge_sha256", "compose_sha256", "image"])
def test_any_live_file_or_the_image_alone_is_a_change(field):
    summary = litellm_fleet_summary({"h1": {"before": OLD, "after": dict(OLD, **{field: "f" * 64})}})
    assert summary["hosts"][0]["outcome"] == "changed" and summary["ok"]


def test_input_must_be_a_mapping():
    with pytest.raises(AnsibleFilterError, match="needs {host: record}, got list"):
        litellm_fleet_summary(["h1"])
