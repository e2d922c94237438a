"""Promotions never break a cart (issue 12, rows 5 and 8): a sale's or coupon's money in another currency than
the shop's is a 422 naming the field; a time without a zone is a 422 "needs a time zone" naming the field; and a
promotion already stored that cannot apply (old data) is skipped, not a 500 for every shopper with that SKU."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.factories import PROMO_WINDOW as WINDOW
from tests.factories import checkout, eur, make_product, ok, put_in_cart, uid

pytestmark = pytest.mark.integration


def fields(resp: Any) -> list[str]:
    return [f["field"] for f in resp.json()["error"]["details"]["fields"]]


def test_a_sale_in_another_currency_is_refused_naming_the_field(stack, admin):
    usd = stack.request("PUT", f"/admin/sales/s-{uid()}", token=admin.id_token, json={
        **WINDOW, "name": "usd", "scope": "all", "amount_off": {"amount": 500, "currency": "USD"}})
    assert usd.status == 422, usd.body
    assert fields(usd) == ["body.amount_off.currency"] and "EUR" in usd.body


@pytest.mark.parametrize("path", ["/admin/sales/s-{id}", "/admin/coupons/C{ID}"])
@pytest.mark.parametrize("which", ["starts_at", "ends_at"])
def test_a_time_without_a_zone_is_refused_naming_the_field(stack, admin, path, which):
    body: dict[str, Any] = {**WINDOW, "percent": 10, which: "2026-01-01T00:00:00"}
    if "sales" in path:
        body.update(name="naive", scope="all")
    resp = stack.request("PUT", path.format(id=uid(), ID=uid(6).upper()), token=admin.id_token, json=body)
    assert resp.status == 422, resp.body
    assert fields(resp) == [f"body.{which}"]
    assert "needs a time zone" in resp.body


@pytest.fixture
def raw_sale(stack: Any) -> Iterator[Any]:
    """Write a sale record straight into the PromotionsTable (as old data would be), removed afterwards."""
    from shop.dynamo import to_item

    ddb = stack.client("dynamodb")
    table = stack.function_env("PromotionsFunction")["PROMOTIONS_TABLE"]
    written: list[str] = []

    def write(sale_id: str, record: dict[str, Any]) -> None:
        ddb.update_item(TableName=table, Key={"pk": {"S": "SALES"}, "sk": {"S": "ALL"}},
                        UpdateExpression="SET #s = :r", ExpressionAttributeNames={"#s": f"S#{sale_id}"},
                        ExpressionAttributeValues={":r": {"M": to_item(record)}})
        written.append(sale_id)

    yield write
    for sale_id in written:
        ddb.update_item(TableName=table, Key={"pk": {"S": "SALES"}, "sk": {"S": "ALL"}},
                        UpdateExpression="REMOVE #s", ExpressionAttributeNames={"#s": f"S#{sale_id}"})


def test_a_stored_sale_that_cannot_apply_is_skipped_and_the_cart_works(stack, admin, raw_sale):
    product = make_product(stack, admin.id_token, stock={"a": 20}, price=5000)
    sku = product.skus[0]
    tag = uid()
    raw_sale(f"s-{tag}-usd", {"name": f"usd {tag}", "scope": "sku", "target": sku,
                              "amount_off": {"amount": 500, "currency": "USD"}, "active": True, **WINDOW})
    raw_sale(f"s-{tag}-naive", {"name": f"naive {tag}", "scope": "sku", "target": sku, "percent": 10,
                                "active": True, "starts_at": "2020-01-01T00:00:00", "ends_at": "2099-01-01T00:00:00"})
    raw_sale(f"s-{tag}-broken", {"name": f"broken {tag}", "scope": "sku", "target": sku, "percent": 50})
    shopper = stack.user()
    put_in_cart(stack, shopper.id_token, sku, 2)
    cart = ok(stack.request("GET", "/cart", token=shopper.id_token))
    # the USD sale and the broken one are skipped; the naive-time sale is read as UTC and applies (10 %)
    assert cart["totals"]["discount"] == eur(1000)
    assert [d["code"] for d in cart["discounts"]] == [f"SALE:naive {tag}"]
    listed = {s["sale_id"]: s for s in ok(stack.request("GET", "/admin/sales", token=admin.id_token))["items"]}
    assert listed[f"s-{tag}-usd"]["running"] is False and listed[f"s-{tag}-naive"]["running"] is True
    placed = ok(checkout(stack, shopper.id_token), 201)
    assert placed["totals"]["discount"] == eur(1000)


def test_a_stored_coupon_in_another_currency_is_not_applied(stack, admin):
    from shop.dynamo import to_item

    product = make_product(stack, admin.id_token, stock={"a": 20}, price=5000)
    sku = product.skus[0]
    code = f"C{uid(8).upper()}"
    table = stack.function_env("PromotionsFunction")["PROMOTIONS_TABLE"]
    stack.client("dynamodb").put_item(TableName=table, Item=to_item({
        "pk": f"COUPON#{code}", "sk": "COUPON", "code": code, "amount_off": {"amount": 700, "currency": "USD"},
        "per_customer_limit": 1, "active": True, "used": 0, **WINDOW}))
    shopper = stack.user()
    put_in_cart(stack, shopper.id_token, sku, 1)
    cart = ok(stack.request("PUT", "/cart/coupon", token=shopper.id_token, json={"code": code}))
    assert cart["totals"]["discount"] == eur(0)
    assert [w["reason"] for w in cart["warnings"] if w["code"] == "coupon_not_applicable"] == ["unusable"]
    refused = checkout(stack, shopper.id_token)
    assert refused.status == 409 and refused.json()["error"]["details"]["reason"] == "unusable"
