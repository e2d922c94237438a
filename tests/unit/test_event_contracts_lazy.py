"""The event contract's families are defined when needed (issue 17): importing the contract defines no detail
type; a producer defines the types it publishes at its import, a consumer the types it claims; every name still
resolves from shop.event_contracts as before the split."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel
from shop import event_contracts as contracts
from shop import events

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "shop" / "shop"
FAMILIES = sorted(p.stem for p in (PACKAGE / "event_contracts").glob("*.py") if p.stem != "__init__")


def _families_after(statement: str, task_root: Path | None = None) -> list[str]:
    """The families defined in a fresh interpreter after ``statement``."""
    path = [str(task_root)] if task_root else []
    done = subprocess.run(
        [sys.executable, "-c", f"import sys; {statement}; "
         "print(sorted(m.rsplit('.', 1)[1] for m in sys.modules if m.startswith('shop.event_contracts.')))"],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join([*path, str(PACKAGE.parent)])},
        capture_output=True, text=True, timeout=120, check=True, cwd=ROOT)
    return ast.literal_eval(done.stdout.strip().splitlines()[-1])


def test_importing_the_contract_and_the_publisher_defines_no_family():
    assert _families_after("import shop.events, shop.event_contracts") == []


def test_a_producer_defines_only_the_families_it_publishes():
    assert _families_after("import shop.orders.event_details") == ["orders"]
    assert _families_after("import shop.inventory.restock") == ["warehouse"]
    assert _families_after("import app", ROOT / "functions" / "payments") == ["orders"]
    # checkout publishes nothing (payments publishes OrderPlaced): it defines no family, nor loads the contract
    assert _families_after("import app; assert 'shop.events' not in sys.modules",
                           ROOT / "functions" / "checkout") == []


def test_a_consumer_defines_the_families_of_the_types_it_claims():
    from shop.notifications.service import CLAIMS

    wanted = sorted({contracts._DETAIL_TYPES[t] for t in CLAIMS})
    assert _families_after("import shop.notifications.service") == wanted


def test_every_detail_type_resolves_to_its_model_in_its_family():
    assert len(contracts.DETAIL_MODELS) == 25
    for detail_type, model in contracts.DETAIL_MODELS.items():
        assert model.__name__ == detail_type
        assert issubclass(model, contracts.ContractDetail)
        assert model.__module__ == f"shop.event_contracts.{contracts._DETAIL_TYPES[detail_type]}"
        assert getattr(contracts, detail_type) is model
    for part, family in contracts._PARTS.items():
        member = getattr(contracts, part)
        assert issubclass(member, BaseModel) and member.__module__ == f"shop.event_contracts.{family}"
    assert set(contracts._DETAIL_TYPES.values()) | set(contracts._PARTS.values()) == set(FAMILIES)


def test_unknown_names_fail_as_before():
    assert "NoSuchEvent" not in contracts.DETAIL_MODELS
    assert contracts.DETAIL_MODELS.get("NoSuchEvent") is None
    with pytest.raises(KeyError):
        contracts.detail_model("NoSuchEvent")
    with pytest.raises(KeyError):
        events.require("NoSuchEvent")  # a typo in a producer's declaration fails its import
    with pytest.raises(AttributeError):
        _ = contracts.NoSuchEvent


def _published_literals(tree: ast.Module) -> set[str]:
    """The detail types a module passes to ``events.entry`` as literals."""
    out = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "entry"
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            out.add(node.args[0].value)
    return out


def test_each_producer_declares_the_types_it_publishes():
    producers = 0
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        literals = _published_literals(tree)
        if not literals and "events.require(" not in path.read_text():
            continue
        producers += 1
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        published = __import__(module, fromlist=["PUBLISHED"]).PUBLISHED
        assert literals <= published, f"{module} publishes {sorted(literals - published)} without requiring them"
    assert producers >= 7


def test_the_families_import_only_root_modules():
    for family in FAMILIES:
        tree = ast.parse((PACKAGE / "event_contracts" / f"{family}.py").read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        ours = {m for m in imported if m == "shop" or m.startswith("shop.")}
        assert ours <= {"shop.models", "shop.money", "shop.event_contracts"}, (family, ours)
