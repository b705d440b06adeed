# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS at the edge: check an operator's certificate and key, keep or make the edge's pair.

litellm_edge_tls_problems(settings) is a preflight check: one sentence per problem with the
certificate and key the operator supplied (litellm_edge_tls_certificate and
litellm_edge_tls_private_key, PEM text), naming the variable; never the key's content.

litellm_edge_tls(existing, settings, names) decides the pair the edge serves: the supplied one;
otherwise the self-signed pair already on the host (``existing``: the PEM HAProxy reads, or
empty), kept as long as it is valid for litellm_edge_tls_min_valid_days more days; otherwise a
new self-signed pair for ``names``. So a re-run never regenerates a pair. Both run on the
controller (they need the ``cryptography`` package, which ansible-core itself requires)."""

from __future__ import annotations

import datetime
import fnmatch
import ipaddress

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

try:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - ansible-core requires it
    HAS_CRYPTOGRAPHY = False

CERT_VAR = "litellm_edge_tls_certificate"
KEY_VAR = "litellm_edge_tls_private_key"
MIN_RSA_BITS = 2048
MIN_EC_BITS = 256
SELF_SIGNED_DAYS = 365
# the names the host's own checks use (the stack model's local URL): a self-signed pair names them
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")


def _need_cryptography():
    if not HAS_CRYPTOGRAPHY:
        raise AnsibleFilterError("TLS at the edge needs the Python package cryptography on the controller")


def _now(now=None):
    if now is None:
        return datetime.datetime.now(datetime.timezone.utc)
    if isinstance(now, (int, float)):
        return datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
    return now


def _not_after(cert):
    return cert.not_valid_after_utc


def _not_before(cert):
    return cert.not_valid_before_utc


def _load_certificates(text):
    blocks = [b for b in str(text or "").split("-----END CERTIFICATE-----") if "-----BEGIN CERTIFICATE-----" in b]
    return [x509.load_pem_x509_certificate((b.strip() + "\n-----END CERTIFICATE-----\n").encode()) for b in blocks]


def _load_key(text):
    """The private key of a PEM text, or a reason it cannot serve (without the key's content)."""
    data = str(text or "").encode()
    try:
        return serialization.load_pem_private_key(data, password=None), None
    except TypeError:
        return None, "is encrypted: HAProxy cannot ask for a passphrase, so give it unencrypted (keep it in Ansible Vault)"
    except (ValueError, UnsupportedAlgorithm):
        return None, "is not a PEM private key of a kind HAProxy serves (RSA or EC)"


def _public_bytes(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def certificate_names(cert):
    """The DNS names and IP addresses of the certificate's subjectAltName (lower-case strings)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    names = [n.lower() for n in san.get_values_for_type(x509.DNSName)]
    return names + [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]


def name_covered(name, names):
    """Whether a host name or address is among a certificate's names (a wildcard covers one label)."""
    name = str(name).lower().rstrip(".").strip("[]")
    try:
        return str(ipaddress.ip_address(name)) in names
    except ValueError:
        pass
    for pattern in names:
        if pattern == name:
            return True
        if pattern.startswith("*.") and "." in name:
            label, rest = name.split(".", 1)
            if rest == pattern[2:] and fnmatch.fnmatchcase(label, "*"):
                return True
    return False


def _key_problem(key):
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size < MIN_RSA_BITS:
        return "is an RSA key of %d bits (at least %d)" % (key.key_size, MIN_RSA_BITS)
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size < MIN_EC_BITS:
        return "is an EC key on a %d-bit curve (at least %d)" % (key.curve.key_size, MIN_EC_BITS)
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        return "is neither RSA nor EC (HAProxy serves those)"
    return None


def pair_problems(certificate, private_key, min_valid_days, hosts=(), now=None, cert_var=CERT_VAR, key_var=KEY_VAR):
    """Problems with one certificate chain (PEM, the server's first) and its key: unreadable,
    not matching, not yet or no longer valid (or within min_valid_days of its end), weak, without
    subjectAltName, or not naming each of ``hosts``."""
    _need_cryptography()
    problems = []
    try:
        chain = _load_certificates(certificate)
    except ValueError:
        chain = None
    if not chain:
        problems.append("%s is not a PEM certificate (-----BEGIN CERTIFICATE-----, the server's certificate first, "
                        "then its intermediates)" % cert_var)
    key, key_reason = _load_key(private_key)
    if key_reason:
        problems.append("%s %s" % (key_var, key_reason))
    elif _key_problem(key):
        problems.append("%s %s" % (key_var, _key_problem(key)))
    if not chain:
        return problems
    leaf, moment = chain[0], _now(now)
    if key is not None and _public_bytes(key.public_key()) != _public_bytes(leaf.public_key()):
        problems.append("%s does not match %s: the key is not the one the first certificate was issued for"
                        % (key_var, cert_var))
    if _not_before(leaf) > moment:
        problems.append("%s is not valid before %s" % (cert_var, _not_before(leaf).strftime("%Y-%m-%d %H:%M UTC")))
    left = _not_after(leaf) - moment
    if left.total_seconds() <= 0:
        problems.append("%s expired on %s" % (cert_var, _not_after(leaf).strftime("%Y-%m-%d %H:%M UTC")))
    elif left < datetime.timedelta(days=int(min_valid_days)):
        problems.append("%s expires on %s, in %d days: renew it (litellm_edge_tls_min_valid_days is %d)"
                        % (cert_var, _not_after(leaf).strftime("%Y-%m-%d %H:%M UTC"), left.days, int(min_valid_days)))
    names = certificate_names(leaf)
    if not names:
        problems.append("%s has no subjectAltName: clients check the host name there, not in the common name" % cert_var)
    else:
        missing = [h for h in hosts if not name_covered(h, names)]
        if missing:
            problems.append("%s does not name %s (litellm_edge_allowed_hosts); it names %s"
                            % (cert_var, ", ".join(map(str, missing)), ", ".join(names)))
    for number, (cert, issuer) in enumerate(zip(chain, chain[1:]), start=1):
        if cert.issuer != issuer.subject:
            problems.append("%s: certificate %d was not issued by certificate %d after it (give the chain in order, "
                            "the server's certificate first)" % (cert_var, number, number + 1))
    return problems


def _settings(settings):
    s = settings or {}
    return (str(s.get(CERT_VAR) or "").strip(), str(s.get(KEY_VAR) or "").strip(),
            int(s.get("litellm_edge_tls_min_valid_days", 14)))


def litellm_edge_tls_problems(settings, now=None):
    """Preflight: problems with the supplied certificate and key (empty: none supplied, or both fine)."""
    s = settings or {}
    if not boolean(s.get("litellm_edge_tls_enabled", False), strict=False):
        return []
    certificate, private_key, min_days = _settings(s)
    if not certificate and not private_key:
        return []   # a self-signed pair, made once on the host
    if not certificate or not private_key:
        return ["%s and %s go together: give both (PEM text), or neither for a self-signed pair"
                % (CERT_VAR, KEY_VAR)]
    hosts = [str(h) for h in s.get("litellm_edge_allowed_hosts") or []]
    return pair_problems(certificate, private_key, min_days, hosts, now)


def _pem(chain, key):
    text = "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in chain)
    return text, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()).decode()


def _self_signed(names, now, days):
    """A new EC P-256 key and a self-signed certificate for ``names`` (serverAuth, CA:false)."""
    key = ec.generate_private_key(ec.SECP256R1())
    alt = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(str(name).strip("[]"))))
        except ValueError:
            alt.append(x509.DNSName(str(name).lower().rstrip(".")))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, str(names[0])[:64]),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "gatewayops.litellm self-signed edge")])
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(key, hashes.SHA256()))
    return _pem([cert], key)


def _split(existing):
    """The certificates and the key of a PEM file the edge reads (certificates, then the key)."""
    text = str(existing or "")
    marker = text.find("-----BEGIN PRIVATE KEY-----")
    return (text[:marker], text[marker:]) if marker >= 0 else (text, "")


def _describe(certificate):
    leaf = _load_certificates(certificate)[0]
    return {"not_after": _not_after(leaf).strftime("%Y-%m-%dT%H:%M:%SZ"), "names": certificate_names(leaf),
            "sha256": leaf.fingerprint(hashes.SHA256()).hex(),
            "self_signed": leaf.issuer == leaf.subject}


def litellm_edge_tls(existing, settings, names=(), now=None):
    """The pair the edge serves: {certificate, private_key, pem, source, reason, not_after, names,
    sha256, self_signed}. source: supplied, kept (the self-signed pair on the host) or generated;
    reason says why a pair was generated. ``names`` are the host's names for a new self-signed
    pair (the local names are always added)."""
    _need_cryptography()
    s = settings or {}
    certificate, private_key, min_days = _settings(s)
    moment = _now(now)
    reason = None
    if certificate and private_key:
        # the key as PKCS#8, so the file on the host always has one layout (_split reads it back)
        private_key, source = _pem([], _load_key(private_key)[0])[1], "supplied"
    else:
        old_certificate, old_key = _split(existing)
        if not old_certificate.strip():
            reason = "no pair on the host yet"
        else:
            problems = pair_problems(old_certificate, old_key, min_days, now=moment,
                                     cert_var="the certificate on the host", key_var="its key")
            if problems:
                reason = "; ".join(problems)
            elif not _describe(old_certificate)["self_signed"]:
                reason = "the pair on the host was supplied before, and no litellm_edge_tls_certificate is given now"
        if reason is None:
            certificate, private_key, source = old_certificate.strip() + "\n", old_key.strip() + "\n", "kept"
        else:
            wanted = []
            for name in list(names) + list(s.get("litellm_edge_allowed_hosts") or []) + list(LOCAL_NAMES):
                name = str(name).lower().rstrip(".")
                if name and name not in wanted:
                    wanted.append(name)
            certificate, private_key = _self_signed(wanted, moment, SELF_SIGNED_DAYS)
            source = "generated"
    certificate = certificate.strip() + "\n"
    private_key = private_key.strip() + "\n"
    result = {"certificate": certificate, "private_key": private_key, "pem": certificate + private_key,
              "source": source, "reason": reason}
    result.update(_describe(certificate))
    return result


class FilterModule(object):
    def filters(self):
        return {"litellm_edge_tls_problems": litellm_edge_tls_problems, "litellm_edge_tls": litellm_edge_tls}
