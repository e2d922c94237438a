"""HTTP answers of the reviews API (functions/reviews): a product's reviews with its rating summary.

The shapes are those ``shop.reviews.service`` has always returned: a review's public view (no customer or
order id) and the rating summary the catalog keeps on the product.
"""

from pydantic import Field

from shop.contracts import ResponseModel


class ReviewView(ResponseModel):
    product_id: str
    rating: int = Field(ge=1, le=5, description="stars, 1 to 5")
    title: str
    body: str
    author: str = Field(description="the part of the author's email before the @, or 'verified buyer'")
    created_at: str
    verified: bool = Field(description="always true: only shoppers with a delivered order of the "
                                                "product can review it")


class ReviewSummary(ResponseModel):
    average: float | None = Field(description="mean stars, one decimal; null without reviews")
    count: int = Field(description="number of reviews")


class ReviewPage(ResponseModel):
    product_id: str
    summary: ReviewSummary
    items: list[ReviewView] = Field(description="newest first")
    next_cursor: str | None = Field(description="pass as cursor for the next page; null on the last page")
