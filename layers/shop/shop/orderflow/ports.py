"""The fulfillment port of the order cancellation (shop.orderflow.cancellation): the parcels of an order and
cancelling its open warehouse work.

Production is shop.fulfillment.service as it is (the module satisfies the Protocol), read at call time from
``ports.fulfillment``, so a fast test tier swaps in an in-memory fake (tests/fakes). The order store, the bus
and the workflow client are shop.orders.ports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shop.fulfillment import service as fulfillment
from shop.fulfillment.models import Shipment


class Fulfillment(Protocol):
    def shipments_of(self, order_id: str) -> list[Shipment]: ...

    def cancel_open_work(self, order_id: str) -> None:
        """Cancel the shipments not yet packed and their open tasks, failing the workflow tokens waiting on
        them (OrderNotShippable); idempotent."""
        ...


@dataclass
class OrderflowPorts:
    fulfillment: Fulfillment


ports = OrderflowPorts(fulfillment=fulfillment)
