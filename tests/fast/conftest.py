"""The fast tier: the order services' rules against in-memory fakes (tests/fakes), no local stack, no moto.

One fixture, ``shop``, installs a fresh :class:`tests.fakes.FakeShop` behind every port and the settings the
rules read; it also makes any call that would still reach AWS or Stripe fail loudly, so a path that bypasses
a port cannot pass here by accident.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NoReturn

import pytest
from shop import aws
from shop.payments import stripe_adapter

from tests.fakes import FakeShop, install

ENVIRONMENT = {
    "EVENT_BUS_NAME": "fast-bus", "ORDER_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:000000000000:fast",
    "PROMOTIONS_TABLE": "fast-promotions", "SHOP_CURRENCY": "EUR", "RESERVATION_TTL_SECONDS": "900",
}


def _no_aws(*_args: Any, **_kwargs: Any) -> NoReturn:
    raise AssertionError("the fast tier reached AWS or Stripe: a collaborator is not behind a port")


@pytest.fixture
def shop(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeShop]:
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "CARTS_TABLE", "ORDERS_TABLE", "INVENTORY_TABLE", "CATALOG_TABLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(aws, "client", _no_aws)
    monkeypatch.setattr(stripe_adapter, "_client", _no_aws)
    with install(FakeShop()) as fake:
        yield fake

