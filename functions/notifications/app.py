"""EventBridge consumer: emails the shopper about order events, once per dedupe_key (docs/events.md), and texts
the confirmation, shipped and delivered updates to shoppers who chose SMS (once per dedupe_key too).

A shopper on the suppression list (shop.notifications.suppressions) is not mailed (metric EmailSuppressed).
A malformed event fails validation (a pydantic ValidationError; retrying cannot fix it). ServiceBusy (SES
throttled, or a concurrent duplicate of the event still sending) fails the invocation so that it is retried.
"""

from __future__ import annotations

from typing import Any

from shop.event_contracts import consumer_view
from shop.notifications import service
from shop.observability import observability

obs = observability("notifications", needs=("idempotency_table", "sender_email", "email_configuration_set",
                                            "notifications_table", "sms_sender_id"))


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    parsed = service.parse_event(event)
    detail = consumer_view(parsed.detail)
    obs.logger.append_keys(order_id=detail.get("order_id"), dedupe_key=parsed.detail.dedupe_key,
                           detail_type=parsed.detail_type)
    channels = service.channels_once()  # the shopper's choice, read once for the e-mail and the text
    result = service.notify(parsed.detail_type, detail, context, channels=channels)
    if result.get("replayed"):
        obs.count("EmailDuplicate")
    elif result.get("suppressed"):
        obs.count("EmailSuppressed")  # the address bounced or complained before: not sent, and no error
    elif result["sent"]:
        obs.count("EmailSent")
    else:
        obs.count("EmailSkipped")
    obs.logger.info("notification handled", extra={"sent": result["sent"], "reason": result.get("reason"),
                                                   "suppressed": bool(result.get("suppressed"))})
    text = service.notify_sms(parsed.detail_type, detail, context, channels=channels)
    if text.get("replayed"):
        obs.count("SmsDuplicate")
    elif text.get("opted_out"):
        obs.count("SmsOptedOut")  # the number replied STOP: not sent, and no error
    elif text["sent"]:
        obs.count("SmsSent")
    obs.logger.info("text handled", extra={"sent": text["sent"], "reason": text.get("reason")})
    return {**result, "sms": text}


handler = obs.entrypoint(_handle)
