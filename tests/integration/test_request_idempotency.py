"""Create and adjust routes without a natural key honour an optional Idempotency-Key (shop.idempotency
.once_per_request): a retry with the same key gets the first answer and changes nothing, the same key with
another body is refused, another caller's key is its own, and without a key every request acts."""

from __future__ import annotations

import pytest

from tests.factories import make_product, ok, stock_of, uid

pytestmark = [pytest.mark.integration, pytest.mark.audited]


def _tickets(stack, token) -> list[str]:
    return [t["ticket_id"] for t in ok(stack.request("GET", "/support/tickets", token=token,
                                                     query={"limit": "100"}))["items"]]


def test_a_retried_request_with_the_same_key_acts_once(stack):
    shopper = stack.user()
    key = {"Idempotency-Key": f"ticket-{uid()}"}
    body = {"subject": "Where is my parcel?", "message": "It has been a week."}
    first = stack.request("POST", "/support/tickets", token=shopper.id_token, headers=key, json=body)
    again = stack.request("POST", "/support/tickets", token=shopper.id_token, headers=key, json=body)
    assert first.status == again.status == 201, (first.body, again.body)
    assert first.json()["ticket_id"] == again.json()["ticket_id"]
    assert _tickets(stack, shopper.id_token) == [first.json()["ticket_id"]]

    other = stack.request("POST", "/support/tickets", token=shopper.id_token, headers=key,
                          json={**body, "message": "Something else."})
    assert other.status == 422, other.body
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert other.json()["error"]["details"]["fields"][0]["field"] == "header.Idempotency-Key"

    # another shopper's request with the same key is a request of its own
    someone = stack.user()
    theirs = ok(stack.request("POST", "/support/tickets", token=someone.id_token, headers=key, json=body), 201)
    assert theirs["ticket_id"] != first.json()["ticket_id"]
    # without a key, every request acts (the key is optional)
    ok(stack.request("POST", "/support/tickets", token=shopper.id_token, json=body), 201)
    assert len(_tickets(stack, shopper.id_token)) == 2
    bad = stack.request("POST", "/support/tickets", token=shopper.id_token, json=body,
                        headers={"Idempotency-Key": "no spaces allowed"})
    assert bad.status == 422 and bad.json()["error"]["details"]["fields"][0]["field"] == "header.Idempotency-Key"


def test_a_retried_stock_adjustment_moves_stock_once(stack, admin):
    product = make_product(stack, admin.id_token, stock={"a": 5})
    sku, wh = product.skus[0], product.warehouses[0]
    key = {"Idempotency-Key": f"adjust-{uid()}"}
    for _ in range(3):
        ok(stack.request("POST", f"/admin/inventory/{sku}/{wh}/adjustments", token=admin.id_token, headers=key,
                         json={"delta": 2, "reason": "found"}))
    assert stock_of(stack, sku)[wh]["on_hand"] == 7
