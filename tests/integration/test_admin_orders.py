"""Staff order operations through the gateway (functions/orderflow_admin): who may call them (admins only: a
shopper or warehouse user gets 403), the order list's filters (e-mail, status, SKU, date range) and paging with
the shared cursor, the full order view, staff notes, a staff cancellation, and partial refunds: never above what
is left, also when two refunds race (one wins, the other is 409 refund_limit_exceeded), once per Idempotency-Key,
with a money audit afterwards (the order's refunded <= captured, and Stripe refunded exactly what the order
counts). Customers: search by e-mail, one customer with orders and tickets."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.audit import stripe_list
from tests.factories import checkout, make_product, ok, order_item, put_in_cart, uid, wait_status

# one worker runs the whole module (--dist loadgroup): its fixture (shop) is built once;
# the invariant audit runs around each test
pytestmark = [pytest.mark.integration, pytest.mark.audited, pytest.mark.xdist_group("admin_orders")]

MISSING = "ord_aaaaaaaaaaaaaaaaaaaaaaaaaa"


def place(stack: Any, shopper: Any, sku: str, quantity: int = 1) -> str:
    put_in_cart(stack, shopper.id_token, sku, quantity)
    oid = str(ok(checkout(stack, shopper.id_token), 201)["order_id"])
    wait_status(stack, shopper.id_token, oid, "FULFILLING", timeout=60)
    return oid


def pages(api: Any, query: dict[str, str]) -> tuple[list[str], int]:
    """Every order id of a list, following next_cursor; and how many pages it took."""
    ids: list[str] = []
    cursor, n = None, 0
    while True:
        answer = api("GET", "/admin/orders", query={**query, **({"cursor": cursor} if cursor else {})})
        ids += [o["order_id"] for o in answer["items"]]
        n += 1
        cursor = answer["next_cursor"]
        if not cursor:
            return ids, n
        assert n < 50


@pytest.fixture(scope="module")
def shop(stack: Any, admin: Any) -> dict[str, Any]:
    """One shopper with three paid orders of a SKU no other test sells (newest last), and one of another SKU."""
    product = make_product(stack, admin.id_token, stock={"a": 20}, price=2500)
    other = make_product(stack, admin.id_token, stock={"a": 5}, price=900)
    shopper = stack.user()
    orders = [place(stack, shopper, product.skus[0]) for _ in range(3)]
    extra = place(stack, shopper, other.skus[0])
    return {"shopper": shopper, "sku": product.skus[0], "other_sku": other.skus[0], "orders": orders, "extra": extra}


def test_only_admins_may_call_the_staff_routes(stack: Any, staff: Any, shop: dict[str, Any]) -> None:
    oid = shop["orders"][0]
    shopper = shop["shopper"]
    routes = [("GET", "/admin/orders", None), ("GET", f"/admin/orders/{oid}", None),
              ("POST", f"/admin/orders/{oid}/cancel", None),
              ("POST", f"/admin/orders/{oid}/refunds", {"amount": {"amount": 1, "currency": "EUR"}, "reason": "x"}),
              ("POST", f"/admin/orders/{oid}/notes", {"text": "hello"}), ("POST", f"/admin/orders/{oid}/retry", None),
              ("GET", "/admin/customers?email=a", None), ("GET", f"/admin/customers/{shopper.user_id}", None)]
    for method, path, body in routes:
        path_only, _, q = path.partition("?")
        query = dict([q.split("=")]) if q else None
        for who in (shopper, staff):
            resp = stack.request(method, path_only, token=who.id_token, json=body, query=query,
                                 headers={"Idempotency-Key": f"k-{uid(12)}"})
            assert resp.status == 403, (method, path, resp.status, resp.body)
            assert resp.json()["error"]["code"] == "forbidden"
        anonymous = stack.request(method, path_only, json=body, query=query)
        assert anonymous.status == 401, (method, path, anonymous.status)
    # and nothing happened to the order
    assert order_item(stack, oid)["status"]["S"] == "FULFILLING"


def test_the_list_filters_by_email_status_sku_and_dates_newest_first_with_the_shared_cursor(
        api: Any, shop: dict[str, Any]) -> None:
    mine = list(reversed(shop["orders"]))  # newest first
    email = shop["shopper"].email
    # e-mail: the customer's orders (both SKUs), newest first, two per page
    ids, n = pages(api, {"email": email, "limit": "2"})
    assert ids == [shop["extra"], *mine] and n == 2
    # e-mail and SKU
    ids, _ = pages(api, {"email": email.upper(), "sku": shop["sku"], "limit": "2"})
    assert ids == mine
    # status (one index partition) and SKU: a filter on the bounded query, pages may be short but nothing is lost
    ids, _ = pages(api, {"status": "FULFILLING", "sku": shop["sku"], "limit": "2"})
    assert ids == mine
    # no status: every status partition merged, newest first
    ids, _ = pages(api, {"sku": shop["sku"], "limit": "2"})
    assert ids == mine
    summary = api("GET", "/admin/orders", query={"sku": shop["sku"], "limit": "1"})["items"][0]
    assert summary["order_id"] == mine[0] and summary["status"] == "FULFILLING"
    assert summary["skus"] == [shop["sku"]] and summary["needs_attention"] is None
    assert summary["email"] == email and summary["payment_status"] == "paid"
    # date range: from the second order's creation on (inclusive), to its creation (inclusive)
    second = api("GET", f"/admin/orders/{shop['orders'][1]}")["created_at"]
    ids, _ = pages(api, {"sku": shop["sku"], "from": second})
    assert ids == mine[:2]
    ids, _ = pages(api, {"email": email, "sku": shop["sku"], "to": second})
    assert ids == mine[1:]
    ids, _ = pages(api, {"status": "FULFILLING", "sku": shop["sku"], "from": second, "to": second})
    assert ids == [shop["orders"][1]]
    # a whole day (dates), and an empty day
    day = second[:10]
    assert set(mine) <= set(pages(api, {"sku": shop["sku"], "from": day, "to": day})[0])
    assert pages(api, {"sku": shop["sku"], "to": "2001-01-01"})[0] == []
    # nobody with that e-mail; a status nobody of them has
    assert api("GET", "/admin/orders", query={"email": f"nobody-{uid()}@example.com"})["items"] == []
    assert pages(api, {"status": "DELIVERED", "sku": shop["sku"]})[0] == []


def test_bad_list_parameters_are_422_naming_the_field(api: Any, shop: dict[str, Any]) -> None:
    def field(query: dict[str, str]) -> str:
        answer = api("GET", "/admin/orders", expect=422, query=query)
        return str(answer["error"]["details"]["fields"][0]["field"])

    assert "status" in field({"status": "LOST"})
    assert field({"from": "yesterday"}) == "query.from"
    assert field({"from": "2026-01-01T00:00:00"}) == "query.from"  # no time zone
    assert field({"from": "2026-02-01", "to": "2026-01-01"}) == "query.from"
    assert field({"cursor": "not-a-cursor"}) == "query.cursor"
    assert "sku" in field({"sku": "lower-case"})
    # a cursor of one list is refused by another (another index partition)
    cursor = api("GET", "/admin/orders", query={"status": "FULFILLING", "limit": "1"})["next_cursor"]
    assert cursor
    assert field({"status": "PAID", "cursor": cursor}) == "query.cursor"
    assert field({"email": shop["shopper"].email, "cursor": cursor}) == "query.cursor"


def test_the_order_view_has_lines_payment_shipments_timeline_and_notes(api: Any, admin: Any,
                                                                       shop: dict[str, Any]) -> None:
    oid = shop["orders"][0]
    note = api("POST", f"/admin/orders/{oid}/notes", expect=201, json={"text": "  shopper called about it  "})
    assert note["text"] == "shopper called about it" and note["author_id"] == admin.user_id
    assert note["author_email"] == admin.email and note["note_id"].startswith("note_")
    view = api("GET", f"/admin/orders/{oid}")
    assert view["order_id"] == oid and view["status"] == "FULFILLING" and view["email"] == shop["shopper"].email
    assert [ln["sku"] for ln in view["lines"]] == [shop["sku"]]
    total = view["totals"]["total"]
    assert view["payment"]["captured"] == total and view["payment"]["refunded"]["amount"] == 0
    assert view["payment"]["refundable"] == total and view["payment"]["payment_intent_id"].startswith("pi_")
    assert len(view["shipments"]) == 1 and view["shipments"][0]["status"] == "PICKING"
    statuses = [t["status"] for t in view["timeline"] if t["kind"] == "status"]
    assert statuses[:1] == ["PENDING_PAYMENT"] and "PAID" in statuses and statuses[-1] == "FULFILLING"
    assert view["notes"] == [note] and view["returns"] == [] and view["refunds"] == []
    assert view["needs_attention"] is None and view["workflow"] == {"retries": 0, "last_retry": None}
    # the note is staff-only: the shopper's own view has no trace of it
    own = ok(api.stack.request("GET", f"/orders/{oid}", token=shop["shopper"].id_token))
    assert "shopper called" not in str(own)
    api("GET", f"/admin/orders/{MISSING}", expect=404)
    api("POST", f"/admin/orders/{MISSING}/notes", expect=404, json={"text": "x"})
    api("POST", f"/admin/orders/{oid}/notes", expect=422, json={"text": "   "})


def test_two_concurrent_refunds_never_exceed_what_was_captured_and_stripe_agrees(
        stack: Any, api: Any, shop: dict[str, Any]) -> None:
    oid = shop["orders"][1]
    total = api("GET", f"/admin/orders/{oid}")["totals"]["total"]
    share = total["amount"] * 6 // 10  # two of these are more than the order paid
    barrier = threading.Barrier(2)
    answers: list[Any] = [None, None]

    def refund(i: int) -> None:
        barrier.wait()
        answers[i] = stack.request("POST", f"/admin/orders/{oid}/refunds", token=api.token,
                                   headers={"Idempotency-Key": f"race-{i}-{uid(12)}"},
                                   json={"amount": {"amount": share, "currency": total["currency"]},
                                         "reason": "damaged box"})

    threads = [threading.Thread(target=refund, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(a.status for a in answers)
    assert statuses == [201, 409], [(a.status, a.body) for a in answers]
    refused = next(a for a in answers if a.status == 409).json()
    assert refused["error"]["code"] == "refund_limit_exceeded"
    paid = next(a for a in answers if a.status == 201).json()
    assert paid["amount"]["amount"] == share and paid["refunded"]["amount"] == share
    assert paid["refundable"]["amount"] == total["amount"] - share
    # what is left can still be refunded, once per Idempotency-Key (a double click refunds once)
    rest = {"amount": {"amount": total["amount"] - share, "currency": total["currency"]}, "reason": "goodwill"}
    key = f"rest-{uid(12)}"
    first = api("POST", f"/admin/orders/{oid}/refunds", expect=201, json=rest, headers={"Idempotency-Key": key})
    again = api("POST", f"/admin/orders/{oid}/refunds", expect=201, json=rest, headers={"Idempotency-Key": key})
    assert again == first and first["refundable"]["amount"] == 0
    # the same key for another refund is refused; nothing is left for a new one
    other = {**rest, "amount": {"amount": 1, "currency": total["currency"]}}
    api("POST", f"/admin/orders/{oid}/refunds", expect=422, json=other, headers={"Idempotency-Key": key})
    over = api("POST", f"/admin/orders/{oid}/refunds", expect=409, json=other,
               headers={"Idempotency-Key": f"more-{uid(12)}"})
    assert over["error"]["code"] == "refund_limit_exceeded"

    # money audit: the order counts what Stripe paid out, never more than was captured
    item = order_item(stack, oid)
    intent = item["payment_intent_id"]["S"]
    counted = int(item["refunded_amount"]["N"])
    stripe_refunded = sum(int(r["amount"]) for r in stripe_list(stack, "refunds")
                          if r.get("payment_intent") == intent and r.get("status") in ("succeeded", "pending"))
    captured = sum(int(c["amount"]) for c in stripe_list(stack, "charges")
                   if c.get("payment_intent") == intent and c.get("captured") and c.get("status") == "succeeded")
    assert counted == stripe_refunded == captured == total["amount"]
    view = api("GET", f"/admin/orders/{oid}")
    assert view["payment"]["refunded"] == total and view["payment"]["refundable"]["amount"] == 0
    staff = [r for r in view["refunds"] if r["source"] == "staff"]
    assert sorted(r["amount"]["amount"] for r in staff) == sorted([share, total["amount"] - share])
    assert [t["status"] for t in view["timeline"] if t["kind"] == "status"].count("REFUNDED") == 2


def test_refund_input_rules(api: Any, shop: dict[str, Any]) -> None:
    oid = shop["orders"][2]
    body = {"amount": {"amount": 100, "currency": "EUR"}, "reason": "late"}
    missing = api("POST", f"/admin/orders/{oid}/refunds", expect=422, json=body)
    assert missing["error"]["details"]["fields"][0]["field"] == "header.Idempotency-Key"
    key = {"Idempotency-Key": f"k-{uid(12)}"}
    wrong = api("POST", f"/admin/orders/{oid}/refunds", expect=422, headers=key,
                json={**body, "amount": {"amount": 100, "currency": "USD"}})
    assert wrong["error"]["details"]["fields"][0]["field"] == "body.amount.currency"
    api("POST", f"/admin/orders/{oid}/refunds", expect=422, headers=key, json={**body, "amount": {"amount": 0,
                                                                                                 "currency": "EUR"}})
    api("POST", f"/admin/orders/{oid}/refunds", expect=422, headers=key, json={"amount": body["amount"]})
    api("POST", f"/admin/orders/{MISSING}/refunds", expect=404, headers=key, json=body)


def test_staff_cancel_releases_and_refunds_like_the_shoppers_and_is_safe_to_repeat(
        stack: Any, api: Any, admin: Any) -> None:
    product = make_product(stack, admin.id_token, stock={"a": 3})
    shopper = stack.user()
    oid = place(stack, shopper, product.skus[0], 2)
    view = api("POST", f"/admin/orders/{oid}/cancel")
    assert view["status"] == "CANCELLED" and view["cancel_reason"] == "staff"
    assert view["payment"]["refunded"] == view["totals"]["total"]
    assert [r["source"] for r in view["refunds"]] == ["cancellation"]
    again = api("POST", f"/admin/orders/{oid}/cancel")  # safe to repeat: nothing is refunded twice
    assert again["status"] == "CANCELLED" and again["refunds"] == view["refunds"]
    # nothing left to refund
    api("POST", f"/admin/orders/{oid}/refunds", expect=409, headers={"Idempotency-Key": f"k-{uid(12)}"},
        json={"amount": {"amount": 1, "currency": "EUR"}, "reason": "x"})


def test_customers_by_email_prefix_and_one_customer_with_orders_and_tickets(api: Any, stack: Any,
                                                                            shop: dict[str, Any]) -> None:
    shopper = shop["shopper"]
    ok(stack.request("POST", "/support/tickets", token=shopper.id_token,
                     json={"subject": "Where is my parcel?", "message": "It has been a week.",
                           "order_id": shop["orders"][0]}), 201)
    found = api("GET", "/admin/customers", query={"email": shopper.email[:12]})["items"]
    assert shopper.user_id in [c["customer_id"] for c in found]
    me = next(c for c in found if c["customer_id"] == shopper.user_id)
    assert me["email"] == shopper.email and me["status"] == "CONFIRMED" and me["enabled"] is True
    view = api("GET", f"/admin/customers/{shopper.user_id}")
    assert view["profile"] == me
    assert [o["order_id"] for o in view["orders"]] == [shop["extra"], *reversed(shop["orders"])]
    assert [t["subject"] for t in view["tickets"]] == ["Where is my parcel?"]
    assert view["returns"] == [] and view["orders_next_cursor"] is None
    api("GET", "/admin/customers/00000000-0000-4000-8000-000000000000", expect=404)
    assert api("GET", "/admin/customers", query={"email": f"nobody-{uid()}@"})["items"] == []
