"""The demo stack as an application sees it: the official ``openai`` Python SDK against LiteLLM.

Run after ``sudo scripts/demo`` (as root: the master key is in a root-owned 0440 file):

    .venv/bin/python -m pytest tests/demo

Every value has a default read from playbooks/demo/inventory.yml and an environment
variable that overrides it (see tests/demo/README). The master key is read from the
stack's .env and never printed: it lives in a ``Secret`` whose repr hides it, so not even
pytest's failure report (which shows test arguments) can show it. The SDK retries nothing
(``max_retries=0``) and every call has a timeout, so a failure shows as it happened.
"""

from __future__ import annotations

import ipaddress
import json
import os
import pathlib
import re
import urllib.parse
import urllib.request
import uuid

import openai
import pytest
import yaml

INVENTORY = pathlib.Path(__file__).resolve().parents[2] / "playbooks" / "demo" / "inventory.yml"
TIMEOUT_S = 30.0


def _inventory_defaults() -> dict:
    """The literal values of the demo inventory (the templated ones are not needed here)."""
    inv = yaml.safe_load(INVENTORY.read_text())["all"]["vars"]
    models = inv["litellm_model_list"]
    chat = next(m["model_name"] for m in models if m.get("model_info", {}).get("mode", "chat") == "chat")
    embedding = next(m["model_name"] for m in models if m.get("model_info", {}).get("mode") == "embedding")
    tls = bool(inv.get("litellm_edge_tls_enabled"))
    base = (f"https://{inv['litellm_bind_address']}:{inv['litellm_edge_tls_port']}" if tls
            else f"http://{inv['litellm_bind_address']}:{inv['litellm_port']}")
    return {
        "DEMO_BASE_URL": f"{base}/v1",
        "DEMO_PLAIN_URL": f"http://{inv['litellm_bind_address']}:{inv['litellm_port']}",
        # the edge's self-signed certificate (the role writes it beside .env): the one authority trusted
        "DEMO_CA_FILE": f"{inv['litellm_project_dir']}/tls-certificate.pem" if tls else "",
        "DEMO_ENV_FILE": f"{inv['litellm_project_dir']}/.env",
        "DEMO_CHAT_MODEL": chat,
        "DEMO_EMBEDDING_MODEL": embedding,
        "DEMO_FAKE_URL": f"http://127.0.0.1:{inv['demo_fake_openai_port']}",
    }


DEFAULTS = _inventory_defaults()


def setting(name: str) -> str:
    return os.environ.get(name) or DEFAULTS[name]


def _loopback(url: str) -> str:
    """Only this machine is ever a target."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host != "localhost":
        assert ipaddress.ip_address(host).is_loopback, f"{url} is not a loopback address"
    return url


class Secret:
    """A value that no repr, assertion message or traceback shows."""

    def __init__(self, value: str):
        self.value = value

    def __repr__(self) -> str:
        return "<master key, not shown>"

    __str__ = __repr__


def _master_key(env_file: str) -> Secret:
    text = pathlib.Path(env_file).read_text()
    match = re.search(r"^LITELLM_MASTER_KEY='?([^'\n]+)'?$", text, re.MULTILINE)
    assert match, f"no LITELLM_MASTER_KEY line in {env_file}"
    return Secret(match.group(1))


def _verify():
    """What the SDK's HTTP client verifies an https:// URL against: only the demo's certificate."""
    return setting("DEMO_CA_FILE") or True


def _client(key: str, **http) -> openai.OpenAI:
    # trust_env=False: no HTTP(S)_PROXY variable can send loopback traffic anywhere else
    return openai.OpenAI(base_url=_loopback(setting("DEMO_BASE_URL")), api_key=key,
                         max_retries=0, timeout=TIMEOUT_S,
                         http_client=openai.DefaultHttpxClient(trust_env=False, verify=_verify(), **http))


@pytest.fixture(scope="module")
def client() -> openai.OpenAI:
    return _client(_master_key(setting("DEMO_ENV_FILE")).value)


def _backend_stats() -> dict:
    """The fake backend's counters (tests/fixtures/fake_openai/server.py /stats)."""
    url = _loopback(setting("DEMO_FAKE_URL")) + "/stats"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=TIMEOUT_S) as resp:
        return json.loads(resp.read())


def _fresh(text: str) -> str:
    """A prompt no earlier run sent, so a response cache (opt-in) could not answer it."""
    return f"{text} {uuid.uuid4().hex[:8]}"


def _expected_reply(prompt: str) -> str:
    return f"fake response to: {prompt[:40]}"


def test_models_lists_the_demo_models(client):
    ids = {model.id for model in client.models.list()}
    assert {setting("DEMO_CHAT_MODEL"), setting("DEMO_EMBEDDING_MODEL")} <= ids, ids


def test_chat_completion_returns_the_fake_backends_text(client):
    prompt = _fresh("sdk chat")
    before = _backend_stats()["requests_total"]
    completion = client.chat.completions.create(
        model=setting("DEMO_CHAT_MODEL"), messages=[{"role": "user", "content": prompt}])
    assert completion.choices[0].message.content == _expected_reply(prompt)
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.total_tokens > 0
    # answered by the backend behind LiteLLM, not from a cache
    assert _backend_stats()["requests_total"] > before


def test_streaming_chat_yields_several_chunks_and_a_finish_reason(client):
    prompt = _fresh("sdk streams a few words")
    stream = client.chat.completions.create(
        model=setting("DEMO_CHAT_MODEL"), messages=[{"role": "user", "content": prompt}], stream=True)
    chunks = list(stream)
    assert len(chunks) >= 3, chunks
    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    text = "".join(choice.delta.content or "" for chunk in chunks for choice in chunk.choices)
    assert text == _expected_reply(prompt)
    finish = [choice.finish_reason for chunk in chunks for choice in chunk.choices if choice.finish_reason]
    assert finish == ["stop"], finish
    # the finish reason comes with the last chunk that has a choice
    assert [chunk for chunk in chunks if chunk.choices][-1].choices[0].finish_reason == "stop"


def test_embedding_returns_a_vector(client):
    # the SDK asks for base64 and decodes it into floats, as in any application
    result = client.embeddings.create(model=setting("DEMO_EMBEDDING_MODEL"), input=[_fresh("a"), _fresh("b")])
    assert [item.index for item in result.data] == [0, 1]
    for item in result.data:
        assert len(item.embedding) == 8  # the fake backend's vector size
        assert all(isinstance(x, float) for x in item.embedding)
        assert any(x != 0.0 for x in item.embedding)


def test_a_wrong_key_is_refused():
    # LiteLLM 1.108.7 without a database cannot look up a key that is not the master key and
    # answers 400 "No connected db." (README "Known limits"): the SDK raises BadRequestError.
    wrong = _client("sk-" + "0" * 64)
    with pytest.raises(openai.BadRequestError) as caught:
        wrong.chat.completions.create(model=setting("DEMO_CHAT_MODEL"),
                                      messages=[{"role": "user", "content": "x"}])
    err = caught.value
    assert err.status_code == 400
    assert err.type == "no_db_connection"
    assert "No connected db" in err.message


def test_an_unknown_model_is_refused(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="no-such-model",
                                       messages=[{"role": "user", "content": "x"}])
    err = caught.value
    assert err.status_code == 400
    assert err.type == "invalid_request_error"
    assert "Invalid model name passed in model=no-such-model" in err.message
