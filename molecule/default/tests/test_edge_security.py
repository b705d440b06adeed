"""The edge as a security boundary, attacked through the published port of the converged stack.

Each hostile request gets the documented status from the edge itself, with a JSON body, and
LiteLLM never sees it: the edge's own counter of requests sent to LiteLLM (its Prometheus
exporter, read from inside the compose network) does not move while they run. Legitimate traffic
through the same edge (the official openai SDK: chat, streaming, embeddings, models; the health
probes) still passes, and moves the counter by exactly its number of requests."""

from __future__ import annotations

import concurrent.futures
import datetime
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import time

import openai
import testinfra.utils.ansible_runner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from gatewayops_stack import (BASE, PORT, PROJECT_DIR, TLS_BASE, TLS_CERTIFICATE, TLS_PORT, master_key, project_of,
                              proxy_settings)

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]
).get_hosts("all")

SETTINGS = proxy_settings()
EDGE_METRICS = "http://edge:8405/metrics"
# one allowed name in any case, with a port and a trailing dot: served
HOST = "GATEWAY.molecule.test.:%d" % PORT


def _container(host, service):
    project = project_of(host, service)
    return host.check_output(
        "docker ps --filter label=com.docker.compose.project=%s --filter label=com.docker.compose.service=%s "
        "--format '{{.Names}}'", project, service).splitlines()[0]


def _sent_to_litellm(host):
    """haproxy_backend_http_requests_total of the backend litellm: requests the edge passed on."""
    code = ("import urllib.request; print(urllib.request.urlopen(%r, timeout=5).read().decode())" % EDGE_METRICS)
    text = host.check_output("docker exec %s python3 -c %s", _container(host, "litellm"), code)
    match = re.search(r'^haproxy_backend_http_requests_total\{proxy="litellm"\} (\S+)$', text, re.M)
    assert match, "the edge exports no request counter for the backend litellm"
    return float(match.group(1))


def _request(method, target, headers=None, body=None, host_header=HOST, tls=False):
    """One raw request (the target is sent as given: no client-side normalisation); tls: to the TLS
    port, trusting only the edge's self-signed certificate."""
    if tls:
        conn = http.client.HTTPSConnection("127.0.0.1", TLS_PORT, timeout=30,
                                           context=ssl.create_default_context(cafile=TLS_CERTIFICATE))
    else:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host_header)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        if body is not None and "Content-Length" not in (headers or {}) and "Transfer-Encoding" not in (headers or {}):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        if body is not None:
            conn.send(body)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


HOSTILE = [
    # (what, method, target, headers, body, expected status)
    ("config update", "POST", "/config/update", {}, b"{}", 403),
    ("upper case", "POST", "/CONFIG/UPDATE", {}, b"{}", 403),
    ("encoded slash", "POST", "/config%2Fupdate", {}, b"{}", 403),
    ("encoded lower-case slash", "POST", "/config%2fupdate", {}, b"{}", 403),
    ("double slashes", "POST", "//config//update", {}, b"{}", 403),
    ("trailing dot", "POST", "/config/update.", {}, b"{}", 403),
    ("trailing slash", "POST", "/config/update/", {}, b"{}", 403),
    ("v1 prefix", "POST", "/v1/config/update", {}, b"{}", 403),
    ("another config write", "POST", "/config/field/update", {}, b"{}", 403),
    ("absolute form", "POST", "http://%s/config/update" % HOST, {}, b"{}", 403),
    ("dot segment", "POST", "/./config/update", {}, b"{}", 400),
    ("dot-dot segment", "POST", "/v1/../config/update", {}, b"{}", 400),
    ("encoded dot-dot", "POST", "/v1/%2e%2e/config/update", {}, b"{}", 400),
    ("encoded backslash", "POST", "/config%5cupdate", {}, b"{}", 400),
    ("prompt test", "POST", "/prompts/test", {}, b"{}", 403),
    ("custom code", "POST", "/guardrails/test_custom_code", {}, b"{}", 403),
    ("mcp test", "POST", "/mcp-rest/test/tools/list", {}, b"{}", 403),
    ("debug", "GET", "/debug/asyncio-tasks", {}, None, 403),
    ("test connection", "POST", "/health/test_connection", {}, b"{}", 403),
    ("admin ui", "GET", "/ui/", {}, None, 403),
    ("encoded admin ui", "GET", "/%75i/", {}, None, 403),
    ("sso", "GET", "/sso/key/generate", {}, None, 403),
    ("body too large", "POST", "/v1/chat/completions", {"Content-Length": str(64 * 1024 * 1024)}, b"{", 413),
    ("chunked body", "POST", "/v1/chat/completions", {"Transfer-Encoding": "chunked"}, b"1\r\n{\r\n0\r\n\r\n", 411),
    ("header too large", "GET", "/v1/models", {"X-Padding": "a" * 70000}, None, (400, 431)),
]


def test_hostile_requests_are_answered_by_the_edge_and_never_reach_litellm(host):
    before = _sent_to_litellm(host)
    seen = {}
    for what, method, target, headers, body, expected in HOSTILE:
        status, answer_headers, answer = _request(method, target, headers, body)
        seen[what] = status
        wanted = expected if isinstance(expected, tuple) else (expected,)
        assert status in wanted, "%s (%s %s): %s %r" % (what, method, target, status, answer[:200])
        if what != "header too large":   # HAProxy's own error page
            assert answer_headers.get("content-type") == "application/json", what
            assert json.loads(answer)["error"]["code"] == str(status), what
    status, _headers, answer = _request("GET", "/health/liveliness", host_header="evil.example")
    assert status == 421, answer
    assert _sent_to_litellm(host) == before, "a hostile request reached LiteLLM: %s" % seen
    # each refusal is logged by the edge (a denied request is never "normal")
    logs = host.run("docker logs --since 5m %s", _container(host, "edge"))
    assert '"POST /CONFIG/UPDATE HTTP/1.1"' in logs.stdout + logs.stderr


def test_a_slow_header_client_gets_408_and_loses_its_connection():
    timeout = int(SETTINGS["litellm_edge_header_timeout_seconds"])
    with socket.create_connection(("127.0.0.1", PORT), timeout=timeout + 10) as sock:
        started = time.monotonic()
        sock.sendall(("GET /v1/models HTTP/1.1\r\nHost: %s\r\nX-Slow: " % HOST).encode())
        answer = sock.recv(4096)
        waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
    assert timeout - 0.5 <= waited <= timeout + 3, waited


def _refused(count):
    """count requests on keep-alive connections to a refused route; the statuses seen."""
    def one_connection(n):
        conn, statuses = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10), []
        for _request_number in range(n):
            conn.request("GET", "/debug/x", headers={"Host": HOST})
            resp = conn.getresponse()
            resp.read()
            statuses.append(resp.status)
        conn.close()
        return statuses
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        return [s for part in pool.map(one_connection, [count // 4] * 4) for s in part]


def test_a_burst_above_the_rate_limit_gets_429_with_retry_after_then_recovers():
    limit = int(SETTINGS["litellm_edge_rate_limit_requests"])
    period = int(SETTINGS["litellm_edge_rate_limit_period_seconds"])
    started = time.monotonic()
    statuses = _refused(limit + 200)
    assert time.monotonic() - started < period, "the burst took longer than the rate limit's window"
    assert 429 in statuses and statuses.count(403) >= limit - 50, {s: statuses.count(s) for s in set(statuses)}
    status, headers, answer = _request("GET", "/health/liveliness")
    assert status == 429 and headers.get("retry-after") == str(period), (status, headers, answer)
    assert json.loads(answer)["error"]["type"] == "rate_limited"
    # the window slides: the address is served again within about one period
    deadline = time.monotonic() + 2 * period + 5
    while _request("GET", "/health/liveliness")[0] != 200:
        assert time.monotonic() < deadline, "still rate limited %d s after the burst" % (2 * period + 5)
        time.sleep(1)


def test_legitimate_traffic_passes_the_same_edge(host):
    before = _sent_to_litellm(host)
    client = openai.OpenAI(base_url=BASE + "/v1", api_key=master_key(host), max_retries=0,
                           default_headers={"Host": HOST})
    chat = client.chat.completions.create(model="fake-chat", messages=[{"role": "user", "content": "edge"}])
    assert chat.choices[0].message.content == "fake response to: edge"
    chunks = list(client.chat.completions.create(model="fake-chat", stream=True,
                                                 messages=[{"role": "user", "content": "stream"}]))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(client.embeddings.create(model="fake-embedding", input=["a"]).data) == 1
    assert "fake-chat" in [m.id for m in client.models.list()]
    for path in ("/health/liveliness", "/health/readiness"):
        assert _request("GET", path)[0] == 200, path
    assert _sent_to_litellm(host) - before == 6


def test_the_admin_ui_is_off_in_litellm_and_refused_at_the_edge(host):
    env = host.check_output("docker inspect --format '{{json .Config.Env}}' %s", _container(host, "litellm"))
    assert "DISABLE_ADMIN_UI=True" in json.loads(env)
    assert _request("GET", "/ui")[0] == 403


def test_the_rendered_dockerfile_installs_nothing_unless_asked(host):
    # supply chain: the derived image is the pinned base plus one .pth file; packages only from
    # litellm_image_extra_pip_packages, which this scenario leaves empty
    assert not SETTINGS["litellm_image_extra_pip_packages"]
    dockerfile = host.file(f"{PROJECT_DIR}/Dockerfile").content_string
    runs = [line for line in dockerfile.splitlines() if line.startswith("RUN ")]
    assert runs and not [line for line in runs if re.search(r"\b(pip|apt-get|apt|apk|curl|wget)\b", line)], runs


def test_tls_serves_the_api_with_the_self_signed_pair_the_first_converge_made(host):
    """The pair is root's: the edge's copy 0440 in its group (uid/gid 99 in the official image), the
    certificate alone public. Idempotence already showed a re-run keeps it; here it is served."""
    for path, mode, group in ((f"{PROJECT_DIR}/edge-tls.pem", 0o440, 99), (f"{PROJECT_DIR}/edge/tls.pem", 0o440, 99),
                              (TLS_CERTIFICATE, 0o644, 0)):
        found = host.file(path)
        assert (found.mode, found.uid, found.gid) == (mode, 0, group), path
    pem = host.file(f"{PROJECT_DIR}/edge/tls.pem").content_string
    assert pem.startswith(host.file(TLS_CERTIFICATE).content_string) and "-----BEGIN PRIVATE KEY-----" in pem
    before = _sent_to_litellm(host)
    client = openai.OpenAI(base_url=TLS_BASE + "/v1", api_key=master_key(host), max_retries=0,
                           http_client=openai.DefaultHttpxClient(verify=TLS_CERTIFICATE, http2=True),
                           default_headers={"Host": HOST})
    raw = client.chat.completions.with_raw_response.create(model="fake-chat", messages=[{"role": "user", "content": "tls"}])
    assert raw.http_response.http_version == "HTTP/2"
    assert raw.parse().choices[0].message.content == "fake response to: tls"
    assert raw.http_response.headers["strict-transport-security"] == "max-age=600"
    # the same edge rules over TLS: a denied route never reaches LiteLLM
    status, _headers, answer = _request("POST", "/CONFIG/UPDATE", body=b"{}", tls=True)
    assert status == 403 and json.loads(answer)["error"]["type"] == "forbidden_route"
    assert _sent_to_litellm(host) - before == 1
    # plain HTTP beside it (litellm_edge_http_redirect: false) carries no HSTS header
    assert "strict-transport-security" not in _request("GET", "/health/liveliness")[1]


def test_tls_refuses_old_protocols_and_offers_http2():
    def handshake(context):
        with socket.create_connection(("127.0.0.1", TLS_PORT), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                return tls.version(), tls.selected_alpn_protocol()
    trusting = ssl.create_default_context(cafile=TLS_CERTIFICATE)
    trusting.set_alpn_protocols(["h2", "http/1.1"])
    assert handshake(trusting) == ("TLSv1.3", "h2")
    willing = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    willing.check_hostname, willing.verify_mode = False, ssl.CERT_NONE
    willing.minimum_version = willing.maximum_version = ssl.TLSVersion.TLSv1_1
    willing.set_ciphers("ALL:@SECLEVEL=0")
    try:
        handshake(willing)
        raise AssertionError("the edge accepted TLS 1.1")
    except ssl.SSLError as exc:
        assert "PROTOCOL_VERSION" in str(exc).upper() or "UNSUPPORTED_PROTOCOL" in str(exc).upper(), exc


def test_a_supplied_certificate_that_does_not_match_its_key_is_refused_before_anything_changes(host, tmp_path):
    """Preflight names the variable; the edge's pair on the host is untouched."""
    now = datetime.datetime.now(datetime.timezone.utc)
    key, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gateway.molecule.test")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=90))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("gateway.molecule.test")]), critical=False)
            .sign(key, hashes.SHA256()))
    extra = tmp_path / "tls.json"
    extra.write_text(json.dumps({
        "litellm_edge_tls_certificate": cert.public_bytes(serialization.Encoding.PEM).decode(),
        "litellm_edge_tls_private_key": other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                            serialization.NoEncryption()).decode()}))
    before = host.file(f"{PROJECT_DIR}/edge/tls.pem").sha256sum
    done = subprocess.run(["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"],
                           os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "converge.yml"), "-e", "@%s" % extra,
                           # the engine is converged: only the proxy role, every phase of it
                           "--skip-tags", "docker_host_preflight,docker_host_install,docker_host_configure"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode != 0
    assert ("litellm_edge_tls_private_key does not match litellm_edge_tls_certificate: the key is not the one the first "
            "certificate was issued for") in done.stdout
    assert "BEGIN PRIVATE KEY" not in done.stdout + done.stderr
    # refused in preflight: nothing rendered, backed up or deployed
    for later in ("Decide the edge's TLS pair", "Ask which managed files this run would replace",
                  "Render the candidate secret files"):
        assert later not in done.stdout, later
    assert host.file(f"{PROJECT_DIR}/edge/tls.pem").sha256sum == before
