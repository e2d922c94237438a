"""The answer of "recommended for you" (GET /account/recommendations, functions/storefront_account), named by
shop.storefront.account_contracts and imported on the route's first request (issue 17)."""

from typing import Literal

from pydantic import Field

from shop.catalog.contracts import ProductSummary
from shop.contracts import ResponseModel


class Recommendation(ProductSummary):
    """A listed product recommended to the shopper, and why."""

    reason: Literal["bought_together", "featured", "new_in_category"] = Field(
        description="bought_together: others bought it with a product the shopper bought; featured: the fallback "
                    "(featured products of the shopper's categories, then the shop's) when history gives too few; "
                    "new_in_category: the newest of such a category where nothing is featured")
    because_of: str | None = Field(description="bought_together: the shopper's product it was most often bought "
                                               "with; null for featured")
    score: int = Field(description="paid orders that had it with the shopper's products (summed); 0 for the "
                                   "fallbacks")


class Recommendations(ResponseModel):
    """"Recommended for you": never a product the shopper already bought, nor one that is not sold now."""

    items: list[Recommendation]
    based_on: list[str] = Field(description="the shopper's most recently bought products the list starts from "
                                            "(empty: no purchase history yet)")
