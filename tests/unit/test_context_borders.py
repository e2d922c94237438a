"""The bounded contexts' borders (issue 13): one fixed dependency order, checked by import-linter
([tool.importlinter] in pyproject.toml), and the compositions that moved above a border behave as before."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from shop.fulfillment.split import plan_shipments
from shop.models import Address, Allocation, Totals
from shop.money import Money
from shop.orderflow import views
from shop.orders import service as orders
from shop.orders.models import Order, OrderLine, OrderStatus

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "shop" / "shop"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports in a process of its own (in-process, it reconfigures logging for the rest of the session)."""
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo", "--config", str(ROOT / "pyproject.toml")],
                          cwd=root, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_contexts_keep_their_dependency_order():
    done = _lint(PACKAGE.parent)
    assert done.returncode == 0, done.stdout + done.stderr


def _lint_copy(tmp_path: Path, change: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """lint-imports on a copy of the package with ``change`` (relative path -> text appended) applied."""
    copy = tmp_path / "shop"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for rel, text in change.items():
        target = copy / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a") as f:
            f.write(text)
    return _lint(tmp_path)


def test_a_function_level_import_across_a_border_breaks_the_contract(tmp_path):
    # the catalogue calling analytics inside a function (the old product page) is an upward import
    done = _lint_copy(tmp_path, {"catalog/service.py": "\n\ndef _also_bought():\n"
                                                         "    from shop.analytics import service\n"
                                                         "    return service\n"})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "shop.catalog is not allowed to import shop.analytics" in done.stdout


def test_a_root_module_importing_a_context_or_an_unplaced_context_breaks_the_contract(tmp_path):
    done = _lint_copy(tmp_path, {"pricing.py": "\nfrom shop.inventory import allocation  # noqa\n",
                                 "newcontext/__init__.py": ""})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "shop.pricing is not allowed to import shop.inventory" in done.stdout
    assert "shop.newcontext" in done.stdout  # exhaustive: every context must be placed in the order


def _order() -> Order:
    eur = Money(amount=0, currency="EUR")
    return Order(
        order_id="ord_abcdefghijklmnop", customer_id="c1", status=OrderStatus.FULFILLING,
        lines=[OrderLine(sku="SKU-A", product_id="p", name="A", quantity=2,
                         unit_price=Money(amount=500, currency="EUR"), weight_grams=250,
                         allocations=[Allocation(warehouse_id="berlin", quantity=2)])],
        totals=Totals(subtotal=eur, discount=eur, shipping=eur, tax=eur, total=eur),
        shipping_address=Address(name="A", line1="B", city="C", postal_code="1", country="DE"),
        payment_method_id="pm", created_at="t", updated_at="t", reservation_expires_at=0)


def test_the_order_view_with_shipments_is_the_order_view_plus_its_parcels():
    order = _order()
    alone = orders.order_view(order)
    assert views.order_view(order) == alone and alone["shipments"] == []
    shipments = plan_shipments(order, {("SKU-A", "berlin"): "A-01"}, "now")
    full = views.order_view(order, shipments)
    assert list(full) == list(alone)  # same keys in the same order (the JSON answer is unchanged)
    assert {k: v for k, v in full.items() if k != "shipments"} == {k: v for k, v in alone.items() if k != "shipments"}
    assert full["shipments"] == [views.shipment_view(s) for s in shipments]
    assert full["shipments"][0]["items"] == [{"sku": "SKU-A", "name": "A", "quantity": 2}]
