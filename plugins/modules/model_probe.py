#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: model_probe
short_description: Send one minimal request to every model of a LiteLLM proxy and report each
version_added: 0.1.0
description:
  - Probes the models given in O(models), or every model the proxy lists at C(/v1/models), with
    the smallest request of the model's kind, a few at a time, each with its own timeout.
  - Chat models get a chat completion limited to O(max_tokens) output token(s); embedding models
    an embedding of the short O(input). Other modes (image generation, audio, rerank ...) are
    reported as V(skipped).
  - "How a model's mode is chosen: O(modes) when it names the model, otherwise the C(mode) that
    C(/v1/models) reports (LiteLLM 1.108.7 lists it for models whose C(model_info.mode) is set in
    its config), otherwise O(default_mode). Set C(model_info.mode: embedding) on embedding models
    in the proxy config, or name them in O(modes)."
  - Probe requests bypass the response cache (C(cache.no-cache) and C(cache.no-store)) so that they
    reach the provider. They carry C(num_retries) (O(retries)) and LiteLLM's C(timeout)
    (O(probe_timeout)), so that a broken deployment answers fast and once.
  - A failing model is data (RV(models[].status)); the task fails only when a model in
    O(required_models) (or any, with O(require_all)) is not V(ok), with a table of those models,
    when the proxy cannot be reached or refuses the key, and for invalid arguments.
  - Never reports a change. Each probe is a real request to the provider and is billed like one.
author:
  - gatewayops engineering (@gatewayops)
extends_documentation_fragment:
  - gatewayops.litellm.connection
  - gatewayops.litellm.attributes
  - gatewayops.litellm.attributes.info_module
  - gatewayops.litellm.attributes.actiongroup
options:
  api_key:
    required: true
  models:
    description:
      - Model names to probe. Default is every model C(/v1/models) lists for O(api_key).
    type: list
    elements: str
  exclude_models:
    description:
      - Model names not to probe (for example an expensive one), unless they are required.
    type: list
    elements: str
    default: []
  required_models:
    description:
      - Models that must answer; the task fails when one of them does not. They are probed even
        when O(models) does not name them.
    type: list
    elements: str
    default: []
  require_all:
    description:
      - Every probed model must answer (models skipped because of their mode count as failed).
    type: bool
    default: false
  modes:
    description:
      - Mode per model name, overriding what the proxy reports. V(chat) and V(embedding) are
        probed; any other value (V(image_generation), V(rerank), V(skip) ...) skips the model.
    type: dict
    default: {}
  default_mode:
    description:
      - Mode of a model that neither O(modes) nor C(/v1/models) gives one for.
    type: str
    choices: [chat, embedding]
    default: chat
  concurrency:
    description:
      - How many probes run at the same time.
    type: int
    default: 4
  probe_timeout:
    description:
      - Seconds each probe may take. LiteLLM is asked to give up on the provider after this long
        (and answers 408); the connection waits for that answer as long again, 5 s at most.
    type: float
    default: 30.0
  max_tokens:
    description:
      - Output tokens a chat probe asks for.
    type: int
    default: 1
  input:
    description:
      - Text of the chat message or of the embedding input.
    type: str
    default: ping
  retries:
    description:
      - C(num_retries) sent with each probe; V(0) disables the proxy's retries so a failing
        deployment is seen at once. Set it to the proxy's C(num_retries) to probe the way clients
        are served, or to V(-1) to send none (the proxy's setting applies).
    type: int
    default: 0
  bypass_cache:
    description:
      - Ask the proxy neither to answer from its response cache nor to store the answer.
    type: bool
    default: true
seealso:
  - module: gatewayops.litellm.health_info
  - module: gatewayops.litellm.metrics_info
"""

EXAMPLES = r"""
- name: Probe every model the proxy lists
  gatewayops.litellm.model_probe:
    url: http://127.0.0.1:4000
    api_key: "{{ litellm_master_key }}"
  register: probe

- name: Show what failed
  ansible.builtin.debug:
    msg: "{{ probe.table }}"
  when: probe.failed_models | length > 0

- name: These two must answer, the text-embedding one is an embedding model
  gatewayops.litellm.model_probe:
    api_key: "{{ litellm_master_key }}"
    models: [gpt-4o-mini, text-embedding-3-small]
    required_models: [gpt-4o-mini, text-embedding-3-small]
    modes:
      text-embedding-3-small: embedding
    probe_timeout: 20
    concurrency: 2
"""

RETURN = r"""
url:
  description: The proxy URL that was probed.
  returned: always
  type: str
  sample: http://127.0.0.1:4000
models:
  description: One entry per model, in the order probed.
  returned: always
  type: list
  elements: dict
  contains:
    model:
      description: Model name.
      type: str
      sample: gpt-4o-mini
    mode:
      description: Mode the model was probed as.
      type: str
      sample: chat
    status:
      description: V(ok) (HTTP 2xx with a JSON answer), V(failed) or V(skipped) (mode not probed, wildcard route).
      type: str
      sample: ok
    http_status:
      description: HTTP status of the answer; null when none came (timeout, connection error) or skipped.
      type: int
      sample: 200
    latency_ms:
      description: Milliseconds from sending the probe to the end of the answer, measured by the module.
      type: float
      sample: 182.4
    overhead_ms:
      description: LiteLLM's own time (header C(x-litellm-overhead-duration-ms)); only on successful answers.
      type: float
      sample: 6.2
    response_ms:
      description: LiteLLM's whole response time (header C(x-litellm-response-duration-ms)).
      type: float
      sample: 170.1
    model_id:
      description: ID of the deployment that answered (header C(x-litellm-model-id)).
      type: str
    error_class:
      description: >-
        LiteLLM's exception class (V(InternalServerError), V(RateLimitError), V(BadRequestError),
        V(Timeout) ...), else LiteLLM's error type, else V(ConnectionRefused), V(Timeout),
        V(NameResolutionError) ... for errors before an HTTP answer. Null when ok.
      type: str
      sample: RateLimitError
    error_message:
      description: First paragraph of the error, one line, at most 300 characters. Null when ok.
      type: str
      sample: "OpenAIException - Rate limit reached, retry later."
ok_models:
  description: Names of the models that answered.
  returned: always
  type: list
  elements: str
failed_models:
  description: Names of the models that did not.
  returned: always
  type: list
  elements: str
skipped_models:
  description: Names of the models not probed because of their mode or name.
  returned: always
  type: list
  elements: str
summary:
  description:
    - Counts, and statistics of the successful probes' RV(models[].latency_ms) and
      RV(models[].overhead_ms) in milliseconds, C(count), C(min), C(max), C(mean), C(p50), C(p90),
      C(p95) and C(p99) (linear interpolation between the closest ranks), the shape every module of
      the collection reports; null values without a successful probe.
  returned: always
  type: dict
  sample:
    total: 5
    ok: 2
    failed: 3
    skipped: 0
    latency_ms: {"count": 2, "min": 110.2, "max": 121.9, "mean": 116.05, "p50": 116.05, "p90": 120.73, "p95": 121.31, "p99": 121.78}
    overhead_ms: {"count": 2, "min": 5.1, "max": 9.9, "mean": 7.5, "p50": 7.5, "p90": 9.42, "p95": 9.66, "p99": 9.85}
table:
  description: The results as aligned text lines, a header line first (for ansible.builtin.debug).
  returned: always
  type: list
  elements: str
"""

from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gatewayops.litellm.plugins.module_utils._http import Client, connection_argument_spec
from ansible_collections.gatewayops.litellm.plugins.module_utils._litellm import (
    PROBED_MODES,
    auth_message,
    auth_rejected,
    model_list,
    probe,
)
from ansible_collections.gatewayops.litellm.plugins.module_utils._stats import summarize


def plan(params, listed):
    """[(model, mode)] to probe, in order: the given or listed models plus the required ones."""
    names = list(params["models"]) if params["models"] is not None else [name for name, _mode in listed]
    names += params["required_models"]
    excluded = set(params["exclude_models"]) - set(params["required_models"])
    listed_modes = dict(listed)
    seen, result = set(), []
    for name in names:
        if name in seen or name in excluded:
            continue
        seen.add(name)
        mode = str(params["modes"].get(name) or listed_modes.get(name) or params["default_mode"]).lower()
        if "*" in name:
            mode = "wildcard"
        result.append((name, mode))
    return result


def table(results):
    """Aligned text lines: MODEL MODE STATUS HTTP LATENCY ERROR."""
    rows = [("MODEL", "MODE", "STATUS", "HTTP", "LATENCY", "ERROR")]
    for r in results:
        latency = "%.0f ms" % r["latency_ms"] if r["latency_ms"] is not None else "-"
        error = "%s: %s" % (r["error_class"], r["error_message"]) if r["error_class"] else (r["error_message"] or "")
        rows.append((r["model"], r["mode"], r["status"], str(r["http_status"] or "-"), latency, error))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return [("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + "  " + row[5]).rstrip() for row in rows]


def main():
    argument_spec = connection_argument_spec()
    argument_spec["api_key"]["required"] = True
    argument_spec.update(
        models={"type": "list", "elements": "str"},
        exclude_models={"type": "list", "elements": "str", "default": []},
        required_models={"type": "list", "elements": "str", "default": []},
        require_all={"type": "bool", "default": False},
        modes={"type": "dict", "default": {}},
        default_mode={"type": "str", "choices": list(PROBED_MODES), "default": "chat"},
        concurrency={"type": "int", "default": 4},
        probe_timeout={"type": "float", "default": 30.0},
        max_tokens={"type": "int", "default": 1, "no_log": False},
        input={"type": "str", "default": "ping"},
        retries={"type": "int", "default": 0},
        bypass_cache={"type": "bool", "default": True},
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if not 1 <= params["concurrency"] <= 64:
        module.fail_json(msg="concurrency must be from 1 to 64, got %d" % params["concurrency"])
    if params["probe_timeout"] <= 0 or params["max_tokens"] < 1 or params["retries"] < -1:
        module.fail_json(msg="probe_timeout must be positive, max_tokens at least 1 and retries -1 or more")
    client = Client.from_module(module, "model_probe")

    listing = client.get("/v1/models")
    if not listing.answered:
        module.fail_json(msg="Cannot reach the proxy at %s: %s" % (client.base_url, listing.error), url=client.base_url)
    if auth_rejected(listing):
        module.fail_json(msg=auth_message(listing, "/v1/models", True), url=client.base_url)
    if not listing.ok:
        module.fail_json(msg="The proxy at %s could not list its models: %s" % (client.base_url, listing.describe()),
                         url=client.base_url)

    todo = plan(params, model_list(listing))
    options = {"text": params["input"], "max_tokens": params["max_tokens"], "bypass_cache": params["bypass_cache"],
               "retries": None if params["retries"] == -1 else params["retries"], "timeout": params["probe_timeout"]}
    with ThreadPoolExecutor(max_workers=max(1, min(params["concurrency"], len(todo)))) as pool:
        results = list(pool.map(lambda item: probe(client, item[0], item[1], **options), todo))

    for r in results:
        if r["mode"] == "wildcard":
            r["error_message"] = "a wildcard route, not a model name: name the models to probe in models"
    by_status = {status: [r["model"] for r in results if r["status"] == status] for status in ("ok", "failed", "skipped")}
    ok_results = [r for r in results if r["status"] == "ok"]
    result = {
        "changed": False,
        "url": client.base_url,
        "models": results,
        "ok_models": by_status["ok"],
        "failed_models": by_status["failed"],
        "skipped_models": by_status["skipped"],
        "summary": {
            "total": len(results),
            "ok": len(by_status["ok"]),
            "failed": len(by_status["failed"]),
            "skipped": len(by_status["skipped"]),
            "latency_ms": summarize([r["latency_ms"] for r in ok_results], digits=2),
            "overhead_ms": summarize([r["overhead_ms"] for r in ok_results], digits=2),
        },
        "table": table(results),
    }
    required = [r["model"] for r in results] if params["require_all"] else params["required_models"]
    missing = [r for r in results if r["model"] in required and r["status"] != "ok"]
    if missing:
        module.fail_json(msg="%d of %d required model(s) did not answer on %s:\n%s" % (
            len(missing), len(required), client.base_url, "\n".join(table(missing))), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
