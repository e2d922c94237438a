"""Admin models for sale events and coupons."""

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shop.money import Money
from shop.timeutil import AwareDatetime

CouponCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{2,31}$")]
# a sale's id: shop.models.Slug, declared again here so that the promotions function (whose routes use no entity)
# does not define the shop's entities at its cold start (issue 17); tests/unit/test_promotions_ids.py keeps the two
# the same
SaleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
IsoDateTime = AwareDatetime  # ISO 8601 text with a time zone ("needs a time zone" otherwise), in UTC


class _Discount(BaseModel):
    # request bodies: built on their route's first request (issue 17)
    model_config = ConfigDict(extra="forbid", defer_build=True)

    percent: int | None = Field(None, ge=1, le=90, strict=True, description="whole percent off")
    amount_off: Money | None = Field(None, description="fixed amount off (per unit for a sale)")
    starts_at: IsoDateTime
    ends_at: IsoDateTime
    active: bool = True

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if (self.percent is None) == (self.amount_off is None):
            raise ValueError("give exactly one of percent or amount_off")
        if self.amount_off is not None and self.amount_off.amount <= 0:
            raise ValueError("amount_off must be positive")
        if self.ends_at <= self.starts_at:  # both aware (AwareDatetime): comparable
            raise ValueError("ends_at must be after starts_at")
        return self

    def money_fields(self) -> dict[str, Money]:
        """The amounts of this promotion by field name (each must be in the shop currency)."""
        return {"amount_off": self.amount_off} if self.amount_off is not None else {}


class SaleIn(_Discount):
    name: Annotated[str, StringConstraints(min_length=1, max_length=120, strip_whitespace=True)]
    scope: Literal["all", "category", "sku"]
    target: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        None, description="the category id or SKU the sale applies to (not for scope all)")

    @model_validator(mode="after")
    def _target(self) -> Self:
        if (self.scope == "all") != (self.target is None):
            raise ValueError("target is required for a category or SKU sale, and not allowed for all")
        return self


class CouponIn(_Discount):
    min_subtotal: Money | None = Field(None, description="after sale discounts")
    global_limit: int | None = Field(None, ge=1, le=10_000_000, strict=True, description="uses in total")
    per_customer_limit: int = Field(1, ge=1, le=1000, strict=True)

    def money_fields(self) -> dict[str, Money]:
        return {**super().money_fields(), **({"min_subtotal": self.min_subtotal} if self.min_subtotal else {})}
