#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: load_test
short_description: Load-test a LiteLLM proxy and check throughput, latency and error thresholds
version_added: 0.1.0
description:
  - Sends chat completion (optionally streamed) or embedding requests to a LiteLLM proxy for
    O(duration) seconds after a O(warmup), from the host the module runs on, and reports
    requests per second, latency percentiles, LiteLLM's own overhead (the
    C(x-litellm-overhead-duration-ms) header), time to first token when streaming, a histogram
    of HTTP statuses, the error rate and a few error samples.
  - "Closed loop (O(mode=closed)): O(concurrency) clients, each sends its next request as soon as
    its previous one is answered. Shows the throughput the proxy sustains at that concurrency."
  - "Open loop (O(mode=open)): requests arrive at O(rate) per second whatever the proxy does, on
    at most O(concurrency) connections. Latency counts from each request's intended send time, so
    a proxy that falls behind shows the queueing delay instead of hiding it (no coordinated
    omission). Arrivals that find no free connection within O(timeout) are dropped and counted;
    requests sent more than 10 ms late are counted as late."
  - Requests that start during the warm-up are sent but not measured. A run ends after
    O(duration) seconds or O(max_requests) measured requests, whichever comes first; requests in
    flight then are waited for (at most O(timeout)).
  - Standard library only (asyncio, HTTP/1.1 with keep-alive, TLS through C(ssl)); no client
    retries, so every failure the proxy causes is counted.
  - Each request is a real request to the proxy's provider and is billed like one. By default
    every prompt is different (O(vary_prompt)) so that a response cache does not answer.
  - Fails when a threshold (O(min_rps), O(max_p99_ms), O(max_error_rate)) is not met, with a table
    of target and measured values, and when no request got an HTTP answer at all. Never reports a
    change.
author:
  - gatewayops engineering (@gatewayops)
extends_documentation_fragment:
  - gatewayops.litellm.connection
  - gatewayops.litellm.attributes
  - gatewayops.litellm.attributes.actiongroup
options:
  timeout:
    description:
      - Seconds each request may take from its intended send time to the end of its answer
        (connection, TLS handshake, whole body or stream), 0.1 to 3600. A request that takes longer
        counts as an error of kind C(timeout).
    default: 30.0
  model:
    description:
      - Model name sent in each request (a C(model_name) of the proxy's C(model_list)).
    type: str
    required: true
  endpoint:
    description:
      - V(chat) sends C(/v1/chat/completions), V(embeddings) sends C(/v1/embeddings).
    type: str
    choices: [chat, embeddings]
    default: chat
  prompt:
    description:
      - Text of the user message (chat) or of the input (embeddings).
    type: str
    default: Say hello.
  vary_prompt:
    description:
      - Append a token of the run and the request's number (a space and C(#<token>-<n>)) to
        O(prompt) so that no two requests, in this run or an earlier one, are the same and a
        response cache cannot answer them.
    type: bool
    default: true
  max_tokens:
    description:
      - C(max_tokens) of a chat request; V(0) sends none.
    type: int
    default: 16
  stream:
    description:
      - Ask for a streamed chat completion (server-sent events) and measure the time to the first
        chunk that carries output (RV(ttft_ms)).
      - "A stream without its closing C(data: [DONE]) or with an error event counts as an error."
    type: bool
    default: false
  extra_body:
    description:
      - Keys merged into every request body, for example C(num_retries), C(metadata) or
        C(cache).
    type: dict
    default: {}
  headers:
    description:
      - Extra request headers.
    type: dict
    default: {}
  mode:
    description:
      - V(closed) for O(concurrency) clients that each wait for their answer, V(open) for a fixed
        arrival O(rate).
    type: str
    choices: [closed, open]
    default: closed
  concurrency:
    description:
      - Closed loop, the number of clients (each with its own keep-alive connection), 1 to 10000.
      - Open loop, the most requests in flight (connections); give at least O(rate) times the
        expected latency in seconds, or arrivals wait for a connection (their latency includes
        the wait) and may be dropped.
    type: int
    default: 10
  rate:
    description:
      - Open loop only, arrivals per second, evenly spaced, 0.01 to 100000.
    type: float
  duration:
    description:
      - Seconds of measured load after the warm-up, 0.1 to 3600.
    type: float
    default: 10.0
  warmup:
    description:
      - Seconds of load before the measured window, 0 to 600; their requests are not reported.
    type: float
    default: 2.0
  max_requests:
    description:
      - Most measured requests (arrivals in the open loop), 1 to 10000000; the run ends early when
        they are sent.
    type: int
    default: 100000
  keepalive:
    description:
      - Reuse connections (HTTP/1.1 keep-alive).
      - "V(false) sends C(Connection: close) and opens a new connection for every request."
    type: bool
    default: true
  min_rps:
    description:
      - Fail unless successful requests per second (RV(success_rps)) reach this.
    type: float
  max_p99_ms:
    description:
      - Fail unless the 99th percentile latency of successful requests is at most this (ms).
    type: float
  max_error_rate:
    description:
      - Fail unless the share of failed requests (dropped arrivals included), 0 to 1, is at most
        this.
    type: float
  error_samples:
    description:
      - How many distinct failures to return in RV(error_samples), 0 to 100.
    type: int
    default: 5
attributes:
  check_mode:
    support: full
    details:
      - A load test changes nothing, but it loads the proxy and is billed by its providers, so in
        check mode the module sends no request. It returns C(skipped=true) and the planned load
        (RV(plan)) instead of measurements, and never fails on thresholds.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - The module never reports C(changed); its measurements differ from run to run.
notes:
  - The load generator shares the CPU of the host it runs on. Run it on another host than the
    proxy, or account for its share, when the numbers must be absolute.
  - Latency is measured to the end of the answer (the last byte of the body or stream).
  - Each connection is a file descriptor of the module's process; a O(concurrency) above its
    open-file limit (often 1024) makes connections fail as C(connect_error).
seealso:
  - module: gatewayops.litellm.model_probe
  - module: gatewayops.litellm.metrics_info
"""

EXAMPLES = r"""
- name: 30 s at 50 concurrent clients, must sustain 40 req/s with p99 under 3 s and no errors
  gatewayops.litellm.load_test:
    url: http://127.0.0.1:4000
    api_key: "{{ litellm_master_key }}"
    model: gpt-4o-mini
    concurrency: 50
    duration: 30
    min_rps: 40
    max_p99_ms: 3000
    max_error_rate: 0
  register: load

- name: Show the figures
  ansible.builtin.debug:
    msg: "{{ load.msg }}"

- name: Open loop at 20 arrivals per second, streamed, time to first token
  gatewayops.litellm.load_test:
    api_key: "{{ litellm_master_key }}"
    model: gpt-4o-mini
    mode: open
    rate: 20
    concurrency: 200
    stream: true
    duration: 60
    max_requests: 1200
  register: stream_load

- name: Through a TLS reverse proxy with a private CA, no retries inside LiteLLM
  gatewayops.litellm.load_test:
    url: https://llm.example.internal
    ca_path: /etc/ssl/private-ca.pem
    api_key: "{{ litellm_master_key }}"
    model: gpt-4o-mini
    extra_body:
      num_retries: 0
    max_error_rate: 0.01
"""

RETURN = r"""
msg:
  description: One line with requests, requests per second, latency and errors.
  returned: always
  type: str
  sample: "1532 requests in 15.0 s (closed loop, concurrency 20): 102.1 req/s, latency p50/p95/p99/max 190/240/310/402 ms, errors 0 (0.00 %)"
url:
  description: Base URL of the proxy.
  returned: always
  type: str
  sample: http://127.0.0.1:4000
plan:
  description: The load that was (or, in check mode, would have been) sent.
  returned: always
  type: dict
  sample: {"mode": "closed", "endpoint": "chat", "model": "gpt-4o-mini", "stream": false, "concurrency": 20, "rate": null,
           "warmup_s": 2.0, "duration_s": 15.0, "max_requests": 100000, "keepalive": true}
mode:
  description: V(closed) or V(open).
  returned: success and not check mode
  type: str
  sample: closed
concurrency:
  description: Clients (closed loop) or most requests in flight (open loop).
  returned: success and not check mode
  type: int
  sample: 20
rate:
  description: Arrivals per second (open loop), null for the closed loop.
  returned: success and not check mode
  type: float
  sample: null
stream:
  description: Whether the requests were streamed.
  returned: success and not check mode
  type: bool
  sample: false
elapsed_s:
  description: Seconds from the start of the measured window to the end of its last request.
  returned: success and not check mode
  type: float
  sample: 15.02
warmup_requests:
  description: Requests sent during the warm-up (not in any other figure).
  returned: success and not check mode
  type: int
  sample: 180
requests:
  description: Measured requests that were sent.
  returned: success and not check mode
  type: int
  sample: 1532
successes:
  description: Requests answered with a 2xx status (and, streaming, a complete stream without error event).
  returned: success and not check mode
  type: int
  sample: 1532
errors:
  description: Measured requests that failed (HTTP status >= 300 or a transport failure).
  returned: success and not check mode
  type: int
  sample: 0
dropped:
  description: Open loop, arrivals that got no connection within O(timeout) and were never sent.
  returned: success and not check mode
  type: int
  sample: 0
late:
  description: Open loop, requests sent more than 10 ms after their intended time.
  returned: success and not check mode
  type: int
  sample: 0
error_rate:
  description: (errors + dropped) / (requests + dropped), 0 to 1.
  returned: success and not check mode
  type: float
  sample: 0.0
rps:
  description: Requests per second over RV(elapsed_s).
  returned: success and not check mode
  type: float
  sample: 102.1
success_rps:
  description: Successful requests per second over RV(elapsed_s).
  returned: success and not check mode
  type: float
  sample: 102.1
latency_ms:
  description:
    - Latency of successful requests in milliseconds, from the intended send time to the last
      byte; C(count), C(min), C(max), C(mean), C(p50), C(p90), C(p95), C(p99) (linear
      interpolation between the closest ranks), the shape every module of the collection
      reports. Null values when no request succeeded.
  returned: success and not check mode
  type: dict
  sample: {"count": 1532, "min": 104.2, "max": 402.7, "mean": 196.3, "p50": 190.1, "p90": 228.4, "p95": 240.5, "p99": 310.2}
overhead_ms:
  description: LiteLLM's C(x-litellm-overhead-duration-ms) of successful requests that carried it, same keys.
  returned: success and not check mode
  type: dict
  sample: {"count": 1532, "min": 3.1, "max": 260.0, "mean": 88.4, "p50": 80.2, "p90": 128.7, "p95": 140.9, "p99": 201.3}
ttft_ms:
  description: Streaming only, time to the first chunk with output, from the intended send time, same keys.
  returned: success and not check mode
  type: dict
  sample: {"count": 400, "min": 101.0, "max": 240.1, "mean": 130.2, "p50": 122.4, "p90": 170.8, "p95": 180.3, "p99": 220.9}
send_lag_ms:
  description: Open loop only, how late requests were sent after their intended time, same keys.
  returned: success and not check mode
  type: dict
  sample: {"count": 600, "min": 0.1, "max": 9.8, "mean": 0.9, "p50": 0.6, "p90": 1.8, "p95": 2.9, "p99": 6.2}
status_codes:
  description: Measured requests per HTTP status (requests without an HTTP answer are not in it).
  returned: success and not check mode
  type: dict
  sample: {"200": 1520, "429": 12}
error_kinds:
  description:
    - Failed requests per kind, C(http_<status>), C(timeout), C(connect_refused), C(connect_error),
      C(reset), C(closed) (the connection ended before the answer did), C(protocol), C(tls),
      C(network), C(stream_error), C(stream_incomplete), and C(dropped) arrivals.
  returned: success and not check mode
  type: dict
  sample: {"http_429": 12}
error_samples:
  description: Up to O(error_samples) distinct failures, with the seconds into the measured window at which the request was due.
  returned: success and not check mode
  type: list
  elements: dict
  sample: [{"kind": "http_429", "status": 429, "message": "{\"error\": {\"message\": \"Rate limit reached\"}}", "at_s": 3.51}]
thresholds:
  description: One entry per threshold given, with C(name), C(target), C(measured) and C(passed).
  returned: success and not check mode
  type: list
  elements: dict
  sample: [{"name": "min_rps", "target": ">= 40", "measured": "102.1", "passed": true}]
table:
  description: The threshold checks as aligned text lines, a header line first; empty without thresholds.
  returned: success and not check mode
  type: list
  elements: str
  sample: ["check       target  measured  result", "----------  ------  --------  ------", "min_rps     >= 40   102.1     ok"]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gatewayops.litellm.plugins.module_utils._http import connection_argument_spec
from ansible_collections.gatewayops.litellm.plugins.module_utils._loadgen.config import (
    DEFAULTS,
    ENDPOINTS,
    MODES,
    LoadConfig,
    default_of,
)
from ansible_collections.gatewayops.litellm.plugins.module_utils._loadgen.results import (
    evaluate_thresholds,
    summary_line,
    threshold_problems,
    threshold_table,
)
from ansible_collections.gatewayops.litellm.plugins.module_utils._loadgen.runner import run_load

# the type of each load setting; defaults and choices come from _loadgen.config
SETTING_TYPES = {
    "model": "str", "endpoint": "str", "prompt": "str", "vary_prompt": "bool", "max_tokens": "int",
    "stream": "bool", "extra_body": "dict", "headers": "dict", "mode": "str", "concurrency": "int",
    "rate": "float", "duration": "float", "warmup": "float", "max_requests": "int", "keepalive": "bool",
    "error_samples": "int",
}
CHOICES = {"endpoint": sorted(ENDPOINTS), "mode": list(MODES)}
THRESHOLDS = ("min_rps", "max_p99_ms", "max_error_rate")
SETTINGS = tuple(DEFAULTS)
PLAN_KEYS = ("mode", "endpoint", "model", "stream", "concurrency", "rate", "warmup", "duration", "max_requests", "keepalive")


def argument_spec():
    spec = connection_argument_spec()
    spec["timeout"]["default"] = DEFAULTS["timeout"]
    for name, kind in SETTING_TYPES.items():
        option = spec[name] = {"type": kind}
        if DEFAULTS[name] is not None:
            option["default"] = default_of(name)
        if name in CHOICES:
            option["choices"] = CHOICES[name]
    spec["model"]["required"] = True
    spec["max_tokens"]["no_log"] = False
    for name in THRESHOLDS:
        spec[name] = {"type": "float"}
    return spec


def plan_of(config):
    plan = dict((key, getattr(config, key)) for key in PLAN_KEYS)
    plan["warmup_s"] = plan.pop("warmup")
    plan["duration_s"] = plan.pop("duration")
    if config.mode == "closed":
        plan["rate"] = None
    return plan


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           required_if=[("mode", "open", ("rate",))])
    params = module.params
    config = LoadConfig(**dict((key, params[key]) for key in SETTINGS))
    thresholds = dict((name, params[name]) for name in THRESHOLDS)
    problems = config.check() + threshold_problems(**thresholds)
    url = params["url"].rstrip("/")
    if problems:
        module.fail_json(msg="Invalid load test settings: " + "; ".join(problems), url=url)
    plan = plan_of(config)
    if module.check_mode:
        module.exit_json(changed=False, skipped=True, url=url, plan=plan,
                         msg="check mode: no request sent (a load test loads the proxy and is billed by its providers)")

    summary = run_load(config).summary()
    checks = evaluate_thresholds(summary, **thresholds)
    result = dict(summary)
    for key in ("endpoint", "model", "keepalive", "warmup_s", "duration_s", "max_requests"):
        result.pop(key)
    result.update(changed=False, url=url, plan=plan, thresholds=checks,
                  table=threshold_table(checks).split("\n") if checks else [], msg=summary_line(summary))
    answered = sum(summary["status_codes"].values())
    if summary["requests"] and not answered:
        sample = summary["error_samples"][0] if summary["error_samples"] else {}
        module.fail_json(**dict(result, msg="No request got an HTTP answer from %s (%s: %s). %s" % (
            url, sample.get("kind"), sample.get("message"), result["msg"])))
    failed = [c for c in checks if not c["passed"]]
    if failed:
        module.fail_json(**dict(result, msg="%d of %d load test threshold(s) not met on %s:\n%s\n%s" % (
            len(failed), len(checks), url, threshold_table(checks), result["msg"])))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
