"""Catalog request models (validated by the resolver: bad input is a 422 naming the field)."""

from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from shop.models import SkuCode, Slug
from shop.money import Money

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
Brand = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ImageUrl = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000,
                                            pattern=r"^(https?://|/)\S+$")]
AttrKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
AttrValue = Annotated[str, StringConstraints(max_length=500)]

# One transaction holds the product, a category check and two items per SKU: at most 100 actions.
MAX_SKUS_PER_PRODUCT_CREATE = 49


class Strict(BaseModel):
    # request bodies: built on their route's first request (issue 17)
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class PositivePrice(Money):
    """A selling price: strictly positive minor units."""

    @field_validator("amount")
    @classmethod
    def _positive(cls, v: int) -> int:
        if v <= 0:
            raise ValueError("must be greater than 0")
        if v > 10**12 - 1:
            raise ValueError("is too large")
        return v


class CategoryIn(Strict):
    name: Name
    description: Description | None = None
    sort_order: int = Field(100, ge=0, le=1_000_000, strict=True)


class SkuIn(Strict):
    name: Name
    options: dict[AttrKey, AttrValue] = Field(default_factory=dict, max_length=20)
    price: PositivePrice
    weight_grams: int = Field(gt=0, le=1_000_000)
    active: bool = True


class NewSku(SkuIn):
    sku: SkuCode


class ProductCreate(Strict):
    product_id: Slug
    name: Name
    description: Description = ""
    category: Slug
    brand: Brand | None = None
    attributes: dict[AttrKey, AttrValue] = Field(default_factory=dict, max_length=50)
    images: list[ImageUrl] = Field(default_factory=list, max_length=20)
    skus: list[NewSku] = Field(min_length=1, max_length=MAX_SKUS_PER_PRODUCT_CREATE)

    @model_validator(mode="after")
    def _distinct_skus(self) -> Self:
        codes = [s.sku for s in self.skus]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"skus: duplicate sku codes {', '.join(dupes)}")
        return self


class ProductUpdate(Strict):
    name: Name | None = None
    description: Description | None = None
    category: Slug | None = None
    brand: Brand | None = None
    attributes: dict[AttrKey, AttrValue] | None = Field(None, max_length=50)
    images: list[ImageUrl] | None = Field(None, max_length=20)
    active: bool | None = None
    featured: bool | None = Field(None, description="show it among its category's featured products (home page)")
    featured_rank: int | None = Field(None, ge=0, le=9_999_999, strict=True,
                                      description="its place among the featured products, lower first (default "
                                                  "100, ties by product id); null: back to the default")

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("at least one field to update is required")
        return self


class PriceIn(Strict):
    price: PositivePrice
