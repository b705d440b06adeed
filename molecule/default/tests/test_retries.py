"""The error-type-aware retry policy, proven against the fake backend's own call counts:
429 and 5xx are retried (RateLimitErrorRetries / InternalServerErrorRetries = 3), 400 and
401 are not (their policy is 0), and a retried request that finally succeeds says so in
x-litellm-attempted-retries."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

import pytest
import testinfra.utils.ansible_runner
from gatewayops_stack import BASE
from gatewayops_stack import FAKE_BACKEND as BACKEND
from gatewayops_stack import master_key as _master_key

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]
).get_hosts("all")


def _backend(host, path, method="GET"):
    """Talk to the fake backend inside its container (it publishes no port)."""
    code = ("import urllib.request; print(urllib.request.urlopen(urllib.request.Request("
            f"'http://127.0.0.1:8080{path}', method='{method}')).read().decode())")
    return json.loads(host.check_output("docker exec %s python3 -c %s", BACKEND, code))


def _chat(key, model):
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "retry test"}], "max_tokens": 1}).encode()
    req = urllib.request.Request(BASE + "/v1/chat/completions", data=body, method="POST",
                                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}


@pytest.mark.parametrize("model, backend_model, status, calls", [
    ("fake-fail-500", "fail-500", 500, 4),   # 1 try + 3 retries
    ("fake-fail-429", "fail-429", 429, 4),   # 1 try + 3 retries, backing off
    ("fake-fail-400", "fail-400", 400, 1),   # never retried
])
def test_retry_policy_by_error_type(host, model, backend_model, status, calls):
    _backend(host, "/stats/reset", "POST")
    code, _headers = _chat(_master_key(host), model)
    assert code == status
    assert _backend(host, "/stats")["by_model"].get(backend_model, 0) == calls


def test_authentication_error_is_not_retried(host):
    # the backend answers 401, as a provider does for a wrong provider key
    _backend(host, "/stats/reset", "POST")
    code, _headers = _chat(_master_key(host), "fake-fail-401")
    assert code == 401
    assert _backend(host, "/stats")["by_model"].get("fail-401", 0) == 1


def test_a_retried_request_that_succeeds_reports_its_retries(host):
    _backend(host, "/stats/reset", "POST")
    code, headers = _chat(_master_key(host), "fake-flaky")
    assert code == 200
    assert int(headers["x-litellm-attempted-retries"]) == 2
    assert _backend(host, "/stats")["by_model"]["flaky-2"] == 3
