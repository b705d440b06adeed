"""Write (or with --check, compare) the AWX survey specs of this collection's job templates.

awx/job_templates.yml names each job template's playbook and the variables its survey asks for.
Each variable becomes one survey question, taken from the argument spec of the role that defines
it (roles/*/meta/argument_specs.yml, entry point main) or from that file's playbook_variables:

  type str -> text (password when the spec says no_log), int -> integer, float -> float,
  bool -> multiplechoice true/false, choices -> multiplechoice; default, required and description
  as given. A list or a mapping has no survey type that arrives as one (AWX passes a survey's text
  as a string): such variables belong in inventory or a job template's extra variables, and naming
  one here is an error.

Usage: python tools/awx_surveys.py [--check]   (--check: exit 1 and name the files that differ)"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import yaml

REPO = pathlib.Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "awx" / "job_templates.yml"
SURVEYS = REPO / "awx" / "surveys"
MAX_TEXT = 4096


def role_options(repo=REPO):
    """Every role's main entry point options: variable -> (role, option spec)."""
    options = {}
    for spec_file in sorted((repo / "roles").glob("*/meta/argument_specs.yml")):
        role = spec_file.parts[-3]
        main = (yaml.safe_load(spec_file.read_text()) or {}).get("argument_specs", {}).get("main", {})
        for name, spec in (main.get("options") or {}).items():
            options.setdefault(name, (role, spec))
    return options


def _description(spec):
    text = spec.get("description", "")
    if isinstance(text, list):
        text = " ".join(text)
    # argument specs use Ansible's doc markup: O(x), C(x), V(x) read as x in a survey
    for mark in ("O(", "C(", "V(", "P(", "I("):
        while mark in text:
            start = text.index(mark)
            end = text.find(")", start)
            if end < 0:
                break
            text = text[:start] + text[start + 2:end] + text[end + 1:]
    return text.strip()


def question(name, spec):
    """One AWX survey question for an option spec."""
    kind = spec.get("type", "str")
    default = spec.get("default")
    entry = {"question_name": name, "question_description": _description(spec), "variable": name,
             "required": bool(spec.get("required", False)), "new_question": True}
    if spec.get("choices"):
        entry.update(type="multiplechoice", choices=[str(c) for c in spec["choices"]],
                     default="" if default is None else str(default))
    elif kind == "bool":
        entry.update(type="multiplechoice", choices=["true", "false"],
                     default="" if default is None else str(bool(default)).lower())
    elif kind == "int":
        entry.update(type="integer", min=None, max=None, default="" if default is None else int(default))
    elif kind == "float":
        entry.update(type="float", min=None, max=None, default="" if default is None else float(default))
    elif kind in ("str", "path", "raw"):
        entry.update(type="password" if spec.get("no_log") else "text", min=0, max=MAX_TEXT,
                     default="" if default is None or spec.get("no_log") else str(default))
    else:
        raise SystemExit("%s: a %s has no survey question type that AWX passes as one; set it in inventory or the job "
                         "template's extra variables" % (name, kind))
    return entry


def surveys(repo=REPO):
    """{job template name: survey spec} from awx/job_templates.yml and the argument specs."""
    config = yaml.safe_load((repo / "awx" / "job_templates.yml").read_text())
    options = role_options(repo)
    own = config.get("playbook_variables") or {}
    result = {}
    for name, template in config["job_templates"].items():
        spec = []
        for variable in template["survey"]:
            if variable in own:
                spec.append(question(variable, own[variable]))
            elif variable in options:
                spec.append(question(variable, options[variable][1]))
            else:
                raise SystemExit("awx/job_templates.yml: job template %s surveys %s, which no role's argument spec "
                                 "and no playbook_variables entry defines" % (name, variable))
        result[name] = {"name": "gatewayops.litellm %s" % name, "description": template["description"], "spec": spec}
    return result


def render(survey):
    return json.dumps(survey, indent=2, sort_keys=True) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    wanted = {SURVEYS / ("%s.json" % name): render(survey) for name, survey in surveys().items()}
    stale = sorted(str(path.relative_to(REPO)) for path in set(SURVEYS.glob("*.json")) - set(wanted))
    differ = sorted(str(path.relative_to(REPO)) for path, text in wanted.items()
                    if not path.exists() or path.read_text() != text)
    if args.check:
        if differ or stale:
            print("out of date (run python tools/awx_surveys.py): %s" % ", ".join(differ + stale), file=sys.stderr)
            return 1
        print("%d survey specs match the argument specs" % len(wanted))
        return 0
    SURVEYS.mkdir(parents=True, exist_ok=True)
    for path, text in wanted.items():
        path.write_text(text)
    for name in stale:
        (REPO / name).unlink()
    print("wrote %s" % ", ".join(sorted(str(p.relative_to(REPO)) for p in wanted)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
