"""Promotions admin API (group admin): sale events (percentage or fixed, for everything, a category or a SKU,
with start and end) and coupons (code, minimum subtotal, global and per-customer limits); and the public
GET /promotions/active (the running sales) for a storefront's home page."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from shop.api import JSON, Guard, http_handler, make_resolver, require_group
from shop.config import get_settings
from shop.observability import observability
from shop.promotions import service
from shop.promotions.contracts import ActivePromotions, CouponView, SaleList, SaleView
from shop.promotions.models import CouponCode, CouponIn, SaleId, SaleIn

obs = observability("promotions", needs=("promotions_table", "currency"))
app = make_resolver(obs.logger)
sales = Router()
coupons = Router()
public = Router()


@public.get("/promotions/active")
def active_promotions() -> Response[ActivePromotions]:
    """The running sales (public, no sign-in), soonest ending first. Cache-Control lets a storefront or CDN keep
    the answer until the next sale starts or ends (at most a minute)."""
    body, max_age = service.active_promotions(get_settings().currency)
    obs.count("ActivePromotionsViewed")
    return Response(status_code=200, content_type=JSON, body=body,
                    headers={"Cache-Control": f"public, max-age={max_age}"})


@sales.get("/admin/sales")
def list_sales() -> SaleList:
    require_group(app, "admin")
    return service.list_sales(get_settings().currency)


@sales.put("/admin/sales/<saleId>")
def put_sale(saleId: Annotated[SaleId, Path()], body: SaleIn) -> SaleView:
    require_group(app, "admin")
    obs.count("SaleSaved")
    return service.put_sale(saleId, body, get_settings().currency)


@coupons.put("/admin/coupons/<code>")
def put_coupon(code: Annotated[CouponCode, Path()], body: CouponIn) -> CouponView:
    require_group(app, "admin")
    obs.count("CouponSaved")
    return service.put_coupon(code, body, get_settings().currency)


@coupons.get("/admin/coupons/<code>")
def get_coupon(code: Annotated[CouponCode, Path()]) -> CouponView:
    require_group(app, "admin")
    return service.get_coupon(code)


app.include_router(sales)
app.include_router(coupons)
app.include_router(public)


handler = http_handler(app, obs, Guard("/admin/", "admin"))
