"""SES bounce and complaint events (SNS topic EmailFeedbackTopic, fed by the configuration set every shop mail is
sent with): addresses that bounced for good or complained go on the suppression list, which the notifications
respect (shop.notifications.service). A transient bounce suppresses nothing.

Redelivered SNS messages are harmless (an address is recorded once). A delivery that is not SES feedback fails
(MalformedFeedback; retrying cannot fix it, Lambda's retries end in the DLQ for a look)."""

from __future__ import annotations

from typing import Any

from shop.notifications import suppressions
from shop.observability import observability

obs = observability("email-feedback", needs=("notifications_table",))


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = suppressions.record_feedback(event)
    if result["suppressed"]:
        obs.count("EmailAddressSuppressed", len(result["suppressed"]))
    if result["already"]:
        obs.count("EmailFeedbackDuplicate", len(result["already"]))
    # addresses are personal data: counts in the log, the addresses themselves are in NotificationsTable
    obs.logger.info("email feedback handled", extra={"suppressed": len(result["suppressed"]),
                                                     "already": len(result["already"]),
                                                     "ignored": result["ignored"]})
    return result


handler = obs.entrypoint(_handle)
