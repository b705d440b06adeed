"""Fail when a role's meta/argument_specs.yml and defaults/main.yml disagree: every default
is documented, every documented option with a default has the same default.

Every directory under roles/ is checked: a role without meta/argument_specs.yml is a problem.
A templated default is described in prose, not compared; but where it falls back to another
role's public variable (`litellm_port | default(4000)`, as the verify role does for the proxy
role's variables), the fallback must be that role's default."""

from __future__ import annotations

import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
# `name | default(literal)`: the literal is a YAML scalar (quoted string, number, true/false)
FALLBACK = re.compile(r"\b([a-z][a-z0-9_]*)\s*\|\s*default\(\s*([^(),]+?)\s*\)")


def load(role: pathlib.Path) -> tuple[dict, dict]:
    defaults_file = role / "defaults/main.yml"
    defaults = (yaml.safe_load(defaults_file.read_text()) or {}) if defaults_file.is_file() else {}
    spec = yaml.safe_load((role / "meta/argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    return defaults, spec


def check(role: pathlib.Path, defaults: dict, spec: dict, others: dict[str, dict]) -> list[str]:
    errors = []
    for name in sorted(set(defaults) - set(spec)):
        errors.append(f"{role.name}: {name} is in defaults/main.yml but not documented in argument_specs")
    for name in sorted(set(spec) - set(defaults)):
        if "default" in spec[name]:
            errors.append(f"{role.name}: {name} has a documented default but is missing from defaults/main.yml")
    for name in sorted(set(spec) & set(defaults)):
        documented = spec[name].get("default")
        actual = defaults[name]
        if isinstance(actual, str) and "{{" in actual:
            if "default" in spec[name] and documented != actual:
                errors.append(f"{role.name}: {name} has a templated default; argument_specs documents {documented!r}")
            errors.extend(check_fallbacks(role, name, actual, others))
            continue  # templated defaults are described in prose
        if isinstance(actual, str):
            actual = actual.strip()
        if documented != actual:
            errors.append(f"{role.name}: {name} default differs: argument_specs {documented!r} vs defaults {actual!r}")
    return errors


def check_fallbacks(role: pathlib.Path, name: str, template: str, others: dict[str, dict]) -> list[str]:
    """Each `other_var | default(x)` in a templated default: x is the default of the role that owns other_var."""
    errors = []
    for variable, literal in FALLBACK.findall(template):
        owners = {other: defaults[variable] for other, defaults in others.items() if variable in defaults}
        fallback = yaml.safe_load(literal)
        for other, value in sorted(owners.items()):
            if fallback != value:
                errors.append(f"{role.name}: {name} falls back to {variable} = {fallback!r}, but the {other} role's "
                              f"default is {value!r}")
    return errors


def main() -> int:
    errors = []
    roles = sorted(p for p in (ROOT / "roles").iterdir() if p.is_dir())
    loaded = {}
    for role in roles:
        if (role / "meta/argument_specs.yml").is_file():
            loaded[role] = load(role)
        else:
            errors.append(f"{role.name}: meta/argument_specs.yml is missing (every role documents its variables)")
    for role, (defaults, spec) in loaded.items():
        others = {other.name: other_defaults for other, (other_defaults, _spec) in loaded.items() if other != role}
        errors.extend(check(role, defaults, spec, others))
    for error in errors:
        print(error, file=sys.stderr)
    print(f"{len(roles)} roles checked, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
