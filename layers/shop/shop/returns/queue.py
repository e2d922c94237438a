"""The staff side of returns (functions/returns_admin): the queue by status, newest first, and one return with
what its inspection found and decided per line. Read-only: a return moves only through its workflow."""

from __future__ import annotations

from typing import Any

from shop.errors import NotFound
from shop.money import Money
from shop.returns import repository as repo
from shop.returns.models import CustomerReturn, ReturnStatus
from shop.returns.views import view


def summary(ret: CustomerReturn) -> dict[str, Any]:
    out: dict[str, Any] = {"return_id": ret.return_id, "order_id": ret.order_id, "customer_id": ret.customer_id,
                           "email": ret.email, "status": ret.status.value,
                           "units": sum(ln.quantity for ln in ret.lines),
                           "refund_total": ret.refund_total.model_dump(),
                           "refund_due": ret.refund_due.model_dump() if ret.refund_due else None,
                           "refunded": ret.refunded.model_dump() if ret.refunded else None,
                           "created_at": ret.created_at, "updated_at": ret.updated_at}
    return {k: v for k, v in out.items() if v is not None}


def list_by_status(status: ReturnStatus, limit: int, cursor: str | None) -> dict[str, Any]:
    found, next_cursor = repo.by_status(status, limit, cursor)
    return {"status": status.value, "items": [summary(r) for r in found], "next_cursor": next_cursor}


def staff_view(ret: CustomerReturn) -> dict[str, Any]:
    """The shopper's view, each line with its inspection (sellable, damaged, the decisions, what it gives back)."""
    out = view(ret)
    per_sku: dict[str, dict[str, Any]] = {}
    for entry in ret.inspection or []:
        line = per_sku.setdefault(str(entry["sku"]), {"sellable": 0, "damaged": 0, "damaged_refunds": [],
                                                       "refund_due": None})
        line["sellable"] += int(entry.get("sellable", 0))
        line["damaged"] += int(entry.get("damaged", 0))
        if entry.get("damaged_refund"):
            line["damaged_refunds"].append(entry["damaged_refund"])
        if entry.get("refund"):
            got = Money.model_validate(entry["refund"])
            line["refund_due"] = (line["refund_due"] + got) if line["refund_due"] else got
    lines = []
    for ln in out["lines"]:
        line = dict(ln)
        found = per_sku.get(ln["sku"])
        if found is not None:
            line.update(sellable=found["sellable"], damaged=found["damaged"])
            if found["damaged_refunds"]:
                line["damaged_refunds"] = found["damaged_refunds"]
            if found["refund_due"] is not None:
                line["refund_due"] = found["refund_due"].model_dump()
        lines.append(line)
    return {**out, "lines": lines, "inspecting_warehouse_id": repo.inspecting_warehouse(ret)}


def get_for_staff(return_id: str) -> dict[str, Any]:
    order_id = repo.order_of(return_id) if return_id.startswith("ret_") else None
    ret = repo.get(order_id, return_id) if order_id else None
    if ret is None:
        raise NotFound(f"return {return_id} not found")
    return staff_view(ret)
