"""HTTP answers and bodies of the shopper's account routes (functions/storefront_account): marketing choices
(shop.notifications.optouts), "recommended for you" (shop.analytics.recommendations, its answer in
shop.storefront.recommendation_contracts) and the order updates' channels (shop.notifications)."""

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from shop import lazy
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


# named here, imported on first access (issue 17): the answer of the recommendations route (with the catalog's
# product summary it extends) and the notification channels' answer and body, so a cold start of the account
# function builds the models of the route it serves only (its routes name them as this module's attributes,
# which Powertools resolves on the route's first request)
__getattr__ = lazy.attributes_from(__name__, {
    "shop.storefront.recommendation_contracts": ("Recommendation", "Recommendations"),
    "shop.notifications.contracts": ("NotificationChannels",),
    "shop.notifications.sms": ("ChannelsIn",)})

