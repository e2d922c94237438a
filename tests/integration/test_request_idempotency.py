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



def test_a_warm_function_runs_as_many_user_agent_handlers_however_many_idempotent_requests_it_served(stack):
    """Powertools' DynamoDBPersistenceLayer registers a User-Agent handler on the client it is given whenever one
    is built. Built per request around the shared client, every idempotent request left one more handler behind,
    and every later DynamoDB request of the warm function ran all of them, each adding one more User-Agent header
    to the request (seen at its last request-created handler): its AWS calls grew slower with every request it
    had served. The number stays what it was after the first one."""
    from shop import aws

    shopper = stack.user()
    body = {"subject": "Where is my parcel?", "message": "It has been a week."}
    headers_seen: list[int] = []

    def count(request, **_):
        headers_seen.append(len(request.headers.get_all("User-Agent") or []))

    def user_agent_headers_of_one_request() -> set[int]:
        clients = [c for (service, *_), c in list(aws._clients.items()) if service == "dynamodb"]
        assert clients, "no shared DynamoDB client yet"
        headers_seen.clear()
        for client in clients:
            client.meta.events.register_last("request-created", count, unique_id="ua-probe")
        try:
            ok(stack.request("POST", "/support/tickets", token=shopper.id_token,
                             headers={"Idempotency-Key": f"ua-{uid()}"}, json=body), 201)
        finally:
            for client in clients:
                client.meta.events.unregister("request-created", unique_id="ua-probe")
        assert headers_seen
        return set(headers_seen)

    ok(stack.request("POST", "/support/tickets", token=shopper.id_token,  # the function is warm, the layer built
                     headers={"Idempotency-Key": f"ua-{uid()}"}, json=body), 201)
    first = user_agent_headers_of_one_request()
    for _ in range(20):
        ok(stack.request("POST", "/support/tickets", token=shopper.id_token,
                         headers={"Idempotency-Key": f"ua-{uid()}"}, json=body), 201)
    assert user_agent_headers_of_one_request() == first
