"""A return as the shopper sees it (shop.returns.service.view), in a module of its own: the staff queue
(functions/returns_admin) shows it without importing the workflow steps' service (carrier, events, the order
store; issue 17, cold imports)."""

from __future__ import annotations

from typing import Any

from shop.returns.models import CustomerReturn


def view(ret: CustomerReturn) -> dict[str, Any]:
    out = ret.model_dump(mode="json", exclude_none=True)
    if ret.kind == "return":  # a plain return's answer keeps the keys it always had
        out.pop("kind")
    return out
