"""The returns' HTTP answers and request bodies by name, each imported on the first access to its name (issue 17),
for the functions whose returns routes are a few of many (functions/orders) or whose routes answer different
models (functions/returns_admin). Their routes name them ``answers.X``, which Powertools resolves on the route's
first request (or when the OpenAPI document is made), so a cold start builds the models of the route it serves
only. The classes are those of shop.returns.contracts, queue_contracts and models."""

from shop import lazy

_GROUPS = {
    "shop.returns.contracts": ("ReturnView", "ReturnLabelLink", "StaffReturnView"),
    "shop.returns.queue_contracts": ("StaffReturnPage",),
    "shop.returns.models": ("ReturnIn", "ExchangeIn"),
}


__getattr__ = lazy.attributes_from(__name__, _GROUPS)

