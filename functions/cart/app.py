"""Cart API: the signed-in shopper's cart (keyed by the token's sub) with a priced estimate.

GET /cart?country=&region=, PUT /cart/items/{sku} {quantity} (0 removes), DELETE /cart/items/{sku},
PUT /cart/coupon {code}, DELETE /cart/coupon; every route answers with the whole cart (sale and coupon
discounts included). country/region choose the destination of the shipping and tax estimate.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import StringConstraints
from shop.api import Guard, http_handler, make_resolver, principal
from shop.cart import service
from shop.cart.contracts import CartCouponIn, CartView, QuantityIn
from shop.cart.service import Change
from shop.models import CountryCode, SkuCode
from shop.observability import observability

RegionCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{1,3}$")]
Country = Annotated[CountryCode | None, Query(description="ISO 3166-1 alpha-2 destination country")]
Region = Annotated[RegionCode | None, Query(description="state/province code where tax depends on it, e.g. CA")]

obs = observability("cart", needs=("carts_table", "catalog_table", "inventory_table", "promotions_table", "currency"),
                    optional=("cart_ttl_seconds", "default_country", "max_cart_lines", "max_line_quantity",
                              "shipping_rates", "shipping_zones", "tax_rates_bps", "tax_shipping"))
app = make_resolver(obs.logger)
cart = Router()


def _count(change: Change) -> None:
    if change.after:
        obs.count("CartItemSet")
    elif change.before:
        obs.count("CartItemRemoved")


@cart.get("/cart")
def get_cart(country: Country = None, region: Region = None) -> CartView:
    who = principal(app)
    obs.logger.append_keys(customer_id=who.user_id)
    return service.view(who.user_id, country, region)


@cart.put("/cart/items/<sku>")
def put_item(sku: Annotated[SkuCode, Path()], body: QuantityIn, country: Country = None,
             region: Region = None) -> CartView:
    who = principal(app)
    obs.logger.append_keys(customer_id=who.user_id, sku=sku)
    result, change = service.set_quantity(who.user_id, sku, body.quantity, country, region, email=who.email)
    _count(change)
    return result


@cart.delete("/cart/items/<sku>")
def delete_item(sku: Annotated[SkuCode, Path()], country: Country = None,
                region: Region = None) -> CartView:
    who = principal(app)
    obs.logger.append_keys(customer_id=who.user_id, sku=sku)
    result, change = service.remove(who.user_id, sku, country, region)
    _count(change)
    return result


@cart.put("/cart/coupon")
def put_coupon(body: CartCouponIn, country: Country = None, region: Region = None) -> CartView:
    who = principal(app)
    obs.logger.append_keys(customer_id=who.user_id, coupon=body.code)
    result = service.set_coupon(who.user_id, body.code, country, region)
    obs.count("CouponAdded")
    return result


@cart.delete("/cart/coupon")
def delete_coupon(country: Country = None, region: Region = None) -> CartView:
    who = principal(app)
    obs.logger.append_keys(customer_id=who.user_id)
    return service.set_coupon(who.user_id, None, country, region)


app.include_router(cart)


handler = http_handler(app, obs, Guard("/"))
