"""HTTP answers of the catalog API (functions/catalog): public browse/search/details and admin management.

The shapes are those ``shop.catalog.service`` has always returned. The public product details carry each SKU's
stock (``available``, ``in_stock``) and, when the shop keeps analytics, ``also_bought``; the admin answers
carry the product's ``active`` flag and SKUs without stock. A set-price answer has ``old_price`` only when the
price changed: declared with ``exclude_if``, so it stays absent rather than turning into a null.
"""

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


class SaleOffer(ResponseModel):
    """A running sale's price for one unit, next to the regular one: what the cart and checkout charge for it
    while the sale runs (a sale that has ended by checkout is charged at the regular price)."""

    price: Money = Field(description="the sale price of one unit")
    regular_price: Money = Field(description="the regular price of that unit")
    ends_at: str = Field(description="when the sale ends (UTC, ISO 8601)")
    sale_id: str
    name: str = Field(description="the sale's name")


class ProductSummary(ResponseModel):
    """A product as listed and searched."""

    product_id: str
    name: str
    category: str
    brand: str | None
    price_from: Money = Field(description="the lowest price of its active SKUs")
    image: str | None = Field(description="the first image, if any")
    rating: ProductRating
    sale: SaleOffer | None = Field(None, exclude_if=absent,
                                   description="the lowest sale price of its SKUs a running sale discounts; absent "
                                               "when none is on sale")


class FacetCount(ResponseModel):
    value: str = Field(description="a category id, or a brand as spelled on its products")
    count: int = Field(description="matching products")


class PriceBand(ResponseModel):
    min_price: int = Field(description="lowest price of the band, minor units, inclusive (pass as min_price)")
    max_price: int | None = Field(description="highest price of the band, minor units, inclusive (pass as "
                                              "max_price); null for the open top band")
    currency: str
    count: int = Field(description="matching products whose lowest price is in the band")


class SearchFacets(ResponseModel):
    """Counts over every product the request matches (its words and all its filters), not only the page."""

    total: int = Field(description="matching products")
    exhaustive: bool = Field(description="false when the request's read budget ran out before every match was "
                                         "read: the counts and the results are then a part of the matches")
    categories: list[FacetCount] = Field(description="most products first")
    brands: list[FacetCount] = Field(description="most products first; products without a brand are not counted")
    price_bands: list[PriceBand] = Field(description="fixed bands, cheapest first, zero counts included")


class ProductPage(ResponseModel):
    items: list[ProductSummary]
    next_cursor: str | None = Field(description="pass as cursor for the next page; null on the last page")
    facets: SearchFacets | None = Field(None, exclude_if=absent,
                                        description="with facets=true only; absent otherwise")


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
    sale: SaleOffer | None = Field(None, exclude_if=absent,
                                   description="the running sale's price; absent when the SKU is not on sale")


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
    featured: bool = Field(description="shown among its category's featured products (GET "
                                       "/categories/{categoryId}/featured) while it is listed")
    featured_rank: int | None = Field(None, exclude_if=absent,
                                      description="order among the category's featured products, lower first; "
                                                  "absent when never given")
    created_at: str
    updated_at: str


class ProductDetail(_ProductBase):
    """GET /products/{productId}: an active product with its active SKUs (cheapest first) and their stock."""

    skus: list[ProductSku] = Field(description="active SKUs, cheapest first")
    sale: SaleOffer | None = Field(None, exclude_if=absent,
                                   description="the lowest sale price of its SKUs (each SKU has its own); absent "
                                               "when none is on sale")
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
