"""One Lambda architecture everywhere (issue 17, cost): the functions run on arm64 (Graviton, 20 % cheaper per GB-s),
so the layers must be built for it and the deps layer must carry aarch64 wheels, not the build machine's.

A function on arm64 with an x86_64 pydantic-core in its layer fails at import on AWS only (the local runtime runs
handlers in-process, whatever the architecture): these checks are what catches it before a deploy.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shoplocal.template import load_template, load_yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
ARCH = "arm64"
PIP_PLATFORM = {"arm64": "aarch64", "x86_64": "x86_64"}  # Lambda's name -> the manylinux wheel tag's


def test_every_function_runs_on_one_architecture() -> None:
    resources = load_template(ROOT / "template.yaml").transformed["Resources"]
    functions = {lid: r["Properties"] for lid, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    assert functions
    other = {lid: p.get("Architectures") for lid, p in functions.items() if p.get("Architectures") != [ARCH]}
    assert not other, f"functions not on {ARCH} (set it in Globals, not per function): {other}"


def test_layers_are_built_for_the_functions_architecture() -> None:
    resources = load_yaml(ROOT / "template.yaml")["Resources"]
    layers = {lid: r for lid, r in resources.items() if r["Type"] == "AWS::Serverless::LayerVersion"}
    assert layers
    for lid, layer in layers.items():
        assert layer["Metadata"]["BuildArchitecture"] == ARCH, lid
        assert layer["Properties"]["CompatibleArchitectures"] == [ARCH], lid


def test_deps_layer_installs_the_wheels_of_that_architecture() -> None:
    """sam build's makefile builder passes no architecture: the Makefile names the platform pip installs for."""
    makefile = (ROOT / "layers" / "deps" / "Makefile").read_text()
    default = re.search(r"^LAMBDA_ARCH \?= (\S+)$", makefile, re.MULTILINE)
    assert default and default.group(1) == PIP_PLATFORM[ARCH]
    target = makefile.split("build-DepsLayer:", 1)[1].split("\n\n", 1)[0]
    assert "--platform manylinux2014_$(LAMBDA_ARCH)" in target
    assert "--only-binary=:all:" in target  # never a source build on the build machine's architecture
