"""HTTP answers of the cart API (functions/cart): every route answers with the whole priced cart.

The shapes are those ``shop.cart.service.build_view`` has always returned. A line's ``discount`` is only
there when a sale or coupon takes something off it, so it is declared with ``exclude_if`` (absent, not null).
Warnings are a closed set told apart by ``code``. The request bodies of the routes are here too: the service
takes their values.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from shop.contracts import ResponseModel, absent
from shop.models import Totals
from shop.money import Money


class CartLine(ResponseModel):
    """A line of the cart. A SKU no longer sold stays in the cart with its catalogue fields null and
    ``available`` 0 (and a ``sku_unavailable`` warning) until the shopper removes it."""

    sku: str
    product_id: str | None = Field(description="null when the SKU is no longer sold")
    name: str | None
    options: dict[str, str] = Field(description="the variant's options, e.g. size and colour")
    quantity: int
    unit_price: Money | None = Field(description="current catalogue price (the cart stores only quantities)")
    line_total: Money | None = Field(description="unit_price x quantity, before discounts")
    weight_grams: int | None = Field(description="per unit")
    available: int = Field(description="units in stock over every warehouse (0 when not sold)")
    discount: Money | None = Field(None, exclude_if=absent,
                                   description="the line's share of sale and coupon discounts; absent when none")


class CartDiscount(ResponseModel):
    code: str = Field(description="'SALE:<sale name>' for a sale, the coupon code for a coupon")
    description: str
    amount: Money


class CartDestination(ResponseModel):
    """Where the shipping and tax estimate is for (query country/region, else the shop's default country)."""

    country: str = Field(description="ISO 3166-1 alpha-2")
    region: str | None = Field(description="state/province code where tax depends on it")


class SkuUnavailableWarning(ResponseModel):
    """The SKU is no longer sold or currently not available: left out of the totals, cannot be checked out."""

    code: Literal["sku_unavailable"]
    sku: str
    message: str


class InsufficientStockWarning(ResponseModel):
    """Fewer units in stock than the line asks for: checkout would refuse it with 409 out_of_stock."""

    code: Literal["insufficient_stock"]
    sku: str
    requested: int
    available: int
    message: str


class CouponNotApplicableWarning(ResponseModel):
    """The cart's coupon takes nothing off now (it stays on the cart; checkout refuses it explicitly)."""

    code: Literal["coupon_not_applicable"]
    coupon: str
    reason: Literal["not_found", "not_active", "below_minimum", "exhausted", "already_used", "unusable"]
    message: str


CartWarning = Annotated[SkuUnavailableWarning | InsufficientStockWarning | CouponNotApplicableWarning,
                        Field(discriminator="code")]


class CartView(ResponseModel):
    """The signed-in shopper's cart with a priced estimate: shipping as checkout would charge it (the same
    warehouse allocation and parcels), tax for the destination, sale and coupon discounts applied."""

    items: list[CartLine] = Field(description="by SKU")
    totals: Totals = Field(description="over the lines that can be bought; total = subtotal - discount + shipping "
                                       "+ tax")
    discounts: list[CartDiscount] = Field(description="each sale and the coupon, with what it takes off in total")
    coupon: str | None = Field(description="the coupon code on the cart, whether or not it applies now")
    destination: CartDestination
    currency: str = Field(description="ISO 4217: every amount of the cart is in it")
    expires_at: int | None = Field(description="epoch seconds after which the cart reads as empty; null for a "
                                               "cart never written")
    version: int = Field(description="counts the cart's writes")
    warnings: list[CartWarning]


# ------------------------------------------------------------------ request bodies

class QuantityIn(BaseModel):
    """PUT /cart/items/{sku} body. The upper bound is a setting, checked by :func:`set_quantity`; the static
    bound here only keeps absurd numbers out of the service."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # built on the route's first request (issue 17)

    quantity: Annotated[StrictInt, Field(ge=0, le=1_000_000, description="0 removes the line")]


class CartCouponIn(BaseModel):  # PUT /cart/coupon body (no docstring: it would become the published schema's)
    model_config = ConfigDict(extra="forbid", defer_build=True)  # built on the rare route's first call (issue 17)
    code: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=3, max_length=32)]
