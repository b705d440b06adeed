"""The execution environment definition (execution-environment.yml, meta/execution-environment.yml),
checked by ansible-builder itself: `create` generates the build context (the image build needs a
registry for its base image, which our machines cannot reach: README "Known limits"), and
`introspect` finds the collection's own dependencies the way a build that lists this collection does."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILDER = [sys.executable, "-m", "ansible_builder"]
COLLECTIONS = REPO / ".cache" / "collections"   # scripts/bootstrap links this checkout in there


def _run(*args):
    result = subprocess.run([*BUILDER, *args], cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_create_generates_a_build_context_with_every_dependency(tmp_path):
    _run("create", "-f", "execution-environment.yml", "-c", str(tmp_path), "--output-filename", "Containerfile")
    definition = yaml.safe_load((REPO / "execution-environment.yml").read_text())
    containerfile = (tmp_path / "Containerfile").read_text()
    assert f'ARG EE_BASE_IMAGE="{definition["images"]["base_image"]["name"]}"' in containerfile
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core==2.19.14 ansible-runner==2.4.3"' in containerfile
    # the same ansible-core as the controller's pinned one
    pinned = [line for line in (REPO / "requirements.txt").read_text().splitlines() if line.startswith("ansible-core==")]
    assert pinned == ["ansible-core==2.19.14"]
    build = tmp_path / "_build"
    assert yaml.safe_load((build / "requirements.yml").read_text()) == yaml.safe_load((REPO / "requirements.yml").read_text())
    assert "cryptography>=41.0" in (build / "requirements.txt").read_text()
    assert "openssh-clients [platform:rpm]" in (build / "bindep.txt").read_text()
    for stage in ("FROM $EE_BASE_IMAGE AS base", "AS galaxy", "AS builder", "ansible-galaxy collection install"):
        assert stage in containerfile, stage


def test_introspect_finds_the_collections_own_dependencies():
    found = yaml.safe_load(_run("introspect", "--sanitize", str(COLLECTIONS)).split("\n", 1)[1])
    assert "cryptography>=41.0  # from collection gatewayops.litellm" in found["python"]
    assert "openssh-clients [platform:rpm]  # from collection gatewayops.litellm" in found["system"]
