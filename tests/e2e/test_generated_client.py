"""The published document is a usable contract: a typed client generated from docs/openapi.json drives a shopper
journey against the local gateway (issue 13, "Contracts").

openapi-python-client (requirements-dev.txt) generates the client into the test's temporary directory; its ruff
post-hook is switched off (formatting only, and the slow part). Every step goes through the generated typed
functions and asserts on the generated models' attributes, so a success schema that no longer matches what a
route answers (a renamed or retyped field, an undeclared key) fails here as it would in a storefront build.
The product is made by an admin over plain HTTP (tests/factories.py): the journey is the shopper's.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.factories import make_product, uid

pytestmark = pytest.mark.e2e

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
PACKAGE = "shop_client"
PRICE = 2590


@pytest.fixture(scope="module")
def shop_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The generated client package, importable for the module's tests (and forgotten afterwards)."""
    root = tmp_path_factory.mktemp("generated")
    config = root / "config.json"
    config.write_text(json.dumps({"package_name_override": PACKAGE, "post_hooks": []}))
    done = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(DOCUMENT), "--meta", "none",
         "--output-path", str(root / PACKAGE), "--config", str(config), "--fail-on-warning"],
        capture_output=True, text=True, timeout=120, check=False)
    # --fail-on-warning: a part of the document the generator cannot type (and would leave out) is a failure
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _api(client: ModuleType, name: str) -> Any:
    """A generated endpoint module, e.g. ``catalog.list_products_products_get`` (its ``sync`` is the call)."""
    return importlib.import_module(f"{client.__name__}.api.{name}")


def test_a_generated_typed_client_browses_buys_and_reads_the_order(stack: Any, shop_client: ModuleType) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    admin = stack.user(groups=("admin",))
    product = make_product(stack, admin.id_token, stock={"a": 5}, price=PRICE)
    sku = product.skus[0]
    public = shop_client.Client(base_url=stack.base_url, raise_on_unexpected_status=True)

    page = _api(shop_client, "catalog.list_products_products_get").sync(
        client=public, category=f"cat-{product.product_id.removeprefix('p-')}")
    assert isinstance(page, models.ProductPage), page
    assert [p.product_id for p in page.items] == [product.product_id]
    assert page.items[0].price_from.amount == PRICE and page.items[0].price_from.currency == "EUR"
    assert page.items[0].rating.count == 0 and page.items[0].rating.average is None
    assert page.next_cursor is None

    details = _api(shop_client, "catalog.get_product_products_product_id_get").sync(
        product.product_id, client=public)
    assert isinstance(details, models.ProductDetail), details
    assert [(s.sku, s.available, s.in_stock) for s in details.skus] == [(sku, 5, True)]
    assert details.skus[0].price.amount == PRICE

    shopper = stack.user()
    signed_in = shop_client.AuthenticatedClient(base_url=stack.base_url, token=shopper.id_token,
                                                raise_on_unexpected_status=True)
    cart = _api(shop_client, "cart.put_item_cart_items_sku_put").sync(
        sku, client=signed_in, body=models.QuantityIn(quantity=2))
    assert isinstance(cart, models.CartView), cart
    assert [(line.sku, line.quantity) for line in cart.items] == [(sku, 2)]
    assert cart.items[0].unit_price.amount == PRICE and cart.items[0].line_total.amount == 2 * PRICE
    assert cart.totals.subtotal.amount == 2 * PRICE and cart.totals.total.amount > cart.totals.subtotal.amount
    assert cart.currency == "EUR" and cart.warnings == [] and cart.version == 1

    placed = _api(shop_client, "checkout.post_checkout_checkout_post").sync(
        client=signed_in.with_headers({"Idempotency-Key": f"generated-{uid(12)}"}),
        body=models.CheckoutIn(
            payment_method_id="pm_card_visa", expected_total=cart.totals.total,
            shipping_address=models.Address(name="Grace Hopper", line1="1 Navy Way", city="Berlin",
                                            postal_code="10117", country="DE")))
    assert isinstance(placed, models.PlacedOrder), placed
    assert placed.status == models.OrderStatus.PENDING_PAYMENT and placed.replayed is False
    assert placed.totals.total.amount == cart.totals.total.amount
    assert [(line.sku, line.quantity, line.line_total.amount) for line in placed.lines] == [(sku, 2, 2 * PRICE)]
    assert sum(a.quantity for a in placed.lines[0].allocations) == 2

    order = _api(shop_client, "orders.get_order_orders_order_id_get").sync(placed.order_id, client=signed_in)
    assert isinstance(order, models.OrderView), order
    assert order.order_id == placed.order_id and isinstance(order.status, models.OrderStatus)
    assert order.totals.total.amount == cart.totals.total.amount
    assert [(line.sku, line.unit_price.amount) for line in order.lines] == [(sku, PRICE)]
    assert order.shipping_address.country == "DE" and order.shipping_address.name == "Grace Hopper"
    assert order.timeline[0].status == "PENDING_PAYMENT"
