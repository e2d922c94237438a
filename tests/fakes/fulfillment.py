"""Fake fulfillment: the Fulfillment port of the cancellation (shop.orderflow.ports), plus the warehouse steps a
test drives (split, pick, pack) with the conditions of shop.fulfillment.repository.

The shipments live beside the orders in :class:`tests.fakes.tables.Tables`' transactions: packing is ONE
transaction (order FULFILLING/DISPATCHING -> DISPATCHING, shipment PACKING -> PACKED, the reserved units leave
the shelf), so of a pack and a cancellation exactly one lands, as in DynamoDB.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from shop.fulfillment.models import SHIPMENT_FROM, Shipment, ShipmentItem, ShipmentStatus, TaskKind, TaskStatus
from shop.fulfillment.repository import PackOutcome
from shop.orders.models import OrderStatus

from tests.fakes.orders import FakeOrderStore
from tests.fakes.tables import CONDITION_FAILED, Tables, Write, now_iso
from tests.fakes.workflow import RecordingWorkflow

SH = ShipmentStatus
S = OrderStatus


@dataclass
class Task:
    status: TaskStatus
    token: str | None


class FakeFulfillment:
    def __init__(self, tables: Tables, store: FakeOrderStore, workflow: RecordingWorkflow) -> None:
        self.tables, self.store, self.workflow = tables, store, workflow
        self.shipments: dict[str, dict[str, Shipment]] = defaultdict(dict)  # order id -> shipment id -> shipment
        self.tasks: dict[tuple[str, TaskKind], Task] = {}

    # ------------------------------------------------------------------ the port
    def shipments_of(self, order_id: str) -> list[Shipment]:
        return sorted(self.shipments[order_id].values(), key=lambda s: s.shipment_id)

    def cancel_open_work(self, order_id: str) -> None:
        """shop.fulfillment.service.cancel_open_work: shipments not packed yet become CANCELLED, their OPEN tasks
        CANCELLED, and the workflow tokens of cancelled tasks are failed (again on a repeat: ignored then)."""
        for shipment in self.shipments_of(order_id):
            if shipment.status in SHIPMENT_FROM[SH.CANCELLED]:
                self._set(shipment, SH.CANCELLED)
            for kind in TaskKind:
                task = self.tasks.get((shipment.shipment_id, kind))
                if task is None:
                    continue
                if task.status == TaskStatus.OPEN:
                    task.status = TaskStatus.CANCELLED
                if task.token and task.status == TaskStatus.CANCELLED:
                    self.workflow.send_failure(task.token, "OrderNotShippable", f"order {order_id} was cancelled")

    # ------------------------------------------------------------------ warehouse steps (tests)
    def split(self, order_id: str) -> list[Shipment]:
        """PAID -> FULFILLING with one PICKING shipment per warehouse and an OPEN pick task each, the workflow
        waiting on its token (one transaction: shop.fulfillment.repository.save_split)."""
        order = self.store.require_order(order_id)
        by_warehouse: dict[str, list[ShipmentItem]] = defaultdict(list)
        for line in order.lines:
            for alloc in line.allocations:
                by_warehouse[alloc.warehouse_id].append(ShipmentItem(sku=line.sku, name=line.name,
                                                                     quantity=alloc.quantity,
                                                                     weight_grams=line.weight_grams))
        now = now_iso()
        planned = [Shipment(shipment_id=f"shp_{order_id.removeprefix('ord_')}_{i}", order_id=order_id,
                            warehouse_id=wid, status=SH.PICKING, items=items, created_at=now, updated_at=now)
                   for i, (wid, items) in enumerate(sorted(by_warehouse.items()))]

        def put_shipments() -> None:
            for shipment in planned:
                self.shipments[order_id][shipment.shipment_id] = shipment
                self.tasks[(shipment.shipment_id, TaskKind.PICK)] = Task(TaskStatus.OPEN, self.workflow.token("pick"))

        writes = [self.store.status_write(order_id, {S.PAID}, S.FULFILLING, "split into shipments"),
                  Write(("shipments", order_id), lambda: not self.shipments[order_id], put_shipments)]
        if self.tables.transact(writes) is not None:
            raise AssertionError(f"order {order_id} could not be split")
        return planned

    def pick(self, shipment: Shipment) -> None:
        """The pick task is done: the shipment goes PICKING -> PACKING, the pack task opens with the pick's
        workflow token (the PickAndPack state: shop.fulfillment.service._pick_then_pack)."""
        self._set(shipment, SH.PACKING)
        picked = self.tasks[(shipment.shipment_id, TaskKind.PICK)]
        picked.status = TaskStatus.DONE
        self.tasks[(shipment.shipment_id, TaskKind.PACK)] = Task(TaskStatus.OPEN, picked.token)

    def pack(self, shipment: Shipment, package_weight_grams: int = 500) -> PackOutcome:
        """shop.fulfillment.repository.pack_shipment (staff completing the pack task)."""
        order = self.store.require_order(shipment.order_id)
        writes = [self.store.status_write(order.order_id, {S.FULFILLING, S.DISPATCHING}, S.DISPATCHING,
                                          f"parcel {shipment.shipment_id} packed ({package_weight_grams} g)")]
        current = self.shipments[shipment.order_id][shipment.shipment_id]

        def packed() -> None:
            self._set(current, SH.PACKED, package_weight_grams=package_weight_grams, packed_at=now_iso())
            self.tasks[(shipment.shipment_id, TaskKind.PACK)].status = TaskStatus.DONE

        writes.append(Write(("shipment", shipment.shipment_id), lambda: current.status == SH.PACKING, packed))
        for item in shipment.items:
            allocs = [a for line in order.lines if line.sku == item.sku for a in line.allocations
                      if a.warehouse_id == shipment.warehouse_id]
            writes.append(self._commit(item.sku, shipment.warehouse_id, item.quantity,
                                       sum(a.quantity for a in allocs if a.shard is None)))
        codes = self.tables.transact(writes)
        if codes is None:
            return PackOutcome.PACKED
        if codes[0] == CONDITION_FAILED:
            return PackOutcome.ORDER_NOT_SHIPPABLE
        if codes[1] == CONDITION_FAILED:
            return PackOutcome.ALREADY_PACKED
        raise AssertionError(f"committing stock of {shipment.shipment_id} failed: {codes}")

    def _commit(self, sku: str, warehouse_id: str, quantity: int, pool: int) -> Write:
        key = (sku, warehouse_id, None)

        def check() -> bool:  # reserved >= :p AND on_hand >= :q
            slot = self.tables.stock.get(key)
            return slot is not None and slot.reserved >= pool and (slot.on_hand or 0) >= quantity

        def apply() -> None:  # reserved -= :p, on_hand -= :q, shipped += :q
            slot = self.tables.stock[key]
            slot.reserved -= pool
            slot.on_hand = (slot.on_hand or 0) - quantity
            slot.shipped += quantity

        return Write(("stock", *key), check, apply)

    def _set(self, shipment: Shipment, status: ShipmentStatus, **fields: object) -> None:
        stored = self.shipments[shipment.order_id]
        stored[shipment.shipment_id] = stored[shipment.shipment_id].model_copy(
            update={"status": status, "updated_at": now_iso(), **fields})
