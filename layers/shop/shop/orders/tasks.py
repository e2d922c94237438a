"""Inputs of the order workflow's task functions (validated; a malformed input fails the task). Their outputs are
models in shop.payments.contracts, shop.orders.contracts and shop.fulfillment.contracts (docs/conventions.md)."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shop import lazy
from shop.models import OrderId


class OrderTask(BaseModel):
    # built when first used: a task function imports the input of every action it serves, an invocation parses
    # one (issue 17, cold imports)
    model_config = ConfigDict(extra="ignore", defer_build=True)

    order_id: OrderId


class ChargeTask(OrderTask):
    action: Literal["charge"] = "charge"
    # TakePayment waits on this token (shop.payments.service.charge); executions started before it waited run a
    # plain charge step without one and get the outcome as the invocation's answer
    task_token: str | None = Field(None, min_length=1)


class AwaitAuthenticationTask(OrderTask):
    action: Literal["await_authentication"]
    task_token: str = Field(min_length=1)


class AbandonPaymentTask(OrderTask):
    action: Literal["abandon"]


PaymentTask = Annotated[ChargeTask | AwaitAuthenticationTask | AbandonPaymentTask, Field(discriminator="action")]


class ConfirmTask(OrderTask):
    payment_intent_id: str | None = None


class ReleaseTask(OrderTask):
    reason: Literal["PAYMENT_FAILED", "EXPIRED", "CANCELLED"]
    detail: Any = None


# the fulfillment steps' inputs live in shop.orders.fulfillment_tasks (functions/fulfillment imports them from
# there): the payment and order steps do not define them at their cold start (issue 17). Importable from here
# as before, loaded on first access.
_FULFILLMENT_TASKS = frozenset({
    "ConfirmAndSplitTask", "SplitTask", "ShipmentTask", "ShipmentId", "CarriedItem", "CarriedAllocation",
    "CarriedShipment", "OpenTaskTask", "CommitStockTask", "CreateLabelTask", "MarkShippedTask", "CancelOrderTask",
    "FulfillmentTask"})


__getattr__ = lazy.attributes_from(__name__, {"shop.orders.fulfillment_tasks": _FULFILLMENT_TASKS})

