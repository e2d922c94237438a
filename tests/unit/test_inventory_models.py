"""Request validation of inventory admin bodies and auth bodies."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from shop.auth.models import LoginIn, RegisterIn, normalize_email, password_problems
from shop.inventory.models import StockIn, WarehouseIn

pytestmark = pytest.mark.unit


def test_warehouse_body() -> None:
    w = WarehouseIn.model_validate({"name": " Berlin ", "country": "DE", "zone": "domestic"})
    assert w.name == "Berlin" and w.priority == 100
    for bad, field in [({"country": "de"}, "country"), ({"zone": ""}, "zone"), ({"priority": -1}, "priority")]:
        with pytest.raises(ValidationError) as err:
            WarehouseIn.model_validate({"name": "B", "country": "DE", "zone": "domestic", **bad})
        assert err.value.errors()[0]["loc"] == (field,)


@pytest.mark.parametrize("value", [-1, "5", 2.5, None, True])
def test_stock_on_hand_must_be_non_negative_int(value: object) -> None:
    with pytest.raises(ValidationError) as err:
        StockIn.model_validate({"on_hand": value})
    assert err.value.errors()[0]["loc"] == ("on_hand",)


def test_stock_zero_allowed() -> None:
    assert StockIn.model_validate({"on_hand": 0}).on_hand == 0


@pytest.mark.parametrize("email", ["no-at-sign", "a@b", "a@@b.com", "a b@c.com", "x@-bad.com", "a..b@c.com"])
def test_bad_email_rejected(email: str) -> None:
    with pytest.raises(ValidationError) as err:
        LoginIn.model_validate({"email": email, "password": "x"})
    assert err.value.errors()[0]["loc"] == ("email",)


def test_email_lowercased() -> None:
    # one account per address whatever its case (issue 12 row 13): the local part is lower-cased too
    assert normalize_email(" Jane.Doe+shop@Example.COM ") == "jane.doe+shop@example.com"


@pytest.mark.parametrize(("password", "missing"), [
    ("Short1A", "at least 8 characters"), ("alllower1", "an upper-case letter"),
    ("ALLUPPER1", "a lower-case letter"), ("NoDigitsHere", "a digit"),
])
def test_password_policy(password: str, missing: str) -> None:
    assert missing in password_problems(password)
    with pytest.raises(ValidationError) as err:
        RegisterIn.model_validate({"email": "a@example.com", "password": password})
    assert err.value.errors()[0]["loc"] == ("password",)


def test_good_registration() -> None:
    body = RegisterIn.model_validate({"email": "a@example.com", "password": "Secret123", "name": " Ann "})
    assert body.name == "Ann" and password_problems(body.password) == []
