"""HTTP answers of the reports function (functions/analytics_reports): the daily fulfillment and performance report
and the sales trend. The report's figures are those ``shop.analytics.report.compute`` builds (stored as a JSON document
and answered from it); money is integer minor units of the shop's currency.
"""

from typing import Literal

from pydantic import Field

from shop.contracts import ResponseModel, absent
from shop.money import Money


class ReportOrderCounts(ResponseModel):
    placed: int
    paid: int
    cancelled: int
    shipped: int = Field(description="orders with a parcel shipped that day")
    delivered: int = Field(description="orders with a parcel delivered that day")


class ReportParcelCounts(ResponseModel):
    packed: int
    shipped: int
    delivered: int


class ReportShipmentHours(ResponseModel):
    """Time from payment to shipment over the parcels shipped that day."""

    average: float | None = Field(description="hours, 2 decimals; null when no parcel shipped")
    p90: float | None = Field(description="90th percentile (nearest rank), hours, 2 decimals; null when none shipped")
    parcels: int = Field(description="parcels measured")


class ReportShippedLate(ResponseModel):
    promised_hours: int = Field(description="the promise: shipped within this many hours of payment")
    parcels: int = Field(description="parcels shipped later than the promise")


class ReportStockOut(ResponseModel):
    sku: str
    warehouse_id: str


class ReportLowStock(ResponseModel):
    sku: str
    warehouse_id: str
    available: int
    incoming: int
    reorder_point: int


class ReportOpenPurchaseOrder(ResponseModel):
    po_id: str
    status: Literal["DRAFT", "SUBMITTED", "PARTIALLY_RECEIVED"]
    supplier_id: str
    warehouse_id: str
    auto: bool = Field(description="created by the automatic restock")


class ReportOpenPurchaseOrders(ResponseModel):
    count: int
    items: list[ReportOpenPurchaseOrder]


class ReportTopSku(ResponseModel):
    sku: str
    units: int = Field(description="units paid that day")


class ReportTopCategory(ResponseModel):
    category: str
    revenue: Money


class ReportWarehouse(ResponseModel):
    warehouse_id: str = Field(description="'unknown' for parcels whose warehouse was not recorded")
    packed: int
    shipped: int
    delivered: int


class ReportObjects(ResponseModel):
    """Keys of the report's files in the reports bucket."""

    json_: str = Field(alias="json")
    csv: str
    html: str


class ReportDayTotals(ResponseModel):
    """One earlier day's running totals (what the sales trend reads); zeros for a day without sales."""

    date: str = Field(description="YYYY-MM-DD")
    orders_placed: int
    orders_paid: int
    orders_cancelled: int
    units: int
    parcels_packed: int
    parcels_shipped: int
    parcels_delivered: int
    revenue: Money
    refunds: Money
    net: Money = Field(description="revenue - refunds")


class ReportAverages(ResponseModel):
    """The average day over ``from``..``to`` (days without sales count as zeros)."""

    from_: str = Field(alias="from", description="first day averaged, YYYY-MM-DD")
    to: str = Field(description="last day averaged (the day before the report's), YYYY-MM-DD")
    days: int = Field(description="days averaged (7)")
    orders_placed: float = Field(description="2 decimals, as are the other counts")
    orders_paid: float
    orders_cancelled: float
    units: float
    parcels_packed: float
    parcels_shipped: float
    parcels_delivered: float
    revenue: Money = Field(description="rounded half-up to the minor unit, as are refunds and net")
    refunds: Money
    net: Money


class ReportComparison(ResponseModel):
    """The report's day against the days before it, from the running day totals."""

    previous_day: ReportDayTotals
    seven_day_average: ReportAverages
    days: list[ReportDayTotals] = Field(description="the 7 days before the report's, oldest first")


class ReportFigures(ResponseModel):
    """The figures of one day's report (in the report's time zone): the stored JSON document
    (GET /admin/reports/daily/{date}?format=json)."""

    date: str = Field(description="YYYY-MM-DD")
    time_zone: str = Field(description="IANA time zone the day is counted in")
    currency: str
    orders: ReportOrderCounts
    parcels: ReportParcelCounts
    revenue: Money = Field(description="totals of the orders paid that day")
    refunds: Money = Field(description="refunds issued that day")
    net: Money = Field(description="revenue - refunds")
    units: int = Field(description="units paid that day")
    payment_to_shipment_hours: ReportShipmentHours
    shipped_late: ReportShippedLate
    stock_outs: list[ReportStockOut] = Field(description="levels whose last StockLow that day had nothing available")
    below_reorder_point: list[ReportLowStock]
    open_purchase_orders: ReportOpenPurchaseOrders = Field(description="at report time")
    top_skus: list[ReportTopSku]
    top_categories: list[ReportTopCategory] = Field(description="by revenue")
    warehouses: list[ReportWarehouse]
    revenue_by_hour: list[Money] = Field(description="24 entries, hour 0 to 23 in the report's time zone")
    comparison: ReportComparison | None = Field(
        None, exclude_if=absent,
        description="the previous day and the 7-day average; absent from reports stored before it was added")


class DailyReport(ReportFigures):
    """The report of one day, computed and stored once, emailed once: its figures, where they are stored, a link."""

    objects: ReportObjects
    link: str = Field(description="presigned URL of the HTML report (valid 7 days)")
    created_at: str = Field(description="when the report was first computed (UTC)")
    emailed: bool = Field(description="the management list has been sent the report")


class SalesDay(ResponseModel):
    date: str = Field(description="YYYY-MM-DD")
    orders_placed: int
    orders_paid: int
    orders_cancelled: int
    revenue: int = Field(description="minor units of the trend's currency")
    refunds: int = Field(description="minor units")
    units: int
    net: int = Field(description="revenue - refunds, minor units")


class SalesTotals(ResponseModel):
    orders_placed: int
    orders_paid: int
    orders_cancelled: int
    revenue: int = Field(description="minor units")
    refunds: int = Field(description="minor units")
    units: int
    net: int = Field(description="minor units")


class SalesTrend(ResponseModel):
    from_: str = Field(alias="from", description="first day, YYYY-MM-DD")
    to: str = Field(description="last day, YYYY-MM-DD")
    currency: str
    days: list[SalesDay] = Field(description="every day of the range, days without sales as zeros")
    totals: SalesTotals
