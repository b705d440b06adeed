"""Fail when a role's meta/argument_specs.yml and defaults/main.yml disagree: every default
is documented, every documented option with a default has the same default."""

from __future__ import annotations

import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent


def check(role: pathlib.Path) -> list[str]:
    defaults = yaml.safe_load((role / "defaults/main.yml").read_text()) or {}
    spec = yaml.safe_load((role / "meta/argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
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
            continue  # templated defaults are described in prose
        if isinstance(actual, str):
            actual = actual.strip()
        if documented != actual:
            errors.append(f"{role.name}: {name} default differs: argument_specs {documented!r} vs defaults {actual!r}")
    return errors


def main() -> int:
    errors = []
    roles = sorted(p for p in (ROOT / "roles").iterdir() if (p / "meta/argument_specs.yml").exists())
    for role in roles:
        errors.extend(check(role))
    for error in errors:
        print(error, file=sys.stderr)
    print(f"{len(roles)} roles checked, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
