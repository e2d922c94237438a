"""Inventory admin request models."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shop.models import CountryCode

MAX_ON_HAND = 10_000_000


class WarehouseIn(BaseModel):
    # a request body: built on its route's first request (issue 17)
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    country: CountryCode
    zone: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    priority: int = Field(100, ge=0, le=10_000, description="lower is preferred when allocating")


class StockIn(BaseModel):
    # a request body: built on its route's first request (issue 17)
    model_config = ConfigDict(extra="forbid", defer_build=True)

    on_hand: int = Field(ge=0, le=MAX_ON_HAND, strict=True)
    bin: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{0,19}$")] | None = Field(
        None, description="storage location shown on pick lists (unchanged when omitted)")
    reorder_point: int | None = Field(None, ge=0, le=MAX_ON_HAND, strict=True,
                                      description="restock at available + incoming <= this (unchanged when omitted)")
    reorder_quantity: int | None = Field(None, ge=0, le=MAX_ON_HAND, strict=True,
                                         description="units a restock orders; 0 turns automatic restock off")


class AdjustmentIn(BaseModel):
    """A correction of on-hand stock with its reason (damage, loss, a found unit, a recount)."""

    # a request body: built on its route's first request (issue 17)
    model_config = ConfigDict(extra="forbid", defer_build=True)

    delta: int = Field(ge=-MAX_ON_HAND, le=MAX_ON_HAND, strict=True, description="units added (+) or removed (-)")
    reason: Literal["damaged", "lost", "found", "count_correction", "other"]
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None
