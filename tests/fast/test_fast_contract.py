"""The fakes answer the store contract scenario (tests/fakes/contract.py) as DynamoDB does; the integration
tier runs the same scenario against the real stores (tests/integration/test_fake_contract.py)."""

from __future__ import annotations

import pytest

from tests.fakes import FakeShop
from tests.fakes.contract import EXPECTED, scenario

pytestmark = pytest.mark.fast


def test_the_fake_stores_keep_the_contract_of_the_dynamodb_stores(shop: FakeShop):
    assert scenario(shop.checkout, shop.store, shop.tables.set_stock) == EXPECTED
