"""Product reviews: GET /products/{productId}/reviews (public; newest first, paginated, with the product's
rating summary) and POST /products/{productId}/reviews (a shopper with a delivered order of the product,
once per product)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from shop.api import JSON, Guard, http_handler, make_resolver, principal
from shop.models import Slug
from shop.observability import observability
from shop.reviews import service
from shop.reviews.contracts import ReviewPage, ReviewView
from shop.reviews.models import ReviewIn

obs = observability("reviews", needs=("reviews_table", "catalog_table", "orders_table"))
app = make_resolver(obs.logger)
reviews = Router()


@dataclass(frozen=True)
class WriteGuard(Guard):
    """Reading reviews is public; writing one needs a signed-in shopper whatever the body says."""

    def denied(self, event: dict[str, Any]) -> dict[str, Any] | None:
        if str(event.get("httpMethod") or "").upper() in ("GET", "HEAD", "OPTIONS"):
            return None
        return super().denied(event)


@reviews.get("/products/<productId>/reviews")
def list_reviews(productId: Annotated[Slug, Path()],
                 limit: Annotated[int, Query(ge=1, le=50)] = 10,
                 cursor: Annotated[str | None, Query(max_length=2000)] = None) -> ReviewPage:
    obs.logger.append_keys(product_id=productId)
    return service.list_reviews(productId, limit, cursor)


@reviews.post("/products/<productId>/reviews", status_code=201)
def post_review(productId: Annotated[Slug, Path()], body: ReviewIn) -> Response[ReviewView]:
    from shop.reviews import posting  # this route only: it reads the shopper's orders (issue 17)

    who = principal(app)
    obs.logger.append_keys(product_id=productId)
    view = posting.post_review(productId, who.user_id, who.email, body)
    obs.count("ReviewPosted")
    return Response(status_code=201, content_type=JSON, body=view,
                    headers={"Location": f"/products/{productId}/reviews"})


app.include_router(reviews)


handler = http_handler(app, obs, WriteGuard("/products/"))
