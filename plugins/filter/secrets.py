# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secret handling for the proxy role: parse the host's .env, keep what is there,
generate what is missing, refuse accidental rotation, render .env safely.

Values never appear in an error message: only variable names do."""

from __future__ import annotations

import hashlib
import re
import secrets

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

# LiteLLM refuses to boot with this key (1.110 master_key_boot_check compares sha256 digests);
# the others are defaults from tutorials and compose examples.
_WELL_KNOWN_KEYS = frozenset(
    {"sk-1234", "sk-12345", "sk-123456", "sk-1234567890", "sk-admin", "sk-master", "sk-litellm",
     "sk-test", "sk-password", "sk-changeme", "sk-secret"}
)
_WELL_KNOWN_SHA256 = frozenset({"88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b"})
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MIN_MASTER_KEY_LENGTH = 32


def dotenv_parse(content):
    """Parse .env text into a dict. Understands comments, blank lines, `export `,
    single quotes (literal) and double quotes (with \\" and \\\\ escapes)."""
    result = {}
    for number, raw in enumerate((content or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not _ENV_NAME.match(name):
            raise AnsibleFilterError("line %d of the .env file is not NAME=value" % number)
        result[name] = _unquote(value.strip())
    return result


def _unquote(value):
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r'\\(["\\])', r"\1", value[1:-1])
    # unquoted: an inline comment starts at " #"
    return value.split(" #", 1)[0].rstrip()


def dotenv_quote(value):
    """Quote one value for a compose .env file: single quotes are literal there
    (no $-interpolation, no escapes), so a value may not contain one."""
    value = "" if value is None else str(value)
    if "'" in value or "\n" in value or "\r" in value:
        raise AnsibleFilterError("a value for .env contains a single quote or a line break, which .env cannot hold literally")
    return "'%s'" % value


def dotenv_render(values, header="# Managed by gatewayops.litellm.proxy. Mode 0440: the proxy reads it as a file, never as its environment."):
    """Render a mapping as .env text (sorted, single-quoted values), the inverse of dotenv_parse."""
    lines = [header] if header else []
    for name in sorted(values or {}):
        if not _ENV_NAME.match(name):
            raise AnsibleFilterError("%r is not a valid environment variable name" % name)
        lines.append("%s=%s" % (name, dotenv_quote(values[name])))
    return "\n".join(lines) + "\n"


def master_key_problems(key):
    """List what is wrong with a master key (empty list: acceptable). Never echoes the key."""
    key = "" if key is None else str(key)
    problems = []
    if not key.startswith("sk-"):
        problems.append("it must start with 'sk-'")
    if len(key) < MIN_MASTER_KEY_LENGTH:
        problems.append("it must be at least %d characters long (it has %d)" % (MIN_MASTER_KEY_LENGTH, len(key)))
    if key.lower() in _WELL_KNOWN_KEYS or hashlib.sha256(key.encode()).hexdigest() in _WELL_KNOWN_SHA256:
        problems.append("it is a publicly known default key")
    elif len(set(key[3:])) <= 2 and len(key) > 3:
        problems.append("it repeats one or two characters")
    if any(ch.isspace() for ch in key):
        problems.append("it contains white space")
    return problems


def new_secret(prefix=""):
    """prefix + 64 hex characters from the OS CSPRNG (32 random bytes)."""
    return "%s%s" % (prefix, secrets.token_hex(32))


def _specs(specs, settings):
    """Specs with `requested`/`rotate` filled in from `settings` where a spec names its variable."""
    for spec in specs:
        if settings is not None and spec.get("setting"):
            spec = dict(spec, requested=settings.get(spec["setting"]),
                        rotate=boolean(settings.get(spec.get("rotate_var"), False), strict=False))
        yield spec


def secret_conflicts(existing, specs, settings=None):
    """One message per supplied secret that differs from the one in .env while its rotation is not
    allowed (empty: nothing would be rotated by accident). Names only, never a value, so a task
    can show the message without no_log."""
    existing = existing or {}
    messages = []
    for spec in _specs(specs, settings):
        requested, current = spec.get("requested") or "", existing.get(spec["name"], "")
        if requested and current and requested != current and not spec.get("rotate"):
            consequence = spec.get("consequence") or ""
            messages.append(
                "%s: the value supplied differs from the one already in .env on the host. %s"
                "Refusing to change it; set %s=true to rotate it deliberately."
                % (spec["name"], consequence + (" " if consequence else ""), spec.get("rotate_var", "the rotation variable")))
    return messages


def resolve_secrets(existing, specs, settings=None):
    """Decide the value of every managed secret.

    existing: dict parsed from the .env on the host ({} on a fresh host).
    specs: list of {name, requested, rotate, rotate_var, prefix, consequence}; with `settings`
    (the role's variables), a spec may name its variable instead (`setting`): `requested` is
    then settings[setting] and `rotate` settings[rotate_var] (the stack model's `secrets`).

    Rules, per secret: a value already on the host is kept; a missing one is generated
    (or taken from `requested`); a requested value that differs from the host's fails
    unless `rotate` is true (secret_conflicts says so first). Returns {values, generated,
    supplied, rotated, kept}: the value of each secret and, per outcome, the names it applies to."""
    existing = existing or {}
    conflicts = secret_conflicts(existing, specs, settings)
    if conflicts:
        raise AnsibleFilterError(" ".join(conflicts))
    values = {}
    outcome = {"generated": [], "supplied": [], "rotated": [], "kept": []}
    for spec in _specs(specs, settings):
        name = spec["name"]
        requested = spec.get("requested") or ""
        current = existing.get(name, "")
        if requested and current and requested != current:
            values[name], how = requested, "rotated"
        elif requested:
            values[name], how = requested, ("kept" if current else "supplied")
        elif current:
            values[name], how = current, "kept"
        elif spec.get("generate", True) is False:
            continue  # only ever supplied (an external service's password): absent stays absent
        else:
            values[name], how = new_secret(spec.get("prefix", "")), "generated"
        outcome[how].append(name)
    return dict(outcome, values=values)


class FilterModule(object):
    def filters(self):
        return {
            "dotenv_parse": dotenv_parse,
            "dotenv_quote": dotenv_quote,
            "dotenv_render": dotenv_render,
            "master_key_problems": master_key_problems,
            "resolve_secrets": resolve_secrets,
            "secret_conflicts": secret_conflicts,
        }
