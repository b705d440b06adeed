"""AWX survey specs (tools/awx_surveys.py): the committed awx/surveys/*.json match the roles'
argument specs, and each option type becomes the survey question AWX passes back as that type."""

from __future__ import annotations

import importlib.util
import json
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("awx_surveys", REPO / "tools" / "awx_surveys.py")
awx_surveys = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(awx_surveys)


def test_the_committed_survey_specs_match_the_argument_specs(capsys):
    assert awx_surveys.main(["--check"]) == 0, capsys.readouterr().err


def test_every_job_template_has_a_survey_of_known_variables():
    committed = {p.stem: json.loads(p.read_text()) for p in (REPO / "awx" / "surveys").glob("*.json")}
    assert set(committed) == {"deploy", "verify", "rollback"}
    options = awx_surveys.role_options()
    for name, survey in committed.items():
        variables = [q["variable"] for q in survey["spec"]]
        assert variables[0] == "litellm_target_hosts", name
        assert len(set(variables)) == len(variables), name
        for variable in variables[1:]:
            assert variable in options, (name, variable)


def test_types_map_to_survey_questions():
    question = awx_surveys.question
    assert question("a", {"type": "bool", "default": True})["type"] == "multiplechoice"
    assert question("a", {"type": "bool", "default": True})["choices"] == ["true", "false"]
    assert question("a", {"type": "bool", "default": False})["default"] == "false"
    assert question("a", {"type": "int", "default": 10})["type"] == "integer"
    assert question("a", {"type": "int", "default": 10})["default"] == 10
    choice = question("a", {"type": "str", "default": "x", "choices": ["x", "y"]})
    assert (choice["type"], choice["choices"], choice["default"]) == ("multiplechoice", ["x", "y"], "x")
    secret = question("key", {"type": "str", "default": "sk-not-shown", "no_log": True, "required": True})
    assert (secret["type"], secret["default"], secret["required"]) == ("password", "", True)
    text = question("a", {"type": "str", "description": ["Uses O(b) and C(c).", "Second."]})
    assert (text["type"], text["question_description"]) == ("text", "Uses b and c. Second.")


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_lists_and_mappings_are_refused_with_the_variable_named(kind):
    with pytest.raises(SystemExit, match="litellm_x: a %s has no survey question type" % kind):
        awx_surveys.question("litellm_x", {"type": kind})
