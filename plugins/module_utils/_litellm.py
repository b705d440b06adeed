# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What LiteLLM's answers mean, for the collection's modules: the exception class and message
of a failed answer, a refused key, the model list, LiteLLM's timing headers, credentials
removed from its JSON, and the minimal probe request of a model.

The transport (the client and its Response) is in _http.

Private to this collection; standard library only (runs on targets)."""

from __future__ import annotations

import re

from ansible_collections.gatewayops.litellm.plugins.module_utils._http import MESSAGE_LIMIT

# LiteLLM names its exception in the message: "litellm.RateLimitError: RateLimitError: ..."
_LITELLM_EXCEPTION = re.compile(r"\blitellm\.(?:exceptions\.)?([A-Z][A-Za-z]+)")
_SECRET_FIELD = re.compile(r"(^|_)(key|secret|token|password|passwd|credentials?|authorization)$", re.IGNORECASE)
# LiteLLM's own time and its whole response time, in milliseconds, on every answer
OVERHEAD_HEADER = "x-litellm-overhead-duration-ms"
RESPONSE_TIME_HEADER = "x-litellm-response-duration-ms"
MODEL_ID_HEADER = "x-litellm-model-id"
# modes of a model that probe() sends a request to
PROBED_MODES = ("chat", "embedding")


def error_info(response):
    """(error_class, message) of a failed LiteLLM answer, e.g. ('RateLimitError', 'Rate limit
    reached, retry later.'). Network failures give (error_kind, error)."""
    if response.status is None:
        return _camel(response.error_kind or "connection"), response.error
    body = response.json()
    message, err_type = None, None
    if isinstance(body, dict):
        err = body.get("error", body.get("detail"))
        if isinstance(err, dict):
            message, err_type = err.get("message"), err.get("type")
        elif isinstance(err, str):
            message = err
    elif isinstance(body, str):
        message = body
    if message is None:
        message = response.text()
    message = str(message)
    match = _LITELLM_EXCEPTION.search(message)
    if match:
        error_class = match.group(1)
    elif err_type:
        error_class = str(err_type)
    else:
        error_class = "HTTP%d" % response.status
    return error_class, clean_message(message)


def _camel(kind):
    return {"timeout": "Timeout", "refused": "ConnectionRefused", "dns": "NameResolutionError",
            "tls": "TLSError", "redirect": "Redirect"}.get(kind, "ConnectionError")


def clean_message(message, limit=MESSAGE_LIMIT):
    """First paragraph of a LiteLLM error message without its 'litellm.X: X:' prefix, one line, bounded."""
    text = str(message).strip().split("\n\n", 1)[0]
    text = re.sub(r"^litellm\.[A-Za-z.]+:\s*(?:[A-Za-z]+:\s*)?", "", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def auth_rejected(response):
    """Did the proxy refuse the key (or the missing key)? 401/403, and LiteLLM without a
    database answers 400 'No connected db.' for any key that is not its master key."""
    if response.status in (401, 403):
        return True
    if response.status == 400:
        body = response.json()
        err = body.get("error") if isinstance(body, dict) else None
        return isinstance(err, dict) and err.get("type") == "no_db_connection"
    return False


def auth_message(response, what, has_key):
    """The message for a refused key, without the key."""
    _cls, detail = error_info(response)
    if not has_key:
        hint = "no api_key was given"
    elif response.status == 400:
        hint = "LiteLLM without a database accepts only its master key; this key is not it"
    else:
        hint = "check api_key"
    return "The proxy refused the API key for %s: HTTP %d (%s); %s." % (what, response.status, detail, hint)


def sanitize(value):
    """A copy of a JSON value without fields that may hold credentials, errors cut to one line."""
    if isinstance(value, dict):
        clean = {}
        for key, item in value.items():
            if _SECRET_FIELD.search(str(key)):
                continue
            if key == "error" and isinstance(item, str):
                clean[key] = clean_message(item)
            else:
                clean[key] = sanitize(item)
        return clean
    if isinstance(value, list):
        return [sanitize(item) for item in value]
    return value


def model_list(response):
    """[(model id, mode or None)] from a /v1/models answer."""
    body = response.json()
    data = body.get("data") if isinstance(body, dict) else None
    models = []
    for entry in data if isinstance(data, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            mode = entry.get("mode")
            models.append((entry["id"], mode if isinstance(mode, str) else None))
    return models


def header_float(response, name):
    """A numeric header of an answer rounded to 0.001, None when it is missing or not a number."""
    try:
        return round(float(response.headers[name]), 3)
    except (KeyError, TypeError, ValueError):
        return None


def probe_request(model, mode, text="ping", max_tokens=1, retries=0, bypass_cache=True, timeout=None):
    """(path, payload) of the smallest request that exercises a model of this mode."""
    if mode == "embedding":
        path, payload = "/v1/embeddings", {"model": model, "input": text}
    elif mode == "chat":
        path = "/v1/chat/completions"
        payload = {"model": model, "messages": [{"role": "user", "content": text}], "max_tokens": max_tokens}
    else:
        raise ValueError("mode %r is not probed (only %s)" % (mode, ", ".join(PROBED_MODES)))
    if retries is not None:
        payload["num_retries"] = retries
    if bypass_cache:
        # neither answer from the response cache nor fill it: the probe must reach the provider
        payload["cache"] = {"no-cache": True, "no-store": True}
    if timeout:
        payload["timeout"] = timeout
    return path, payload


def probe(client, model, mode, text="ping", max_tokens=1, retries=0, bypass_cache=True, timeout=30.0):
    """Send one probe; return the per-model result dict of gatewayops.litellm.model_probe."""
    result = {"model": model, "mode": mode, "status": "skipped", "http_status": None, "latency_ms": None,
              "overhead_ms": None, "response_ms": None, "model_id": None, "error_class": None, "error_message": None}
    if mode not in PROBED_MODES:
        result["error_message"] = "mode %s is not probed (only %s)" % (mode, ", ".join(PROBED_MODES))
        return result
    # LiteLLM gives up on the provider after `timeout` and answers 408; the socket waits a
    # little longer (up to 5 s) so that this answer arrives rather than a client-side timeout
    path, payload = probe_request(model, mode, text, max_tokens, retries, bypass_cache, timeout)
    response = client.post(path, payload, timeout=timeout + min(timeout, 5.0))
    result.update(http_status=response.status, latency_ms=round(response.elapsed_ms, 1),
                  overhead_ms=header_float(response, OVERHEAD_HEADER),
                  response_ms=header_float(response, RESPONSE_TIME_HEADER),
                  model_id=response.headers.get(MODEL_ID_HEADER))
    if response.ok and isinstance(response.json(), dict):
        result["status"] = "ok"
    else:
        result["status"] = "failed"
        if response.ok:
            result["error_class"], result["error_message"] = "InvalidResponse", "HTTP %d without a JSON object" % response.status
        else:
            result["error_class"], result["error_message"] = error_info(response)
    return result
