"""Catalog API: public browse/search/details and admin management of categories, products, SKUs and prices."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from shop.api import JSON, Guard, http_handler, make_resolver, require_group
from shop.catalog import service
from shop.catalog.contracts import (
    AdminProduct,
    CategoryList,
    CategoryView,
    PriceChange,
    ProductDetail,
    ProductPage,
    SkuView,
)
from shop.catalog.listing import Sort
from shop.catalog.models import CategoryIn, PriceIn, ProductCreate, ProductUpdate, SkuIn
from shop.models import SkuCode, Slug
from shop.observability import observability
from shop.storefront import service as storefront

obs = observability("catalog", needs=("catalog_table", "inventory_table", "analytics_table", "promotions_table",
                                      "currency"))
app = make_resolver(obs.logger)
categories = Router()
products = Router()
admin = Router()


def _json[T](status: int, payload: T) -> Response[T]:
    return Response(status_code=status, content_type=JSON, body=payload)


# ---------------------------------------------------------------- public

@categories.get("/categories")
def list_categories() -> CategoryList:
    return {"items": service.list_categories()}


@products.get("/products")
def list_products(
    category: Annotated[Slug | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    min_price: Annotated[int | None, Query(ge=0, le=10**12 - 1)] = None,
    max_price: Annotated[int | None, Query(ge=0, le=10**12 - 1)] = None,
    sort: Annotated[Sort, Query()] = Sort.NEWEST,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
    brand: Annotated[str | None, Query(max_length=100, description="only this brand (case, accents ignored)")] = None,
    facets: Annotated[bool, Query(description="add counts of the matches by category, brand and price band")] = False,
) -> ProductPage:
    """Browse and search. Search words match names, brands, categories and descriptions: each word is a prefix
    of a word of the product, plurals and -ed/-ing forms match (grinders finds grinder), and a word of 5+ letters
    that matches nothing may have one typo (grnder finds grinder). Pages are full until the last. A product a
    running sale discounts carries ``sale``: its lowest sale price, the regular one and when the sale ends."""
    obs.logger.append_keys(category=category)
    result = storefront.list_products(category=category, q=q, min_price=min_price, max_price=max_price, sort=sort,
                                      limit=limit, cursor=cursor, brand=brand, facets=facets)
    obs.count("ProductSearched" if q else "ProductListViewed")
    return result


@categories.get("/categories/<categoryId>/featured")
def featured_products(
    categoryId: Annotated[Slug, Path()],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> ProductPage:
    """The category's featured products for a storefront's home page (an admin marks them with featured and
    featured_rank on PUT /admin/products/{productId}), lowest rank first, with running sales' prices. An unknown
    category has none."""
    obs.logger.append_keys(category=categoryId)
    result = storefront.featured(categoryId, limit=limit, cursor=cursor)
    obs.count("FeaturedProductsViewed")
    return result


@products.get("/products/<productId>")
def get_product(productId: str) -> ProductDetail:
    obs.logger.append_keys(product_id=productId)
    result = storefront.get_product(productId)
    obs.count("ProductViewed")
    return result


# ---------------------------------------------------------------- admin

@admin.put("/admin/categories/<categoryId>")
def put_category(categoryId: Annotated[Slug, Path()], body: CategoryIn) -> CategoryView:
    require_group(app, "admin")
    result = service.put_category(categoryId, body)
    obs.count("CategorySaved")
    return result


@admin.post("/admin/products", status_code=201)
def create_product(body: ProductCreate) -> Response[AdminProduct]:
    require_group(app, "admin")
    obs.logger.append_keys(product_id=body.product_id)
    result = service.create_product(body)
    obs.count("ProductCreated")
    obs.count("SkuCreated", len(body.skus))
    return _json(201, result)


@admin.put("/admin/products/<productId>")
def update_product(productId: Annotated[Slug, Path()], body: ProductUpdate) -> AdminProduct:
    require_group(app, "admin")
    obs.logger.append_keys(product_id=productId)
    result = service.update_product(productId, body)
    obs.count("ProductUpdated")
    if body.active is False:
        obs.count("ProductDeactivated")
    if body.featured is not None:
        obs.count("ProductFeatured" if body.featured else "ProductUnfeatured")
    return result


@admin.put("/admin/products/<productId>/skus/<sku>",
           responses={200: {"description": "the SKU was changed"}, 201: {"description": "the SKU was created"}})
def put_sku(
    productId: Annotated[Slug, Path()], sku: Annotated[SkuCode, Path()], body: SkuIn
) -> Response[SkuView]:
    require_group(app, "admin")
    obs.logger.append_keys(product_id=productId, sku=sku)
    result, created = service.put_sku(productId, sku, body)
    obs.count("SkuCreated" if created else "SkuUpdated")
    return _json(201 if created else 200, result)


@admin.put("/admin/skus/<sku>/price")
def set_price(sku: Annotated[SkuCode, Path()], body: PriceIn) -> PriceChange:
    require_group(app, "admin")
    obs.logger.append_keys(sku=sku)
    result = service.set_price(sku, body)
    if result["changed"]:
        obs.count("PriceChanged")
    return result


app.include_router(categories)
app.include_router(products)
app.include_router(admin)


handler = http_handler(app, obs, Guard("/admin/", "admin"))
