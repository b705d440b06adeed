# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight checks of the proxy role's variables, before anything on the host changes.

litellm_settings_problems(settings) names only the variables that are wrong, each with its
value and what it must be. litellm_unknown_variables(names, known) finds litellm_* variables
that no role of the collection defines (a misspelt name is otherwise silently ignored) and
suggests the closest real one. Type checks come first from each role's argument spec; these
are the checks of value an argument spec cannot express."""

from __future__ import annotations

import difflib
import glob
import ipaddress
import os
import re
from urllib.parse import urlsplit

import yaml
from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.gatewayops.litellm.plugins.filter.sizing import as_number
from ansible_collections.gatewayops.litellm.plugins.filter.stack import ROUTE_PREFIX, TLS_VERSIONS
from ansible_collections.gatewayops.litellm.plugins.filter.tls import litellm_edge_tls_problems

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
_PG_SETTING = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
ENV_REFERENCE = "os.environ/"
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$|^[0-9a-f:.]+$")


def _in_range(problems, settings, name, low, high=None):
    number = as_number(settings.get(name), whole=True)
    if number is None or number < low or (high is not None and number > high):
        what = "a whole number from %d to %d" % (low, high) if high is not None else "a whole number >= %d" % low
        problems.append("%s must be %s (got %r)" % (name, what, settings.get(name)))


def _control(text):
    """The first control character of text, shown escaped, or None."""
    match = _CONTROL.search(text)
    return None if match is None else repr(match.group(0))[1:-1]


def _text_problem(where, value):
    if not isinstance(value, str) or not value.strip():
        return "%s must be a non-empty string (got %r)" % (where, value)
    bad = _control(value)
    if bad:
        return "%s contains a control character (%s): %r" % (where, bad, value)
    if value != value.strip():
        return "%s has leading or trailing white space: %r" % (where, value)
    return None


def _api_base_problem(where, value):
    problem = _text_problem(where, value)
    if problem or value.startswith(ENV_REFERENCE):
        return problem
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "%s must be an http:// or https:// URL with a host, or %s<VARIABLE> (got %r)" % (
            where, ENV_REFERENCE, value)
    return None


def _model_problems(models):
    name = "litellm_model_list"
    if not isinstance(models, list) or not models:
        return ["%s must be a list of at least one model (got %r)" % (name, models)]
    problems = []
    for index, model in enumerate(models):
        where = "%s[%d]" % (name, index)
        if not isinstance(model, dict):
            problems.append("%s must be a mapping with model_name and litellm_params (got %r)" % (where, model))
            continue
        checks = [_text_problem(where + ".model_name", model.get("model_name"))]
        params = model.get("litellm_params")
        if not isinstance(params, dict):
            checks.append("%s.litellm_params must be a mapping with at least model (got %r)" % (where, params))
        else:
            checks.append(_text_problem(where + ".litellm_params.model", params.get("model")))
            if "api_base" in params:
                checks.append(_api_base_problem(where + ".litellm_params.api_base", params.get("api_base")))
        problems += [problem for problem in checks if problem]
    return problems


def _address_problem(value):
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return ("litellm_bind_address must be an IPv4 or IPv6 address of this host, e.g. 127.0.0.1 or 0.0.0.0 "
                "(got %r)" % (value,))
    return None


_REDIS_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")


def _redis_problems(s):
    """The bundled Redis, an external shared one (litellm_redis_host), and what needs either."""
    problems = []
    bundled = boolean(s.get("litellm_redis_enabled", False), strict=False)
    host = str(s.get("litellm_redis_host") or "")
    if host:
        if bundled:
            problems.append("litellm_redis_enabled and litellm_redis_host are both set: use the bundled Redis or the "
                            "external one at %r, not both (litellm_redis_enabled: false)" % host)
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if not _REDIS_HOST.match(host):
                problems.append("litellm_redis_host must be a host name or an IP address of the shared Redis (got %r)" % host)
        _in_range(problems, s, "litellm_redis_port", 1, 65535)
    if boolean(s.get("litellm_cache_enabled", False), strict=False) and not (bundled or host):
        problems.append("litellm_cache_enabled: true needs the Redis it caches in: set litellm_redis_enabled: true "
                        "(its default follows litellm_cache_enabled), an external litellm_redis_host, "
                        "or litellm_cache_enabled: false")
    if boolean(s.get("litellm_redis_coordination", False), strict=False) and not (bundled or host):
        problems.append("litellm_redis_coordination: true needs a Redis to share the router's state in: "
                        "litellm_redis_host (shared by the fleet) or litellm_redis_enabled: true")
    namespace = s.get("litellm_cache_namespace", "litellm.cache")
    if not isinstance(namespace, str) or not re.match(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$", namespace):
        problems.append("litellm_cache_namespace must be 1-64 letters, digits, '.', '_', ':' or '-' (got %r)" % (namespace,))
    return problems


def _postgres_settings_problems(settings):
    if settings in (None, ""):
        return []
    if not isinstance(settings, dict):
        return ["litellm_postgres_settings must be a mapping of Postgres parameter names to values (got %r)" % (settings,)]
    problems = []
    for name, value in settings.items():
        if not isinstance(name, str) or not _PG_SETTING.match(name):
            problems.append("litellm_postgres_settings: %r is not a Postgres parameter name (lower-case letters, "
                            "digits and '_', e.g. shared_preload_libraries)" % (name,))
        elif isinstance(value, bool) or not isinstance(value, (str, int, float)) or _CONTROL.search(str(value)):
            problems.append("litellm_postgres_settings.%s must be a string or a number without control "
                            "characters (got %r)" % (name, value))
    return problems


def litellm_settings_problems(settings, inventory_groups=None):
    """Problems with the proxy role's variables (empty list: all good). Only the failing ones.
    inventory_groups: the inventory's group names, to check litellm_fleet_group against."""
    s = settings or {}
    problems = []
    fleet_group = s.get("litellm_fleet_group") or ""
    if fleet_group and inventory_groups is not None and fleet_group not in inventory_groups:
        problems.append("litellm_fleet_group names %r, which the inventory does not have (groups: %s): the sizing "
                        "model would count 1 instance where a fleet shares the database and Redis"
                        % (fleet_group, ", ".join(sorted(g for g in inventory_groups if g not in ("all", "ungrouped"))) or "none"))
    project_dir = s.get("litellm_project_dir")
    if not isinstance(project_dir, str) or not project_dir.startswith("/") or _control(project_dir):
        problems.append("litellm_project_dir must be an absolute path (got %r)" % (project_dir,))
    if not isinstance(s.get("litellm_project_name"), str) or not _PROJECT_NAME.match(s["litellm_project_name"]):
        problems.append("litellm_project_name must be lower-case letters, digits, '-' or '_', starting with a letter "
                        "or digit (got %r)" % (s.get("litellm_project_name"),))
    problems += _model_problems(s.get("litellm_model_list"))
    if not _VERSION.match(str(s.get("litellm_version", ""))):
        problems.append("litellm_version must be X.Y.Z, e.g. 1.108.7 (got %r)" % (s.get("litellm_version"),))
    _in_range(problems, s, "litellm_port", 1, 65535)
    address = _address_problem(s.get("litellm_bind_address"))
    if address:
        problems.append(address)
    _in_range(problems, s, "litellm_instances", 1)
    _in_range(problems, s, "litellm_batch_write_seconds", 1, 3600)
    if s.get("litellm_log_level") not in LOG_LEVELS:
        problems.append("litellm_log_level must be one of %s (got %r)" % ("/".join(LOG_LEVELS), s.get("litellm_log_level")))
    if boolean(s.get("litellm_postgres_enabled", False), strict=False) and s.get("litellm_database_url"):
        problems.append("litellm_postgres_enabled and litellm_database_url are both set: use the bundled Postgres "
                        "or an external database, not both")
    problems += _redis_problems(s)
    problems += _postgres_settings_problems(s.get("litellm_postgres_settings"))
    names = [m.get("model_name") for m in s.get("litellm_model_list") or [] if isinstance(m, dict)]
    missing = [model for model in s.get("litellm_required_models") or [] if model not in names]
    if missing:
        problems.append("litellm_required_models names %s, which litellm_model_list does not have (models: %s)"
                        % (", ".join(map(str, missing)), ", ".join(map(str, names)) or "none"))
    if boolean(s.get("litellm_edge_enabled", False), strict=False):
        _in_range(problems, s, "litellm_edge_buffer_kb", 16, 1024)
        _in_range(problems, s, "litellm_edge_retries", 0, 10)
        _in_range(problems, s, "litellm_edge_keepalive_seconds", 1)
        problems += _edge_security_problems(s)
    if boolean(s.get("litellm_monitoring_enabled", False), strict=False):
        problems += _monitoring_problems(s)
    problems += _image_problems(s)
    return problems


# the images each part of the stack runs, and the switch that turns that part on (None: always)
_IMAGES = (("litellm_base_image", None), ("litellm_edge_image", "litellm_edge_enabled"),
           ("litellm_redis_image", "litellm_redis_enabled"), ("litellm_postgres_image", "litellm_postgres_enabled"),
           ("litellm_prometheus_image", "litellm_monitoring_enabled"),
           ("litellm_alertmanager_image", "litellm_monitoring_enabled"))
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def image_reference_problem(name, reference):
    """Why an image reference is not pinned (None: it is): a tag other than latest, a sha256
    digest, or both (name:tag@sha256:..., the digest wins)."""
    ref = reference if isinstance(reference, str) else ""
    if not ref or ref != ref.strip() or " " in ref or _control(ref):
        return "%s must name an image, e.g. haproxy:3.0.5-bookworm (got %r)" % (name, reference)
    rest, _at, digest = ref.partition("@")
    if digest and not _DIGEST.match(digest):
        return "%s: the digest of %r must be sha256: and 64 lower-case hex digits" % (name, ref)
    last = rest.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    if not digest and tag in ("", "latest"):
        return ("%s: %r is not pinned: give a version tag (name:1.2.3) or a digest (name@sha256:...), so every host "
                "runs the image that was tested; %s moves when the registry's image does"
                % (name, ref, "an image without a tag means :latest, which" if not tag else ":latest"))
    return None


def _image_problems(s):
    problems = []
    for name, switch in _IMAGES:
        if switch is None or boolean(s.get(switch, False), strict=False):
            problem = image_reference_problem(name, s.get(name))
            if problem:
                problems.append(problem)
    return problems


def _network_problems(name, values):
    problems = []
    for value in values or []:
        try:
            ipaddress.ip_network(str(value), strict=False)
        except ValueError:
            problems.append("%s: %r is not an address or CIDR (e.g. 10.0.0.0/8, 192.0.2.7)" % (name, value))
    return problems


def _edge_security_problems(s):
    problems = []
    if s.get("litellm_edge_route_policy", "denylist") not in ("denylist", "allowlist", "off"):
        problems.append("litellm_edge_route_policy must be denylist, allowlist or off (got %r)"
                        % (s.get("litellm_edge_route_policy"),))
    for name in ("litellm_edge_denied_routes", "litellm_edge_allowed_routes"):
        for route in s.get(name) or []:
            if not isinstance(route, str) or not ROUTE_PREFIX.match(route.lower().rstrip("/")):
                problems.append("%s: %r must be a path prefix such as /spend/calculate (letters, digits and . _ ~ - "
                                "between slashes)" % (name, route))
    for name in ("litellm_edge_management_sources", "litellm_edge_rate_limit_exempt_sources"):
        problems += _network_problems(name, s.get(name))
    for host in s.get("litellm_edge_allowed_hosts") or []:
        if not isinstance(host, str) or not _HOST.match(host.lower().rstrip(".")):
            problems.append("litellm_edge_allowed_hosts: %r is not a host name or address without port" % (host,))
    _in_range(problems, s, "litellm_edge_max_body_mb", 1, 1024)
    _in_range(problems, s, "litellm_edge_header_timeout_seconds", 1, 300)
    _in_range(problems, s, "litellm_edge_rate_limit_requests", 0)
    _in_range(problems, s, "litellm_edge_rate_limit_period_seconds", 1, 3600)
    if boolean(s.get("litellm_edge_tls_enabled", False), strict=False):
        problems += _tls_problems(s)
    return problems


def _tls_problems(s):
    problems = []
    _in_range(problems, s, "litellm_edge_tls_port", 1, 65535)
    _in_range(problems, s, "litellm_edge_tls_min_valid_days", 0, 3650)
    _in_range(problems, s, "litellm_edge_tls_hsts_seconds", 0, 63072000)
    if str(s.get("litellm_edge_tls_port")) == str(s.get("litellm_port")):
        problems.append("litellm_edge_tls_port and litellm_port must differ (both are %s): TLS has a port of its own, "
                        "and litellm_port redirects to it (litellm_edge_http_redirect)" % s.get("litellm_port"))
    if s.get("litellm_edge_tls_min_version", "TLSv1.2") not in TLS_VERSIONS:
        problems.append("litellm_edge_tls_min_version must be one of %s (got %r)"
                        % (", ".join(TLS_VERSIONS), s.get("litellm_edge_tls_min_version")))
    if not problems:
        problems += litellm_edge_tls_problems(s)
    return problems


def _monitoring_problems(s):
    problems = []
    for name in ("litellm_prometheus_enabled", "litellm_prometheus_separate_process"):
        if not boolean(s.get(name, False), strict=False):
            problems.append("litellm_monitoring_enabled needs %s: true (Prometheus scrapes LiteLLM's separate metrics "
                            "process, which needs no key)" % name)
    for name in ("litellm_prometheus_port", "litellm_alertmanager_port"):
        _in_range(problems, s, name, 1, 65535)
    ports = [s.get(name) for name in ("litellm_port", "litellm_prometheus_port", "litellm_alertmanager_port")]
    if len(set(map(str, ports))) < len(ports):
        problems.append("litellm_port, litellm_prometheus_port and litellm_alertmanager_port must differ (got %s)"
                        % ", ".join(map(str, ports)))
    address = _address_problem(s.get("litellm_monitoring_bind_address"))
    if address:
        problems.append(address.replace("litellm_bind_address", "litellm_monitoring_bind_address"))
    _in_range(problems, s, "litellm_prometheus_scrape_interval_seconds", 1, 300)
    if not re.match(r"^[0-9]+(ms|s|m|h|d|w|y)$", str(s.get("litellm_prometheus_retention", ""))):
        problems.append("litellm_prometheus_retention must be a Prometheus duration such as 15d or 12h (got %r)"
                        % (s.get("litellm_prometheus_retention"),))
    for url in s.get("litellm_alertmanager_webhook_urls") or []:
        if not re.match(r"^https?://[^\s/]+", str(url)):
            problems.append("litellm_alertmanager_webhook_urls: every entry must be an http(s) URL (one is not)")
            break
    if not isinstance(s.get("litellm_alertmanager_route", {}), dict):
        problems.append("litellm_alertmanager_route must be a mapping")
    return problems


def known_variables(argument_specs):
    """Every option of every entry point of the given parsed meta/argument_specs.yml documents."""
    known = set()
    for document in argument_specs or []:
        for entry in ((document or {}).get("argument_specs") or {}).values():
            known.update((entry or {}).get("options") or {})
    return known


def litellm_role_variables(roles_dir):
    """The variables every role under roles_dir documents in its meta/argument_specs.yml (the
    collection's own roles: a variable a new role documents is known without another list)."""
    documents = []
    for path in sorted(glob.glob(os.path.join(str(roles_dir), "*", "meta", "argument_specs.yml"))):
        with open(path, encoding="utf-8") as handle:
            documents.append(yaml.safe_load(handle))
    if not documents:
        raise AnsibleFilterError("litellm_role_variables: no meta/argument_specs.yml under %s" % roles_dir)
    return sorted(known_variables(documents))


def litellm_unknown_variables(names, known):
    """One message per litellm_* name that is not known, with the closest known name."""
    known = sorted(set(known))
    messages = []
    for name in sorted(set(names) - set(known)):
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
        messages.append("%s is not a variable of gatewayops.litellm and is ignored%s" % (
            name, (" (did you mean %s?)" % close[0]) if close else ""))
    return messages


class FilterModule(object):
    def filters(self):
        return {
            "litellm_role_variables": litellm_role_variables,
            "litellm_settings_problems": litellm_settings_problems,
            "litellm_unknown_variables": litellm_unknown_variables,
        }
