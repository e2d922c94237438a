"""HTTP answer of POST /checkout (functions/checkout): the placed order, as ``shop.checkout.service`` returns it.

The order's lines and payment are the orders context's models (checkout sits above orders in the context
order): a placed order's line is the line the order view shows later. They come from shop.orders.order_parts,
not with the order routes' views from shop.orders.contracts (issue 17).
"""

from pydantic import Field

from shop.contracts import ResponseModel
from shop.models import Totals
from shop.orders.models import OrderStatus
from shop.orders.order_parts import OrderLineView, OrderPayment


class PlacedOrder(ResponseModel):
    """The order the checkout placed (201), holding reserved stock until it is paid or
    ``reservation_expires_at``; the same Idempotency-Key replays it (``replayed`` true)."""

    order_id: str
    status: OrderStatus
    totals: Totals
    lines: list[OrderLineView]
    reservation_expires_at: int = Field(description="epoch seconds: unpaid by then, the order expires and its "
                                                    "stock is released")
    payment: OrderPayment
    replayed: bool = Field(description="true when this answers a repeated request (same Idempotency-Key)")
