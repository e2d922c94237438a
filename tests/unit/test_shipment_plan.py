"""Shipping on the shipment plan (issue 12): route zones (origin warehouse country -> destination country),
parcels per warehouse, and the charge equal to the sum of the parcels' label costs."""

from __future__ import annotations

import pytest
from shop.config import Settings
from shop.fulfillment import carrier
from shop.models import Allocation, Warehouse
from shop.money import Money
from shop.pricing import Destination, PricedLine, compute_totals, parcels_of, route_zone

pytestmark = pytest.mark.unit

SETTINGS = Settings()
WAREHOUSES = {"ber": Warehouse(warehouse_id="ber", name="Berlin", country="DE", zone="domestic"),
              "par": Warehouse(warehouse_id="par", name="Paris", country="FR", zone="eu")}


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


@pytest.mark.parametrize(("origin", "destination", "zone"), [
    ("DE", "DE", "domestic"), ("FR", "DE", "eu"), ("DE", "FR", "eu"), ("FR", "FR", "domestic"),
    ("FR", "GB", "europe"), ("FR", "US", "world"), ("US", "DE", "world")])
def test_the_zone_is_the_routes(origin: str, destination: str, zone: str) -> None:
    assert route_zone(SETTINGS, origin, None, destination, "country") == zone


def test_a_label_from_paris_to_germany_is_not_domestic() -> None:
    label = carrier.create_label(SETTINGS, "shp_x_1", "DE", 400, "EUR", "FR", "eu")
    assert (label.zone, label.cost) == ("eu", eur(990 + 200))


def test_a_split_order_is_charged_the_sum_of_its_parcels_labels() -> None:
    allocation = {"A": [Allocation(warehouse_id="ber", quantity=2), Allocation(warehouse_id="par", quantity=1)],
                  "B": [Allocation(warehouse_id="par", quantity=1)]}
    parcels = parcels_of(allocation, {"A": 700, "B": 300}, WAREHOUSES)
    assert [(p.origin_country, p.weight_grams) for p in parcels] == [("DE", 1400), ("FR", 1000)]
    lines = [PricedLine("A", 3, eur(1000), 700), PricedLine("B", 1, eur(500), 300)]
    b = compute_totals(lines, Destination("DE"), SETTINGS, parcels=parcels)
    labels = [carrier.create_label(SETTINGS, f"shp_x_{i}", "DE", p.weight_grams, "EUR", p.origin_country,
                                   p.origin_zone) for i, p in enumerate(parcels)]
    assert b.totals.shipping == eur(sum(label.cost.amount for label in labels)) == eur((490 + 200) + (990 + 200))


def test_a_plan_must_weigh_what_the_lines_weigh() -> None:
    with pytest.raises(ValueError, match="weighs"):
        compute_totals([PricedLine("A", 1, eur(1000), 700)], Destination("DE"), SETTINGS,
                       parcels=parcels_of({"A": [Allocation(warehouse_id="ber", quantity=2)]}, {"A": 700}, WAREHOUSES))
