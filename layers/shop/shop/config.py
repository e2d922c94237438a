"""Validated configuration, read at call time (never at import time).

Functions read their settings with :func:`get_settings`, which validates the process environment (or the
function environment installed by the local runtime with :func:`function_environment`) into a frozen
pydantic model. ``Settings`` holds every setting of every function, so each one is optional there.

Each function declares the settings its code path reads: ``obs = observability("cart", needs=(...),
optional=(...))`` in its app.py (see :class:`Needs`). ``needs`` are the settings its environment must supply
(template.yaml sets them); ``optional`` the ones it reads whose code default applies when the environment does
not set them. The entry point checks the declaration on the first invocation (:meth:`Needs.check`) and
tests/unit/test_function_config.py checks it against template.yaml and against what the code reads.

Defaults live in one place each:

- business rules no stage changes (tax rates, shipping zones and rates, default country, cart limits and
  time-to-live, the reservation time-out, the promised shipping time): the code defaults below are the only
  source; template.yaml does not repeat them (a function may still override one with its env var, declared
  ``optional``).
- values a stage chooses (currency, sender and report addresses, report time zone, 3-D Secure time-out, Stripe
  address, auto-confirmation): the template's Parameters; the function ``needs`` them, so the code default of
  such a field only serves code run without a function environment (unit tests, tools).
- resource names and ARNs: the template (``!Ref``); they have no code default.
"""

import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Json, ValidationError, create_model

from shop.errors import ConfigurationError

_function_env: ContextVar[Mapping[str, str] | None] = ContextVar("shop_function_env", default=None)


@contextmanager
def function_environment(env: Mapping[str, str]) -> Iterator[None]:
    """Run the enclosed code with ``env`` as its environment (thread- and task-local, unlike os.environ)."""
    token = _function_env.set(dict(env))
    try:
        yield
    finally:
        _function_env.reset(token)


def environ() -> Mapping[str, str]:
    override = _function_env.get()
    return override if override is not None else os.environ


class ShippingRate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    base: int = Field(ge=0, description="minor units per parcel")
    per_kg: int = Field(ge=0, description="minor units per started kilogram")


DEFAULT_TAX_RATES = {"DE": 1900, "AT": 2000, "FR": 2000, "NL": 2100, "GB": 2000, "US": 0, "US-CA": 725,
                     "US-NY": 400}
DEFAULT_ZONES = {"DE": "domestic", "AT": "eu", "FR": "eu", "NL": "eu", "GB": "europe", "US": "world"}
DEFAULT_RATES = {
    "domestic": {"base": 490, "per_kg": 100},
    "eu": {"base": 990, "per_kg": 200},
    "europe": {"base": 1490, "per_kg": 300},
    "world": {"base": 2490, "per_kg": 600},
}


def _rates_in_range(v: dict[str, int]) -> dict[str, int]:
    for key, bps in v.items():
        if not 0 <= bps <= 10_000:
            raise ValueError(f"tax rate for {key} must be 0..10000 basis points")
    return v


_CONFIG = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class Settings(BaseModel):
    """Every setting any function may need; a function only touches the ones it uses.

    Its validator is built only when used directly (``defer_build``): :func:`get_settings` validates the
    variables an environment sets with a model of just those fields (a function's environment sets a few of
    these fifty) and takes the code defaults of the others, which is what validating them all gives. Building
    this model at import was a large part of every cold start (issue 17)."""

    model_config = _CONFIG | ConfigDict(defer_build=True)

    stage: str = Field("local", alias="STAGE")
    region: str = Field("us-east-1", alias="AWS_REGION")
    endpoint_url: str | None = Field(None, alias="AWS_ENDPOINT_URL")

    catalog_table: str | None = Field(None, alias="CATALOG_TABLE")
    inventory_table: str | None = Field(None, alias="INVENTORY_TABLE")
    carts_table: str | None = Field(None, alias="CARTS_TABLE")
    orders_table: str | None = Field(None, alias="ORDERS_TABLE")
    idempotency_table: str | None = Field(None, alias="IDEMPOTENCY_TABLE")
    procurement_table: str | None = Field(None, alias="PROCUREMENT_TABLE")
    analytics_table: str | None = Field(None, alias="ANALYTICS_TABLE")
    reviews_table: str | None = Field(None, alias="REVIEWS_TABLE")
    promotions_table: str | None = Field(None, alias="PROMOTIONS_TABLE")
    support_table: str | None = Field(None, alias="SUPPORT_TABLE")
    reports_bucket: str | None = Field(None, alias="REPORTS_BUCKET")
    report_time_zone: str = Field("Europe/Berlin", alias="REPORT_TIME_ZONE",
                                  description="the day of the daily report and the analytics, as an IANA zone")
    management_emails: str = Field("", alias="MANAGEMENT_EMAILS", description="comma-separated report recipients")
    promised_ship_hours: int = Field(48, gt=0, le=24 * 30, alias="PROMISED_SHIP_HOURS",
                                     description="a parcel should ship within this many hours of payment")
    order_state_machine_arn: str | None = Field(None, alias="ORDER_STATE_MACHINE_ARN")
    returns_state_machine_arn: str | None = Field(None, alias="RETURNS_STATE_MACHINE_ARN")
    exchanges_state_machine_arn: str | None = Field(None, alias="EXCHANGES_STATE_MACHINE_ARN")
    return_window_days: int = Field(30, gt=0, le=365, alias="RETURN_WINDOW_DAYS")
    event_bus_name: str | None = Field(None, alias="EVENT_BUS_NAME")

    user_pool_id: str | None = Field(None, alias="USER_POOL_ID")
    user_pool_client_id: str | None = Field(None, alias="USER_POOL_CLIENT_ID")
    auto_confirm_signups: bool = Field(False, alias="AUTO_CONFIRM_SIGNUPS")

    # the Stripe key and the webhook secrets are never settings: they are read from this secret at run time
    # (shop.secrets); the environment holds only its ARN
    shop_secrets_arn: str | None = Field(None, alias="SHOP_SECRETS_ARN")
    stripe_api_base: str | None = Field(None, alias="STRIPE_API_BASE")

    sender_email: str = Field("shop@example.com", alias="SENDER_EMAIL")
    procurement_sender_email: str | None = Field(
        None, alias="PROCUREMENT_SENDER_EMAIL",
        description="From (and Reply-To) address of the purchase orders e-mailed to suppliers; none: SENDER_EMAIL")
    email_configuration_set: str | None = Field(
        None, alias="EMAIL_CONFIGURATION_SET",
        description="SES configuration set every send names (its bounce and complaint events feed the suppression "
                    "list); none: SES applies the identity's default, if any")
    notifications_table: str | None = Field(None, alias="NOTIFICATIONS_TABLE")
    sms_sender_id: str = Field(
        "", alias="SMS_SENDER_ID", pattern=r"^[A-Za-z0-9]{0,11}$",
        description="alphanumeric sender id of shopper texts (SNS AWS.SNS.SMS.SenderID); empty: the provider's "
                    "default origination number")
    api_url_parameter: str | None = Field(
        None, alias="API_URL_PARAMETER",
        description="SSM parameter holding the API's base URL (the daily report's e-mailed link)")
    console_url_parameter: str | None = Field(
        None, alias="CONSOLE_URL_PARAMETER",
        description="SSM parameter holding the staff console's base URL: the daily report's e-mailed link opens "
                    "its report view (<console>/#/reports?date=<day>)")
    payment_auth_timeout_seconds: int = Field(
        900, gt=0, le=86_400, alias="PAYMENT_AUTH_TIMEOUT_SECONDS",
        description="how long the workflow waits for a 3-D Secure authentication before releasing the stock")
    signature_required_above: int = Field(
        20000, ge=0, alias="SIGNATURE_REQUIRED_ABOVE",
        description="orders whose total is above this (minor units of the shop currency) ask the carrier for the "
                    "recipient's signature; recorded on the order at checkout")
    carrier: str = Field(
        "local", alias="CARRIER",
        description="which carrier adapter buys labels and books pickups (shop.fulfillment.carrier.carrier_for); "
                    "'local' is the built-in simulation")
    labels_bucket: str | None = Field(None, alias="LABELS_BUCKET",
                                      description="S3 bucket of the shipping label documents (PDF)")
    carrier_name: str = Field("ShopPost", alias="CARRIER_NAME")
    tracking_url_template: str = Field("https://track.shoppost.example/{tracking_number}",
                                       alias="TRACKING_URL_TEMPLATE")

    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = Field("EUR", alias="SHOP_CURRENCY")
    tax_rates_bps: Annotated[Json[dict[str, int]] | dict[str, int], AfterValidator(_rates_in_range)] = Field(
        default_factory=lambda: dict(DEFAULT_TAX_RATES), alias="TAX_RATES_BPS"
    )
    tax_shipping: bool = Field(True, alias="TAX_SHIPPING")
    shipping_zones: Json[dict[str, str]] | dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_ZONES), alias="SHIPPING_ZONES"
    )
    shipping_rates: Json[dict[str, ShippingRate]] | dict[str, ShippingRate] = Field(
        default_factory=lambda: {k: ShippingRate(**v) for k, v in DEFAULT_RATES.items()},
        alias="SHIPPING_RATES",
    )
    default_country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = Field("DE", alias="DEFAULT_COUNTRY")
    cart_ttl_seconds: int = Field(7 * 24 * 3600, gt=0, alias="CART_TTL_SECONDS")
    cart_reminder_after_minutes: int = Field(60, gt=0, le=7 * 24 * 60, alias="CART_REMINDER_AFTER_MINUTES",
                                             description="abandoned-cart reminder this long after the last change")
    reservation_ttl_seconds: int = Field(15 * 60, gt=0, alias="RESERVATION_TTL_SECONDS")
    max_cart_lines: int = Field(50, gt=0, le=90, alias="MAX_CART_LINES")
    max_line_quantity: int = Field(100, gt=0, alias="MAX_LINE_QUANTITY")

    def require(self, name: str) -> str:
        value = getattr(self, name)
        if not value:
            raise ConfigurationError(f"setting {name} ({env_var(name)}) is not configured for this function")
        return str(value)


@lru_cache(maxsize=64)
def _model_of(fields: frozenset[str]) -> type[BaseModel]:
    """A model of these fields of Settings (validators included, same order), named Settings too, so that an
    error reads the same."""
    defs: dict[str, object] = {n: (f.annotation, f) for n, f in Settings.model_fields.items() if n in fields}
    return create_model("Settings", __config__=_CONFIG, **defs)  # type: ignore[call-overload]


@lru_cache(maxsize=64)
def _settings_for(items: frozenset[tuple[str, str]]) -> Settings:
    """Settings of the variables ``items``: those set are validated (by a model of their fields only), the
    others get their code defaults, as Settings.model_validate would give (defaults are not validated)."""
    given = {k for k, _ in items}
    fields = frozenset(n for n, f in Settings.model_fields.items() if f.alias in given)
    try:
        valid = _model_of(fields).model_validate(dict(items))
    except ValidationError as exc:
        raise ConfigurationError(f"invalid configuration: {exc}") from exc
    return Settings.model_construct(valid.model_fields_set, **dict(valid))


def get_settings() -> Settings:
    env = environ()
    relevant = frozenset((k, v) for k, v in env.items() if k.isupper() and not k.startswith("_"))
    return _settings_for(relevant)


# Set by the platform, never by the template: Lambda sets AWS_REGION, the local runtime AWS_ENDPOINT_URL.
PLATFORM_SETTINGS = frozenset({"region", "endpoint_url"})
# Needed settings whose empty value is a valid choice, so the entry point does not insist on a value:
# no STRIPE_API_BASE is the real Stripe (stage prod), no MANAGEMENT_EMAILS mails the daily report to nobody, no
# SMS_SENDER_ID texts from the SMS provider's default origination number.
MAY_BE_EMPTY = frozenset({"stripe_api_base", "management_emails", "sms_sender_id"})


def env_var(name: str) -> str:
    """The environment variable of the setting ``name``."""
    alias = Settings.model_fields[name].alias
    assert alias is not None
    return alias


@dataclass(frozen=True)
class Needs:
    """The settings a function's code path reads: its contract with its environment (template.yaml).

    ``needs``: the environment must supply them (a resource name, or a value the stage chooses); checked on the
    first invocation, so a function deployed without one fails at once with a ConfigurationError naming the
    variable, not on the first request that happens to reach the code reading it.
    ``optional``: read, but the code default applies when the environment does not set them.
    Names are validated when the declaration is built (a typo fails the import, not a request)."""

    needs: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = sorted((self.needs | self.optional) - set(Settings.model_fields))
        if unknown:
            raise ValueError(f"unknown settings {unknown}: each must be a field of shop.config.Settings")
        platform = sorted((self.needs | self.optional) & PLATFORM_SETTINGS)
        if platform:
            raise ValueError(f"settings {platform} are set by the platform: a function does not declare them")
        both = sorted(self.needs & self.optional)
        if both:
            raise ValueError(f"settings {both} are declared both needed and optional")

    @property
    def settings(self) -> frozenset[str]:
        return self.needs | self.optional

    def missing(self, env: Mapping[str, str]) -> list[str]:
        """The environment variables of needed settings that ``env`` does not set (sorted)."""
        return sorted(env_var(n) for n in self.needs - MAY_BE_EMPTY if not env.get(env_var(n), "").strip())

    def check(self, function: str) -> Settings:
        """The function's settings, once its environment supplies every needed setting and they validate."""
        missing = self.missing(environ())
        if missing:
            raise ConfigurationError(f"function {function}: environment variable(s) {', '.join(missing)} not set "
                                     "(the settings it declares it needs; see template.yaml)")
        return get_settings()


def needs(*required: str, optional: Iterable[str] = ()) -> Needs:
    return Needs(needs=frozenset(required), optional=frozenset(optional))
