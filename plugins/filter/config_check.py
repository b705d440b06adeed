# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Structural checks of a LiteLLM proxy config that `litellm --validate_config` (1.108.7) lets
through: unknown top-level sections, misspelt retry/allowed-fails policy keys, and a
master key placed where LiteLLM silently ignores it (which leaves the proxy unauthenticated)."""

from __future__ import annotations

# Top-level sections proxy_server.py (1.108.7) reads from config.yaml.
KNOWN_SECTIONS = frozenset({
    "model_list", "litellm_settings", "general_settings", "router_settings", "environment_variables",
    "agent_list", "agents", "assistant_settings", "callback_settings", "classifier_plugin", "credential_list",
    "default_vertex_config", "files_settings", "finetune_settings", "guardrails", "mcp_servers", "mcp_tools",
    "pass_through_endpoints", "plugins", "policies", "policy_attachments", "prompts", "sandbox_tools",
    "search_tools", "vector_store_registry", "worker_registry",
})
# litellm/types/router.py RetryPolicy and AllowedFailsPolicy fields (1.108.7).
RETRY_POLICY_KEYS = frozenset({
    "BadRequestErrorRetries", "AuthenticationErrorRetries", "TimeoutErrorRetries", "RateLimitErrorRetries",
    "ContentPolicyViolationErrorRetries", "InternalServerErrorRetries", "ServiceUnavailableErrorRetries",
    "NotFoundErrorRetries", "DefaultRetries",
})
ALLOWED_FAILS_POLICY_KEYS = frozenset({
    "BadRequestErrorAllowedFails", "AuthenticationErrorAllowedFails", "TimeoutErrorAllowedFails",
    "RateLimitErrorAllowedFails", "ContentPolicyViolationErrorAllowedFails", "InternalServerErrorAllowedFails",
    "ServiceUnavailableErrorAllowedFails", "BadGatewayErrorAllowedFails", "NotFoundErrorAllowedFails",
})


def _unknown(keys, known):
    return sorted(set(keys) - known)


def _policy_problems(router, name, known):
    policy = router.get(name)
    if policy is None:
        return []
    if not isinstance(policy, dict):
        return ["router_settings.%s must be a mapping" % name]
    problems = ["router_settings.%s has unknown key %s (known: %s)" % (name, key, ", ".join(sorted(known)))
                for key in _unknown(policy, known)]
    problems += ["router_settings.%s.%s must be a whole number >= 0" % (name, key)
                 for key, value in sorted(policy.items())
                 if isinstance(value, bool) or not isinstance(value, int) or value < 0]
    return problems


def _model_problems(models):
    if not isinstance(models, list) or not models:
        return ["model_list must be a non-empty list"]
    problems = []
    for index, model in enumerate(models):
        params = model.get("litellm_params") if isinstance(model, dict) else None
        if not isinstance(model, dict) or not isinstance(model.get("model_name"), str) or not model["model_name"]:
            problems.append("model_list[%d] needs a model_name" % index)
        elif not isinstance(params, dict) or not isinstance(params.get("model"), str) or not params["model"]:
            problems.append("model_list[%d] (%s) needs litellm_params.model" % (index, model["model_name"]))
    return problems


def litellm_config_problems(config):
    """Return a list of human-readable problems (empty: the structure is sound)."""
    if not isinstance(config, dict):
        return ["the config must be a mapping"]
    problems = ["unknown top-level section %s" % key for key in _unknown(config, KNOWN_SECTIONS)]
    problems += _model_problems(config.get("model_list"))
    for section in ("litellm_settings", "general_settings", "router_settings"):
        if not isinstance(config.get(section, {}), dict):
            problems.append("%s must be a mapping" % section)
    if "master_key" in (config.get("litellm_settings") or {}):
        problems.append("master_key under litellm_settings is ignored by LiteLLM (the proxy would accept any key); "
                        "it belongs in general_settings")
    general = config.get("general_settings") or {}
    if isinstance(general, dict) and not general.get("master_key"):
        problems.append("general_settings.master_key is missing: the proxy would not authenticate callers")
    router = config.get("router_settings") or {}
    if isinstance(router, dict):
        problems += _policy_problems(router, "retry_policy", RETRY_POLICY_KEYS)
        problems += _policy_problems(router, "allowed_fails_policy", ALLOWED_FAILS_POLICY_KEYS)
    return problems


class FilterModule(object):
    def filters(self):
        return {"litellm_config_problems": litellm_config_problems}
