"""Printing a parcel's label from the staff console (issue 16 item 8), in headless Chromium: a parcel waiting for the
carrier's pickup shows "Print label"; clicking it opens a new tab on the label document's presigned URL, which
answers the PDF (the local stack serves S3 from moto, as `make run` does)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import (
    checkout,
    make_product,
    ok,
    order_view,
    pick_and_pack,
    put_in_cart,
    wait_for,
    wait_paid,
    wait_status,
)

pytestmark = [pytest.mark.e2e, pytest.mark.audited]

PHONE = {"width": 390, "height": 844}


def test_warehouse_staff_print_a_packed_parcels_label_from_the_console(stack, admin, browser):
    product = make_product(stack, admin.id_token, stock={"a": 2})
    shopper, staff = stack.user(), stack.user(groups=("warehouse",))
    put_in_cart(stack, shopper.id_token, product.skus[0], 1)
    order_id = ok(checkout(stack, shopper.id_token), 201)["order_id"]
    wait_paid(stack, order_id)
    pick_and_pack(stack, staff.id_token, order_id, product.warehouses[0])
    tracking = wait_for(lambda: order_view(stack, shopper.id_token, order_id)["shipments"][0]["tracking_number"], 30,
                        "the label")

    context = browser.new_context(viewport=PHONE)
    opened: list[tuple[str, int, bytes]] = []

    def label_document(route: Any) -> None:
        """The new tab's request for the document: fetched for real (moto), recorded, shown as a stub page (headless
        Chromium would download a PDF rather than show it)."""
        answer = route.fetch()
        opened.append((route.request.url, answer.status, answer.body()))
        route.fulfill(status=200, content_type="text/html", body="<p>label</p>")

    context.route("**/labels/**", label_document)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{stack.base_url}/console/")
        page.fill("#login-email", staff.email)
        page.fill("#login-password", staff.password)
        page.click("#login-submit")
        page.wait_for_selector("#logout")
        page.fill("#warehouse-id", product.warehouses[0])
        page.click("#warehouse-form button")
        pickup = page.locator(f"article[data-kind=pickup][data-order-id='{order_id}']")

        def listed() -> bool:
            page.click("#refresh-tasks")
            page.locator("#refresh-tasks:enabled").wait_for()
            return pickup.count() == 1

        wait_for(listed, 30, "the pickup task")
        with context.expect_page() as new_tab:
            pickup.get_by_role("button", name="Print label").click()
        tab = new_tab.value
        # (Playwright's sync API serves the route only while it waits: wait in the browser, not with sleep)
        wait_for(lambda: opened or tab.wait_for_timeout(100), 20, "the label document requested by the new tab")
        url, status, body = opened[0]
        assert "Signature=" in url and f"/labels/{order_id}/" in url  # presigned (SigV2 or SigV4 by region)
        assert status == 200 and body.startswith(b"%PDF-") and tracking.encode() in body
        tab.close()
        assert errors == []
    finally:
        context.close()
    ok(stack.carrier_webhook(tracking, "delivered"))
    wait_status(stack, shopper.id_token, order_id, "DELIVERED")
