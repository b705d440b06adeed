# -*- coding: utf-8 -*-
"""Unit tests for the secret-handling filters (pure logic)."""

from __future__ import annotations

import re

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.gatewayops.litellm.plugins.filter import secrets as f

MASTER = {"name": "LITELLM_MASTER_KEY", "prefix": "sk-", "rotate_var": "litellm_master_key_rotate"}
SALT = {"name": "LITELLM_SALT_KEY", "prefix": "sk-", "rotate_var": "litellm_salt_key_rotate",
        "consequence": "A new salt key makes stored credentials unreadable."}


def spec(base, **kw):
    return dict(base, **kw)


class TestDotenv:
    def test_parses_comments_quotes_export_and_inline_comments(self):
        text = "\n".join([
            "# comment", "", "A=plain", "B='single # not a comment'", 'C="dq \\"x\\" \\\\"',
            "export D=exported", "E=value # trailing", "F=",
        ])
        assert f.dotenv_parse(text) == {
            "A": "plain", "B": "single # not a comment", "C": 'dq "x" \\', "D": "exported", "E": "value", "F": "",
        }

    def test_rejects_a_line_without_equals_and_names_the_line_only(self):
        with pytest.raises(AnsibleFilterError, match=r"^line 2 of the \.env file is not NAME=value$"):
            f.dotenv_parse("A=1\nsk-secret-looking-garbage\n")

    def test_quote_round_trips_through_parse(self):
        value = "p@ss w0rd $HOME #x"
        assert f.dotenv_parse("K=%s" % f.dotenv_quote(value)) == {"K": value}

    def test_render_is_the_inverse_of_parse(self):
        values = {"B": "two words", "A": "sk-1", "C": "$literal"}
        text = f.dotenv_render(values)
        assert text.splitlines()[1:] == ["A='sk-1'", "B='two words'", "C='$literal'"]
        assert f.dotenv_parse(text) == values

    def test_render_refuses_a_bad_name(self):
        with pytest.raises(AnsibleFilterError, match="not a valid environment variable name"):
            f.dotenv_render({"1BAD": "x"})

    @pytest.mark.parametrize("bad", ["it's", "a\nb"])
    def test_quote_refuses_what_env_cannot_hold_without_echoing_it(self, bad):
        with pytest.raises(AnsibleFilterError) as err:
            f.dotenv_quote(bad)
        assert bad not in str(err.value)


class TestMasterKey:
    def test_generated_key_is_acceptable(self):
        key = f.new_secret("sk-")
        assert re.fullmatch(r"sk-[0-9a-f]{64}", key)
        assert f.master_key_problems(key) == []

    def test_new_secrets_differ(self):
        assert f.new_secret() != f.new_secret()

    @pytest.mark.parametrize("key, fragment", [
        ("sk-1234", "publicly known"),
        ("x" * 40, "must start with 'sk-'"),
        ("sk-short", "at least 32 characters"),
        ("sk-" + "a" * 40, "repeats"),
        ("sk-" + "ab cd" * 8, "white space"),
    ])
    def test_problems_name_the_rule(self, key, fragment):
        problems = f.master_key_problems(key)
        assert any(fragment in p for p in problems), problems
        assert all(key not in p for p in problems)


class TestResolveSecrets:
    def test_fresh_host_generates_every_secret(self):
        out = f.resolve_secrets({}, [spec(MASTER), spec(SALT)])
        assert out["generated"] == ["LITELLM_MASTER_KEY", "LITELLM_SALT_KEY"]
        assert out["kept"] == out["rotated"] == out["supplied"] == []
        assert all(v.startswith("sk-") and len(v) == 67 for v in out["values"].values())

    def test_existing_values_are_kept_on_every_later_run(self):
        existing = {"LITELLM_MASTER_KEY": "sk-" + "1" * 64, "LITELLM_SALT_KEY": "sk-" + "2" * 64}
        out = f.resolve_secrets(existing, [spec(MASTER), spec(SALT)])
        assert out["values"] == existing
        assert out["kept"] == ["LITELLM_MASTER_KEY", "LITELLM_SALT_KEY"]
        assert out["generated"] == []

    def test_supplied_value_equal_to_host_is_kept(self):
        existing = {"LITELLM_SALT_KEY": "sk-same"}
        out = f.resolve_secrets(existing, [spec(SALT, requested="sk-same")])
        assert out["kept"] == ["LITELLM_SALT_KEY"]

    def test_supplied_value_on_fresh_host_is_used(self):
        out = f.resolve_secrets({}, [spec(SALT, requested="sk-from-vault")])
        assert out["values"]["LITELLM_SALT_KEY"] == "sk-from-vault"
        assert out["supplied"] == ["LITELLM_SALT_KEY"]

    def test_differing_salt_key_fails_without_rotation_and_never_echoes_values(self):
        existing = {"LITELLM_SALT_KEY": "sk-on-host-value"}
        with pytest.raises(AnsibleFilterError) as err:
            f.resolve_secrets(existing, [spec(SALT, requested="sk-new-value")])
        message = str(err.value)
        assert "LITELLM_SALT_KEY" in message and "litellm_salt_key_rotate=true" in message
        assert "unreadable" in message
        assert "sk-on-host-value" not in message and "sk-new-value" not in message

    def test_differing_value_is_rotated_when_allowed(self):
        existing = {"LITELLM_MASTER_KEY": "sk-old"}
        out = f.resolve_secrets(existing, [spec(MASTER, requested="sk-new", rotate=True)])
        assert out["values"]["LITELLM_MASTER_KEY"] == "sk-new"
        assert out["rotated"] == ["LITELLM_MASTER_KEY"]

    def test_rotation_flag_alone_never_changes_a_key(self):
        existing = {"LITELLM_SALT_KEY": "sk-keep"}
        out = f.resolve_secrets(existing, [spec(SALT, rotate=True)])
        assert out["values"]["LITELLM_SALT_KEY"] == "sk-keep"

    def test_unprefixed_secret(self):
        out = f.resolve_secrets({}, [{"name": "REDIS_PASSWORD", "prefix": ""}])
        assert re.fullmatch(r"[0-9a-f]{64}", out["values"]["REDIS_PASSWORD"])


def test_a_secret_that_is_never_generated_is_written_only_when_supplied():
    spec = [{"name": "REDIS_PASSWORD", "setting": "litellm_redis_password", "rotate_var": "r", "generate": False}]
    absent = f.resolve_secrets({}, spec, {"litellm_redis_password": ""})
    assert absent["values"] == {} and absent["generated"] == []
    given = f.resolve_secrets({}, spec, {"litellm_redis_password": "shared-pass"})
    assert given["values"] == {"REDIS_PASSWORD": "shared-pass"} and given["supplied"] == ["REDIS_PASSWORD"]
    kept = f.resolve_secrets({"REDIS_PASSWORD": "shared-pass"}, spec, {"litellm_redis_password": ""})
    assert kept["values"] == {"REDIS_PASSWORD": "shared-pass"} and kept["kept"] == ["REDIS_PASSWORD"]
