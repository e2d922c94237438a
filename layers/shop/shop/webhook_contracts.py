"""HTTP answers of the signed webhooks (functions/orderflow_webhooks, shop.orderflow.webhooks): the acknowledgement a
sender gets.

A root module importing no context: the answers combine the payments and fulfillment contexts' results (a Stripe
intent's outcome, a parcel's status). Keys a result leaves out stay absent (``exclude_if``): which ones are
present depends on what the event led to.
"""

from typing import Literal

from pydantic import Field

from shop.contracts import ResponseModel, absent


class StripeWebhookAnswer(ResponseModel):
    """An event about one of our orders' payment intents resumes the order's workflow once its outcome is final;
    any other event is acknowledged as not handled (a refusal would make Stripe retry it for days)."""

    event_id: str
    type: str = Field(description="the Stripe event type")
    handled: bool = Field(description="a payment_intent event of a shop order: the intent was read back from Stripe")
    order_id: str | None = Field(None, exclude_if=absent, description="when handled")
    resumed: bool | None = Field(None, exclude_if=absent,
                                 description="when handled: the order's workflow was resumed by this event")
    status: Literal["succeeded", "declined"] | None = Field(
        None, exclude_if=absent, description="the intent's final outcome, when the workflow was waiting for it")
    reason: str | None = Field(None, exclude_if=absent, description="why nothing was resumed (or handled)")


class CarrierWebhookAnswer(ResponseModel):
    """A tracking event recorded on the parcel (once per event id)."""

    event_id: str
    order_id: str
    shipment_id: str
    status: Literal["PICKING", "PACKING", "PACKED", "SHIPPED", "IN_TRANSIT", "EXCEPTION", "DELIVERED", "CANCELLED"] = (
        Field(description="the parcel's status after the event"))
    duplicate: bool | None = Field(None, exclude_if=absent,
                                   description="true when the parcel already had this event (nothing changed)")
    workflow_resumed: bool | None = Field(
        None, exclude_if=absent,
        description="picked_up (or delivered without a pickup scan): the workflow waiting for the pickup resumed")
    needs_attention: Literal["delivered_without_signature"] | None = Field(
        None, exclude_if=absent,
        description="delivered: the order asked for the recipient's signature and this delivery lacks it (nobody "
                    "signed, or it was not handed to the recipient); staff see the order as needing attention")
