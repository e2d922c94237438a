"""Response models of the storefront and admin-catalog routes (auth, cart, catalog, checkout, orders, returns,
promotions, reviews): what the services build goes through a real resolver route annotated with its model, as
in the functions, so what is checked is what a client gets: the answer is unchanged, keys a service leaves
out stay absent (no nulls appear), and an answer that drifts from its model is a 500, not a leak."""

from __future__ import annotations

from typing import Any

import pytest
from shop.auth import service as auth
from shop.auth.contracts import AuthTokens
from shop.cart.contracts import CartView
from shop.catalog import service as catalog
from shop.catalog.contracts import AdminProduct, PriceChange, ProductDetail, ProductPage
from shop.checkout.contracts import PlacedOrder
from shop.checkout.service import checkout_result
from shop.models import Address, Allocation, Totals
from shop.money import Money
from shop.orders.contracts import OrderPage, OrderView
from shop.orders.models import Order, OrderLine, OrderStatus, TimelineEntry
from shop.orders.service import order_view, summary_view
from shop.promotions.contracts import CouponView, SaleList
from shop.returns import service as returns
from shop.returns.contracts import ReturnView
from shop.returns.models import CustomerReturn, ReturnLine, ReturnStatus
from shop.reviews.contracts import ReviewPage
from shop.reviews.models import Review

from tests.answers import answer, same

pytestmark = pytest.mark.unit


def eur(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "EUR"}


def money(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def order(**changes: Any) -> Order:
    fields: dict[str, Any] = dict(
        order_id="ord_abcdefghijklmnopqrstuvwxyz", customer_id="c-1", email="ada@example.com",
        status=OrderStatus.PENDING_PAYMENT,
        lines=[OrderLine(sku="A-1", product_id="p-1", name="Kettle", quantity=2, unit_price=money(1250),
                         weight_grams=300, allocations=[Allocation(warehouse_id="wh-1", quantity=2)])],
        totals=Totals(subtotal=money(2500), discount=money(0), shipping=money(490), tax=money(568),
                      total=money(3558)),
        shipping_address=Address(name="Ada", line1="Unter den Linden 1", city="Berlin", postal_code="10117",
                                 country="DE"),
        payment_method_id="pm_card_visa", created_at="2026-01-01T00:00:00.000000Z",
        updated_at="2026-01-01T00:00:00.000000Z", reservation_expires_at=1_767_226_500,
        timeline=[TimelineEntry(at="2026-01-01T00:00:00.000000Z", status="PENDING_PAYMENT")])
    return Order(**{**fields, **changes})


def test_an_order_keeps_the_absent_address_lines_timeline_notes_and_payment_fields_absent():
    body = same(OrderView, order_view(order()))
    assert "line2" not in body["shipping_address"] and "region" not in body["shipping_address"]
    assert "note" not in body["timeline"][0] and body["lines"][0]["discount"] is None
    assert "shard" not in body["lines"][0]["allocations"][0]
    assert set(body["payment"]) == {"status", "payment_intent_id", "decline_code"}


def test_an_order_shows_3ds_refund_shards_and_address_extras_when_the_service_sends_them():
    sharded = OrderLine(sku="A-1", product_id="p-1", name="Kettle", quantity=2, unit_price=money(1250),
                        weight_grams=300, discount=money(100),
                        allocations=[Allocation(warehouse_id="wh-1", quantity=2, shard=3)])
    address = Address(name="Ada", line1="1 Main St", line2="Apt 2", city="LA", postal_code="90001", country="US",
                      region="CA")
    waiting = order(status=OrderStatus.PAYMENT_PROCESSING, payment_status="requires_action", lines=[sharded],
                    payment_intent_id="pi_1", payment_client_secret="pi_1_secret", shipping_address=address)
    body = same(OrderView, order_view(waiting))
    assert body["payment"]["client_secret"] == "pi_1_secret" and body["lines"][0]["allocations"][0]["shard"] == 3
    refunded = order(status=OrderStatus.CANCELLED, refund_id="re_1", refunded=money(3558), cancel_reason="customer",
                     timeline=[TimelineEntry(at="2026-01-01T00:00:00Z", status="CANCELLED", note="by you")])
    body = same(OrderView, order_view(refunded))
    assert body["payment"]["refund"] == {"refund_id": "re_1", "amount": eur(3558)}
    same(OrderPage, {"items": [summary_view(refunded)], "next_cursor": None})


def test_an_order_with_shipments_and_tracking_is_its_published_shape():
    shipment = {"shipment_id": "shp-1", "warehouse_id": "wh-1", "status": "IN_TRANSIT",
                "items": [{"sku": "A-1", "name": "Kettle", "quantity": 2}], "package_weight_grams": 750,
                "carrier": "ShopPost", "tracking_number": "SP123456789", "tracking_url": "https://t.example/SP1",
                "shipping_cost": eur(490), "packed_at": "2026-01-02T00:00:00Z", "shipped_at": "2026-01-02T01:00:00Z",
                "delivered_at": None, "tracking": [{"event_id": "e-1", "status": "picked_up",
                                                    "occurred_at": "2026-01-02T01:00:00Z"}]}
    same(OrderView, {**order_view(order(status=OrderStatus.SHIPPED)), "shipments": [shipment]})


def test_a_placed_order_is_the_checkout_answer():
    body = same(PlacedOrder, checkout_result(order(), replayed=True))
    assert body["replayed"] is True and body["status"] == "PENDING_PAYMENT"


CART = {"items": [], "totals": {k: eur(0) for k in ("subtotal", "discount", "shipping", "tax", "total")},
        "discounts": [], "coupon": None, "destination": {"country": "DE", "region": None}, "currency": "EUR",
        "expires_at": None, "version": 0, "warnings": []}


def test_a_cart_keeps_a_line_discount_absent_unless_something_is_taken_off():
    line = {"sku": "A-1", "product_id": "p-1", "name": "Kettle", "options": {"size": "L"}, "quantity": 3,
            "unit_price": eur(1250), "line_total": eur(3750), "weight_grams": 300, "available": 2}
    gone = {"sku": "B-2", "product_id": None, "name": None, "options": {}, "quantity": 1, "unit_price": None,
            "line_total": None, "weight_grams": None, "available": 0}
    warnings = [
        {"code": "insufficient_stock", "sku": "A-1", "requested": 3, "available": 2, "message": "only 2 of A-1"},
        {"code": "sku_unavailable", "sku": "B-2", "message": "B-2 is no longer sold"},
        {"code": "coupon_not_applicable", "coupon": "SAVE10", "reason": "below_minimum", "message": "needs more"}]
    body = same(CartView, {**CART, "items": [line, gone], "warnings": warnings, "coupon": "SAVE10", "version": 4,
                           "expires_at": 1_767_226_500})
    assert "discount" not in body["items"][0]
    discounted = {**line, "discount": eur(375)}
    same(CartView, {**CART, "items": [discounted],
                    "discounts": [{"code": "SALE:spring", "description": "sale: spring", "amount": eur(375)}]})


def test_an_answer_that_drifts_from_its_model_is_a_500_without_details():
    assert answer(CartView, {**CART, "internal": "table name"}) == (
        500, {"error": {"code": "internal_error", "message": "internal error"}})
    unknown_warning = {"code": "surprise", "sku": "A-1", "message": "?"}
    assert answer(CartView, {**CART, "warnings": [unknown_warning]})[0] == 500


PRODUCT = {"product_id": "p-1", "name": "Kettle", "description": "", "category": "kitchen", "brand": None,
           "attributes": {"material": "steel"}, "images": ["/img/k.jpg"], "active": True, "rating_count": 2,
           "rating_sum": 9, "min_price_amount": 1250, "currency": "EUR", "created_at": "2026-01-01T00:00:00Z",
           "updated_at": "2026-01-01T00:00:00Z"}
SKU = {"sku": "A-1", "name": "Large", "options": {"size": "L"}, "price_amount": 1250, "price_currency": "EUR",
       "weight_grams": 300, "active": True}


def test_catalog_answers_are_their_published_shapes():
    admin = same(AdminProduct, catalog.product_view(PRODUCT, [SKU]))
    assert admin["rating"] == {"average": 4.5, "count": 2} and "available" not in admin["skus"][0]
    public = catalog.product_view(PRODUCT, [SKU], {"A-1": 4})
    public.pop("active")
    body = same(ProductDetail, public)
    assert "also_bought" not in body and body["skus"][0]["in_stock"] is True
    same(ProductDetail, {**public, "also_bought": [{"product_id": "p-2", "name": "Mug", "orders": 3}]})
    same(ProductPage, {"items": [catalog.listing_view({**PRODUCT, "images": []})], "next_cursor": "abc"})
    unchanged = same(PriceChange, {**catalog.sku_view(SKU), "product_id": "p-1", "changed": False})
    assert "old_price" not in unchanged
    same(PriceChange, {**catalog.sku_view(SKU), "product_id": "p-1", "changed": True, "old_price": eur(990)})


def test_a_return_keeps_the_fields_the_workflow_has_not_filled_in_absent():
    ret = CustomerReturn(return_id="ret_0123456789abcdef0123", order_id="ord_abcdefghij", customer_id="c-1",
                         status=ReturnStatus.REQUESTED, refund_total=money(1300), created_at="t0", updated_at="t0",
                         lines=[ReturnLine(sku="A-1", name="Kettle", quantity=1, reason="damaged", warehouse_id="wh-1",
                                           weight_grams=300, refund=money(1300))],
                         timeline=[TimelineEntry(at="t0", status="REQUESTED")])
    body = same(ReturnView, returns.view(ret))
    assert not {"email", "note", "label", "inspection", "refund_id", "refunded"} & set(body)
    done = ret.model_copy(update={
        "status": ReturnStatus.REFUNDED, "email": "ada@example.com", "note": "cracked", "refund_id": "re_9",
        "refunded": money(1300), "inspection": [{"sku": "A-1", "sellable": 0, "damaged": 1}],
        "label": {"carrier": "ShopPost", "tracking_number": "SP1", "tracking_url": "https://t/SP1", "cost": eur(490)}})
    same(ReturnView, returns.view(done))


def test_stored_promotions_keep_the_fields_they_were_stored_without_absent():
    broken = {"sale_id": "s-broken", "name": "broken", "scope": "sku", "target": "A-1", "percent": 50,
              "running": False, "problem": "the stored record cannot be read (KeyError: 'starts_at')"}
    body = same(SaleList, {"items": [broken]})
    assert "amount_off" not in body["items"][0] and "starts_at" not in body["items"][0]
    coupon = {"code": "SAVE10", "percent": 10, "per_customer_limit": 1, "starts_at": "2026-01-01T00:00:00Z",
              "ends_at": "2026-02-01T00:00:00Z", "active": True, "used": 0}
    assert "global_limit" not in same(CouponView, coupon)


def test_tokens_without_a_new_refresh_token_have_none_and_reviews_are_public_views():
    tokens = auth._token_view({"IdToken": "id", "AccessToken": "access", "ExpiresIn": 3600}, None)
    assert "refresh_token" not in same(AuthTokens, tokens)
    review = Review(product_id="p-1", customer_id="c-1", order_id="ord_x", rating=5, title="Great", body="Boils fast",
                    author="ada", created_at="2026-01-01T00:00:00Z")
    same(ReviewPage, {"product_id": "p-1", "summary": {"average": 5.0, "count": 1}, "items": [review.view()],
                      "next_cursor": None})
