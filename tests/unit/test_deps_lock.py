"""The deps layer is built from a hash-pinned lock, without the Lambda runtime's botocore (issue 14, supply chain).

layers/deps/requirements.txt names the top-level dependencies; layers/deps/requirements.lock pins every package
the layer ships (`make -C layers/deps lock`); layers/deps/Makefile installs only the lock, with --require-hashes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from shoplocal.template import load_yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DEPS = ROOT / "layers" / "deps"
# What the python3.13 Lambda runtime ships, so the layer must not carry a second, shadowing copy:
# boto3 and its dependencies that nothing else in the layer needs.
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "python-dateutil", "six"}
TOP_LEVEL = {"aws-lambda-powertools", "pydantic", "stripe", "jinja2", "markupsafe"}  # jinja2: issue 13

_REQ = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(\S.*)?$")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _logical_lines(path: Path) -> list[str]:
    """Requirement lines with backslash continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    lines = (line.split(" #", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _parse(path: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version specifier, hashes)."""
    out: dict[str, tuple[str, list[str]]] = {}
    for line in _logical_lines(path):
        first, *options = line.split()
        m = _REQ.match(first)
        assert m, f"{path.name}: cannot parse {line!r}"
        name = _norm(m.group(1))
        assert name not in out, f"{path.name}: {name} listed twice"
        spec = first[m.end(2) if m.group(2) else m.end(1) :]
        hashes = [o.removeprefix("--hash=") for o in options if o.startswith("--hash=")]
        unknown = [o for o in options if not o.startswith("--hash=")]
        assert not unknown, f"{path.name}: unexpected options on {name}: {unknown}"
        out[name] = (spec, hashes)
    return out


@pytest.fixture(scope="module")
def lock() -> dict[str, tuple[str, list[str]]]:
    return _parse(DEPS / "requirements.lock")


@pytest.fixture(scope="module")
def top_level() -> dict[str, tuple[str, list[str]]]:
    return _parse(DEPS / "requirements.txt")


def test_lock_pins_every_package_exactly_with_hashes(lock: dict[str, tuple[str, list[str]]]) -> None:
    assert len(lock) >= len(TOP_LEVEL)
    for name, (spec, hashes) in lock.items():
        assert re.fullmatch(r"==[A-Za-z0-9.+!-]+", spec), f"{name} is not pinned with ==: {spec!r}"
        assert hashes, f"{name} has no --hash"
        for h in hashes:
            assert re.fullmatch(r"sha256:[0-9a-f]{64}", h), f"{name}: malformed hash {h!r}"


def test_lock_leaves_out_what_the_lambda_runtime_provides(lock: dict[str, tuple[str, list[str]]]) -> None:
    shipped = RUNTIME_PROVIDED & set(lock)
    assert not shipped, f"the layer would shadow the runtime's copy of {sorted(shipped)}"


def test_top_level_requirements_agree_with_the_lock(
    top_level: dict[str, tuple[str, list[str]]], lock: dict[str, tuple[str, list[str]]]
) -> None:
    assert set(top_level) == TOP_LEVEL
    for name, (spec, _) in top_level.items():
        assert spec.startswith("=="), f"requirements.txt must pin {name} with ==, got {spec!r}"
        assert name in lock, f"{name} is in requirements.txt but not in requirements.lock: run make -C layers/deps lock"
        assert lock[name][0] == spec, f"{name}: requirements.txt says {spec}, the lock {lock[name][0]}"


def test_powertools_tracer_extra_is_locked(lock: dict[str, tuple[str, list[str]]]) -> None:
    # aws-lambda-powertools[tracer] pulls aws-xray-sdk (and wrapt); its botocore comes from the runtime.
    assert {"aws-xray-sdk", "wrapt"} <= set(lock)


def test_deps_layer_is_built_from_the_lock_only() -> None:
    template: dict[str, Any] = load_yaml(ROOT / "template.yaml")
    layer = template["Resources"]["DepsLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Properties"]["ContentUri"].rstrip("/") == "layers/deps"
    makefile = (DEPS / "Makefile").read_text()
    target = re.search(r"^build-DepsLayer:\n((?:\t.*\n?)+)", makefile, re.M)
    assert target, "layers/deps/Makefile has no build-DepsLayer target"
    recipe = target.group(1).replace("\\\n", " ")
    for flag in ("--require-hashes", "--no-deps", "-r requirements.lock", "$(ARTIFACTS_DIR)/python"):
        assert flag in recipe, f"build-DepsLayer must install with {flag}"
    assert "requirements.txt" not in recipe
