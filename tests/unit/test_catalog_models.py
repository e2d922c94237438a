"""Request validation of the catalog admin bodies."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from shop.catalog.models import MAX_SKUS_PER_PRODUCT_CREATE, PriceIn, ProductCreate, ProductUpdate, SkuIn

pytestmark = pytest.mark.unit


def _sku(code: str = "TEA-1", **over: Any) -> dict[str, Any]:
    return {"sku": code, "name": "50 g", "price": {"amount": 990, "currency": "EUR"}, "weight_grams": 120, **over}


def _product(**over: Any) -> dict[str, Any]:
    return {"product_id": "green-tea", "name": "Green tea", "category": "tea", "skus": [_sku()], **over}


def _fields(exc: ValidationError) -> set[str]:
    return {".".join(str(p) for p in e["loc"]) for e in exc.errors()}


def test_valid_product() -> None:
    p = ProductCreate.model_validate(_product(brand=" Teehaus ", images=["https://cdn.example.com/a.jpg"]))
    assert p.brand == "Teehaus" and p.skus[0].price.amount == 990


@pytest.mark.parametrize(("over", "field"), [
    ({"product_id": "Green Tea"}, "product_id"),
    ({"name": "  "}, "name"),
    ({"category": ""}, "category"),
    ({"skus": []}, "skus"),
    ({"skus": [_sku(price={"amount": 0, "currency": "EUR"})]}, "skus.0.price.amount"),
    ({"skus": [_sku(price={"amount": 9.5, "currency": "EUR"})]}, "skus.0.price.amount"),
    ({"skus": [_sku(price={"amount": 100, "currency": "eur"})]}, "skus.0.price.currency"),
    ({"skus": [_sku(weight_grams=0)]}, "skus.0.weight_grams"),
    ({"skus": [_sku(sku="bad code")]}, "skus.0.sku"),
    ({"images": ["not a url"]}, "images.0"),
    ({"unknown": 1}, "unknown"),
])
def test_invalid_product_names_the_field(over: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        ProductCreate.model_validate(_product(**over))
    assert field in _fields(err.value)


def test_duplicate_sku_codes_rejected() -> None:
    with pytest.raises(ValidationError) as err:
        ProductCreate.model_validate(_product(skus=[_sku("A-1"), _sku("A-1")]))
    assert "duplicate sku codes A-1" in str(err.value)


def test_sku_count_fits_one_transaction() -> None:
    skus = [_sku(f"S-{i}") for i in range(MAX_SKUS_PER_PRODUCT_CREATE + 1)]
    with pytest.raises(ValidationError):
        ProductCreate.model_validate(_product(skus=skus))
    assert ProductCreate.model_validate(_product(skus=skus[:-1]))
    assert 2 + 2 * MAX_SKUS_PER_PRODUCT_CREATE <= 100  # DynamoDB's TransactWriteItems cap


def test_update_requires_a_field_and_tracks_which() -> None:
    with pytest.raises(ValidationError):
        ProductUpdate.model_validate({})
    upd = ProductUpdate.model_validate({"active": False})
    assert upd.model_fields_set == {"active"}


def test_price_and_sku_bodies() -> None:
    assert PriceIn.model_validate({"price": {"amount": 1, "currency": "EUR"}}).price.amount == 1
    with pytest.raises(ValidationError) as err:
        PriceIn.model_validate({"price": {"amount": -5, "currency": "EUR"}})
    assert "price.amount" in _fields(err.value)
    with pytest.raises(ValidationError) as err:
        SkuIn.model_validate({"name": "x", "price": {"amount": 5, "currency": "EUR"}})
    assert "weight_grams" in _fields(err.value)
