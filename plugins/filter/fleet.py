# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet summary of a rollout (playbooks/site.yml): one line per host of the play.

litellm_fleet_summary(records) takes {host: record or None} in the play's host order, where a
record is what the site playbook set for a host it ran on: before/after state of the live stack
(the SHA-256 of config.yaml, .env, haproxy.cfg and compose.yaml, the live colour, the proxy's image), the LiteLLM version the proxy
reported, and the failure (its message, and whether the proxy role rolled the change back).
A host without a record was not reached: the rollout stopped before its batch, or it was
unreachable. Pure: the playbook writes and prints what this returns."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

OUTCOMES = ("changed", "unchanged", "rolled back", "failed", "not reached")


def _outcome(record):
    if not record:
        return "not reached"
    if record.get("failure"):
        return "rolled back" if record.get("rolled_back") else "failed"
    return "changed" if (record.get("before") or {}) != (record.get("after") or {}) else "unchanged"


def litellm_fleet_summary(records):
    """{hosts: [{host, outcome, version, config_sha256, colour, reason}], counts, failed, ok, markdown}."""
    if not isinstance(records, dict):
        raise AnsibleFilterError("litellm_fleet_summary needs {host: record}, got %s" % type(records).__name__)
    hosts = []
    for host, record in records.items():
        record = record if isinstance(record, dict) else None
        after = (record or {}).get("after") or {}
        hosts.append({
            "host": str(host),
            "outcome": _outcome(record),
            "version": (record or {}).get("version") or None,
            "config_sha256": after.get("config_sha256") or None,
            "colour": after.get("colour") or None,
            "reason": (record or {}).get("failure") or None,
        })
    counts = {outcome: sum(1 for h in hosts if h["outcome"] == outcome) for outcome in OUTCOMES}
    failed = [h["host"] for h in hosts if h["outcome"] in ("rolled back", "failed")]
    lines = ["| host | outcome | LiteLLM | config.yaml SHA-256 | colour | reason |", "|---|---|---|---|---|---|"]
    for h in hosts:
        lines.append("| %s | %s | %s | %s | %s | %s |" % (
            h["host"], h["outcome"], h["version"] or "-", (h["config_sha256"] or "-")[:12], h["colour"] or "-",
            (h["reason"] or "").replace("|", "/").replace("\n", " ")[:300]))
    summary = ", ".join("%d %s" % (counts[o], o) for o in OUTCOMES if counts[o])
    return {"hosts": hosts, "counts": counts, "failed": failed, "ok": not failed,
            "summary": summary, "markdown": "\n".join(lines) + "\n"}


class FilterModule(object):
    def filters(self):
        return {"litellm_fleet_summary": litellm_fleet_summary}
