"""Product reviews: the request body, the stored review and its public view."""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shop.models import Frozen, Slug

ANONYMOUS_AUTHOR = "verified buyer"


class ReviewIn(BaseModel):
    """POST /products/{productId}/reviews. Strings are stripped before their length is checked."""

    # a request body: built on its route's first request (issue 17)
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    rating: int = Field(ge=1, le=5, strict=True, description="stars, 1 to 5 (an integer, not a string)")
    title: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    body: Annotated[str, StringConstraints(min_length=1, max_length=4000)]


class Review(Frozen):
    """A stored review (ReviewsTable pk=PRODUCT#<product_id>, sk=REVIEW#<created_at>#<customer_id>)."""

    product_id: Slug
    customer_id: str
    order_id: str = Field(description="the delivered order that makes the author a verified buyer")
    rating: int = Field(ge=1, le=5)
    title: str
    body: str
    author: str
    created_at: str

    def view(self) -> dict[str, Any]:
        """What anyone may see: no customer or order id."""
        return {"product_id": self.product_id, "rating": self.rating, "title": self.title, "body": self.body,
                "author": self.author, "created_at": self.created_at, "verified": True}


def author_name(email: str | None) -> str:
    """The public name of a reviewer: the part of the email before the @, or "verified buyer"."""
    local = (email or "").split("@", 1)[0].strip()
    return local if local and email and "@" in email else ANONYMOUS_AUTHOR
