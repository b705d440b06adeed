# -*- coding: utf-8 -*-
"""TLS at the edge (plugins/filter/tls.py): the preflight check of a supplied pair, and the pair
the edge serves (supplied, kept from the host, or generated once)."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.gatewayops.litellm.plugins.filter.tls import (
    litellm_edge_tls, litellm_edge_tls_problems, name_covered)

NOW = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.timezone.utc)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


def _cert(key, names=("gateway.example.com",), days=90, issuer_key=None, issuer_name="test CA",
          start=NOW - datetime.timedelta(days=1), subject="gateway.example.com"):
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=days)))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
    cert = builder.sign(issuer_key or key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def key():
    return ec.generate_private_key(ec.SECP256R1())


def settings(**extra):
    base = {"litellm_edge_tls_enabled": True, "litellm_edge_tls_min_valid_days": 14}
    base.update(extra)
    return base


def test_nothing_to_check_when_tls_is_off_or_no_pair_is_supplied(key):
    assert litellm_edge_tls_problems(settings(litellm_edge_tls_enabled=False, litellm_edge_tls_certificate="junk")) == []
    assert litellm_edge_tls_problems(settings(), now=NOW) == []


def test_a_good_pair_passes(key):
    assert litellm_edge_tls_problems(settings(litellm_edge_tls_certificate=_cert(key),
                                              litellm_edge_tls_private_key=_key_pem(key),
                                              litellm_edge_allowed_hosts=["gateway.example.com"]), now=NOW) == []


def test_certificate_and_key_go_together(key):
    [problem] = litellm_edge_tls_problems(settings(litellm_edge_tls_certificate=_cert(key)), now=NOW)
    assert "litellm_edge_tls_certificate and litellm_edge_tls_private_key go together" in problem


def test_a_key_of_another_certificate_is_refused_without_showing_it(key):
    other = ec.generate_private_key(ec.SECP256R1())
    problems = litellm_edge_tls_problems(settings(litellm_edge_tls_certificate=_cert(key),
                                                  litellm_edge_tls_private_key=_key_pem(other)), now=NOW)
    assert problems == ["litellm_edge_tls_private_key does not match litellm_edge_tls_certificate: the key is not the "
                        "one the first certificate was issued for"]
    assert "PRIVATE KEY" not in " ".join(problems)


def test_expired_expiring_and_future_certificates_are_refused(key):
    def one(**cert):
        return litellm_edge_tls_problems(settings(litellm_edge_tls_certificate=_cert(key, **cert),
                                                  litellm_edge_tls_private_key=_key_pem(key)), now=NOW)
    [expired] = one(start=NOW - datetime.timedelta(days=100), days=30)
    assert expired == "litellm_edge_tls_certificate expired on 2026-09-28 12:00 UTC"
    [soon] = one(days=10)
    assert "expires on 2026-12-16" in soon and "in 9 days" in soon and "litellm_edge_tls_min_valid_days is 14" in soon
    [future] = one(start=NOW + datetime.timedelta(days=2))
    assert future.startswith("litellm_edge_tls_certificate is not valid before 2026-12-09")


def test_unreadable_encrypted_and_weak_keys_are_refused(key):
    cert = _cert(key)
    [bad] = litellm_edge_tls_problems(settings(litellm_edge_tls_certificate="not a cert",
                                               litellm_edge_tls_private_key=_key_pem(key)), now=NOW)
    assert bad.startswith("litellm_edge_tls_certificate is not a PEM certificate")
    encrypted = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(b"passphrase")).decode()
    problems = litellm_edge_tls_problems(settings(litellm_edge_tls_certificate=cert,
                                                  litellm_edge_tls_private_key=encrypted), now=NOW)
    assert problems[0].startswith("litellm_edge_tls_private_key is encrypted")
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    problems = litellm_edge_tls_problems(settings(litellm_edge_tls_certificate=_cert(weak),
                                                  litellm_edge_tls_private_key=_key_pem(weak)), now=NOW)
    assert problems == ["litellm_edge_tls_private_key is an RSA key of 1024 bits (at least 2048)"]


def test_names_without_subject_alt_name_or_missing_an_allowed_host_are_refused(key):
    [no_san] = litellm_edge_tls_problems(settings(litellm_edge_tls_certificate=_cert(key, names=()),
                                                  litellm_edge_tls_private_key=_key_pem(key)), now=NOW)
    assert "has no subjectAltName" in no_san
    [missing] = litellm_edge_tls_problems(settings(litellm_edge_tls_certificate=_cert(key, names=("*.example.com",)),
                                                   litellm_edge_tls_private_key=_key_pem(key),
                                                   litellm_edge_allowed_hosts=["api.example.com", "a.b.example.com",
                                                                               "Example.com."]), now=NOW)
    assert missing == ("litellm_edge_tls_certificate does not name a.b.example.com, Example.com. "
                       "(litellm_edge_allowed_hosts); it names *.example.com")


def test_a_chain_out_of_order_is_refused(key):
    ca_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _cert(key, issuer_key=ca_key, issuer_name="test CA")
    ca = _cert(ca_key, subject="test CA", issuer_name="test CA", names=("ca",))
    good = settings(litellm_edge_tls_certificate=leaf + ca, litellm_edge_tls_private_key=_key_pem(key))
    assert litellm_edge_tls_problems(good, now=NOW) == []
    other = _cert(ca_key, subject="another CA", issuer_name="another CA", names=("ca",))
    [problem] = litellm_edge_tls_problems(dict(good, litellm_edge_tls_certificate=leaf + other), now=NOW)
    assert "certificate 1 was not issued by certificate 2" in problem


def test_name_covered_matches_one_wildcard_label_and_addresses():
    names = ["*.example.com", "127.0.0.1", "::1"]
    assert name_covered("API.example.com.", names)
    assert not name_covered("example.com", names) and not name_covered("a.b.example.com", names)
    assert name_covered("127.0.0.1", names) and name_covered("[::1]", names) and not name_covered("10.0.0.1", names)


def test_a_self_signed_pair_is_generated_once_then_kept():
    first = litellm_edge_tls("", settings(), ["gw1.example.com", "", "127.0.0.1"], now=NOW)
    assert first["source"] == "generated" and first["reason"] == "no pair on the host yet"
    assert first["self_signed"] and first["names"] == ["gw1.example.com", "localhost", "127.0.0.1", "::1"]
    assert first["pem"] == first["certificate"] + first["private_key"]
    assert first["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    again = litellm_edge_tls(first["pem"], settings(), ["gw1.example.com"], now=NOW + datetime.timedelta(days=30))
    assert again["source"] == "kept" and again["reason"] is None
    assert again["pem"] == first["pem"]


def test_a_self_signed_pair_near_its_end_is_renewed():
    first = litellm_edge_tls("", settings(), ["gw1"], now=NOW)
    late = NOW + datetime.timedelta(days=360)
    renewed = litellm_edge_tls(first["pem"], settings(), ["gw1"], now=late)
    assert renewed["source"] == "generated" and "expires on" in renewed["reason"]
    assert renewed["sha256"] != first["sha256"]


def test_a_supplied_pair_wins_and_its_key_is_stored_as_pkcs8(key):
    self_signed = litellm_edge_tls("", settings(), ["gw1"], now=NOW)
    supplied = litellm_edge_tls(self_signed["pem"], settings(litellm_edge_tls_certificate=_cert(key),
                                                             litellm_edge_tls_private_key=_key_pem(key)), now=NOW)
    assert supplied["source"] == "supplied" and not supplied["self_signed"]
    assert supplied["names"] == ["gateway.example.com"]
    assert supplied["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    # the supplied pair is on the host now; without it the next run makes a self-signed pair again
    after = litellm_edge_tls(supplied["pem"], settings(), ["gw1"], now=NOW)
    assert after["source"] == "generated" and "was supplied before" in after["reason"]
