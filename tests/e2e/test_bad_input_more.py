"""More bad input through the gateway (issue 12 rows 4, 7, 9, 10, 13): every refusal is a 4xx naming the field,
never a 5xx, and a refused request writes nothing.

- row 4: a signed carrier event whose ``occurred_at`` has no time zone, is not a date or is in the future is 422
  ``body.occurred_at``; the shipment stays as it was and a genuine event is processed afterwards.
- row 7: an integer of more digits than Python converts (4,300) is 400 ``malformed_json`` on every JSON route,
  signed webhooks included.
- row 9: a well-formed cursor that is not a key of the list (incomplete, wrong types, extra or empty attributes,
  another partition) is 422 ``query.cursor`` on every paged route.
- row 10: a signed Stripe event of an unexpected shape is acknowledged as ignored (2xx) or refused (4xx).
- row 13: an e-mail address is one account whatever its letter case.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from shop.catalog.listing import LISTING_PK
from shop.orderflow.webhooks import carrier_signature

from shoplocal.stack import CARRIER_WEBHOOK_SECRET
from tests.factories import (
    Product,
    checkout,
    make_product,
    ok,
    order_view,
    pick_and_pack,
    put_in_cart,
    stripe_signature,
    uid,
    wait_for,
    wait_paid,
    wait_status,
)

pytestmark = [pytest.mark.e2e, pytest.mark.audited]


def refused(resp: Any, status: int, code: str, field: str) -> dict[str, Any]:
    assert resp.status == status, (resp.status, str(resp.body)[:500])
    error = resp.json()["error"]
    assert error["code"] == code, error
    assert error["message"], error
    named = [f["field"] for f in error["details"]["fields"]]
    assert field in named, (field, error)
    return dict(error)


def signed_carrier(stack: Any, body: str) -> Any:
    return stack.request("POST", "/webhooks/carrier", body=body,
                         headers={"Carrier-Signature": carrier_signature(CARRIER_WEBHOOK_SECRET, int(time.time()),
                                                                         body)})


def signed_stripe(stack: Any, body: str) -> Any:
    return stack.request("POST", "/webhooks/stripe", body=body, headers={"Stripe-Signature": stripe_signature(body)})


@dataclass
class Shipped:
    shopper: Any
    order_id: str
    tracking_number: str
    product: Product


def ship(stack: Any, admin: Any, staff: Any) -> Shipped:
    product = make_product(stack, admin.id_token, stock={"a": 3})
    shopper = stack.user()
    put_in_cart(stack, shopper.id_token, product.skus[0], 1)
    placed = checkout(stack, shopper.id_token)
    assert placed.status == 201, placed.body
    order_id = placed.json()["order_id"]
    wait_paid(stack, order_id)
    pick_and_pack(stack, staff.id_token, order_id, product.warehouses[0])
    tracking = wait_for(lambda: order_view(stack, shopper.id_token, order_id)["shipments"][0]["tracking_number"],
                        30, f"the label of {order_id}")
    return Shipped(shopper, order_id, str(tracking), product)


# ---------------------------------------------------------------------------------------------- row 4
BAD_DATES = {
    "no time zone": "2026-12-01T10:00:00",
    "not a date": "not-a-date",
    "far future": "2999-01-01T10:00:00Z",
    "an hour ahead": None,  # filled in at run time
    "date only": "2026-12-01",
}


def test_a_carrier_event_with_a_bad_occurred_at_is_422_and_changes_nothing(stack: Any, admin: Any,
                                                                           staff: Any) -> None:
    shipped = ship(stack, admin, staff)
    before = order_view(stack, shipped.shopper.id_token, shipped.order_id)
    hour_ahead = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    for label, when in BAD_DATES.items():
        body = json.dumps({"event_id": f"evt_{uuid.uuid4().hex}", "tracking_number": shipped.tracking_number,
                           "status": "delivered", "occurred_at": when or hour_ahead})
        error = refused(signed_carrier(stack, body), 422, "invalid_input", "body.occurred_at")
        assert label and error
    after = order_view(stack, shipped.shopper.id_token, shipped.order_id)
    assert after["status"] == before["status"] != "DELIVERED"
    assert after["shipments"][0]["status"] == before["shipments"][0]["status"]
    assert after["shipments"][0].get("delivered_at") is None
    # a small clock skew is accepted, an offset other than UTC too; the stored time is UTC
    skewed = time.strftime("%Y-%m-%dT%H:%M:%S+01:00", time.gmtime(time.time() + 3600 + 60))
    ok(stack.carrier_webhook(shipped.tracking_number, "delivered", occurred_at=skewed))
    delivered = wait_status(stack, shipped.shopper.id_token, shipped.order_id, "DELIVERED")
    assert delivered["shipments"][0]["delivered_at"].endswith("Z")
    # and the delivered order can be returned (a bad delivery date made every return a 500)
    returned = stack.request("POST", f"/orders/{shipped.order_id}/returns", token=shipped.shopper.id_token,
                             json={"lines": [{"sku": shipped.product.skus[0], "quantity": 1,
                                              "reason": "changed_mind"}]})
    assert returned.status == 201, returned.body


# ---------------------------------------------------------------------------------------------- row 7
HUGE = "1" * 4301  # one digit more than Python converts (sys.get_int_max_str_digits)


def huge(body: str) -> str:
    """``body`` with the placeholder HUGE (bare or as a JSON string) replaced by the integer."""
    return body.replace('"HUGE"', HUGE).replace("HUGE", HUGE)


def test_an_integer_of_too_many_digits_is_400_on_every_json_route(stack: Any, admin: Any) -> None:
    shopper = stack.user()
    product = make_product(stack, admin.id_token, stock={"a": 2})
    sku = product.skus[0]
    routes: list[tuple[str, str, str | None, str]] = [
        ("POST", "/auth/login", None, '{"email": "a@example.com", "password": HUGE}'),
        ("POST", "/auth/register", None, '{"email": "a@example.com", "password": "Abcdefg1", "n": HUGE}'),
        ("PUT", f"/cart/items/{sku}", shopper.id_token, '{"quantity": HUGE}'),
        ("POST", "/checkout", shopper.id_token, '{"payment_method_id": "pm_card_visa", "x": [HUGE]}'),
        ("POST", "/admin/products", admin.id_token, '{"name": {"deep": HUGE}}'),
        ("POST", "/support/tickets", shopper.id_token, '{"subject": HUGE}'),
    ]
    for method, path, token, body in routes:
        headers = {"Idempotency-Key": f"huge-{uid(12)}"} if path == "/checkout" else None
        resp = stack.request(method, path, body=huge(body), token=token, headers=headers)
        refused(resp, 400, "malformed_json", "body")
    # the signed webhooks too: the signature is right, the body cannot be read
    carrier = huge(json.dumps({"event_id": f"evt_{uid(12)}", "tracking_number": "TRACK0001", "status": "delivered",
                               "occurred_at": "2026-01-01T00:00:00Z", "n": "HUGE"}))
    refused(signed_carrier(stack, carrier), 400, "malformed_json", "body")
    stripe_body = huge(json.dumps({"id": f"evt_{uid(12)}", "type": "payment_intent.succeeded",
                                   "data": {"object": {"amount": "HUGE"}}}))
    resp = signed_stripe(stack, stripe_body)
    refused(resp, 400, "malformed_json", "body")
    # nothing was written
    assert ok(stack.request("GET", "/cart", token=shopper.id_token))["items"] == []
    assert ok(stack.request("GET", "/orders", token=shopper.id_token))["items"] == []
    assert ok(stack.request("GET", "/support/tickets", token=shopper.id_token))["items"] == []


def test_an_integer_of_too_many_digits_is_400_on_every_route_that_reads_a_body(stack: Any) -> None:
    """Every route of template.yaml that takes a JSON body (its OpenAPI operation has a requestBody), called by
    a user in every group, so the body is what is refused; a new route is covered without editing this test."""
    from shoplocal.openapi import build

    user = stack.user(groups=("admin", "warehouse"))
    routes = [(method.upper(), path) for path, ops in build()["paths"].items() for method, op in ops.items()
              if "requestBody" in op and not path.startswith("/webhooks/")]
    assert len(routes) > 20, routes
    failures = []
    for method, path in routes:
        concrete = re.sub(r"\{[^}]+\}", "X1", path)
        resp = stack.request(method, concrete, token=user.id_token, body=huge('{"x": HUGE}'),
                             headers={"Idempotency-Key": f"huge-{uid(12)}"})
        if resp.status != 400 or resp.json()["error"]["code"] != "malformed_json":
            failures.append((method, path, resp.status, str(resp.body)[:200]))
    assert not failures, failures


# ---------------------------------------------------------------------------------------------- row 9
def cursor_of(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def bad_cursors(hash_attr: str, hash_value: str, sort_attr: str, sort_value: str) -> dict[str, dict[str, Any]]:
    """Well-formed cursors that are not a key of this list: (label -> decoded key)."""
    table = {"pk": {"S": "X#1"}, "sk": {"S": "Y#1"}} if hash_attr != "pk" else {}
    full = {**table, hash_attr: {"S": hash_value}, sort_attr: {"S": sort_value}}
    return {
        "partition only": {hash_attr: {"S": hash_value}},
        "no sort key": {k: v for k, v in full.items() if k != sort_attr},
        "sort key a number": {**full, sort_attr: {"N": "1"}},
        "sort key empty": {**full, sort_attr: {"S": ""}},
        "sort key too long": {**full, sort_attr: {"S": "z" * 1100}},
        "extra attribute": {**full, "status": {"S": "PAID"}},
        "a value not a string": {**full, sort_attr: {"S": 5}},
        "two types": {**full, sort_attr: {"S": "a", "N": "1"}},
        "another partition": {**full, hash_attr: {"S": hash_value + "x"}},
    }


def test_a_cursor_that_is_not_a_key_of_the_list_is_422_on_every_paged_route(stack: Any, admin: Any,
                                                                             staff: Any) -> None:
    shopper = stack.user()
    product = make_product(stack, admin.id_token, stock={"a": 2})
    sku, warehouse = product.skus[0], product.warehouses[0]
    routes: list[tuple[str, str, dict[str, str], dict[str, dict[str, Any]]]] = [
        ("/orders", shopper.id_token, {}, bad_cursors("customer_id", shopper.user_id, "created_at", "2026")),
        ("/support/tickets", shopper.id_token, {},
         bad_cursors("customer_id", shopper.user_id, "updated_at", "2026")),
        ("/admin/support/tickets", admin.id_token, {"status": "open"},
         bad_cursors("ticket_status", "open", "updated_at", "2026")),
        (f"/warehouse/{warehouse}/tasks", staff.id_token, {},
         bad_cursors("open_warehouse_id", warehouse, "created_at", "2026")),
        (f"/admin/inventory/{sku}/{warehouse}/movements", admin.id_token, {},
         bad_cursors("pk", f"LEDGER#{sku}#{warehouse}", "sk", "2026")),
        ("/admin/purchase-orders", admin.id_token, {"status": "DRAFT"},
         bad_cursors("po_status", "DRAFT", "created_at", "2026")),
        (f"/products/{product.product_id}/reviews", shopper.id_token, {},
         bad_cursors("pk", f"PRODUCT#{product.product_id}", "sk", "REVIEW#2026")),
        ("/products", shopper.id_token, {"sort": "newest"},
         bad_cursors("listing_pk", LISTING_PK, "created_sk", "2026")),
    ]
    failures = []
    for path, token, query, cursors in routes:
        for label, key in cursors.items():
            resp = stack.request("GET", path, token=token, query={**query, "cursor": cursor_of(key)})
            if resp.status != 422 or "query.cursor" not in [f["field"] for f in
                                                            resp.json()["error"]["details"]["fields"]]:
                failures.append((path, label, resp.status, str(resp.body)[:200]))
    assert not failures, failures
    # a cursor the API returned still works
    for i in range(3):
        ok(stack.request("POST", f"/admin/inventory/{sku}/{warehouse}/adjustments", token=admin.id_token,
                         json={"delta": 1, "reason": "found", "note": f"n{i}"}), 200, 201)
    first = ok(stack.request("GET", f"/admin/inventory/{sku}/{warehouse}/movements", token=admin.id_token,
                             query={"limit": "1"}))
    assert first["next_cursor"]
    ok(stack.request("GET", f"/admin/inventory/{sku}/{warehouse}/movements", token=admin.id_token,
                     query={"limit": "1", "cursor": first["next_cursor"]}))


# ---------------------------------------------------------------------------------------------- row 10
def stripe_event(data: Any) -> str:
    return json.dumps({"id": f"evt_{uid(16)}", "object": "event", "type": "payment_intent.succeeded",
                       "data": data})


STRANGE_EVENTS = {
    "data a string": "pi_123",
    "data a list": [{"object": {}}],
    "data.object a list": {"object": [{"id": "pi_1"}]},
    "data.object a string": {"object": "pi_1"},
    "metadata a string": {"object": {"id": "pi_1", "metadata": "order_id=o1"}},
    "metadata a list": {"object": {"id": "pi_1", "metadata": ["o1"]}},
    "order_id an object": {"object": {"id": "pi_1", "metadata": {"order_id": {"a": 1}}}},
    "id a list": {"object": {"id": ["pi_1"], "metadata": {"order_id": "o1"}}},
}


@pytest.mark.parametrize("label", STRANGE_EVENTS)
def test_a_signed_stripe_event_of_an_unexpected_shape_is_never_a_5xx(stack: Any, label: str) -> None:
    resp = signed_stripe(stack, stripe_event(STRANGE_EVENTS[label]))
    assert 200 <= resp.status < 300 or 400 <= resp.status < 500, (resp.status, resp.body)
    if resp.status < 300:
        assert resp.json()["handled"] is False
    else:
        assert resp.json()["error"]["details"]["fields"]


def test_a_stripe_event_whose_id_or_type_is_not_a_string_is_refused(stack: Any) -> None:
    for event in ({"id": ["evt"], "type": "payment_intent.succeeded", "data": {}},
                  {"id": f"evt_{uid(12)}", "type": {"t": 1}, "data": {}}):
        resp = signed_stripe(stack, json.dumps(event))
        assert 400 <= resp.status < 500, (resp.status, resp.body)


# ---------------------------------------------------------------------------------------------- row 13
def test_an_email_is_one_account_whatever_its_case(stack: Any) -> None:
    local = f"shopper-{uid(10)}"
    password = f"Pw-{uid(10)}A1"
    first = stack.request("POST", "/auth/register", json={"email": f"{local}@example.com", "password": password})
    assert first.status == 201, first.body
    assert first.json()["email"] == f"{local}@example.com"
    for variant in (f"{local.upper()}@example.com", f"{local.upper()}@EXAMPLE.COM", f" {local.title()}@Example.com"):
        again = stack.request("POST", "/auth/register", json={"email": variant, "password": password})
        assert again.status == 409, (variant, again.status, again.body)
    # the address is stored in lower case, and logging in with any case is the same account
    upper = stack.request("POST", "/auth/register", json={"email": f"NEW-{local.upper()}@Example.COM",
                                                           "password": password})
    assert upper.status == 201, upper.body
    assert upper.json()["email"] == f"new-{local}@example.com"
    subs = set()
    for variant in (f"new-{local}@example.com", f"NEW-{local.upper()}@EXAMPLE.COM"):
        login = stack.request("POST", "/auth/login", json={"email": variant, "password": password})
        assert login.status == 200, (variant, login.status, login.body)
        claims = json.loads(base64.urlsafe_b64decode(login.json()["id_token"].split(".")[1] + "=="))
        subs.add(claims["sub"])
        assert claims["email"] == f"new-{local}@example.com"
    assert subs == {upper.json()["user_id"]}
