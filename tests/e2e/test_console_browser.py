"""The staff console (console/, served by the local gateway at /console/) driven as staff use it, in headless
Chromium (Debian's, through Playwright; never `playwright install`): warehouse staff pick and pack an order a
shopper placed through the API and see it go to the carrier, on a phone-sized screen; an admin finds the order
by the shopper's e-mail, refunds part of it (with a double click: one refund) and sees the refund and the
timeline entry; an admin clears an order's needs-attention mark with a note (a double click: once); a new
checkout shows up in the console's order list. Screenshots of the main screens go to
.local/screenshots/ (git-ignored) for a reviewer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from shoplocal.stack import STRIPE_KEY
from tests.factories import (
    ADDRESS,
    checkout_with_payments_broken,
    execution_arn,
    execution_status_change,
    make_product,
    prepare_checkout,
    stock_of,
    uid,
    wait_for,
)

# one worker runs the whole module (--dist loadgroup): its fixtures (shop and browser) are built once;
# the invariant audit runs around each test
pytestmark = [pytest.mark.e2e, pytest.mark.audited, pytest.mark.xdist_group("console_browser")]

SHOTS = Path(__file__).resolve().parents[2] / ".local" / "screenshots"  # the browser fixture creates it
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
TIMEOUT_MS = 20_000


class Shop:
    """What the tests need from the API side: a stocked product and shoppers who check out over HTTP."""

    def __init__(self, stack: Any, admin: Any):
        self.stack, self.base = stack, stack.base_url
        self.product = make_product(stack, admin.id_token, stock={"a": 20}, price=2590)
        self.sku, self.warehouse = self.product.skus[0], self.product.warehouses[0]

    def checkout(self, quantity: int = 2) -> tuple[Any, str]:
        """A shopper buys ``quantity`` units as the storefront would; (shopper, order id) once it is FULFILLING."""
        shopper = self.stack.user(email=f"console-{uid()}@example.com")
        auth = {"Authorization": f"Bearer {shopper.id_token}"}
        put = requests.put(f"{self.base}/cart/items/{self.sku}", json={"quantity": quantity}, headers=auth, timeout=30)
        assert put.status_code == 200, put.text
        order = requests.post(f"{self.base}/checkout", timeout=60, json={
            "payment_method_id": "pm_card_visa", "shipping_address": ADDRESS},
            headers={**auth, "Idempotency-Key": f"console-{uid(12)}"})
        assert order.status_code == 201, order.text
        order_id = order.json()["order_id"]
        wait_for(lambda: self.order(shopper, order_id)["status"] == "FULFILLING", 60, "order paid and split")
        return shopper, order_id

    def order(self, shopper: Any, order_id: str) -> dict[str, Any]:
        resp = requests.get(f"{self.base}/orders/{order_id}", timeout=30,
                            headers={"Authorization": f"Bearer {shopper.id_token}"})
        assert resp.status_code == 200, resp.text
        return dict(resp.json())


@pytest.fixture(scope="module")
def shop(stack: Any, admin: Any) -> Shop:
    return Shop(stack, admin)


def _signed_in(browser: Any, stack: Any, user: Any, viewport: dict[str, int]) -> Any:
    """A page of the console with ``user`` signed in through its form, as a person does."""
    page = browser.new_context(viewport=viewport).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(f"{stack.base_url}/console/")
    page.fill("#login-email", user.email)
    page.fill("#login-password", user.password)
    page.click("#login-submit")
    page.wait_for_selector("#logout")
    return page


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_warehouse_staff_pick_and_pack_an_order_on_a_phone_and_it_goes_to_the_carrier(stack, browser, shop):
    shopper, order_id = shop.checkout(quantity=2)
    staff = stack.user(groups=("warehouse",))
    page = _signed_in(browser, stack, staff, PHONE)
    try:
        # a warehouse user sees only the warehouse page
        assert page.locator("#nav a").all_inner_texts() == ["Warehouse tasks"]
        page.fill("#warehouse-id", shop.warehouse)
        page.click("#warehouse-form button")
        pick = page.locator(f"article[data-kind=pick][data-order-id='{order_id}']")
        pick.wait_for()
        assert "2 \u00d7" in pick.inner_text() and shop.sku in pick.inner_text()  # 2 x the SKU
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"
        _shot(page, "warehouse-pick-phone")
        # the pick list must be ticked off before the pick can be completed
        pick.locator("button[type=submit]").click()
        assert shop.order(shopper, order_id)["shipments"][0]["status"] == "PICKING"
        for box in pick.locator("input[type=checkbox]").all():
            box.check()
        pick.locator("button[type=submit]").click()
        page.wait_for_selector("#warehouse-flash .ok")

        pack = page.locator(f"article[data-kind=pack][data-order-id='{order_id}']")
        wait_for(lambda: _refreshed(page) and pack.count() == 1, 30, "the pack task")
        _shot(page, "warehouse-pack-phone")
        pack.locator("input[name=weight]").fill("1040")
        pack.locator("button[type=submit]").click()
        page.wait_for_selector("#warehouse-flash .ok")

        pickup = page.locator(f"article[data-kind=pickup][data-order-id='{order_id}']")
        wait_for(lambda: _refreshed(page) and pickup.count() == 1, 30, "the pickup task")
        assert "Waiting for the carrier" in pickup.inner_text()
        _shot(page, "warehouse-pickup-phone")
        packed = shop.order(shopper, order_id)
        assert packed["status"] == "DISPATCHING"
        assert packed["shipments"][0]["package_weight_grams"] == 1040

        # the carrier scans the parcel: the pickup task leaves the list, the order is shipped
        assert stack.carrier_webhook(packed["shipments"][0]["tracking_number"], "picked_up").status == 200
        wait_for(lambda: shop.order(shopper, order_id)["status"] == "SHIPPED", 30, "the order shipped")
        wait_for(lambda: _refreshed(page) and pickup.count() == 0, 30, "the pickup task done")
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        page.context.close()


def _refreshed(page: Any) -> bool:
    page.click("#refresh-tasks")
    page.locator("#refresh-tasks:enabled").wait_for()  # the list was loaded again
    return True


def test_admin_finds_the_order_by_email_refunds_part_with_a_double_click_and_sees_it(stack, admin, browser, shop):
    shopper, order_id = shop.checkout(quantity=3)
    before_stock = stock_of(stack, shop.sku)
    page = _signed_in(browser, stack, admin, DESKTOP)
    try:
        page.click("#nav-orders")
        page.fill("#filter-email", shopper.email)
        page.click("#filter-submit")
        row = page.locator(f"a[data-order-id='{order_id}']")
        row.wait_for()
        assert page.locator("#orders-list a[data-order-id]").count() == 1  # only this shopper's order
        _shot(page, "admin-orders")
        row.click()
        page.wait_for_selector("#refund-form")
        assert page.inner_text("#payment-refunded") == "€0.00"
        assert page.inner_text("#payment-refundable") == page.inner_text("#payment-captured") != "€0.00"

        # the API's own error, as it states it: more than is left to refund
        page.fill("#refund-amount", "500")
        page.fill("#refund-reason", "too much")
        page.click("#refund-submit")
        error = page.locator("#refund-form .error")
        error.wait_for()
        assert "409" in error.inner_text() and "refund" in error.inner_text().lower()

        # a double click on the refund button refunds once
        page.fill("#refund-amount", "5.50")
        page.fill("#refund-reason", "scratched mug, goodwill")
        page.dblclick("#refund-submit")
        page.wait_for_selector("div.ok[role=status]")
        assert "refunded €5.50" in page.inner_text("main")
        assert page.inner_text("#payment-refunded") == "€5.50"
        assert "goodwill" in page.inner_text("#timeline")
        staff_rows = [r for r in page.locator("section:has(h2:text('Refunds')) tbody tr").all_inner_texts()
                      if "staff" in r]
        assert len(staff_rows) == 1, staff_rows
        _shot(page, "admin-order-refunded")
        page.screenshot(path=str(SHOTS / "console.png"))  # the top of the order page: docs/console.png

        # audit: the order's refunds are exactly Stripe's, and a refund moves no stock
        view = requests.get(f"{stack.base_url}/admin/orders/{order_id}", timeout=30,
                            headers={"Authorization": f"Bearer {admin.id_token}"}).json()
        stripe = requests.get(f"{stack.stripe_base}/v1/refunds", timeout=10, auth=(STRIPE_KEY, ""),
                              params={"payment_intent": view["payment"]["payment_intent_id"]}).json()["data"]
        assert [r["amount"] for r in stripe] == [550]
        assert view["payment"]["refunded"] == {"amount": sum(r["amount"] for r in stripe), "currency": "EUR"}
        assert [r["amount"]["amount"] for r in view["refunds"]] == [550]
        assert stock_of(stack, shop.sku) == before_stock
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        page.context.close()


def test_a_checkout_through_the_api_shows_up_in_the_console_and_the_other_screens_open(stack, admin, browser, shop):
    page = _signed_in(browser, stack, admin, DESKTOP)
    try:
        _, order_id = shop.checkout(quantity=1)
        page.goto(f"{stack.base_url}/console/#/orders?sku={shop.sku}")
        first = page.locator("#orders-list a[data-order-id]").first
        first.wait_for()
        assert first.get_attribute("data-order-id") == order_id  # newest first
        # the other admin screens render from the API (screenshots for a reviewer)
        for name, ready in (("attention", "#orders-list"), ("returns", "main table, main .empty"),
                            ("purchase-orders", "#po-create"), (f"stock?sku={shop.sku}", "#stock-levels table"),
                            ("reports", "#report-frame"),
                            ("support", "main table, main .empty")):
            page.goto(f"{stack.base_url}/console/#/{name}")
            page.wait_for_selector(ready)
            assert not page.locator("main > .error").count(), page.inner_text("main")
            if name == "reports":  # both load together: the sales trend is drawn as the report's frame appears
                assert page.locator("#sales-chart rect.revenue").count() >= 28
            _shot(page, "admin-" + name.split("?")[0])
        # Swagger UI renders the API's document from the stack's own files
        page.goto(f"{stack.base_url}/docs/")
        page.wait_for_selector(".swagger-ui .info .title")
        page.screenshot(path=str(SHOTS / "swagger-ui.png"))  # the top only: the whole page is thousands of px
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        page.context.close()


def test_the_console_and_swagger_ui_are_served_beside_the_api(stack):
    index = requests.get(f"{stack.base_url}/console/", timeout=10)
    assert index.status_code == 200 and index.headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in index.headers["Content-Security-Policy"]
    module = requests.get(f"{stack.base_url}/console/app.js", timeout=10)
    assert module.headers["Content-Type"].startswith("text/javascript")
    assert requests.get(f"{stack.base_url}/console/config.json", timeout=10).json() == {"api_base": ""}
    docs = requests.get(f"{stack.base_url}/docs/", timeout=10)
    assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.text
    spec = requests.get(f"{stack.base_url}/docs/openapi.json", timeout=10).json()
    assert "/admin/orders" in spec["paths"]
    # the API answers as before: the gateway's 404 for what is no route, the authorizer's 401
    assert requests.post(f"{stack.base_url}/console/app.js", timeout=10).status_code == 404
    assert requests.get(f"{stack.base_url}/admin/orders", timeout=10).status_code == 401


def test_admin_clears_a_needs_attention_mark_with_a_note_and_a_double_click_clears_it_once(stack, admin, browser):
    """An order whose workflow failed (payment step and its compensation both died) is marked; the admin opens it
    from the NEEDS_ATTENTION list, writes how it was settled and double-clicks "Mark resolved": one resolution in
    the staff timeline, the mark gone, the status unchanged."""
    prep = prepare_checkout(stack, admin, "console-resolve", quantity=1)
    arn = execution_arn(stack, prep.order_id)
    assert checkout_with_payments_broken(stack, prep)["status"] == "FAILED"
    assert stack.invoke("OrderAdminFunction", execution_status_change(stack, arn))["marked"] is True
    headers = {"Authorization": f"Bearer {admin.id_token}"}
    before = requests.get(f"{stack.base_url}/admin/orders/{prep.order_id}", timeout=30, headers=headers).json()

    page = _signed_in(browser, stack, admin, DESKTOP)
    try:
        page.goto(f"{stack.base_url}/console/#/orders?status=NEEDS_ATTENTION")
        row = page.locator(f"a[data-order-id='{prep.order_id}']")
        row.wait_for()
        row.click()
        page.wait_for_selector("#resolve-form")
        assert "PaymentNeedsAttention" in page.inner_text("div.attention")
        note = "checked in Stripe: nothing was charged; the shopper was told to order again"
        page.fill("#resolve-note", note)
        page.dblclick("#resolve-attention")
        page.wait_for_selector("div.ok[role=status]")
        assert "needs-attention mark cleared" in page.inner_text("main")
        assert page.locator("div.attention").count() == 0 and page.locator("#resolve-form").count() == 0
        assert note in page.inner_text("#timeline")
        _shot(page, "admin-order-resolved")
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        page.context.close()

    # records: one resolution, the mark and its marker gone, the order's status and money untouched
    view = requests.get(f"{stack.base_url}/admin/orders/{prep.order_id}", timeout=30, headers=headers).json()
    assert view["needs_attention"] is None and view["status"] == before["status"]
    assert [t.get("note") for t in view["timeline"] if t["kind"] == "resolved"] == [note]
    assert view["workflow"]["retries"] == 0 and view["payment"] == before["payment"]
    listed = requests.get(f"{stack.base_url}/admin/orders", timeout=30, headers=headers,
                          params={"status": "NEEDS_ATTENTION", "limit": "100"}).json()["items"]
    assert prep.order_id not in [o["order_id"] for o in listed]
