"""Abandoned-cart reminders: one e-mail per cart, ``CART_REMINDER_AFTER_MINUTES`` after its last change.

A scheduled sweep (functions/cart_reminders) asks the sparse reminder index of CartsTable for the carts changed
before ``now - delay`` that were never reminded (a Query per shard, never a scan; shop.cart.repository), then for
each one:

1. reads the cart again, consistently (the index lags): a cart emptied by checkout, changed since, or already
   reminded is skipped;
2. asks notifications whether the shopper may get marketing mail (the marketing opt-out, then the SES
   suppression list): if not, the cart leaves the index without a mail;
3. claims the reminder with one conditional write on the cart (same version and last change, lines in it, not
   reminded): of two overlapping sweeps one wins, and a checkout between the read and the claim moves the version
   so the claim fails. Only the winner sends. A mail that cannot be sent gives the claim back for the next sweep.

"Once per cart": a cart is reminded at most once between its first line and the moment it is emptied (by
checkout or by removing every line); the mark survives later changes to the same cart.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shop.cart import repository as repo
from shop.catalog.repository import get_skus
from shop.config import get_settings
from shop.notifications import mailer, optouts
from shop.notifications.templates import SHOP_NAME, Email

PAGE = 100
_log = logging.getLogger(__name__)
PREFERENCE = "cart_reminders"


@dataclass
class SweepResult:
    sent: int = 0
    skipped: int = 0  # changed, emptied, or claimed by another sweep since the index was read
    opted_out: int = 0
    suppressed: int = 0
    failed: int = 0
    reminded: list[str] = field(default_factory=list)  # customer ids mailed (for the log)

    def summary(self) -> dict[str, int]:
        return {"sent": self.sent, "skipped": self.skipped, "opted_out": self.opted_out,
                "suppressed": self.suppressed, "failed": self.failed}


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def reminder_email(lines: Mapping[str, int], names: Mapping[str, str | None], expires_at: int | None) -> Email:
    """The reminder (pure): the cart's lines by name and quantity, and until when the cart is kept."""
    rows = [(names.get(code) or code, qty) for code, qty in sorted(lines.items())]
    kept = (datetime.fromtimestamp(expires_at, UTC).strftime("%Y-%m-%d %H:%M UTC") if expires_at else None)
    text_lines = [f"  {qty} x {name}" for name, qty in rows]
    keep = f"Your cart is kept until {kept}." if kept else "Your cart is kept for you."
    text = "\n".join(["Hello,", "", "you left these in your cart:", *text_lines, "", keep,
                      "Sign in to check out whenever you are ready.", "",
                      "You get this mail once per cart. Turn these reminders off with "
                      'PUT /account/marketing {"cart_reminders": false}.', "", f"-- {SHOP_NAME}"])
    items = "".join(f"<li>{qty} &times; {html.escape(str(name))}</li>" for name, qty in rows)
    body = (f"<p>Hello,</p><p>you left these in your cart:</p><ul>{items}</ul><p>{html.escape(keep)} Sign in to "
            "check out whenever you are ready.</p><p><small>You get this mail once per cart. Turn these reminders "
            "off in your account's marketing settings.</small></p>"
            f"<p>&mdash; {html.escape(SHOP_NAME)}</p>")
    return Email(subject=f"{SHOP_NAME}: you left {sum(lines.values())} item(s) in your cart", text=text,
                 html=f"<html><body>{body}</body></html>")


def remind(customer_id: str, changed_before: str, now: datetime, result: SweepResult) -> None:
    """Steps 1-3 of the module docstring for one cart found in the index."""
    cart = repo.get_cart(customer_id, int(now.timestamp()))
    if not cart.items or cart.reminded_at or not cart.updated_at or cart.updated_at >= changed_before:
        result.skipped += 1  # emptied (checkout), reminded, or changed since the index was read
        return
    why_not = optouts.may_send_marketing(customer_id, cart.email, PREFERENCE) if cart.email else "suppressed"
    if why_not is not None:
        repo.drop_reminder(customer_id, cart.version)
        if why_not == "opted_out":
            result.opted_out += 1
        else:
            result.suppressed += 1
        return
    claimed_at = _iso(now)
    if not repo.claim_reminder(customer_id, cart.version, cart.updated_at, claimed_at):
        result.skipped += 1  # another sweep won, or the cart changed (checkout) since the read
        return
    assert cart.email is not None
    try:
        names = {code: sku.name for code, sku in get_skus(sorted(cart.items)).items()}
        mailer.send(cart.email, reminder_email(cart.items, names, cart.expires_at))
    except Exception:
        repo.release_reminder(customer_id, cart.version + 1, claimed_at)
        raise
    result.sent += 1
    result.reminded.append(customer_id)


def sweep(now: datetime | None = None, *, time_left: Any = None) -> SweepResult:
    """Remind every cart due (see the module docstring). ``time_left()`` (milliseconds) stops the sweep early;
    the carts not reached stay in the index for the next run. A cart whose mail fails is counted and left for the
    next run (its claim given back), and the others go on."""
    now = now or datetime.now(UTC)
    changed_before = _iso(now - timedelta(minutes=get_settings().cart_reminder_after_minutes))
    result = SweepResult()
    for shard in range(repo.REMINDER_SHARDS):
        cursor: dict[str, Any] | None = None
        while True:
            if time_left is not None and time_left() <= 0:
                return result
            customers, cursor = repo.carts_awaiting_reminder(shard, changed_before, PAGE, cursor)
            for customer_id in customers:
                try:
                    remind(customer_id, changed_before, now, result)
                except Exception:  # one shopper's failed mail must not keep the others from theirs
                    result.failed += 1
                    _log.exception("cart reminder failed", extra={"customer_id": customer_id})
            if cursor is None:
                break
    return result
