"""HTTP answers of the catalog API (functions/catalog): public browse/search/details and admin management.

The shapes are those ``shop.catalog.service`` has always returned. The public product details carry each SKU's
stock (``available``, ``in_stock``) and, when the shop keeps analytics, ``also_bought``; the admin answers
carry the product's ``active`` flag and SKUs without stock. A set-price answer has ``old_price`` only when the
price changed: declared with ``exclude_if``, so it stays absent rather than turning into a null.
"""

from __future__ import annotations

from pydantic import Field

from shop.contracts import ResponseModel, absent
from shop.money import Money


class ProductRating(ResponseModel):
    average: float | None = Field(description="mean stars (1 to 5), one decimal; null without reviews")
    count: int = Field(description="number of reviews")


class CategoryView(ResponseModel):
    category_id: str
    name: str
    description: str
    sort_order: int = Field(description="lower first")


class CategoryList(ResponseModel):
    items: list[CategoryView] = Field(description="by sort_order, then name")


class ProductSummary(ResponseModel):
    """A product as listed and searched."""

    product_id: str
    name: str
    category: str
    brand: str | None
    price_from: Money = Field(description="the lowest price of its active SKUs")
    image: str | None = Field(description="the first image, if any")
    rating: ProductRating


class ProductPage(ResponseModel):
    items: list[ProductSummary]
    next_cursor: str | None = Field(description="pass as cursor for the next page; null on the last page")


class SkuView(ResponseModel):
    sku: str
    name: str
    options: dict[str, str] = Field(description="e.g. size and colour")
    price: Money
    weight_grams: int = Field(description="per unit")
    active: bool = Field(description="whether the SKU is sold")


class ProductSku(SkuView):
    """A SKU on the public product page, with its stock."""

    available: int = Field(description="units in stock over every warehouse")
    in_stock: bool


class AlsoBought(ResponseModel):
    product_id: str
    name: str | None
    orders: int = Field(description="paid orders with both products")


class _ProductBase(ResponseModel):
    product_id: str
    name: str
    description: str
    category: str
    brand: str | None
    attributes: dict[str, str]
    images: list[str] = Field(description="image URLs, the first is the main one")
    price_from: Money | None = Field(description="the lowest price of its active SKUs; null when none is active")
    rating: ProductRating
    created_at: str
    updated_at: str


class ProductDetail(_ProductBase):
    """GET /products/{productId}: an active product with its active SKUs (cheapest first) and their stock."""

    skus: list[ProductSku] = Field(description="active SKUs, cheapest first")
    also_bought: list[AlsoBought] | None = Field(
        None, exclude_if=absent, description="customers who bought this also bought (most orders first); "
                                              "absent when the shop keeps no analytics")


class AdminProduct(_ProductBase):
    """A product as an admin creates or changes it: every SKU, whether sold or not, without stock."""

    active: bool = Field(description="false: not listed and not sold")
    skus: list[SkuView] = Field(description="cheapest first")


class PriceChange(SkuView):
    product_id: str
    changed: bool = Field(description="false when the SKU already had this price (nothing was written)")
    old_price: Money | None = Field(None, exclude_if=absent,
                                    description="the price before the change; absent when nothing changed")
