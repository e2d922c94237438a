"""HTTP answers of the shopper's notification settings (GET/PUT /account/notifications, functions/auth)."""

from typing import Literal

from pydantic import Field

from shop.contracts import ResponseModel


class NotificationChannels(ResponseModel):
    channels: list[Literal["email", "sms"]] = Field(
        description="channels of the shipped and delivered updates (the order confirmation is always e-mailed, and "
                    "texted too with sms)")
    phone: str | None = Field(description="the number for SMS (E.164); null when none was given")
    sms_stopped: bool = Field(description="the number replied STOP: it gets no text whatever the channels say")
    updated_at: str | None = Field(description="when the channels were last chosen; null: never (e-mail only)")
