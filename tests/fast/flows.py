"""Steps of the order's life for the fast tier, run through the services as the handlers and the workflow run
them (the fakes are behind the ports: tests/fast/conftest.py)."""

from __future__ import annotations

from typing import Any

from shop.checkout import service as checkout
from shop.checkout.service import CheckoutIn
from shop.orders import service as orders
from shop.payments import service as payments

ADDRESS = {"name": "Ada Shopper", "line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"}
CUSTOMER = "cust-ada"
KEY = "key-0000000001"


def body(*, payment_method_id: str = "pm_card_visa", expected_total: dict[str, Any] | None = None,
         **address: str) -> CheckoutIn:
    return CheckoutIn.model_validate({"shipping_address": {**ADDRESS, **address},
                                      "payment_method_id": payment_method_id,
                                      **({"expected_total": expected_total} if expected_total else {})})


def place(customer_id: str = CUSTOMER, key: str = KEY, request: CheckoutIn | None = None,
          told: list[str] | None = None) -> dict[str, Any]:
    """POST /checkout; ``told`` collects the metric events the checkout reports."""
    return checkout.place_order(customer_id, None, key, request or body(),
                                on_event=told.append if told is not None else None)


def pay(order_id: str) -> dict[str, Any]:
    """The workflow's payment steps for a card that needs no authentication: charge, then confirm."""
    charged = payments.take_payment(order_id)
    assert charged["status"] == "succeeded", charged
    return orders.confirm_paid(order_id, charged["payment_intent_id"])
