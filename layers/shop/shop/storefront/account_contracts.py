"""HTTP answers and bodies of the shopper's account routes (functions/storefront_account): marketing choices
(shop.notifications.optouts) and "recommended for you" (shop.analytics.recommendations)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from shop.catalog.contracts import ProductSummary
from shop.contracts import ResponseModel


class MarketingPreferences(ResponseModel):
    """The signed-in shopper's marketing choices. Order, shipping and support mails are not marketing and are
    always sent (unless the address bounced or complained)."""

    cart_reminders: bool = Field(description="an e-mail once per cart, CART_REMINDER_AFTER_MINUTES after its last "
                                             "change, when it was not checked out (default true)")
    updated_at: str | None = Field(description="when the shopper last changed them; null: never (the defaults)")


class MarketingPreferencesIn(BaseModel):  # PUT /account/marketing body (no docstring: it would become the schema's)
    model_config = ConfigDict(extra="forbid", defer_build=True)  # built on the rare route's first call (issue 17)
    cart_reminders: StrictBool


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
