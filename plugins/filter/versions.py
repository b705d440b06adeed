# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""LiteLLM versions judged in one place: releases we refuse, known vulnerabilities, and
which settings exist in which release. Tasks ask `litellm_version_info`; nothing else in
the collection compares LiteLLM version numbers."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

# Never installable: malicious releases published to PyPI on 2026-03-24 with a stolen token
# (credential stealer; 1.82.8 also ran on every Python start via litellm_init.pth).
BLOCKED = {
    "1.82.7": "malicious release published to PyPI on 2026-03-24 (credential stealer in proxy_server.py)",
    "1.82.8": "malicious release published to PyPI on 2026-03-24 (litellm_init.pth runs on every Python start)",
}

# (first fixed version, advisory): versions below it are refused unless the operator
# explicitly accepts the risk (litellm_accept_vulnerable_version).
VULNERABILITIES = (
    ("1.83.7", "CVE-2026-42208 pre-auth SQL injection in API-key verification (exploited in the wild, CISA KEV)"),
)

# feature -> (first version that has it, last version that has it); None = open end.
# Bounds are the releases where the code was checked (research/litellm-settings.md).
FEATURES = {
    # SEPARATE_HEALTH_APP / SEPARATE_HEALTH_PORT: supervisord entrypoint, gone from 1.85.0
    "separate_health_app": (None, "1.84.999"),
    # general_settings.enable_drain_endpoint + DRAIN_ENDPOINT_TOKEN (GET /health/drain)
    "drain_endpoint": ("1.85.0", None),
    # /metrics answers 401 without a key unless require_auth_for_metrics_endpoint: false
    "metrics_auth_by_default": ("1.85.0", None),
    # LITELLM_DISABLE_ACCESS_LOG_PATHS (checked present in 1.108.7 and 1.110.2)
    "access_log_path_filter": ("1.108.7", None),
    # --prometheus_metrics_port: /metrics from a separate process (no auth), samples from
    # PROMETHEUS_MULTIPROC_DIR (proxy_cli.py and proxy/prometheus_metrics_server.py in 1.108.7)
    "prometheus_metrics_port": ("1.108.7", None),
    # LITELLM_OFFLINE_MODE (absent in 1.108.7, present in 1.110.2)
    "offline_mode": ("1.110.2", None),
}


def _parse(version):
    match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(?:[-.+].*)?", str(version).strip())
    if not match:
        raise AnsibleFilterError("litellm_version must look like 1.108.7, got %r" % (version,))
    return tuple(int(part) for part in match.groups())


def _within(version, low, high):
    return (low is None or version >= _parse(low)) and (high is None or version <= _parse(high))


def litellm_version_info(version, accept_vulnerable=False):
    """Return {version, features: {name: bool}, vulnerabilities: [...], problems: [...]}."""
    parsed = _parse(version)
    canonical = "%d.%d.%d" % parsed
    problems = []
    if canonical in BLOCKED:
        problems.append("LiteLLM %s is refused: %s. Choose another release." % (canonical, BLOCKED[canonical]))
    vulnerabilities = [advisory for fixed, advisory in VULNERABILITIES if parsed < _parse(fixed)]
    if vulnerabilities and not accept_vulnerable:
        problems.append(
            "LiteLLM %s has known vulnerabilities: %s. Upgrade, or set litellm_accept_vulnerable_version=true "
            "to run it anyway at your own risk." % (canonical, "; ".join(vulnerabilities)))
    features = {name: _within(parsed, low, high) for name, (low, high) in FEATURES.items()}
    return {"version": canonical, "features": features, "vulnerabilities": vulnerabilities, "problems": problems}


def litellm_schema_problems(applied, shipped, image):
    """Why `image` must not run on a database whose LiteLLM ledger lists `applied` migrations, when
    the image ships `shipped` ones: any applied migration the image lacks was written by a newer
    release, and LiteLLM's migrations only go forward. Empty when the image knows every one."""
    if not isinstance(applied, (list, tuple)) or not isinstance(shipped, (list, tuple)):
        raise AnsibleFilterError("litellm_schema_problems expects two lists of migration names")
    unknown = sorted(set(name.strip() for name in applied if name.strip()) - set(name.strip() for name in shipped))
    if not unknown:
        return []
    listed = ", ".join(unknown[:5]) + (" and %d more" % (len(unknown) - 5) if len(unknown) > 5 else "")
    return ["The database was migrated by a newer LiteLLM than %s: %d applied migration(s) are not in this release (%s). "
            "LiteLLM's migrations only go forward (Prisma has no down migrations), so this release would run on a schema "
            "it was never written for. Deploy the release that migrated the database (or a newer one), or restore a "
            "database backup taken before that upgrade; litellm_allow_newer_schema: true accepts the risk."
            % (image, len(unknown), listed)]


class FilterModule(object):
    def filters(self):
        return {"litellm_version_info": litellm_version_info, "litellm_schema_problems": litellm_schema_problems}
