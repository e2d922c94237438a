"""The SMS port on Amazon SNS (data layer: the only module of notifications that talks to SNS).

SNS publishes to a phone number directly (no topic, no subscription) and keeps the account's opt-out list: a
recipient who replies STOP is on it, and the shop asks before each text (``CheckIfPhoneNumberIsOptedOut``) so the
STOP is also recorded on its own list (shop.notifications.repository). Messages are ``Transactional`` (order
updates: SNS routes them for delivery, not price); the sender id (SMS_SENDER_ID, template parameter SmsSenderId)
is sent where it is set: countries that support alphanumeric sender ids show it, others ignore it.
"""

from __future__ import annotations

from typing import Any

from shop import aws
from shop.config import get_settings

SMS_TYPE = "Transactional"


def _attributes() -> dict[str, Any]:
    attrs = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": SMS_TYPE}}
    sender_id = get_settings().sms_sender_id
    if sender_id:
        attrs["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": sender_id}
    return attrs


class SnsTexter:
    """shop.notifications.sms.SmsPort on Amazon SNS."""

    def opted_out(self, phone: str) -> bool:
        with aws.translate_common_errors("SMS opt-out check"):
            resp = aws.client("sns").check_if_phone_number_is_opted_out(phoneNumber=phone)
        return bool(resp.get("isOptedOut"))

    def send(self, phone: str, text: str) -> str:
        """Publish one text; SNS throttling ("Throttling", or the account's SMS rate: "ThrottledException") is
        ServiceBusy (shop.aws.translate_common_errors) so the event is retried later; other errors (an invalid
        number, the monthly spend limit reached) propagate."""
        with aws.translate_common_errors("SMS send"):
            resp = aws.client("sns").publish(PhoneNumber=phone, Message=text, MessageAttributes=_attributes())
        return str(resp["MessageId"])
