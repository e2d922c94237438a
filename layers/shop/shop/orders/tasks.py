"""Inputs of the order workflow's task functions (validated; a malformed input fails the task)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

OrderId = Annotated[str, StringConstraints(pattern=r"^ord_[a-z2-7]{10,40}$")]


class OrderTask(BaseModel):
    model_config = ConfigDict(extra="ignore")

    order_id: OrderId


class ChargeTask(OrderTask):
    action: Literal["charge"] = "charge"


class ConfirmTask(OrderTask):
    payment_intent_id: str | None = None


class ReleaseTask(OrderTask):
    reason: Literal["PAYMENT_FAILED", "EXPIRED", "CANCELLED"]
    detail: Any = None
