# -*- coding: utf-8 -*-
"""_loadgen.config: settings, their defaults and bounds, the request body."""

from __future__ import annotations

import re

import pytest

from ansible_collections.gatewayops.litellm.plugins.module_utils._http import connection_argument_spec
from ansible_collections.gatewayops.litellm.plugins.module_utils._loadgen import config as cfg


class TestRequestBody:
    def test_chat_body_varies_and_merges_extra(self):
        config = cfg.LoadConfig(model="m", prompt="Hi", max_tokens=5, stream=True, extra_body={"num_retries": 0})
        assert re.fullmatch(r"[0-9a-f]{8}", config.run_token)
        assert cfg.request_body(config, 7) == {"model": "m", "messages": [{"role": "user", "content": "Hi #%s-7" % config.run_token}],
                                               "max_tokens": 5, "stream": True, "num_retries": 0}
        config = cfg.LoadConfig(model="m", prompt="Hi", vary_prompt=False, max_tokens=0)
        assert cfg.request_body(config, 7) == {"model": "m", "messages": [{"role": "user", "content": "Hi"}]}

    def test_embeddings_body(self):
        config = cfg.LoadConfig(model="e", endpoint="embeddings", prompt="text")
        assert cfg.request_body(config, 1) == {"model": "e", "input": "text #%s-1" % config.run_token}

    def test_two_runs_never_send_the_same_prompt(self):
        # a response cache kept from the first run must not answer the second
        first, second = cfg.LoadConfig(model="m"), cfg.LoadConfig(model="m")
        assert first.run_token != second.run_token
        assert cfg.request_body(first, 1) != cfg.request_body(second, 1)


class TestConfig:
    def test_defaults_are_valid(self):
        assert cfg.LoadConfig(model="m").check() == []

    @pytest.mark.parametrize("settings, problem", [
        ({}, "model is required"),
        ({"model": "m", "mode": "open"}, "mode open needs rate"),
        ({"model": "m", "rate": 5.0}, "rate only applies to mode open"),
        ({"model": "m", "duration": 0}, "duration must be from"),
        ({"model": "m", "duration": 7200}, "duration must be from"),
        ({"model": "m", "concurrency": 0}, "concurrency must be from"),
        ({"model": "m", "max_requests": 0}, "max_requests must be from"),
        ({"model": "m", "stream": True, "endpoint": "embeddings"}, "stream needs endpoint chat"),
        ({"model": "m", "url": "ftp://x"}, "must start with http"),
        ({"model": "m", "headers": {"X-Bad": "a\r\nInjected: 1"}}, "not a valid header"),
        ({"model": "m", "max_tokens": -1}, "max_tokens must be"),
    ])
    def test_problems(self, settings, problem):
        assert any(problem in p for p in cfg.LoadConfig(**settings).check())

    def test_unknown_setting(self):
        with pytest.raises(TypeError, match="unknown load test settings: nope"):
            cfg.LoadConfig(model="m", nope=1)


class TestDefaults:
    def test_every_setting_starts_at_its_default(self):
        config = cfg.LoadConfig()
        assert dict((name, getattr(config, name)) for name in cfg.DEFAULTS) == cfg.DEFAULTS

    def test_none_means_the_default(self):
        config = cfg.LoadConfig(model="m", concurrency=None, duration=None, prompt=None)
        assert (config.concurrency, config.duration, config.prompt) == (
            cfg.DEFAULTS["concurrency"], cfg.DEFAULTS["duration"], cfg.DEFAULTS["prompt"])

    def test_mutable_defaults_are_not_shared(self):
        first, second = cfg.LoadConfig(model="m"), cfg.LoadConfig(model="m")
        first.headers["X-One"] = "1"
        first.extra_body["num_retries"] = 0
        assert second.headers == {} and second.extra_body == {}
        assert cfg.DEFAULTS["headers"] == {} and cfg.DEFAULTS["extra_body"] == {}
        assert cfg.default_of("headers") is not cfg.DEFAULTS["headers"]

    def test_connection_defaults_are_the_connection_options(self):
        # the load test overrides only the timeout (a whole request, not one read)
        connection = connection_argument_spec()
        for name in ("url", "validate_certs"):
            assert cfg.DEFAULTS[name] == connection[name]["default"]
        for name in ("api_key", "ca_path"):
            assert cfg.DEFAULTS[name] is None and "default" not in connection[name]

    @pytest.mark.parametrize("name", sorted(name for name in cfg.LIMITS if name != "rate"))
    def test_defaults_are_within_their_limits(self, name):
        low, high = cfg.LIMITS[name]
        assert low <= cfg.DEFAULTS[name] <= high

    def test_rate_has_no_default(self):
        # the closed loop, the default mode, refuses a rate
        assert cfg.DEFAULTS["rate"] is None and cfg.DEFAULTS["mode"] == "closed"

    @pytest.mark.parametrize("name", sorted(cfg.LIMITS))
    def test_limits_are_inclusive(self, name):
        low, high = cfg.LIMITS[name]
        settings = {"model": "m", "mode": "open", "rate": 1.0} if name == "rate" else {"model": "m"}
        for value, valid in ((low, True), (high, True), (high * 2, False), (-1, False)):
            problems = cfg.LoadConfig(**dict(settings, **{name: value})).check()
            assert (problems == []) is valid, (name, value, problems)

    def test_every_endpoint_and_mode_is_accepted(self):
        for endpoint in cfg.ENDPOINTS:
            assert cfg.LoadConfig(model="m", endpoint=endpoint).check() == []
        assert cfg.LoadConfig(model="m", mode="open", rate=1.0).check() == []
        assert set(cfg.MODES) == {"closed", "open"}
