"""The warehouse and stock facts of the bus (producers: shop.fulfillment.event_details,
shop.inventory.restock). Defined when a type of the family is first needed (see shop.event_contracts)."""

from typing import Any, ClassVar, Literal

from pydantic import Field

from shop.event_contracts import (
    _EXAMPLE_AT,
    _EXAMPLE_ORDER,
    _EXAMPLE_SHIPMENT,
    INVENTORY_SOURCE,
    ContractDetail,
    _example,
)
from shop.models import OrderId, SkuCode, Slug


# ------------------------------------------------------------------------------------------------ warehouse
class _WarehouseTask(ContractDetail):
    order_id: OrderId
    task_id: str
    kind: Literal["pick", "pack", "pickup", "return"]
    status: Literal["OPEN", "DONE", "CANCELLED"]
    shipment_id: str = Field(description="the return id for return tasks")
    warehouse_id: Slug
    created_at: str
    completed_at: str | None
    completed_by: str | None


_TASK: dict[str, Any] = {"order_id": _EXAMPLE_ORDER, "task_id": "tsk_sample0001", "kind": "pick",
                         "shipment_id": _EXAMPLE_SHIPMENT, "warehouse_id": "berlin", "created_at": _EXAMPLE_AT,
                         "occurred_at": _EXAMPLE_AT}


class WarehouseTaskOpened(_WarehouseTask):
    """Published when a pick, pack, pickup or return task is opened for the warehouse staff (no email)."""

    model_config = _example("WarehouseTaskOpened", _EXAMPLE_ORDER, "tsk_sample0001", **_TASK, status="OPEN",
                            completed_at=None, completed_by=None)


class WarehouseTaskCompleted(_WarehouseTask):
    """Published when a warehouse task is done, or cancelled with its order (no email)."""

    model_config = _example("WarehouseTaskCompleted", _EXAMPLE_ORDER, "tsk_sample0001", **_TASK, status="DONE",
                            completed_at=_EXAMPLE_AT, completed_by="staff-0001")


# ------------------------------------------------------------------------------------------------ inventory
class StockLow(ContractDetail):
    """Published when a stock level with a reorder quantity falls to its reorder point or below (available +
    incoming): after a sale, a stock count or adjustment, a return to the supplier, a closed purchase order.
    The Restock function consumes it."""

    SOURCE: ClassVar[str] = INVENTORY_SOURCE
    model_config = _example("StockLow", "C40-BLACK:berlin", "2", sku="C40-BLACK", warehouse_id="berlin",
                            available=2, incoming=0, reorder_point=3, reorder_quantity=10,
                            cause=f"order {_EXAMPLE_ORDER}", occurred_at=_EXAMPLE_AT)

    sku: SkuCode
    warehouse_id: Slug
    available: int = Field(ge=0)
    incoming: int = Field(ge=0)
    reorder_point: int = Field(ge=0)
    reorder_quantity: int = Field(ge=0)
    cause: str = Field(description="what changed the level")
