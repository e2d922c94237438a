"""A shopper's notification channels (GET/PUT /account/notifications): order updates by e-mail, SMS or both.

What the choice governs: the shipped and delivered updates go by the chosen channels; the order confirmation is
always e-mailed (the record of the contract on a durable medium) and texted as well when SMS is chosen; every other
mail (payment failed, cancellation, refund, delivery problem, support answers) needs the shopper's attention or
concerns money and is always e-mailed. SMS needs a number (E.164); removing ``sms`` from the channels, or the
number replying STOP, means that number gets no text (shop.notifications.service checks both before each one).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from shop.notifications import repository
from shop.notifications.sms import ChannelsIn

# the updates the channels govern (e-mail may be turned off for these only)
CHANNELLED_EMAILS = frozenset({"ShipmentPacked", "ShipmentDelivered"})


def _view(choice: repository.Channels, stopped: bool) -> dict[str, Any]:
    return {"channels": sorted(choice.channels), "phone": choice.phone, "sms_stopped": stopped,
            "updated_at": choice.updated_at}


def view(customer_id: str) -> dict[str, Any]:
    """The shopper's channels (e-mail only when none were chosen), and whether the number replied STOP."""
    choice = repository.channels_of(customer_id)
    return _view(choice, bool(choice.phone) and repository.is_stopped(str(choice.phone)))


def choose(customer_id: str, body: ChannelsIn) -> dict[str, Any]:
    """Store the choice whole. A number kept while SMS is turned off is remembered for turning it on again; a
    number that replied STOP stays stopped (``sms_stopped`` says so) whatever the choice."""
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    choice = repository.save_channels(customer_id, frozenset(body.channels), body.phone, now)
    return _view(choice, bool(choice.phone) and repository.is_stopped(str(choice.phone)))


def wants_email(detail_type: str, customer_id: str | None,
                channels: Callable[[str], repository.Channels] | None = None) -> bool:
    """Whether this e-mail goes out as far as the shopper's choice is concerned (only the shipped and delivered
    updates can be turned off; no read for any other mail). ``channels`` reads the choice (default: a read of
    its own; shop.notifications.service.channels_once shares one read between an event's e-mail and text)."""
    if detail_type not in CHANNELLED_EMAILS or not customer_id:
        return True
    return "email" in (channels or repository.channels_of)(customer_id).channels
