"""What the order workflow's payment steps hand the state machine (functions/payments): the outcome of a charge,
of an abandon and of a 3-D Secure wait (the Stripe webhook resumes the task token with it), all one shape,
built by ``shop.payments.service._out``. The inputs are ``shop.orders.tasks`` (PaymentTask).

The state machine branches on ``status`` (PaymentOutcome, AuthenticationOutcome, AbandonOutcome), confirms
with ``payment_intent_id`` and waits ``auth_timeout_seconds`` for 3-D Secure: docs/conventions.md lists every
model per task; tests/unit/test_workflow_contracts.py checks the ASL against them.
"""

from typing import Literal

from pydantic import Field

from shop.contracts import WorkflowData, absent, example

PaymentStatus = Literal["succeeded", "requires_action", "declined", "skipped"]


class PaymentOutcome(WorkflowData):
    """Output of the charge and abandon actions, and what the await_authentication token is resumed with."""

    model_config = example({"order_id": "ord_sampleorderaaaaaaaaaaaaaaa", "status": "requires_action",
                            "payment_intent_id": "pi_sample000000", "decline_code": "authentication_required",
                            "auth_timeout_seconds": 900})

    order_id: str
    status: PaymentStatus = Field(description="skipped: the order was closed before the charge (expired or "
                                              "cancelled); abandon and a resumed wait report succeeded or declined")
    payment_intent_id: str | None = Field(description="null when no intent was created")
    decline_code: str | None
    auth_timeout_seconds: int | None = Field(None, exclude_if=absent,
                                             description="only with requires_action: how long to wait for the "
                                                         "shopper's 3-D Secure")


class AuthenticationWait(WorkflowData):
    """What await_authentication returns to Lambda (discarded: the state waits for its token, resumed with a
    PaymentOutcome by the Stripe webhook, or at once when the outcome is already known)."""

    model_config = example({"waiting": True})

    waiting: bool
