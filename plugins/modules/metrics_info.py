#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: metrics_info
short_description: Scrape a LiteLLM proxy's Prometheus metrics and summarize them
version_added: 0.1.0
description:
  - Reads the Prometheus metrics of a LiteLLM proxy (its C(prometheus) callback must be on),
    parses the text exposition format and returns request totals, failures by status, latency
    quantiles estimated from the histograms, the cache hit rate and the state of each deployment.
  - Counters and histograms cover the time since the proxy started. Compare two runs for what
    happened in between.
  - LiteLLM 1.108.7 protects C(/metrics) with a key (answers 401 without one) and redirects
    C(/metrics) to C(/metrics/) (307); the default O(path) asks for C(/metrics/) directly, and
    redirects within the same origin are followed.
  - With C(--prometheus_metrics_port) the metrics are served without auth by a separate process;
    scrape that with O(metrics_url) and no O(api_key).
  - Fails when the metrics cannot be read (no answer, refused key, not the exposition format).
    Never reports a change.
author:
  - gatewayops engineering (@gatewayops)
extends_documentation_fragment:
  - gatewayops.litellm.connection
  - gatewayops.litellm.attributes
  - gatewayops.litellm.attributes.info_module
  - gatewayops.litellm.attributes.actiongroup
options:
  path:
    description:
      - Path of the metrics below O(url).
    type: str
    default: /metrics/
  metrics_url:
    description:
      - Full URL of the metrics, for a separate metrics port (C(http://127.0.0.1:9090/metrics/)).
        Replaces O(url) and O(path). O(api_key) is sent to it when given.
    type: str
  families:
    description:
      - Also return these metric families as parsed (name, labels and value of every sample).
        A name may end in C(*) to match a prefix, for example C(litellm_deployment_*).
    type: list
    elements: str
    default: []
  max_bytes:
    description:
      - Largest metrics text to read, in bytes.
    type: int
    default: 33554432
seealso:
  - module: gatewayops.litellm.health_info
  - module: gatewayops.litellm.model_probe
"""

EXAMPLES = r"""
- name: Read the proxy's metrics
  gatewayops.litellm.metrics_info:
    url: http://127.0.0.1:4000
    api_key: "{{ litellm_master_key }}"
  register: metrics

- name: Report
  ansible.builtin.debug:
    msg: >-
      {{ metrics.requests.total }} requests, {{ metrics.failures.total }} failed,
      p50 {{ metrics.latency_ms.total.p50 }} ms, cache hit rate {{ metrics.cache.hit_rate }}

- name: Scrape the separate metrics port, with the raw deployment families
  gatewayops.litellm.metrics_info:
    metrics_url: http://127.0.0.1:9090/metrics/
    families: ["litellm_deployment_*"]
"""

RETURN = r"""
url:
  description: The URL the metrics were read from (after redirects).
  returned: always
  type: str
  sample: http://127.0.0.1:4000/metrics/
scrape:
  description: How the scrape went.
  returned: always
  type: dict
  sample: {"status_code": 200, "latency_ms": 21.4, "bytes": 131072, "families": 226, "samples": 612}
requests:
  description: >-
    Requests the proxy answered (C(litellm_proxy_total_requests_metric_total)), in total and by
    C(status_code), C(route) and requested model. LLM routes count every request; other routes
    (C(/metrics), C(/v1/models) ...) only failed ones, such as a refused key (LiteLLM 1.108.7).
  returned: always
  type: dict
  sample: {"total": 42, "by_status": {"200": 38, "500": 4}, "by_route": {"/v1/chat/completions": 40, "/metrics/": 2},
           "by_model": {"gpt-4o-mini": 40}}
failures:
  description: >-
    Requests that failed (C(litellm_proxy_failed_requests_metric_total)), in total and by
    C(exception_status), C(exception_class) and requested model.
  returned: always
  type: dict
  sample: {"total": 4, "by_status": {"500": 4}, "by_class": {"Openai.InternalServerError": 4}, "by_model": {"gpt-4o": 4}}
latency_ms:
  description: >-
    Milliseconds, estimated from the histograms of all series together: V(total) (request at the
    proxy, C(litellm_request_total_latency_metric)), V(llm_api) (the provider call), V(overhead)
    (LiteLLM's own time) and V(queue) (before processing). Each has the keys every module of the
    collection reports, C(count), C(min), C(max), C(mean), C(p50), C(p90), C(p95) and C(p99);
    C(min) and C(max) are always null (a histogram does not keep them). The quantiles are
    interpolated inside histogram buckets like PromQL's histogram_quantile(), so their precision
    is that of the bucket bounds.
  returned: always
  type: dict
  sample: {"total": {"count": 40, "min": null, "max": null, "mean": 152.3, "p50": 131.2, "p90": 240.0, "p95": 360.2, "p99": 480.5}}
latency_by_model_ms:
  description: Like the V(total) entry of RV(latency_ms), per model group.
  returned: always
  type: dict
cache:
  description: >-
    Response cache counters. C(hit_rate) is hits / successful LLM requests
    (C(litellm_requests_metric_total), which counts cache hits too; C(hit_rate_basis) says so).
    C(misses) is LiteLLM's own miss counter where it exports one, shown as it is: LiteLLM 1.108.7
    counts a miss only when a call's logging payload marks it, so it undercounts and is not the
    rate's basis. Null without requests.
  returned: always
  type: dict
  sample: {"hits": 3, "misses": null, "requests": 9, "hit_rate": 0.3333, "hit_rate_basis": "hits/requests", "cached_tokens": 15}
tokens:
  description: Tokens counted by the proxy (total, input, output).
  returned: always
  type: dict
in_flight_requests:
  description: Requests in flight at the time of the scrape (null when not exported).
  returned: always
  type: int
deployments:
  description: One entry per deployment from C(litellm_deployment_state).
  returned: always
  type: list
  elements: dict
  contains:
    model_group:
      description: Model name clients use (learned from the deployment counters; null before the first request).
      type: str
    model:
      description: Provider model name of the deployment.
      type: str
    model_id:
      description: Deployment ID.
      type: str
    api_base:
      description: Provider endpoint.
      type: str
    provider:
      description: Provider name.
      type: str
    state:
      description: V(healthy), V(partial_outage), V(complete_outage) or V(unknown).
      type: str
    state_code:
      description: The gauge value (0, 1, 2).
      type: int
deployment_states:
  description: How many deployments are in each state.
  returned: always
  type: dict
  sample: {"healthy": 2, "partial_outage": 1, "complete_outage": 0}
families:
  description: The families asked for in O(families), by name, each with type, help and samples (name, labels, value).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gatewayops.litellm.plugins.module_utils._http import Client, connection_argument_spec
from ansible_collections.gatewayops.litellm.plugins.module_utils._litellm import (
    auth_message,
    auth_rejected,
)
from ansible_collections.gatewayops.litellm.plugins.module_utils._prometheus import (
    PrometheusParseError,
    litellm_summary,
    parse,
    select_families,
)


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        path={"type": "str", "default": "/metrics/"},
        metrics_url={"type": "str"},
        families={"type": "list", "elements": "str", "default": []},
        max_bytes={"type": "int", "default": 32 * 1024 * 1024},
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if params["max_bytes"] < 1024:
        module.fail_json(msg="max_bytes must be at least 1024, got %d" % params["max_bytes"])
    if params["metrics_url"]:
        # the whole URL is the base; keep its trailing slash (LiteLLM redirects /metrics to /metrics/)
        module.params["url"] = params["metrics_url"]
        path = "/" if params["metrics_url"].rstrip().endswith("/") else ""
    else:
        path = "/" + params["path"].lstrip("/")
    client = Client.from_module(module, "metrics_info")
    answer = client.get(path, max_body=params["max_bytes"] + 1)
    where = answer.url
    if not answer.answered:
        module.fail_json(msg="Cannot read the metrics at %s: %s" % (where, answer.error), url=where)
    if auth_rejected(answer):
        module.fail_json(msg=auth_message(answer, where, bool(params["api_key"])), url=where)
    if answer.status == 404:
        module.fail_json(msg="No metrics at %s (HTTP 404): is the prometheus callback on "
                             "(litellm_settings.callbacks: [prometheus])?" % where, url=where)
    if not answer.ok:
        module.fail_json(msg="Cannot read the metrics at %s: %s" % (where, answer.error or answer.describe()), url=where)
    if len(answer.body) > params["max_bytes"]:
        module.fail_json(msg="The metrics at %s are larger than max_bytes (%d)" % (where, params["max_bytes"]), url=where)
    try:
        families = parse(answer.text())
    except PrometheusParseError as exc:
        module.fail_json(msg="The answer of %s is not Prometheus text: %s" % (where, exc), url=where)

    result = {
        "changed": False,
        "url": where,
        "scrape": {
            "status_code": answer.status,
            "latency_ms": round(answer.elapsed_ms, 1),
            "bytes": len(answer.body),
            "families": len(families),
            "samples": sum(len(f.samples) for f in families.values()),
        },
        "families": select_families(families, params["families"]),
    }
    result.update(litellm_summary(families))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
