"""The inventory admin API's answers about warehouses (named by ``shop.inventory.contracts``: issue 17)."""

from pydantic import Field

from shop.contracts import ResponseModel


class WarehouseView(ResponseModel):
    warehouse_id: str
    name: str
    country: str = Field(description="ISO 3166-1 alpha-2")
    zone: str = Field(description="shipping zone the warehouse ships from")
    priority: int = Field(description="lower is preferred when allocating")


class WarehouseList(ResponseModel):
    items: list[WarehouseView] = Field(description="by priority, then id")
