# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Settings of a load test: what to send, how and for how long. DEFAULTS, LIMITS, ENDPOINTS
and MODES are the only place their values are written; the load_test module's argument spec
takes its defaults and choices from here.

Private to this collection; standard library only (runs on targets and in benchmarks/)."""

from __future__ import annotations

import binascii
import os

from ansible_collections.gatewayops.litellm.plugins.module_utils._http import DEFAULT_URL
from ansible_collections.gatewayops.litellm.plugins.module_utils._loadgen.http1 import parse_target

# every setting and its default (None: not set)
DEFAULTS = {
    "url": DEFAULT_URL, "api_key": None, "model": None, "endpoint": "chat",
    "prompt": "Say hello.", "vary_prompt": True, "max_tokens": 16, "extra_body": {},
    "headers": {}, "stream": False, "mode": "closed", "concurrency": 10, "rate": None,
    "duration": 10.0, "warmup": 2.0, "max_requests": 100000, "timeout": 30.0,
    "keepalive": True, "validate_certs": True, "ca_path": None, "error_samples": 5,
}
# bounds that keep a run finite and the target alive
LIMITS = {
    "duration": (0.1, 3600.0),
    "warmup": (0.0, 600.0),
    "concurrency": (1, 10000),
    "rate": (0.01, 100000.0),
    "max_requests": (1, 10000000),
    "timeout": (0.1, 3600.0),
    "error_samples": (0, 100),
}
ENDPOINTS = {"chat": "/v1/chat/completions", "embeddings": "/v1/embeddings"}
MODES = ("closed", "open")


def default_of(name):
    """The default of a setting (a fresh copy of a mutable one)."""
    default = DEFAULTS[name]
    return dict(default) if isinstance(default, dict) else default


class LoadConfig(object):
    """What to send, how and for how long (the keys of DEFAULTS; a setting given as None takes
    its default). check() returns the problems (empty when valid)."""

    def __init__(self, **kwargs):
        unknown = set(kwargs) - set(DEFAULTS)
        if unknown:
            raise TypeError("unknown load test settings: %s" % ", ".join(sorted(unknown)))
        for name in DEFAULTS:
            value = kwargs.get(name)
            setattr(self, name, default_of(name) if value is None else value)
        # unique per run, so that prompts differ from every earlier run's (vary_prompt)
        self.run_token = binascii.hexlify(os.urandom(4)).decode("ascii")

    def check(self):
        problems = []
        try:
            parse_target(self.url)
        except ValueError as exc:
            problems.append(str(exc))
        if not self.model:
            problems.append("model is required")
        if self.mode not in MODES:
            problems.append("mode must be one of %s, got %r" % (", ".join(MODES), self.mode))
        if self.endpoint not in ENDPOINTS:
            problems.append("endpoint must be one of %s, got %r" % (", ".join(sorted(ENDPOINTS)), self.endpoint))
        if self.stream and self.endpoint != "chat":
            problems.append("stream needs endpoint chat")
        if self.mode == "open" and self.rate is None:
            problems.append("mode open needs rate (arrivals per second)")
        if self.mode == "closed" and self.rate is not None:
            problems.append("rate only applies to mode open")
        for name, (low, high) in LIMITS.items():
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                problems.append("%s must be from %s to %s, got %r" % (name, low, high, value))
        if self.max_tokens is not None and (isinstance(self.max_tokens, bool) or not isinstance(self.max_tokens, int) or self.max_tokens < 0):
            problems.append("max_tokens must be 0 (not sent) or more, got %r" % (self.max_tokens,))
        for name, value in (self.headers or {}).items():
            if any(c in str(name) + str(value) for c in "\r\n") or not str(name).strip() or ":" in str(name):
                problems.append("header %r is not a valid header" % (name,))
        return problems


def request_body(config, seq):
    """The JSON body of request number `seq`."""
    text = config.prompt
    if config.vary_prompt:
        # the run's own token as well: the next run's request #1 must not hit this run's cache entry
        text = "%s #%s-%d" % (text, config.run_token, seq)
    if config.endpoint == "embeddings":
        body = {"model": config.model, "input": text}
    else:
        body = {"model": config.model, "messages": [{"role": "user", "content": text}]}
        if config.max_tokens:
            body["max_tokens"] = config.max_tokens
        if config.stream:
            body["stream"] = True
    body.update(config.extra_body or {})
    return body
