# -*- coding: utf-8 -*-
"""Tests of the structural config checks (pure logic)."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.gatewayops.litellm.plugins.filter.config_check import litellm_config_problems

GOOD = {
    "model_list": [{"model_name": "chat", "litellm_params": {"model": "openai/gpt-4o-mini"}}],
    "litellm_settings": {"request_timeout": 600},
    "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY"},
    "router_settings": {"retry_policy": {"RateLimitErrorRetries": 3, "BadRequestErrorRetries": 0},
                        "allowed_fails_policy": {"BadRequestErrorAllowedFails": 1000}},
}


def changed(**sections):
    config = copy.deepcopy(GOOD)
    config.update(sections)
    return config


def test_the_collections_shape_passes():
    assert litellm_config_problems(GOOD) == []


def test_unknown_section_is_named():
    assert litellm_config_problems(changed(litellm_setings={})) == ["unknown top-level section litellm_setings"]


def test_misspelt_retry_policy_key_is_named():
    problems = litellm_config_problems(changed(router_settings={"retry_policy": {"RateLimitRetries": 3}}))
    assert len(problems) == 1 and problems[0].startswith("router_settings.retry_policy has unknown key RateLimitRetries")


def test_negative_or_non_integer_counts_are_refused():
    policy = {"TimeoutErrorAllowedFails": -1, "RateLimitErrorAllowedFails": "x"}
    problems = litellm_config_problems(changed(router_settings={"allowed_fails_policy": policy}))
    assert problems == [
        "router_settings.allowed_fails_policy.RateLimitErrorAllowedFails must be a whole number >= 0",
        "router_settings.allowed_fails_policy.TimeoutErrorAllowedFails must be a whole number >= 0",
    ]


def test_master_key_in_the_wrong_section_is_caught():
    problems = litellm_config_problems(changed(litellm_settings={"master_key": "sk-x"}, general_settings={}))
    assert any("ignored by LiteLLM" in p for p in problems)
    assert any("general_settings.master_key is missing" in p for p in problems)


@pytest.mark.parametrize("models, expected", [
    ([], "model_list must be a non-empty list"),
    ([{"litellm_params": {"model": "x"}}], "model_list[0] needs a model_name"),
    ([{"model_name": "a", "litellm_params": {}}], "model_list[0] (a) needs litellm_params.model"),
])
def test_model_list_shape(models, expected):
    assert litellm_config_problems(changed(model_list=models)) == [expected]
