"""The support facts of the bus (producer: shop.support.service). Defined when a type of the family is
first needed (see shop.event_contracts)."""

from pydantic import Field

from shop.event_contracts import (
    _EXAMPLE_ORDER,
    ContractDetail,
    _example,
)
from shop.models import OrderId


# ------------------------------------------------------------------------------------------------ support
class TicketAnswered(ContractDetail):
    """Published when staff answer a support ticket (support answer email)."""

    model_config = _example("TicketAnswered", "tkt_0123456789abcdef0123", "msg_0123456789abcdef0123",
                            ticket_id="tkt_0123456789abcdef0123", subject="Where is my parcel?",
                            order_id=_EXAMPLE_ORDER, customer_id="cus_sample0001", email="shopper@example.com",
                            answer="Your parcel left our warehouse yesterday.",
                            answered_at="2026-11-26T14:30:00.000000Z", occurred_at="2026-11-26T14:30:00.000000Z")

    ticket_id: str
    subject: str
    order_id: OrderId | None = Field(description="null when the ticket is not about an order")
    customer_id: str
    email: str | None
    answer: str = Field(description="the staff message")
    answered_at: str
