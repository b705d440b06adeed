# -*- coding: utf-8 -*-
"""gatewayops.litellm.load_test and its core against the fake OpenAI backend
(tests/fixtures/fake_openai/server.py) run as a subprocess on 127.0.0.1, ephemeral port.

Each run is short (about a second of load) and bounded by duration and request count."""

from __future__ import annotations

import json
import re
import time
import urllib.request

import pytest
import yaml

from ansible_collections.gatewayops.litellm.plugins.module_utils._loadgen.config import DEFAULTS, ENDPOINTS, LIMITS, MODES, LoadConfig
from ansible_collections.gatewayops.litellm.plugins.module_utils._loadgen.results import LATE_AFTER_S
from ansible_collections.gatewayops.litellm.plugins.module_utils._loadgen.runner import run_load
from ansible_collections.gatewayops.litellm.plugins.modules import load_test
from ansible_collections.gatewayops.litellm.tests.unit.fake_backend import FakeBackendProcess

DELAY_S = 0.02


class Backend(FakeBackendProcess):
    """The fake backend with a small latency, plus its /stats counters."""

    def __init__(self, delay_s=DELAY_S):
        super().__init__(FAKE_DELAY_S=str(delay_s))

    def stats(self):
        with urllib.request.urlopen(self.url + "/stats", timeout=5) as answer:
            return json.loads(answer.read())

    def reset(self):
        urllib.request.urlopen(urllib.request.Request(self.url + "/stats/reset", method="POST"), timeout=5).close()


@pytest.fixture(scope="module")
def backend():
    server = Backend()
    yield server
    server.stop()


@pytest.fixture
def fresh(backend):
    backend.reset()
    return backend


def run(url, **settings):
    settings.setdefault("model", "fake-chat")
    settings.setdefault("warmup", 0.2)
    settings.setdefault("duration", 1.0)
    settings.setdefault("timeout", 10.0)
    return run_load(LoadConfig(url=url, **settings))


class TestCore:
    def test_closed_loop_measures_only_after_warmup(self, fresh):
        marks = []
        result = run_load(LoadConfig(url=fresh.url, model="fake-chat", concurrency=4, warmup=0.3, duration=1.0),
                          hooks={"measure_start": lambda: marks.append(("start", time.monotonic())),
                                 "measure_end": lambda: marks.append(("end", time.monotonic()))})
        s = result.summary()
        # 4 clients x ~1 s / 20 ms delay: well over 50 requests, none failed
        assert s["requests"] > 50 and s["errors"] == 0 and s["status_codes"] == {"200": s["requests"]}
        assert s["warmup_requests"] > 10
        assert fresh.stats()["requests_total"] == s["requests"] + s["warmup_requests"]
        assert all(r.intended >= result.window_start for r in result.records)
        assert 0.9 <= s["elapsed_s"] <= 1.5
        assert s["latency_ms"]["p50"] >= DELAY_S * 1000 and s["latency_ms"]["max"] < 1000
        assert s["rps"] == pytest.approx(s["requests"] / s["elapsed_s"], rel=0.01)
        assert [m[0] for m in marks] == ["start", "end"]
        assert marks[0][1] == pytest.approx(result.window_start, abs=0.1)
        # keep-alive: 4 clients need 4 connections, not one per request (the backend counts requests only)
        assert fresh.stats()["max_in_flight"] <= 4

    def test_max_requests_ends_the_run_early(self, fresh):
        s = run(fresh.url, concurrency=2, duration=30.0, max_requests=20).summary()
        assert s["requests"] == 20 and s["elapsed_s"] < 5

    def test_open_loop_keeps_the_rate_and_counts_from_intended_time(self, fresh):
        s = run(fresh.url, mode="open", rate=100.0, concurrency=20, duration=1.0).summary()
        assert s["requests"] == 100 and s["dropped"] == 0 and s["errors"] == 0
        assert s["warmup_requests"] == 20
        assert s["send_lag_ms"]["count"] == 100
        assert s["latency_ms"]["p50"] >= DELAY_S * 1000

    def test_open_loop_coordinated_omission_shows_queueing(self, fresh):
        # 1 connection, 20 ms per answer, 100 arrivals/s: the client cannot keep up; latency
        # counted from the intended time grows with the queue, late sends are reported
        s = run(fresh.url, mode="open", rate=100.0, concurrency=1, duration=1.0, warmup=0.0, timeout=5.0).summary()
        assert s["late"] > 50
        assert s["latency_ms"]["max"] > 400
        assert s["send_lag_ms"]["max"] > 300

    def test_open_loop_overload_fails_arrivals_instead_of_slowing_down(self, fresh):
        # 1 connection, 220 ms per answer, 200 arrivals/s, 0.3 s from intended time to answer:
        # almost every arrival times out waiting or is dropped, none is silently postponed
        s = run(fresh.url, mode="open", rate=200.0, concurrency=1, duration=1.0, warmup=0.0, timeout=0.3,
                headers={"x-fake-behavior": "slow-200"}).summary()
        assert s["requests"] + s["dropped"] == 200
        assert set(s["error_kinds"]) <= {"timeout", "dropped"}
        assert s["errors"] + s["dropped"] > 190 and s["error_rate"] > 0.95

    def test_streaming_time_to_first_token(self, fresh):
        s = run(fresh.url, concurrency=3, stream=True).summary()
        assert s["requests"] > 20 and s["errors"] == 0
        assert s["ttft_ms"]["count"] == s["requests"]
        assert DELAY_S * 1000 <= s["ttft_ms"]["p50"] <= s["latency_ms"]["p50"]

    def test_error_statuses_are_counted_with_samples(self, fresh):
        s = run(fresh.url, model="fail-500", concurrency=3).summary()
        assert s["requests"] > 20 and s["successes"] == 0 and s["errors"] == s["requests"]
        assert s["status_codes"] == {"500": s["requests"]} and s["error_kinds"] == {"http_500": s["requests"]}
        assert s["error_rate"] == 1.0 and s["latency_ms"]["count"] == 0
        assert len(s["error_samples"]) == 1 and "server_error" in s["error_samples"][0]["message"]

    def test_without_keepalive_every_request_has_its_own_connection(self, fresh):
        s = run(fresh.url, concurrency=2, keepalive=False).summary()
        assert s["requests"] > 20 and s["errors"] == 0

    def test_embeddings(self, fresh):
        s = run(fresh.url, endpoint="embeddings", model="text-embedding-3-small", concurrency=2).summary()
        assert s["requests"] > 20 and s["errors"] == 0
        assert fresh.stats()["by_model"]["text-embedding-3-small"] == s["requests"] + s["warmup_requests"]

    def test_timeouts(self, fresh):
        s = run(fresh.url, model="timeout", concurrency=2, warmup=0.0, duration=0.3, timeout=0.5).summary()
        assert s["requests"] == 2 and s["error_kinds"] == {"timeout": 2}

    def test_refused_connections(self, fresh):
        s = run("http://127.0.0.1:1", concurrency=1, warmup=0.0, duration=0.2).summary()
        assert s["requests"] >= 1 and s["status_codes"] == {} and set(s["error_kinds"]) == {"connect_refused"}


class TestModule:
    def args(self, backend, **extra):
        args = {"url": backend.url, "api_key": "sk-test-not-a-real-key", "model": "fake-chat", "warmup": 0.2,
                "duration": 1.0, "concurrency": 3}
        args.update(extra)
        return args

    def test_closed_loop_passes_its_thresholds(self, fresh, run):
        result = run(load_test, self.args(fresh, min_rps=10, max_p99_ms=5000, max_error_rate=0))
        assert not result.get("failed") and result["changed"] is False
        assert result["requests"] > 20 and result["errors"] == 0 and result["mode"] == "closed"
        assert [c["passed"] for c in result["thresholds"]] == [True, True, True]
        assert result["table"][0].split() == ["check", "target", "measured", "result"]
        assert result["msg"].startswith("%d requests" % result["requests"])
        assert "sk-test-not-a-real-key" not in json.dumps(result)

    def test_failing_thresholds_fail_with_a_table(self, fresh, run):
        result = run(load_test, self.args(fresh, model="fail-500", min_rps=1, max_error_rate=0.01))
        assert result["failed"]
        assert "2 of 2 load test threshold(s) not met" in result["msg"]
        assert re.search(r"max_error_rate\s+<= 0\.01\s+1\s+FAILED", result["msg"])
        assert result["status_codes"] == {"500": result["requests"]}

    def test_open_loop_streaming(self, fresh, run):
        result = run(load_test, self.args(fresh, mode="open", rate=50, concurrency=10, stream=True))
        assert not result.get("failed")
        assert result["requests"] == 50 and result["rate"] == 50 and result["ttft_ms"]["count"] == 50

    def test_check_mode_sends_nothing(self, fresh, run):
        result = run(load_test, self.args(fresh, _ansible_check_mode=True, min_rps=1e9))
        assert result["skipped"] is True and result["changed"] is False and not result.get("failed")
        assert result["plan"]["concurrency"] == 3 and result["plan"]["rate"] is None
        time.sleep(0.1)
        assert fresh.stats()["requests_total"] == 0

    def test_unreachable_proxy_fails(self, run):
        result = run(load_test, {"url": "http://127.0.0.1:1", "model": "m", "warmup": 0, "duration": 0.2})
        assert result["failed"] and "No request got an HTTP answer" in result["msg"]

    @pytest.mark.parametrize("extra, message", [
        ({"mode": "open"}, "mode is open but all of the following are missing: rate"),
        ({"rate": 5}, "rate only applies to mode open"),
        ({"duration": 0}, "duration must be from"),
        ({"max_error_rate": 2}, "max_error_rate must be from 0 to 1"),
    ])
    def test_invalid_settings(self, run, extra, message):
        args = {"url": "http://127.0.0.1:1", "model": "m"}
        args.update(extra)
        result = run(load_test, args)
        assert result["failed"] and message in result["msg"]


class TestDocumentation:
    """DOCUMENTATION states the defaults and bounds that _loadgen.config owns; they must agree."""

    OPTIONS = yaml.safe_load(load_test.DOCUMENTATION)["options"]

    @pytest.mark.parametrize("name", sorted(set(DEFAULTS) & set(load_test.SETTING_TYPES) | {"timeout"}))
    def test_documented_defaults_are_the_config_defaults(self, name):
        documented = self.OPTIONS[name]
        if DEFAULTS[name] is None:
            assert "default" not in documented
        else:
            assert documented["default"] == DEFAULTS[name]
            assert type(documented["default"]) is type(DEFAULTS[name])

    def test_every_load_setting_is_documented_by_the_module_or_the_connection_fragment(self):
        connection = {"url", "api_key", "validate_certs", "ca_path"}
        assert set(DEFAULTS) - set(self.OPTIONS) == connection

    def test_argument_spec_takes_defaults_and_choices_from_the_config(self):
        spec = load_test.argument_spec()
        for name in set(load_test.SETTING_TYPES) | {"timeout"}:
            assert spec[name].get("default") == DEFAULTS[name], name
        assert spec["endpoint"]["choices"] == self.OPTIONS["endpoint"]["choices"] == sorted(ENDPOINTS)
        assert spec["mode"]["choices"] == self.OPTIONS["mode"]["choices"] == list(MODES)
        assert spec["extra_body"]["default"] is not DEFAULTS["extra_body"]

    @pytest.mark.parametrize("name", sorted(LIMITS))
    def test_documented_bounds_are_the_config_limits(self, name):
        text = " ".join(self.OPTIONS[name]["description"])
        bounds = re.findall(r"([0-9.]+) to ([0-9.]+)", text)
        assert [(float(low), float(high)) for low, high in bounds] == [tuple(float(v) for v in LIMITS[name])]

    def test_documented_lateness_is_the_results_threshold(self):
        description = " ".join(yaml.safe_load(load_test.DOCUMENTATION)["description"])
        assert "more than %g ms late" % (LATE_AFTER_S * 1000) in description
