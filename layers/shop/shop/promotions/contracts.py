"""HTTP answers of the promotions admin API (functions/promotions): sale events and coupons.

The shapes are those ``shop.promotions.service`` has always returned. A saved sale answers with every field
(null where not given). Listed sales and coupons are the stored records, which keep only the fields that were
given (a record written by hand or by older code may lack more), so those keys are declared with
``exclude_if``: absent, never null.
"""

from typing import Literal

from pydantic import Field

from shop.contracts import ResponseModel, absent
from shop.money import Money


class SaleView(ResponseModel):
    """A sale as saved: exactly one of percent and amount_off is set."""

    sale_id: str
    name: str
    scope: Literal["all", "category", "sku"]
    target: str | None = Field(description="the category id or SKU (null for scope all)")
    percent: int | None = Field(description="whole percent off")
    amount_off: Money | None = Field(description="fixed amount off per unit")
    starts_at: str = Field(description="UTC, ISO 8601")
    ends_at: str = Field(description="UTC, ISO 8601")
    active: bool


class StoredSale(ResponseModel):
    """A stored sale, whether or not it can apply."""

    sale_id: str
    name: str | None = Field(None, exclude_if=absent)
    scope: str | None = Field(None, exclude_if=absent, description="all, category or sku")
    target: str | None = Field(None, exclude_if=absent)
    percent: int | None = Field(None, exclude_if=absent, description="whole percent off")
    amount_off: Money | None = Field(None, exclude_if=absent, description="fixed amount off per unit")
    starts_at: str | None = Field(None, exclude_if=absent)
    ends_at: str | None = Field(None, exclude_if=absent)
    active: bool | None = Field(None, exclude_if=absent)
    running: bool = Field(description="whether it applies now")
    problem: str | None = Field(None, exclude_if=absent,
                                description="why it can never apply (another currency, an unreadable record); "
                                            "carts skip it")


class SaleList(ResponseModel):
    items: list[StoredSale] = Field(description="by sale id")


class CouponView(ResponseModel):
    """A stored coupon with its use count; exactly one of percent and amount_off is set."""

    code: str
    percent: int | None = Field(None, exclude_if=absent, description="whole percent off")
    amount_off: Money | None = Field(None, exclude_if=absent, description="fixed amount off the order")
    min_subtotal: Money | None = Field(None, exclude_if=absent, description="after sale discounts")
    global_limit: int | None = Field(None, exclude_if=absent, description="uses in total; absent: unlimited")
    per_customer_limit: int = Field(description="uses per shopper")
    starts_at: str = Field(description="UTC, ISO 8601")
    ends_at: str = Field(description="UTC, ISO 8601")
    active: bool
    used: int = Field(description="uses counted so far (a failed or cancelled order gives its use back)")


class ActiveSale(ResponseModel):
    """A sale running now, as a storefront's home page shows it."""

    sale_id: str
    name: str
    scope: Literal["all", "category", "sku"]
    target: str | None = Field(description="the category id or SKU (null for scope all)")
    percent: int | None = Field(description="whole percent off (null for a fixed amount)")
    amount_off: Money | None = Field(description="fixed amount off per unit (null for a percentage)")
    starts_at: str = Field(description="UTC, ISO 8601")
    ends_at: str = Field(description="UTC, ISO 8601: the sale price is charged until then")


class ActivePromotions(ResponseModel):
    """GET /promotions/active (public). Coupons are not listed: none is public (codes are handed out)."""

    sales: list[ActiveSale] = Field(description="running now, soonest ending first")
    next_change_at: str | None = Field(description="when a sale next starts or ends (UTC, ISO 8601); the answer's "
                                                   "Cache-Control max-age never reaches past it")
    generated_at: str = Field(description="UTC, ISO 8601")
