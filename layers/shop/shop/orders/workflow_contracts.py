"""The order workflow's data (statemachines/order.asl.json): its execution input and the outputs of the order
tasks (functions/orders_confirm, functions/orders_release, functions/orders_sweeper). A module of its own, so
that those functions do not define the shopper's HTTP answers (shop.orders.contracts, which offers these by name too) at
their cold start (issue 17)."""

from typing import Any

from pydantic import Field

from shop.config import get_settings
from shop.contracts import WorkflowData, example
from shop.orders.models import OrderStatus


# ------------------------------------------------------------ the order workflow (statemachines/order.asl.json)
# Its task inputs are shop.orders.tasks; the payment outputs are shop.payments.contracts, the fulfillment ones
# shop.fulfillment.contracts. docs/conventions.md lists the models per task.
class OrderWorkflowInput(WorkflowData):
    """The order state machine's execution input (shop.checkout.repository.start_workflow, named by the order)."""

    model_config = example({"order_id": "ord_sampleorderaaaaaaaaaaaaaaa", "payment_timeout_seconds": 900})

    order_id: str
    payment_timeout_seconds: int = Field(gt=0, description="how long TakePayment waits, the charge and the "
                                                           "shopper's 3-D Secure together (PaymentAuthTimeoutSeconds)")


def order_workflow_input(order_id: str) -> dict[str, Any]:
    """The input every execution of the order workflow starts with (the checkout's, a staff retry's): the order and
    the configured wait of its payment step (PAYMENT_AUTH_TIMEOUT_SECONDS)."""
    return OrderWorkflowInput(order_id=order_id, payment_timeout_seconds=get_settings().payment_auth_timeout_seconds
                              ).model_dump(mode="json")


class OrderConfirmed(WorkflowData):
    """functions/orders_confirm (ConfirmOrder, at ``$.confirmation``): PAID or a later status (a retried step).
    An order the shopper cancelled meanwhile fails the step instead (OrderCancelledMeanwhile: the workflow ends)."""

    model_config = example({"order_id": "ord_sampleorderaaaaaaaaaaaaaaa", "status": "PAID"})

    order_id: str
    status: OrderStatus


class ReservationReleased(WorkflowData):
    """functions/orders_release (ReleaseAfterDecline, at ``$.release``): ``released`` false when the order
    held no reservation any more (CANCELLED: the cancellation released it)."""

    model_config = example({"order_id": "ord_sampleorderaaaaaaaaaaaaaaa", "released": True,
                            "status": "PAYMENT_FAILED"})

    order_id: str
    released: bool
    status: OrderStatus


class ExpiredReservationsSwept(WorkflowData):
    """functions/orders_sweeper (scheduled, no state machine): orders released, skipped (paid or released
    meanwhile) and failed (tried again on the next run)."""

    model_config = example({"released": 2, "skipped": 1, "failed": 0})

    released: int
    skipped: int
    failed: int
