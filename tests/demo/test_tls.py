"""TLS at the demo's edge, checked with real TLS clients (Python's ssl, the openai SDK over HTTP/2).

The demo inventory turns TLS on without a certificate, so the role made a self-signed pair on the
first run; its certificate is the only authority these clients trust. Skipped when the inventory
(or DEMO_BASE_URL) is plain HTTP."""

from __future__ import annotations

import http.client
import socket
import ssl
import urllib.parse

import openai
import pytest
from test_openai_sdk import TIMEOUT_S, _client, _fresh, _loopback, _master_key, setting

URL = urllib.parse.urlsplit(_loopback(setting("DEMO_BASE_URL")))
pytestmark = pytest.mark.skipif(URL.scheme != "https", reason="the demo serves plain HTTP")


def _handshake(context: ssl.SSLContext, alpn=None):
    """One TLS handshake with the edge: (version, cipher, ALPN protocol, peer certificate)."""
    if alpn:
        context.set_alpn_protocols(alpn)
    with socket.create_connection((URL.hostname, URL.port), timeout=TIMEOUT_S) as raw:
        with context.wrap_socket(raw, server_hostname=URL.hostname) as tls:
            return tls.version(), tls.cipher()[0], tls.selected_alpn_protocol(), tls.getpeercert()


def _trusting_the_demo() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=setting("DEMO_CA_FILE"))


def _willing(version: ssl.TLSVersion, ciphers: str = "ALL:@SECLEVEL=0") -> ssl.SSLContext:
    """A client that would speak `version` with any cipher: a refusal is the server's."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.minimum_version = context.maximum_version = version
    context.set_ciphers(ciphers)
    return context


def test_the_certificate_verifies_and_names_the_loopback_addresses():
    version, cipher, _alpn, cert = _handshake(_trusting_the_demo())
    assert version in ("TLSv1.2", "TLSv1.3"), version
    assert "GCM" in cipher or "CHACHA20" in cipher, cipher
    names = {value for _kind, value in cert["subjectAltName"]}
    assert {"localhost", "127.0.0.1"} <= names, names
    # self-signed: the issuer is the subject
    assert cert["issuer"] == cert["subject"]


def test_tls_1_3_and_1_2_with_forward_secret_aead_ciphers_are_served():
    assert _handshake(_willing(ssl.TLSVersion.TLSv1_3))[0] == "TLSv1.3"
    version, cipher, _alpn, _cert = _handshake(_willing(ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES128-GCM-SHA256"))
    assert (version, cipher) == ("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256")


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_old_protocols_are_refused_by_the_edge(version):
    with pytest.raises(ssl.SSLError) as caught:
        _handshake(_willing(version))
    # the server's alert, not the client's own refusal
    assert "PROTOCOL_VERSION" in str(caught.value).upper() or "UNSUPPORTED_PROTOCOL" in str(caught.value).upper(), caught.value


@pytest.mark.parametrize("cipher", ["ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384"])
def test_tls_1_2_cbc_ciphers_are_refused(cipher):
    with pytest.raises(ssl.SSLError) as caught:
        _handshake(_willing(ssl.TLSVersion.TLSv1_2, cipher))
    assert "HANDSHAKE_FAILURE" in str(caught.value).upper() or "NO_SHARED_CIPHER" in str(caught.value).upper(), caught.value


def test_http2_is_offered_by_alpn_and_the_sdk_speaks_it():
    assert _handshake(_trusting_the_demo(), ["h2", "http/1.1"])[2] == "h2"
    client = _client(_master_key(setting("DEMO_ENV_FILE")).value, http2=True)
    prompt = _fresh("over h2")
    raw = client.chat.completions.with_raw_response.create(
        model=setting("DEMO_CHAT_MODEL"), messages=[{"role": "user", "content": prompt}])
    assert raw.http_response.http_version == "HTTP/2"
    assert raw.parse().choices[0].message.content == f"fake response to: {prompt[:40]}"


def test_a_client_that_does_not_trust_the_certificate_is_not_served():
    # the system's authorities do not know a self-signed certificate: the SDK refuses the connection
    untrusting = openai.OpenAI(base_url=URL.geturl(), api_key="sk-not-sent", max_retries=0, timeout=TIMEOUT_S,
                               http_client=openai.DefaultHttpxClient(trust_env=False))
    with pytest.raises(openai.APIConnectionError):
        untrusting.models.list()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_plain_http_is_redirected_to_the_same_path_on_tls(method):
    plain = urllib.parse.urlsplit(_loopback(setting("DEMO_PLAIN_URL")))
    conn = http.client.HTTPConnection(plain.hostname, plain.port, timeout=TIMEOUT_S)
    try:
        conn.request(method, "/v1/models?x=1", body=b"{}" if method == "POST" else None,
                     headers={"Host": f"{plain.hostname}:{plain.port}"})
        resp = conn.getresponse()
        resp.read()
    finally:
        conn.close()
    assert resp.status == 308
    assert resp.getheader("location") == f"https://{URL.hostname}:{URL.port}/v1/models?x=1"
