"""Every state-changing route is safe when sent twice at once (issue 12).

For EVERY POST/PUT/DELETE route of template.yaml (read as the local gateway reads them), the same valid request
is sent N times at the same moment (a barrier and a thread each, over HTTP through the gateway; the same
Idempotency-Key on every request, the double click: a route that takes one must honour it). Then:

- no answer is a 5xx, at least one is a 2xx (the request was valid), the others are 2xx or refused with a 4xx;
- the stored state is what ONE request leaves (one order, one return, one ticket, one PO, stock moved once...):
  each route's entry names that check;
- the invariant audit (tests/audit.py) holds (after each test: the module is marked ``audited``).

``CASES`` maps each route to a setup building a valid request (path, body, token, headers) and the check of
its outcome. A route of template.yaml without an entry fails ``test_every_state_changing_route_has_a_case``,
so a new route cannot be forgotten.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from shoplocal.gateway import load_routes
from shoplocal.stack import CARRIER_WEBHOOK_SECRET, ROOT
from tests.audit import stripe_list
from tests.factories import (
    ADDRESS,
    PROMO_WINDOW,
    checkout,
    checkout_with_payments_broken,
    deliver,
    eur,
    execution_arn,
    execution_status_change,
    make_coupon,
    make_product,
    ok,
    open_task,
    order_item,
    order_view,
    pick_and_pack,
    prepare_checkout,
    put_in_cart,
    stripe_signature,
    uid,
    wait_for,
    wait_status,
)

pytestmark = [pytest.mark.integration, pytest.mark.audited]

N = 4
STATE_CHANGING = frozenset({"POST", "PUT", "DELETE", "PATCH"})


@dataclass
class Reply:
    status: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


@dataclass
class Case:
    """One valid request of the route, and the check that the duplicates left what one request leaves
    (``check(replies)`` asserts; ``None``: the answers' check and the audit are the whole proof)."""

    path: str
    token: str | None = None
    json: Any = None
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    check: Callable[[list[Reply]], None] | None = None
    headers_per_request: Callable[[], dict[str, str]] | None = None  # e.g. a fresh webhook signature
    key: str = field(default_factory=lambda: f"dup-{uid(16)}")


class Ctx:
    def __init__(self, stack: Any, admin: Any, staff: Any):
        self.stack, self.admin, self.staff = stack, admin, staff

    def req(self, method: str, path: str, token: str | None = None, expect: tuple[int, ...] = (200, 201),
            **kw: Any) -> Any:
        return ok(self.stack.request(method, path, token=token, **kw), *expect)

    def as_admin(self, method: str, path: str, **kw: Any) -> Any:
        return self.req(method, path, self.admin.id_token, **kw)


# ------------------------------------------------------------------ building blocks
def new_product(ctx: Ctx, stock: int = 5, price: int = 1999) -> Any:
    return make_product(ctx.stack, ctx.admin.id_token, stock={"a": stock}, price=price)


def paid_order(ctx: Ctx, quantity: int = 2, coupon: str | None = None) -> tuple[Any, Any, str]:
    """A shopper's order, paid and split (FULFILLING, tasks open)."""
    shopper = ctx.stack.user()
    product = new_product(ctx)
    put_in_cart(ctx.stack, shopper.id_token, product.skus[0], quantity)
    if coupon:
        ctx.req("PUT", "/cart/coupon", shopper.id_token, json={"code": coupon})
    order_id = ok(checkout(ctx.stack, shopper.id_token), 201)["order_id"]
    wait_status(ctx.stack, shopper.id_token, order_id, "FULFILLING", timeout=60)
    return shopper, product, order_id


def delivered_order(ctx: Ctx, quantity: int = 2) -> tuple[Any, Any, str]:
    shopper, product, order_id = paid_order(ctx, quantity)
    deliver(ctx.stack, ctx.staff.id_token, shopper.id_token, order_id, product.warehouses[0])
    return shopper, product, order_id


def packed_order(ctx: Ctx) -> tuple[Any, Any, str, str]:
    """A paid order whose one parcel is packed (labelled, waiting for the carrier); its tracking number."""
    shopper, product, order_id = paid_order(ctx)
    pick_and_pack(ctx.stack, ctx.staff.id_token, order_id, product.warehouses[0])
    tracking = wait_for(lambda: order_view(ctx.stack, shopper.id_token, order_id)["shipments"][0]["tracking_number"],
                        30, "the label")
    return shopper, product, order_id, str(tracking)


def supplier_po(ctx: Ctx, *, submit: bool = True, receive: int = 0) -> tuple[str, Any, str]:
    """A supplier with a contract for a new product's SKU and a PO of 10 units (submitted, ``receive`` units
    received under delivery note dn-1); (po_id, product, supplier_id)."""
    product = new_product(ctx)
    sku, wh = product.skus[0], product.warehouses[0]
    sid = f"sup-{uid()}"
    ctx.as_admin("PUT", f"/admin/suppliers/{sid}", json={"name": sid, "email": f"{sid}@example.com",
                                                         "currency": "EUR"})
    today = datetime.now(UTC).date()
    ctx.as_admin("PUT", f"/admin/suppliers/{sid}/contracts/c-1", json={
        "sku": sku, "unit_cost": eur(600), "lead_time_days": 2, "min_order_quantity": 1,
        "valid_from": str(today - timedelta(days=1)), "valid_to": str(today + timedelta(days=30))})
    po = ctx.as_admin("POST", "/admin/purchase-orders", json={"supplier_id": sid, "warehouse_id": wh,
                                                              "lines": [{"sku": sku, "quantity": 10}]})
    if submit:
        ctx.as_admin("POST", f"/admin/purchase-orders/{po['po_id']}/submit")
    if receive:
        ctx.as_admin("POST", f"/admin/purchase-orders/{po['po_id']}/receipts",
                     json={"receipt_id": "dn-1", "lines": [{"sku": sku, "quantity": receive}]})
    return str(po["po_id"]), product, sid


def ticket(ctx: Ctx) -> tuple[Any, str]:
    shopper = ctx.stack.user()
    made = ctx.req("POST", "/support/tickets", shopper.id_token, json={"subject": "Where is my parcel?",
                                                                       "message": "It has been a week."})
    return shopper, str(made["ticket_id"])


def dynamo_items(ctx: Ctx, table: str, pk: str, sk_prefix: str = "") -> list[dict[str, Any]]:
    from tests.race import plain

    return [plain(i) for i in ctx.stack.client("dynamodb").query(
        TableName=ctx.stack.physical_id(table), ConsistentRead=True,
        KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
        ExpressionAttributeValues={":p": {"S": pk}, ":s": {"S": sk_prefix}})["Items"]]


def level(ctx: Ctx, sku: str, wh: str) -> dict[str, Any]:
    levels = ctx.as_admin("GET", f"/admin/inventory/{sku}")["levels"]
    return dict(next(lv for lv in levels if lv["warehouse_id"] == wh))


# ------------------------------------------------------------------ one case per route
def c_category(ctx: Ctx) -> Case:
    cid = f"cat-{uid()}"
    def check(_: list[Reply]) -> None:
        cats = [c for c in ctx.req("GET", "/categories")["items"] if c["category_id"] == cid]
        assert len(cats) == 1, cats
    return Case(f"/admin/categories/{cid}", ctx.admin.id_token, {"name": "Duplicates"}, check=check)


def c_coupon(ctx: Ctx) -> Case:
    return Case(f"/admin/coupons/C{uid(8).upper()}", ctx.admin.id_token, {**PROMO_WINDOW, "percent": 10})


def c_set_stock(ctx: Ctx) -> Case:
    product = new_product(ctx)
    wh = f"wh-dup-{uid()}"
    ctx.as_admin("PUT", f"/admin/warehouses/{wh}", json={"name": wh, "country": "DE", "zone": "domestic"})
    sku = product.skus[0]
    def check(_: list[Reply]) -> None:
        lv = level(ctx, sku, wh)
        assert (lv["on_hand"], lv["available"]) == (7, 7), lv
        moves = ctx.as_admin("GET", f"/admin/inventory/{sku}/{wh}/movements")
        assert sum(m["delta"] for m in moves["items"]) == 7, moves
    return Case(f"/admin/inventory/{sku}/{wh}", ctx.admin.id_token, {"on_hand": 7}, check=check)


def c_adjust(ctx: Ctx) -> Case:
    product = new_product(ctx, stock=5)
    sku, wh = product.skus[0], product.warehouses[0]
    def check(_: list[Reply]) -> None:
        assert level(ctx, sku, wh)["on_hand"] == 6, "one adjustment of +1 applied more than once"
    return Case(f"/admin/inventory/{sku}/{wh}/adjustments", ctx.admin.id_token,
                {"delta": 1, "reason": "found"}, check=check)


def c_rebalance(ctx: Ctx) -> Case:
    product = new_product(ctx, stock=8)
    sku, wh = product.skus[0], product.warehouses[0]
    ctx.as_admin("PUT", f"/admin/inventory/{sku}/{wh}/shards", json={"shards": 2})
    def check(_: list[Reply]) -> None:
        lv = level(ctx, sku, wh)
        assert (lv["on_hand"], lv["available"], lv["reserved"]) == (8, 8, 0), lv
    return Case(f"/admin/inventory/{sku}/{wh}/rebalance", ctx.admin.id_token, check=check)


def c_shards(ctx: Ctx) -> Case:
    product = new_product(ctx, stock=8)
    sku, wh = product.skus[0], product.warehouses[0]
    def check(_: list[Reply]) -> None:
        lv = level(ctx, sku, wh)
        assert (lv["on_hand"], lv["available"], lv["shards"]) == (8, 8, 3), lv
    return Case(f"/admin/inventory/{sku}/{wh}/shards", ctx.admin.id_token, {"shards": 3}, check=check)


def c_create_product(ctx: Ctx) -> Case:
    cat = f"cat-{uid()}"
    ctx.as_admin("PUT", f"/admin/categories/{cat}", json={"name": cat})
    pid, sku = f"p-{uid()}", f"SKU-{uid().upper()}"
    def check(replies: list[Reply]) -> None:
        assert sum(r.status == 201 for r in replies) == 1, [r.status for r in replies]
        assert [s["sku"] for s in ctx.req("GET", f"/products/{pid}")["skus"]] == [sku]
    return Case("/admin/products", ctx.admin.id_token, {
        "product_id": pid, "name": "Dup", "category": cat,
        "skus": [{"sku": sku, "name": "One", "price": eur(1000), "weight_grams": 100}]}, check=check)


def c_update_product(ctx: Ctx) -> Case:
    product = new_product(ctx)
    def check(_: list[Reply]) -> None:
        assert ctx.req("GET", f"/products/{product.product_id}")["name"] == "Renamed"
    return Case(f"/admin/products/{product.product_id}", ctx.admin.id_token, {"name": "Renamed"}, check=check)


def c_put_sku(ctx: Ctx) -> Case:
    product = new_product(ctx)
    code = f"NEW-{uid().upper()}"
    def check(replies: list[Reply]) -> None:
        skus = [s["sku"] for s in ctx.req("GET", f"/products/{product.product_id}")["skus"]]
        assert sorted(skus) == sorted([product.skus[0], code]), skus
    return Case(f"/admin/products/{product.product_id}/skus/{code}", ctx.admin.id_token,
                {"name": "Mini", "price": eur(500), "weight_grams": 90}, check=check)


def c_create_po(ctx: Ctx) -> Case:
    po_id, product, sid = supplier_po(ctx, submit=False)
    ctx.as_admin("POST", f"/admin/purchase-orders/{po_id}/cancel")  # the setup's own PO is out of the count
    body = {"supplier_id": sid, "warehouse_id": product.warehouses[0],
            "lines": [{"sku": product.skus[0], "quantity": 3}]}
    def check(replies: list[Reply]) -> None:
        drafts = ctx.as_admin("GET", "/admin/purchase-orders", query={"status": "DRAFT", "limit": "100"})["items"]
        mine = [p["po_id"] for p in drafts if p["supplier_id"] == sid]
        assert len(mine) == 1, f"one click made {len(mine)} purchase orders: {mine}"
    return Case("/admin/purchase-orders", ctx.admin.id_token, body, check=check)


def _po_status(ctx: Ctx, po_id: str, status: str) -> Callable[[list[Reply]], None]:
    def check(_: list[Reply]) -> None:
        assert ctx.as_admin("GET", f"/admin/purchase-orders/{po_id}")["status"] == status
    return check


def c_po_cancel(ctx: Ctx) -> Case:
    po_id, _, _ = supplier_po(ctx)
    return Case(f"/admin/purchase-orders/{po_id}/cancel", ctx.admin.id_token, check=_po_status(ctx, po_id,
                                                                                             "CANCELLED"))


def c_po_close(ctx: Ctx) -> Case:
    po_id, _, _ = supplier_po(ctx, receive=4)
    return Case(f"/admin/purchase-orders/{po_id}/close", ctx.admin.id_token, check=_po_status(ctx, po_id, "CLOSED"))


def c_po_submit(ctx: Ctx) -> Case:
    po_id, product, _ = supplier_po(ctx, submit=False)
    sku, wh = product.skus[0], product.warehouses[0]
    def check(replies: list[Reply]) -> None:
        _po_status(ctx, po_id, "SUBMITTED")(replies)
        assert level(ctx, sku, wh)["incoming"] == 10, "the PO's units counted as incoming more than once"
    return Case(f"/admin/purchase-orders/{po_id}/submit", ctx.admin.id_token, check=check)


def c_po_confirm(ctx: Ctx) -> Case:
    po_id, _, _ = supplier_po(ctx)
    day = str(datetime.now(UTC).date() + timedelta(days=7))
    def check(replies: list[Reply]) -> None:
        po = ctx.as_admin("GET", f"/admin/purchase-orders/{po_id}")
        assert po["confirmed_delivery_date"] == day, po
        assert [e["status"] for e in po["timeline"]].count("CONFIRMED") == 1, po["timeline"]
        assert sum(1 for r in replies if r.status == 200 and r.json()["changed"]) == 1, replies
    return Case(f"/admin/purchase-orders/{po_id}/confirmation", ctx.admin.id_token,
                {"confirmed_delivery_date": day}, check=check)


def c_po_receipt(ctx: Ctx) -> Case:
    po_id, product, _ = supplier_po(ctx)
    sku, wh = product.skus[0], product.warehouses[0]
    def check(_: list[Reply]) -> None:
        po = ctx.as_admin("GET", f"/admin/purchase-orders/{po_id}")
        assert po["lines"][0]["received"] == 4, po
        assert level(ctx, sku, wh)["on_hand"] == 5 + 4
    return Case(f"/admin/purchase-orders/{po_id}/receipts", ctx.admin.id_token,
                {"receipt_id": "dn-dup", "lines": [{"sku": sku, "quantity": 4}]}, check=check)


def c_po_return(ctx: Ctx) -> Case:
    po_id, product, _ = supplier_po(ctx, receive=6)
    sku, wh = product.skus[0], product.warehouses[0]
    def check(_: list[Reply]) -> None:
        po = ctx.as_admin("GET", f"/admin/purchase-orders/{po_id}")
        assert po["lines"][0]["returned"] == 2, po
        assert level(ctx, sku, wh)["on_hand"] == 5 + 6 - 2
    return Case(f"/admin/purchase-orders/{po_id}/returns", ctx.admin.id_token,
                {"return_id": "rt-dup", "reason": "damaged", "lines": [{"sku": sku, "quantity": 2}]}, check=check)


def c_po_invoice(ctx: Ctx) -> Case:
    po_id, product, _ = supplier_po(ctx, receive=10)
    def check(_: list[Reply]) -> None:
        invoices = dynamo_items(ctx, "ProcurementTable", f"PO#{po_id}", "INVOICE#")
        assert len(invoices) == 1, invoices
        assert invoices[0]["status"] == "MATCHED", invoices
    return Case(f"/admin/purchase-orders/{po_id}/invoices", ctx.admin.id_token, {
        "invoice_id": "inv-dup", "lines": [{"sku": product.skus[0], "quantity": 10, "unit_price": eur(600)}]},
        check=check)


def c_po_settle(ctx: Ctx) -> Case:
    po_id, product, _ = supplier_po(ctx, receive=10)
    ctx.as_admin("POST", f"/admin/purchase-orders/{po_id}/invoices", json={
        "invoice_id": "inv-1", "lines": [{"sku": product.skus[0], "quantity": 10, "unit_price": eur(600)}]})
    def check(_: list[Reply]) -> None:
        [invoice] = dynamo_items(ctx, "ProcurementTable", f"PO#{po_id}", "INVOICE#")
        assert invoice["status"] == "SETTLED", invoice
    return Case(f"/admin/purchase-orders/{po_id}/invoices/inv-1/settle", ctx.admin.id_token, check=check)


def c_sale(ctx: Ctx) -> Case:
    return Case(f"/admin/sales/s-{uid()}", ctx.admin.id_token, {**PROMO_WINDOW, "name": "dup", "scope": "sku",
                                                                  "target": f"SKU-NONE-{uid().upper()}",
                                                                  "percent": 5})


def c_price(ctx: Ctx) -> Case:
    product = new_product(ctx, price=1000)
    def check(_: list[Reply]) -> None:
        history = dynamo_items(ctx, "CatalogTable", f"PRODUCT#{product.product_id}", f"PRICE#{product.skus[0]}#")
        assert len(history) == 1, f"one price change recorded {len(history)} times"
    return Case(f"/admin/skus/{product.skus[0]}/price", ctx.admin.id_token, {"price": eur(1200)}, check=check)


def c_supplier(ctx: Ctx) -> Case:
    sid = f"sup-{uid()}"
    return Case(f"/admin/suppliers/{sid}", ctx.admin.id_token,
                {"name": sid, "email": f"{sid}@example.com", "currency": "EUR"})


def c_contract(ctx: Ctx) -> Case:
    sid = f"sup-{uid()}"
    ctx.as_admin("PUT", f"/admin/suppliers/{sid}", json={"name": sid, "email": f"{sid}@example.com",
                                                         "currency": "EUR"})
    today = datetime.now(UTC).date()
    return Case(f"/admin/suppliers/{sid}/contracts/c-dup", ctx.admin.id_token, {
        "sku": f"SKU-{uid().upper()}", "unit_cost": eur(100), "lead_time_days": 1,
        "valid_from": str(today), "valid_to": str(today + timedelta(days=9))})


def _ticket_messages(ctx: Ctx, tid: str, expected: int) -> Callable[[list[Reply]], None]:
    def check(_: list[Reply]) -> None:
        messages = dynamo_items(ctx, "SupportTable", f"TICKET#{tid}", "MSG#")
        assert len(messages) == expected, f"{len(messages)} messages stored, {expected} expected (one sent)"
    return check


def c_staff_close(ctx: Ctx) -> Case:
    _, tid = ticket(ctx)
    def check(_: list[Reply]) -> None:
        assert ctx.as_admin("GET", f"/admin/support/tickets/{tid}")["status"] == "closed"
    return Case(f"/admin/support/tickets/{tid}/close", ctx.admin.id_token, check=check)


def c_staff_message(ctx: Ctx) -> Case:
    _, tid = ticket(ctx)
    return Case(f"/admin/support/tickets/{tid}/messages", ctx.admin.id_token, {"message": "On its way."},
                check=_ticket_messages(ctx, tid, 2))


def c_warehouse(ctx: Ctx) -> Case:
    wh = f"wh-{uid()}"
    return Case(f"/admin/warehouses/{wh}", ctx.admin.id_token, {"name": wh, "country": "FR", "zone": "eu"})


def _signed_up(ctx: Ctx) -> tuple[str, str]:
    env = ctx.stack.function_env("AuthFunction")
    email, password = f"dup-{uid()}@example.com", "Dup-Pass-123"
    ctx.stack.client("cognito-idp").sign_up(ClientId=env["USER_POOL_CLIENT_ID"], Username=email, Password=password,
                                            UserAttributes=[{"Name": "email", "Value": email}])
    return email, password


def c_confirm(ctx: Ctx) -> Case:
    email, password = _signed_up(ctx)
    def check(_: list[Reply]) -> None:
        assert ctx.stack.request("POST", "/auth/login", json={"email": email, "password": password}).status == 200
    return Case("/auth/confirm", json={"email": email, "code": "123456"}, check=check)


def c_login(ctx: Ctx) -> Case:
    user = ctx.stack.user()
    return Case("/auth/login", json={"email": user.email, "password": user.password})


def c_refresh(ctx: Ctx) -> Case:
    user = ctx.stack.user()
    return Case("/auth/refresh", json={"refresh_token": user.refresh_token})


def c_register(ctx: Ctx) -> Case:
    email = f"dup-{uid()}@example.com"
    def check(replies: list[Reply]) -> None:
        assert sum(r.status == 201 for r in replies) == 1, [(r.status, r.text[:100]) for r in replies]
        pool = ctx.stack.physical_id_of_type("AWS::Cognito::UserPool")
        users = ctx.stack.client("cognito-idp").list_users(UserPoolId=pool, Filter=f'email = "{email}"')["Users"]
        assert len(users) == 1, users
    return Case("/auth/register", json={"email": email, "password": "Dup-Pass-123"}, check=check)


def _cart(ctx: Ctx, shopper: Any) -> dict[str, Any]:
    return dict(ctx.req("GET", "/cart", shopper.id_token))


def c_cart_coupon_delete(ctx: Ctx) -> Case:
    shopper, product = ctx.stack.user(), new_product(ctx)
    put_in_cart(ctx.stack, shopper.id_token, product.skus[0], 1)
    ctx.req("PUT", "/cart/coupon", shopper.id_token, json={"code": make_coupon(ctx.stack, ctx.admin.id_token,
                                                                                percent=10)})
    def check(_: list[Reply]) -> None:
        assert not _cart(ctx, shopper).get("coupon_code")
    return Case("/cart/coupon", shopper.id_token, check=check)


def c_cart_coupon_put(ctx: Ctx) -> Case:
    shopper, product = ctx.stack.user(), new_product(ctx)
    put_in_cart(ctx.stack, shopper.id_token, product.skus[0], 1)
    return Case("/cart/coupon", shopper.id_token, {"code": make_coupon(ctx.stack, ctx.admin.id_token, percent=10)})


def c_cart_item_delete(ctx: Ctx) -> Case:
    shopper, product = ctx.stack.user(), new_product(ctx)
    put_in_cart(ctx.stack, shopper.id_token, product.skus[0], 1)
    def check(_: list[Reply]) -> None:
        assert not _cart(ctx, shopper)["items"]
    return Case(f"/cart/items/{product.skus[0]}", shopper.id_token, check=check)


def c_cart_item_put(ctx: Ctx) -> Case:
    shopper, product = ctx.stack.user(), new_product(ctx)
    def check(_: list[Reply]) -> None:
        assert [(i["sku"], i["quantity"]) for i in _cart(ctx, shopper)["items"]] == [(product.skus[0], 2)]
    return Case(f"/cart/items/{product.skus[0]}", shopper.id_token, {"quantity": 2}, check=check)


def c_checkout(ctx: Ctx) -> Case:
    shopper, product = ctx.stack.user(), new_product(ctx, stock=5)
    put_in_cart(ctx.stack, shopper.id_token, product.skus[0], 2)
    def check(replies: list[Reply]) -> None:
        ids = {r.json()["order_id"] for r in replies if r.status in (200, 201)}
        assert len(ids) == 1, ids
        mine = ctx.req("GET", "/orders", shopper.id_token)["items"]
        assert len(mine) == 1, mine
        wait_status(ctx.stack, shopper.id_token, ids.pop(), "FULFILLING", timeout=60)
    return Case("/checkout", shopper.id_token, {"shipping_address": ADDRESS, "payment_method_id": "pm_card_visa"},
                headers={"Idempotency-Key": f"dup-{uid(16)}"}, check=check)


def c_cancel(ctx: Ctx) -> Case:
    shopper, _, order_id = paid_order(ctx)
    def check(_: list[Reply]) -> None:
        assert order_view(ctx.stack, shopper.id_token, order_id)["status"] == "CANCELLED"
    return Case(f"/orders/{order_id}/cancel", shopper.id_token, check=check)


def c_return(ctx: Ctx) -> Case:
    shopper, product, order_id = delivered_order(ctx, quantity=2)
    def check(replies: list[Reply]) -> None:
        stored = dynamo_items(ctx, "OrdersTable", f"ORDER#{order_id}", "RETURN#")
        assert len(stored) == 1, f"{len(stored)} returns of the same 2 delivered units: {[r['sk'] for r in stored]}"
        assert sum(r.status == 201 for r in replies) == 1, [r.status for r in replies]
    return Case(f"/orders/{order_id}/returns", shopper.id_token,
                {"lines": [{"sku": product.skus[0], "quantity": 2, "reason": "changed_mind"}]}, check=check)


def c_exchange(ctx: Ctx) -> Case:
    shopper = ctx.stack.user()
    product = make_product(ctx.stack, ctx.admin.id_token, stock={"a": 5}, n_skus=2)
    put_in_cart(ctx.stack, shopper.id_token, product.skus[0], 2)
    order_id = ok(checkout(ctx.stack, shopper.id_token), 201)["order_id"]
    wait_status(ctx.stack, shopper.id_token, order_id, "FULFILLING", timeout=60)
    deliver(ctx.stack, ctx.staff.id_token, shopper.id_token, order_id, product.warehouses[0])

    def check(replies: list[Reply]) -> None:
        stored = dynamo_items(ctx, "OrdersTable", f"ORDER#{order_id}", "RETURN#")
        assert len(stored) == 1, f"{len(stored)} exchanges of the same 2 delivered units: {[r['sk'] for r in stored]}"
        assert sum(r.status == 201 for r in replies) == 1, [r.status for r in replies]
        # the one exchange reserves its replacement once (approval runs in its workflow)
        wait_for(lambda: level(ctx, product.skus[1], product.warehouses[0])["reserved"] == 2, 30,
                 "the replacement reserved")
        assert level(ctx, product.skus[1], product.warehouses[0])["available"] == 3
    return Case(f"/orders/{order_id}/exchanges", shopper.id_token,
                {"sku": product.skus[0], "quantity": 2, "replacement_sku": product.skus[1]}, check=check)


def c_review(ctx: Ctx) -> Case:
    shopper, product, _ = delivered_order(ctx, quantity=1)
    def check(_: list[Reply]) -> None:
        reviews = dynamo_items(ctx, "ReviewsTable", f"PRODUCT#{product.product_id}", "REVIEW#")
        assert len(reviews) == 1, reviews
        detail = ctx.req("GET", f"/products/{product.product_id}")
        assert detail.get("rating", {}).get("count", 1) == 1, detail.get("rating")
    return Case(f"/products/{product.product_id}/reviews", shopper.id_token,
                {"rating": 4, "title": "Good", "body": "Works as described."}, check=check)


def c_ticket(ctx: Ctx) -> Case:
    shopper = ctx.stack.user()
    def check(_: list[Reply]) -> None:
        mine = ctx.req("GET", "/support/tickets", shopper.id_token)["items"]
        assert len(mine) == 1, f"one click opened {len(mine)} tickets"
    return Case("/support/tickets", shopper.id_token, {"subject": "Broken", "message": "It arrived broken."},
                check=check)


def c_ticket_message(ctx: Ctx) -> Case:
    shopper, tid = ticket(ctx)
    return Case(f"/support/tickets/{tid}/messages", shopper.id_token, {"message": "Any news?"},
                check=_ticket_messages(ctx, tid, 2))


def c_task_complete(ctx: Ctx) -> Case:
    _, product, order_id = paid_order(ctx)
    wh = product.warehouses[0]
    pick = open_task(ctx.stack, ctx.staff.id_token, wh, order_id, "pick")
    picked = [{"sku": i["sku"], "quantity": i["quantity"]} for i in pick["checklist"]]
    def check(_: list[Reply]) -> None:
        pack = open_task(ctx.stack, ctx.staff.id_token, wh, order_id, "pack")
        listed = ctx.req("GET", f"/warehouse/{wh}/tasks", ctx.staff.id_token, query={"limit": "100"})["items"]
        assert [t["task_id"] for t in listed if t["order_id"] == order_id] == [pack["task_id"]], listed
    return Case(f"/warehouse/tasks/{pick['task_id']}/complete", ctx.staff.id_token, {"picked": picked}, check=check)


def c_carrier(ctx: Ctx) -> Case:
    from shop.orderflow.webhooks import carrier_signature

    shopper, _, order_id, tracking = packed_order(ctx)
    body = json.dumps({"event_id": f"evt_{uid(16)}", "tracking_number": tracking, "status": "delivered",
                       "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    def check(_: list[Reply]) -> None:
        view = wait_status(ctx.stack, shopper.id_token, order_id, "DELIVERED")
        assert [s["status"] for s in view["shipments"]] == ["DELIVERED"]
    return Case("/webhooks/carrier", body=body, check=check, headers_per_request=lambda: {
        "Carrier-Signature": carrier_signature(CARRIER_WEBHOOK_SECRET, int(time.time()), body)})


def c_stripe(ctx: Ctx) -> Case:
    shopper, _, order_id = paid_order(ctx)
    intent = order_view(ctx.stack, shopper.id_token, order_id)["payment"]["payment_intent_id"]
    body = json.dumps({"id": f"evt_dup_{uid(12)}", "object": "event", "type": "payment_intent.succeeded",
                       "data": {"object": {"id": intent, "object": "payment_intent",
                                           "metadata": {"order_id": order_id}}}})
    def check(_: list[Reply]) -> None:
        assert order_view(ctx.stack, shopper.id_token, order_id)["status"] == "FULFILLING"
    return Case("/webhooks/stripe", body=body, check=check,
                headers_per_request=lambda: {"Stripe-Signature": stripe_signature(body)})


# ------------------------------------------------------------------ staff order operations (functions/orderflow_admin)
def _intent_refunds(ctx: Ctx, intent: str) -> list[dict[str, Any]]:
    """What Stripe (localstripe) paid back on a payment intent."""
    return [r for r in stripe_list(ctx.stack, "refunds")
            if r.get("payment_intent") == intent and r.get("status") in ("succeeded", "pending")]


def _staff_view(ctx: Ctx, order_id: str) -> dict[str, Any]:
    return dict(ctx.as_admin("GET", f"/admin/orders/{order_id}"))


def _answers(replies: list[Reply], status: int) -> list[Any]:
    return [r.json() for r in replies if r.status == status]


def _refused(replies: list[Reply], *codes: str) -> None:
    """Every duplicate that did not succeed was refused with one of ``codes`` (4xx, by the harness)."""
    refused = [(r.status, r.json()["error"]["code"]) for r in replies if r.status >= 400]
    assert all(code in codes for _, code in refused), refused


def c_staff_cancel(ctx: Ctx) -> Case:
    _, product, order_id = paid_order(ctx, quantity=2)
    sku, wh = product.skus[0], product.warehouses[0]
    assert level(ctx, sku, wh)["reserved"] == 2
    def check(replies: list[Reply]) -> None:
        view = _staff_view(ctx, order_id)
        assert view["status"] == "CANCELLED" and view["cancel_reason"] == "staff", view["status"]
        statuses = [t["status"] for t in view["timeline"] if t["kind"] == "status"]
        assert statuses.count("CANCELLED") == 1, f"cancelled more than once: {statuses}"
        assert statuses.count("REFUNDED") == 1, f"refunded more than once: {statuses}"
        # the stock released once: the 2 reserved units back, not 4
        lv = level(ctx, sku, wh)
        assert (lv["on_hand"], lv["available"], lv["reserved"]) == (5, 5, 0), lv
        # refunded once, in full, and Stripe paid back exactly what the order counts
        total = view["totals"]["total"]
        paid_back = _intent_refunds(ctx, view["payment"]["payment_intent_id"])
        assert len(paid_back) == 1, f"{len(paid_back)} Stripe refunds for one cancellation: {paid_back}"
        assert int(paid_back[0]["amount"]) == total["amount"] == view["payment"]["refunded"]["amount"]
        assert [r["source"] for r in view["refunds"]] == ["cancellation"], view["refunds"]
        assert int(order_item(ctx.stack, order_id)["refunded_amount"]["N"]) == total["amount"]
        # repeating a cancellation is safe: every duplicate answers the cancelled, refunded order (none is refused
        # because another one refunded the charge a moment before it)
        assert [r.status for r in replies] == [200] * len(replies), [(r.status, r.text[:300]) for r in replies]
        assert all(a["status"] == "CANCELLED" and a["refunds"] == view["refunds"] for a in _answers(replies, 200))
    return Case(f"/admin/orders/{order_id}/cancel", ctx.admin.id_token, check=check)


def c_staff_refund(ctx: Ctx) -> Case:
    _, _, order_id = paid_order(ctx, quantity=2)
    view = _staff_view(ctx, order_id)
    total, intent = view["totals"]["total"], view["payment"]["payment_intent_id"]
    body = {"amount": {"amount": 700, "currency": total["currency"]}, "reason": "damaged box"}
    case = Case(f"/admin/orders/{order_id}/refunds", ctx.admin.id_token, body)
    def check(replies: list[Reply]) -> None:
        paid = _answers(replies, 201)
        assert len({a["refund_id"] for a in paid}) == 1, f"one Idempotency-Key, several refunds: {paid}"
        _refused(replies, "request_in_progress")
        paid_back = _intent_refunds(ctx, intent)
        assert [int(r["amount"]) for r in paid_back] == [700], f"Stripe refunds of one request: {paid_back}"
        after = _staff_view(ctx, order_id)
        assert after["payment"]["refunded"]["amount"] == 700 == int(
            order_item(ctx.stack, order_id)["refunded_amount"]["N"]), after["payment"]
        assert after["payment"]["refundable"]["amount"] == total["amount"] - 700
        assert [(r["source"], r["refund_id"]) for r in after["refunds"]] == [("staff", paid[0]["refund_id"])]
        statuses = [t["status"] for t in after["timeline"] if t["kind"] == "status"]
        assert statuses.count("REFUNDED") == 1, statuses
        # a later retry of the same request (same key) answers the same refund and pays nothing more
        again = ctx.as_admin("POST", f"/admin/orders/{order_id}/refunds", expect=(201,), json=body,
                             headers={"Idempotency-Key": case.key})
        assert again["refund_id"] == paid[0]["refund_id"] and len(_intent_refunds(ctx, intent)) == 1
    case.check = check
    return case


def c_staff_note(ctx: Ctx) -> Case:
    _, _, order_id = paid_order(ctx, quantity=1)
    def check(replies: list[Reply]) -> None:
        added = _answers(replies, 201)
        assert len({a["note_id"] for a in added}) == 1, f"one Idempotency-Key, several notes: {added}"
        _refused(replies, "request_in_progress")
        notes = _staff_view(ctx, order_id)["notes"]
        assert [n["note_id"] for n in notes] == [added[0]["note_id"]], f"{len(notes)} notes stored, one sent"
        log = order_item(ctx.stack, order_id).get("ops_log", {}).get("L", [])
        assert [e["M"]["kind"]["S"] for e in log] == ["note"], log
    return Case(f"/admin/orders/{order_id}/notes", ctx.admin.id_token, {"text": "Shopper called: leave at door."},
                check=check)


def _executions_named(ctx: Ctx, prefix: str) -> list[str]:
    sfn = ctx.stack.client("stepfunctions")
    args: dict[str, Any] = {"stateMachineArn": ctx.stack.physical_id("OrderStateMachine"), "maxResults": 1000}
    names: list[str] = []
    while True:
        page = sfn.list_executions(**args)
        names += [e["name"] for e in page["executions"] if e["name"].startswith(prefix)]
        if not page.get("nextToken"):
            return sorted(names)
        args["nextToken"] = page["nextToken"]


def _order_needing_attention(ctx: Ctx, label: str) -> tuple[Any, str]:
    """An order whose workflow failed and that the template's rule marked as needing attention, and the ARN of
    its failed execution: the charge and its compensation both die (PaymentNeedsAttention, nothing charged)."""
    prep = prepare_checkout(ctx.stack, ctx.admin, label, quantity=1)
    arn = execution_arn(ctx.stack, prep.order_id)
    ended = checkout_with_payments_broken(ctx.stack, prep)
    assert ended["status"] == "FAILED", ended
    assert ctx.stack.invoke("OrderAdminFunction", execution_status_change(ctx.stack, arn))["marked"] is True
    return prep, arn


def c_staff_retry(ctx: Ctx) -> Case:
    prep, arn = _order_needing_attention(ctx, "dup-retry")

    def check(replies: list[Reply]) -> None:
        started = _answers(replies, 200)
        assert all(a == started[0] for a in started), started
        assert started[0]["action"] == "restarted" and started[0]["execution_arn"] == f"{arn}-retry-1"
        _refused(replies, "request_in_progress", "not_retryable")
        # the duplicates started one execution: <order>-retry-1, no -retry-2
        runs = _executions_named(ctx, f"{prep.order_id}-retry-")
        assert runs == [f"{prep.order_id}-retry-1"], f"duplicates started {runs}"
        view = _staff_view(ctx, prep.order_id)
        assert view["needs_attention"] is None and view["workflow"]["retries"] == 1, view["workflow"]
        assert [t["kind"] for t in view["timeline"]].count("retry") == 1, view["timeline"]
        # and the one execution goes on to charge once and split the order
        wait_status(ctx.stack, prep.shopper.id_token, prep.order_id, "FULFILLING", timeout=60)
        charges = [c for c in stripe_list(ctx.stack, "charges") if c.get("payment_intent") ==
                   _staff_view(ctx, prep.order_id)["payment"]["payment_intent_id"] and c.get("status") == "succeeded"]
        assert len(charges) == 1, charges
    return Case(f"/admin/orders/{prep.order_id}/retry", ctx.admin.id_token, check=check)


def c_staff_resolve(ctx: Ctx) -> Case:
    prep, arn = _order_needing_attention(ctx, "dup-resolve")
    note = "checked with Stripe: nothing was charged; the shopper was told to order again"

    def check(replies: list[Reply]) -> None:
        resolved = _answers(replies, 200)
        assert all(a == resolved[0] for a in resolved), resolved
        assert resolved[0]["resolved"]["execution_arn"] == arn and resolved[0]["note"] == note
        _refused(replies, "request_in_progress", "not_marked")
        view = _staff_view(ctx, prep.order_id)
        assert view["needs_attention"] is None and view["workflow"]["retries"] == 0, view["workflow"]
        assert [t["kind"] for t in view["timeline"]].count("resolved") == 1, view["timeline"]
    return Case(f"/admin/orders/{prep.order_id}/attention/resolve", ctx.admin.id_token, json={"note": note},
                check=check)


# ------------------------------------------------------------------ auth self-service codes (functions/auth)
NEW_PASSWORD = "Dup-New-Pass-456"


def _codes_to(ctx: Ctx, email: str, subject: str) -> list[str]:
    """The 6-digit codes mailed to ``email`` under ``subject`` (the local stack's outbox), oldest first."""
    import re

    found = [re.search(r"\b(\d{6})\b", str(m["body"])) for m in ctx.stack.sent_emails()
             if email in m["destinations"] and m["subject"] == subject]
    return [m.group(1) for m in found if m]


def _login(ctx: Ctx, email: str, password: str) -> int:
    return int(ctx.stack.request("POST", "/auth/login", json={"email": email, "password": password}).status)


def _one_answer(replies: list[Reply]) -> dict[str, Any]:
    """Every duplicate got the same 200 answer (the code requests never tell anything apart); returns it."""
    assert [r.status for r in replies] == [200] * len(replies), [(r.status, r.text[:200]) for r in replies]
    answers = [r.json() for r in replies]
    assert all(a == answers[0] for a in answers), answers
    return dict(answers[0])


def _a_mailed_code_works(ctx: Ctx, codes: list[str], attempt: Callable[[str], Any]) -> None:
    """One of the mailed codes (the newest tried first) is accepted; the ones tried before it are the documented
    wrong-code answer (422 naming ``code``). Each ForgotPassword / ResendConfirmationCode replaces the address's
    code, so of codes mailed at the same moment only the one stored last is valid."""
    for code in reversed(codes):
        resp = attempt(code)
        if resp.status == 200:
            return
        assert resp.status == 422 and [f["field"] for f in resp.json()["error"]["details"]["fields"]] == \
            ["body.code"], (resp.status, resp.body)
    raise AssertionError(f"none of the {len(codes)} mailed codes was accepted")


def c_forgot_password(ctx: Ctx) -> Case:
    user = ctx.stack.user()
    def check(replies: list[Reply]) -> None:
        from shop.auth.service import RESET_SENT

        assert _one_answer(replies) == {"email": user.email, "message": RESET_SENT}
        # the service cannot dedupe these (see the report): each request mails at most one code, none is lost
        codes = _codes_to(ctx, user.email, "Your password reset code")
        assert 1 <= len(codes) <= len(replies), f"{len(codes)} code mails for {len(replies)} requests"
        _a_mailed_code_works(ctx, codes, lambda code: ctx.stack.request(
            "POST", "/auth/reset-password", json={"email": user.email, "code": code, "password": NEW_PASSWORD}))
        assert (_login(ctx, user.email, NEW_PASSWORD), _login(ctx, user.email, user.password)) == (200, 401)
    return Case("/auth/forgot-password", json={"email": user.email}, check=check)


def c_resend_code(ctx: Ctx) -> Case:
    email, password = _signed_up(ctx)
    def check(replies: list[Reply]) -> None:
        from shop.auth.service import CODE_SENT

        assert _one_answer(replies) == {"email": email, "message": CODE_SENT}
        codes = _codes_to(ctx, email, "Your verification code")
        assert 1 <= len(codes) <= len(replies), f"{len(codes)} code mails for {len(replies)} requests"
        assert _login(ctx, email, password) == 403  # still unconfirmed: a resend confirms nothing by itself
        _a_mailed_code_works(ctx, codes, lambda code: ctx.stack.request(
            "POST", "/auth/confirm", json={"email": email, "code": code}))
        assert _login(ctx, email, password) == 200
    return Case("/auth/resend-code", json={"email": email}, check=check)


def c_reset_password(ctx: Ctx) -> Case:
    user = ctx.stack.user()
    ctx.req("POST", "/auth/forgot-password", json={"email": user.email})
    [code] = _codes_to(ctx, user.email, "Your password reset code")
    body = {"email": user.email, "code": code, "password": NEW_PASSWORD}
    def check(replies: list[Reply]) -> None:
        # the code is spent by the one that succeeds: the others are the documented wrong-code answer
        assert sorted(r.status for r in replies) == [200] + [422] * (len(replies) - 1), \
            [(r.status, r.text[:200]) for r in replies]
        assert _answers(replies, 200) == [{"email": user.email, "password_reset": True}]
        for refused in _answers(replies, 422):
            assert [f["field"] for f in refused["error"]["details"]["fields"]] == ["body.code"], refused
        # nothing half-written: the new password works, the old one does not, the code is spent
        assert (_login(ctx, user.email, NEW_PASSWORD), _login(ctx, user.email, user.password)) == (200, 401)
        assert ctx.stack.request("POST", "/auth/reset-password", json={**body, "password": "Other-Pass-789"}).status \
            == 422
        assert _login(ctx, user.email, NEW_PASSWORD) == 200
    return Case("/auth/reset-password", json=body, check=check)


def c_marketing(ctx: Ctx) -> Case:
    shopper = ctx.stack.user()
    def check(replies: list[Reply]) -> None:
        # the choices are stored whole: every answer says reminders are off, and one record holds it
        assert {r.json()["cart_reminders"] for r in replies if r.status == 200} == {False}
        assert ctx.req("GET", "/account/marketing", shopper.id_token)["cart_reminders"] is False
        items = ctx.stack.client("dynamodb").query(
            TableName=ctx.stack.physical_id("NotificationsTable"), KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": f"MARKETING#{shopper.user_id}"}})["Items"]
        assert len(items) == 1
    return Case("/account/marketing", token=shopper.id_token, json={"cart_reminders": False}, check=check)


def c_notification_channels(ctx: Ctx) -> Case:
    shopper = ctx.stack.user()
    body = {"channels": ["email", "sms"], "phone": "+49 151 2345 6700"}
    def check(replies: list[Reply]) -> None:
        # the choice is stored whole: every answer and the one record say the same, the number in E.164
        assert {(tuple(r.json()["channels"]), r.json()["phone"]) for r in replies if r.status == 200} == \
            {(("email", "sms"), "+4915123456700")}
        stored = ctx.req("GET", "/account/notifications", shopper.id_token)
        assert (stored["channels"], stored["phone"], stored["sms_stopped"]) == (["email", "sms"], "+4915123456700",
                                                                                False)
        assert len(dynamo_items(ctx, "NotificationsTable", f"SHOPPER#{shopper.user_id}", "CHANNELS")) == 1
    return Case("/account/notifications", token=shopper.id_token, json=body, check=check)


CASES: dict[tuple[str, str], Callable[[Ctx], Case]] = {
    ("PUT", "/account/marketing"): c_marketing,
    ("PUT", "/account/notifications"): c_notification_channels,
    ("PUT", "/admin/categories/{categoryId}"): c_category,
    ("POST", "/admin/orders/{orderId}/cancel"): c_staff_cancel,
    ("POST", "/admin/orders/{orderId}/notes"): c_staff_note,
    ("POST", "/admin/orders/{orderId}/refunds"): c_staff_refund,
    ("POST", "/admin/orders/{orderId}/retry"): c_staff_retry,
    ("POST", "/admin/orders/{orderId}/attention/resolve"): c_staff_resolve,
    ("PUT", "/admin/coupons/{code}"): c_coupon,
    ("PUT", "/admin/inventory/{sku}/{warehouseId}"): c_set_stock,
    ("POST", "/admin/inventory/{sku}/{warehouseId}/adjustments"): c_adjust,
    ("POST", "/admin/inventory/{sku}/{warehouseId}/rebalance"): c_rebalance,
    ("PUT", "/admin/inventory/{sku}/{warehouseId}/shards"): c_shards,
    ("POST", "/admin/products"): c_create_product,
    ("PUT", "/admin/products/{productId}"): c_update_product,
    ("PUT", "/admin/products/{productId}/skus/{sku}"): c_put_sku,
    ("POST", "/admin/purchase-orders"): c_create_po,
    ("POST", "/admin/purchase-orders/{poId}/cancel"): c_po_cancel,
    ("POST", "/admin/purchase-orders/{poId}/close"): c_po_close,
    ("POST", "/admin/purchase-orders/{poId}/confirmation"): c_po_confirm,
    ("POST", "/admin/purchase-orders/{poId}/invoices"): c_po_invoice,
    ("POST", "/admin/purchase-orders/{poId}/invoices/{invoiceId}/settle"): c_po_settle,
    ("POST", "/admin/purchase-orders/{poId}/receipts"): c_po_receipt,
    ("POST", "/admin/purchase-orders/{poId}/returns"): c_po_return,
    ("POST", "/admin/purchase-orders/{poId}/submit"): c_po_submit,
    ("PUT", "/admin/sales/{saleId}"): c_sale,
    ("PUT", "/admin/skus/{sku}/price"): c_price,
    ("PUT", "/admin/suppliers/{supplierId}"): c_supplier,
    ("PUT", "/admin/suppliers/{supplierId}/contracts/{contractId}"): c_contract,
    ("POST", "/admin/support/tickets/{ticketId}/close"): c_staff_close,
    ("POST", "/admin/support/tickets/{ticketId}/messages"): c_staff_message,
    ("PUT", "/admin/warehouses/{warehouseId}"): c_warehouse,
    ("POST", "/auth/confirm"): c_confirm,
    ("POST", "/auth/forgot-password"): c_forgot_password,
    ("POST", "/auth/login"): c_login,
    ("POST", "/auth/refresh"): c_refresh,
    ("POST", "/auth/register"): c_register,
    ("POST", "/auth/resend-code"): c_resend_code,
    ("POST", "/auth/reset-password"): c_reset_password,
    ("DELETE", "/cart/coupon"): c_cart_coupon_delete,
    ("PUT", "/cart/coupon"): c_cart_coupon_put,
    ("DELETE", "/cart/items/{sku}"): c_cart_item_delete,
    ("PUT", "/cart/items/{sku}"): c_cart_item_put,
    ("POST", "/checkout"): c_checkout,
    ("POST", "/orders/{orderId}/cancel"): c_cancel,
    ("POST", "/orders/{orderId}/returns"): c_return,
    ("POST", "/orders/{orderId}/exchanges"): c_exchange,
    ("POST", "/products/{productId}/reviews"): c_review,
    ("POST", "/support/tickets"): c_ticket,
    ("POST", "/support/tickets/{ticketId}/messages"): c_ticket_message,
    ("POST", "/warehouse/tasks/{taskId}/complete"): c_task_complete,
    ("POST", "/webhooks/carrier"): c_carrier,
    ("POST", "/webhooks/stripe"): c_stripe,
}


def state_changing_routes() -> list[tuple[str, str]]:
    routes, _ = load_routes(ROOT / "template.yaml")
    return sorted({(r.method, r.path) for r in routes if r.method in STATE_CHANGING or r.method == "ANY"})


def test_every_state_changing_route_has_a_case() -> None:
    missing = [r for r in state_changing_routes() if r not in CASES]
    assert not missing, f"routes without a parallel-duplicate case (add one to CASES): {missing}"
    stale = [r for r in CASES if r not in state_changing_routes()]
    assert not stale, f"cases for routes template.yaml no longer has: {stale}"


def send_at_once(stack: Any, method: str, case: Case, n: int = N) -> list[Reply]:
    """The same request n times at the same moment (a session and a thread each, one barrier)."""
    barrier = threading.Barrier(n)
    # every duplicate carries the same Idempotency-Key (the double click): routes that honour one must act
    # once; a case may bring its own (checkout requires one)
    headers = {"Content-Type": "application/json", "Idempotency-Key": case.key, **case.headers}
    if case.token:
        headers["Authorization"] = f"Bearer {case.token}"
    data = case.body if case.body is not None else (json.dumps(case.json) if case.json is not None else None)

    def one(_: int) -> Reply:
        extra = case.headers_per_request() if case.headers_per_request else {}
        with requests.Session() as http:
            barrier.wait(timeout=60)
            resp = http.request(method, f"{stack.base_url}{case.path}", data=data, headers={**headers, **extra},
                                timeout=120)
            return Reply(resp.status_code, resp.text)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


def busy(reply: Reply) -> bool:
    try:
        return reply.status == 503 and reply.json()["error"]["code"] == "service_busy"
    except (ValueError, KeyError, TypeError):
        return False


@pytest.fixture(scope="module")
def ctx(stack: Any, admin: Any, staff: Any) -> Ctx:
    return Ctx(stack, admin, staff)


@pytest.mark.parametrize(("method", "path"), sorted(CASES), ids=[f"{m} {p}" for m, p in sorted(CASES)])
def test_the_same_request_sent_at_once_acts_once(ctx: Ctx, method: str, path: str) -> None:
    case = CASES[(method, path)](ctx)
    replies = send_at_once(ctx.stack, method, case)
    if any(busy(r) for r in replies):
        # "being processed, retry" (503 service_busy, the retryable answer of conventions.md) is a refusal of
        # a duplicate only if the retry it asks for then gets a final answer: the sender retries once
        retried = send_at_once(ctx.stack, method, case, n=1)[0]
        assert not busy(retried), f"{method} {path}: still busy on retry: {retried.text[:300]}"
        replies = [retried if busy(r) else r for r in replies]
    statuses = [r.status for r in replies]
    assert all(s < 500 for s in statuses), f"{method} {path}: a 5xx among {[(r.status, r.text[:300]) for r in replies]}"
    assert any(200 <= s < 300 for s in statuses), \
        f"{method} {path}: no duplicate succeeded {[(r.status, r.text[:300]) for r in replies]}"
    assert all(200 <= s < 300 or 400 <= s < 500 for s in statuses), statuses
    if case.check is not None:
        case.check(replies)
    # then the invariant audit (the autouse fixture of tests/conftest.py: the module is marked audited)
