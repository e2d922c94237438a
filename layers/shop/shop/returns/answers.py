"""The returns' HTTP answers and request bodies by name, each imported on the first access to its name (issue 17),
for the functions whose returns routes are a few of many (functions/orders) or whose routes answer different
models (functions/returns_admin). Their routes name them ``answers.X``, which Powertools resolves on the route's
first request (or when the OpenAPI document is made), so a cold start builds the models of the route it serves
only. The classes are those of shop.returns.contracts, queue_contracts and models."""

from importlib import import_module
from typing import Any

_GROUPS = {
    "shop.returns.contracts": ("ReturnView", "ReturnLabelLink", "StaffReturnView"),
    "shop.returns.queue_contracts": ("StaffReturnPage",),
    "shop.returns.models": ("ReturnIn", "ExchangeIn"),
}
_WHERE = {name: module for module, names in _GROUPS.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module), name)
