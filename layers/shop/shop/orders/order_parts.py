"""The parts of an order's HTTP answer that checkout's answer (``shop.checkout.contracts.PlacedOrder``) shares
with the order routes' (``shop.orders.contracts``): a line with its allocations and the payment. Apart from the
order views so that checkout defines only these at its cold start (issue 17); ``shop.orders.contracts`` imports
them, so every name resolves from there as before.
"""

from pydantic import Field

from shop.contracts import ResponseModel, absent
from shop.money import Money


class OrderAllocation(ResponseModel):
    warehouse_id: str
    quantity: int
    shard: int | None = Field(None, exclude_if=absent,
                              description="the shard item reserved from (sharded stock levels only)")


class OrderLineView(ResponseModel):
    sku: str
    product_id: str
    name: str
    quantity: int
    unit_price: Money
    weight_grams: int = Field(description="per unit")
    allocations: list[OrderAllocation] = Field(description="the warehouses the line's units were reserved in")
    discount: Money | None = Field(description="the line's share of sale and coupon discounts (null when the shop "
                                               "ran without promotions)")
    line_total: Money = Field(description="unit_price x quantity, before discounts")


class OrderRefund(ResponseModel):
    refund_id: str
    amount: Money | None


class OrderPayment(ResponseModel):
    status: str = Field(description="pending, processing, requires_action, paid, failed or refunded (or the "
                                    "last known payment outcome of a closed order)")
    payment_intent_id: str | None
    decline_code: str | None = Field(description="why the card was declined, when it was")
    client_secret: str | None = Field(None, exclude_if=absent,
                                      description="for Stripe.js handleNextAction; only while requires_action")
    next_action: str | None = Field(None, exclude_if=absent, description="only while requires_action")
    refund: OrderRefund | None = Field(None, exclude_if=absent, description="only once refunded")
