"""The fakes of the fast tier (tests/fakes) answer like the DynamoDB stores they stand for: one scenario of
conditional writes (tests/fakes/contract.py) through the store ports, against the real stores on the local
stack and against the fakes, gives the same transcript."""

from __future__ import annotations

import pytest
from shop.checkout.ports import DynamoCheckoutStore
from shop.config import function_environment
from shop.inventory import repository as inventory
from shop.orders import repository as orders_repo

from tests.fakes import FakeShop
from tests.fakes.contract import EXPECTED, scenario
from tests.fakes.tables import now_iso

pytestmark = pytest.mark.integration


def test_the_dynamodb_stores_and_the_fakes_answer_the_contract_scenario_alike(stack):
    with function_environment(stack.function_env("CheckoutFunction")):
        real = scenario(DynamoCheckoutStore(), orders_repo,
                        lambda sku, wh, on_hand: inventory.create_stock(sku, wh, on_hand, now_iso()))
        fake_shop = FakeShop()
        fake = scenario(fake_shop.checkout, fake_shop.store, fake_shop.tables.set_stock)
    assert real == EXPECTED
    assert fake == real
