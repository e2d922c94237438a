"""The signed-in shopper's account: notification channels, marketing choices and "recommended for you".

GET /account/notifications, PUT /account/notifications {"channels": ["email", "sms"], "phone": "+49..."} (order
updates by e-mail, SMS or both: shop.notifications.preferences; a bad number is 422 naming body.phone; stored whole,
so the same PUT twice is one state).

GET /account/marketing, PUT /account/marketing {"cart_reminders": bool} (the abandoned-cart reminder's opt-out,
shop.notifications.optouts: stored whole, so the same PUT twice is one state), GET /account/recommendations?limit=
(shop.analytics.recommendations: from what the shopper bought and what others bought with it, never what they
bought already nor what is not sold now; featured products when there is no history)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from shop.analytics import recommendations
from shop.api import Guard, http_handler, make_resolver, principal
from shop.observability import observability
from shop.storefront import account_contracts as answers  # each route's models on its first request (issue 17)

obs = observability("account", needs=("notifications_table", "analytics_table", "catalog_table", "currency"))
app = make_resolver(obs.logger)
account = Router()
notifications = Router()
Limit = Annotated[int, Query(ge=1, le=50)]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@account.get("/account/marketing")
def get_marketing() -> answers.MarketingPreferences:
    # each router's store is imported by its own routes (issue 17): the marketing opt-outs (and the e-mail
    # suppressions they sit on) are not loaded by the notification channels' routes, nor the other way round
    from shop.notifications import optouts

    who = principal(app)
    obs.logger.append_keys(customer_id=who.user_id)
    return optouts.preferences(who.user_id)  # type: ignore[return-value]


@account.put("/account/marketing")
def put_marketing(body: answers.MarketingPreferencesIn) -> answers.MarketingPreferences:
    from shop.notifications import optouts

    who = principal(app)
    obs.logger.append_keys(customer_id=who.user_id)
    saved = optouts.set_preferences(who.user_id, body.model_dump(), _now())
    if not body.cart_reminders:
        obs.count("CartRemindersOptedOut")
    return saved  # type: ignore[return-value]


@account.get("/account/recommendations")
def get_recommendations(limit: Limit = recommendations.DEFAULT_LIMIT) -> answers.Recommendations:
    from shop.analytics import for_you  # this route only: it loads the catalog's use cases (issue 17)

    who = principal(app)
    obs.logger.append_keys(customer_id=who.user_id)
    result: dict[str, Any] = for_you.for_customer(who.user_id, limit)
    return result  # type: ignore[return-value]


@notifications.get("/account/notifications")
def get_notification_channels() -> answers.NotificationChannels:
    """The channels of the shopper's order updates (e-mail only until chosen)."""
    from shop.notifications import preferences

    who = principal(app)
    obs.logger.append_keys(customer_id=who.user_id)
    return answers.NotificationChannels.model_validate(preferences.view(who.user_id))


@notifications.put("/account/notifications")
def put_notification_channels(body: answers.ChannelsIn) -> answers.NotificationChannels:
    """Choose e-mail, SMS or both (SMS needs ``phone`` in E.164). The same choice again changes nothing."""
    from shop.notifications import preferences

    who = principal(app)
    obs.logger.append_keys(customer_id=who.user_id)
    saved = preferences.choose(who.user_id, body)
    obs.count("SmsChosen" if "sms" in body.channels else "SmsNotChosen")
    return answers.NotificationChannels.model_validate(saved)


app.include_router(account)
app.include_router(notifications)


handler = http_handler(app, obs, Guard("/"))
