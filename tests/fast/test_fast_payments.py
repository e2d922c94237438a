"""The payment steps against the fakes: a crash at any point of the charge is replayed without charging twice,
a decline or an outage never takes money, 3-D Secure resumes the waiting workflow once. The money is read
from the fake gateway's ledger, the order from the fake store, the facts from the recorded events."""

from __future__ import annotations

import pytest
from shop.errors import DependencyFailed
from shop.orderflow import cancellation
from shop.orders import service as orders
from shop.orders.models import OrderStatus
from shop.payments import service as payments

from tests.fakes import Crash, FakeShop
from tests.fakes.payments import DECLINED, NEEDS_AUTHENTICATION
from tests.fast.flows import CUSTOMER, body, place

pytestmark = pytest.mark.fast


def placed_order(shop: FakeShop, *, card: str = "pm_card_visa", coupon: str | None = None) -> str:
    shop.add_product("SKU-A", price=2500, stock={"berlin": 5})
    shop.put_cart(CUSTOMER, {"SKU-A": 2}, coupon=coupon)
    return str(place(request=body(payment_method_id=card))["order_id"])


def test_a_charge_takes_the_total_once_and_the_confirmation_publishes_order_paid(shop):
    order_id = placed_order(shop)
    total = shop.store.require_order(order_id).totals.total.amount

    charged = payments.take_payment(order_id)
    confirmed = orders.confirm_paid(order_id, charged["payment_intent_id"])

    assert charged["status"] == "succeeded" and confirmed["status"] == OrderStatus.PAID
    assert shop.gateway.charges == [(charged["payment_intent_id"], total)] and shop.gateway.captured(order_id) == total
    order = shop.store.require_order(order_id)
    assert order.payment_status == "succeeded" and order.payment_intent_id == charged["payment_intent_id"]
    assert "pending_pk" not in shop.tables.orders[order_id]  # out of the expiry index once payment started
    assert shop.events.types == ["OrderPlaced", "OrderPaid"]
    assert shop.stock("SKU-A", "berlin").reserved == 2  # paid stock stays reserved until packed


@pytest.mark.parametrize(("fake", "operation", "when"), [
    ("gateway", "confirm_intent", "after"),  # charged, the answer lost
    ("store", "set_attributes", "before"),  # charged and answered, the outcome not recorded
])
def test_a_crash_after_the_charge_before_recording_it_is_replayed_without_a_second_charge(shop, fake, operation, when):
    order_id = placed_order(shop)
    getattr(shop, fake).faults.crash_next(operation, when=when)

    with pytest.raises(Crash):
        payments.take_payment(order_id)
    order = shop.store.require_order(order_id)
    assert order.status == OrderStatus.PAYMENT_PROCESSING and order.payment_status is None
    assert len(shop.gateway.charges) == 1  # the money is taken, the order does not know yet

    replayed = payments.take_payment(order_id)  # the workflow retries the step
    orders.confirm_paid(order_id, replayed["payment_intent_id"])

    total = shop.store.require_order(order_id).totals.total.amount
    assert replayed["status"] == "succeeded" and replayed["payment_intent_id"] == order.payment_intent_id
    assert len(shop.gateway.charges) == 1 and shop.gateway.captured(order_id) == total
    assert len(shop.gateway.of_order(order_id)) == 1  # the recorded intent was confirmed, no new one
    assert shop.store.require_order(order_id).status == OrderStatus.PAID
    assert shop.events.types == ["OrderPlaced", "OrderPlaced", "OrderPaid"]  # at least once ...
    assert len(shop.events.facts()) == 2  # ... and the same facts for consumers to dedupe


def test_a_crash_between_creating_the_intent_and_recording_it_never_charges_the_orphan(shop):
    order_id = placed_order(shop)
    shop.gateway.faults.crash_next("create_intent", when="after")

    with pytest.raises(Crash):
        payments.take_payment(order_id)
    replayed = payments.take_payment(order_id)

    orphan, recorded = shop.gateway.of_order(order_id)  # the provider ignored the idempotency key (localstripe)
    assert replayed["payment_intent_id"] == recorded.intent_id
    assert orphan.captured == 0 and orphan.status == "requires_confirmation"
    assert shop.gateway.charges == [(recorded.intent_id, recorded.amount.amount)]


def test_an_order_cancelled_while_its_payment_step_crashed_is_never_charged(shop):
    order_id = placed_order(shop)
    shop.gateway.faults.crash_next("create_intent", when="after")
    with pytest.raises(Crash):
        payments.take_payment(order_id)

    cancellation.cancel(order_id, reason="shopper", customer_id=CUSTOMER)
    retried = payments.take_payment(order_id)

    assert retried["status"] == "skipped" and shop.gateway.charges == []
    assert shop.store.require_order(order_id).status == OrderStatus.CANCELLED
    assert shop.stock("SKU-A", "berlin").reserved == 0


def test_a_decline_takes_no_money_and_the_compensation_releases_the_stock_and_the_coupon_once(shop):
    shop.add_coupon("SAVE10", global_limit=10)
    order_id = placed_order(shop, card=DECLINED, coupon="SAVE10")
    assert shop.coupon_used("SAVE10") == 1

    charged = payments.take_payment(order_id)
    abandoned = payments.abandon(order_id)
    failed = orders.fail_payment(order_id, "declined")
    again = orders.fail_payment(order_id, "declined")  # the compensation retried

    assert charged["status"] == "declined" and charged["decline_code"] == "card_declined"
    assert abandoned["status"] == "declined" and shop.gateway.charges == []
    assert failed == {"order_id": order_id, "released": True, "status": OrderStatus.PAYMENT_FAILED}
    assert again["released"] is False
    level = shop.stock("SKU-A", "berlin")
    assert (level.available, level.reserved, level.on_hand) == (5, 0, 5)
    assert shop.coupon_used("SAVE10") == 0 and shop.tables.redemptions == {}
    assert shop.tables.coupon_customers[("SAVE10", CUSTOMER)] == 0
    assert shop.events.types.count("PaymentFailed") == 2 and len(shop.events.facts()) == 2  # placed, failed


def test_an_outage_of_the_provider_takes_no_money_and_the_retry_charges_once(shop):
    order_id = placed_order(shop)
    shop.gateway.outage = True

    with pytest.raises(DependencyFailed):
        payments.take_payment(order_id)
    assert shop.gateway.intents == {}
    assert shop.store.require_order(order_id).status == OrderStatus.PAYMENT_PROCESSING

    shop.gateway.outage = False
    assert payments.take_payment(order_id)["status"] == "succeeded"
    assert len(shop.gateway.charges) == 1


def test_three_d_secure_parks_the_workflow_and_the_webhook_resumes_it_once(shop):
    order_id = placed_order(shop, card=NEEDS_AUTHENTICATION)

    charged = payments.take_payment(order_id)
    token = shop.workflow.token("auth")
    waiting = payments.await_authentication(order_id, token)

    assert charged["status"] == "requires_action" and waiting == {"waiting": True}
    order = shop.store.require_order(order_id)
    assert order.payment_client_secret and shop.store.auth_token(order_id) == token
    assert shop.gateway.charges == [] and shop.workflow.outcomes == {}
    assert orders.order_view(order)["payment"]["status"] == "requires_action"

    intent_id = charged["payment_intent_id"]
    shop.gateway.authenticate(intent_id)
    resumed = payments.on_intent_event(order_id, intent_id)
    repeated = payments.on_intent_event(order_id, intent_id)  # the webhook delivered twice

    assert resumed["resumed"] is True and repeated["resumed"] is False
    kind, output = shop.workflow.outcomes[token]
    assert kind == "success" and output["status"] == "succeeded"
    assert len(shop.gateway.charges) == 1


def test_a_closed_order_resumes_a_late_authentication_step_as_declined(shop):
    order_id = placed_order(shop, card=NEEDS_AUTHENTICATION)
    payments.take_payment(order_id)
    cancellation.cancel(order_id, reason="shopper")
    token = shop.workflow.token("auth")

    assert payments.await_authentication(order_id, token) == {"waiting": False}
    # failed, as the workflow's AuthenticationOutcome Choice once sent a declined outcome: to AbandonPayment
    assert shop.workflow.outcomes[token] == ("failure", "AuthenticationFailed")
    intent = shop.gateway.of_order(order_id)[0]
    assert intent.status == "canceled" and shop.gateway.charges == []  # abandoned: never chargeable later


# ------------------------------------------------------------------ TakePayment waits on its token (issue 17)
@pytest.mark.parametrize(("card", "kind", "sent"), [
    ("pm_card_visa", "success", "succeeded"),
    (DECLINED, "failure", "PaymentDeclined"),
])
def test_the_waiting_charge_reports_a_final_outcome_on_its_token(shop, card, kind, sent):
    order_id = placed_order(shop, card=card)
    token = shop.workflow.token("charge")

    outcome, waiting = payments.charge(order_id, token)

    assert waiting is False and shop.workflow.waiting == set()
    recorded_kind, value = shop.workflow.outcomes[token]
    assert recorded_kind == kind and (value["status"] if kind == "success" else value) == sent
    assert outcome["status"] == ("succeeded" if card == "pm_card_visa" else "declined")
    assert shop.store.auth_token(order_id) is None  # nothing parked
    total = shop.store.require_order(order_id).totals.total.amount
    assert shop.gateway.captured(order_id) == (total if kind == "success" else 0)


def test_the_waiting_charge_of_a_closed_order_fails_its_token_without_charging(shop):
    order_id = placed_order(shop)
    cancellation.cancel(order_id, reason="shopper")
    token = shop.workflow.token("charge")

    outcome, waiting = payments.charge(order_id, token)

    assert (outcome["status"], waiting) == ("skipped", False)
    assert shop.workflow.outcomes[token] == ("failure", "OrderAlreadyClosed")
    assert shop.gateway.intents == {} and shop.gateway.charges == []


@pytest.mark.parametrize("success", [True, False])
def test_the_waiting_charge_parks_its_token_for_3ds_and_a_retried_step_moves_it(shop, success):
    """3-D Secure: the step's own token waits on the order; a retried step (a new token) charges nothing twice and
    parks its own; the webhook resumes that one once (or fails it when the shopper did not authenticate)."""
    order_id = placed_order(shop, card=NEEDS_AUTHENTICATION)
    first, second = shop.workflow.token("charge"), shop.workflow.token("charge-retry")

    assert payments.charge(order_id, first)[1] is True
    outcome, waiting = payments.charge(order_id, second)

    assert outcome["status"] == "requires_action" and waiting is True
    assert shop.store.auth_token(order_id) == second and shop.workflow.outcomes == {}
    assert len(shop.gateway.of_order(order_id)) == 1  # one intent
    intent_id = outcome["payment_intent_id"]
    shop.gateway.authenticate(intent_id, success=success)
    assert payments.on_intent_event(order_id, intent_id)["resumed"] is True
    assert payments.on_intent_event(order_id, intent_id)["resumed"] is False  # the webhook again
    kind, value = shop.workflow.outcomes[second]
    assert (kind, value["status"] if success else value) == (
        ("success", "succeeded") if success else ("failure", "AuthenticationFailed"))
    total = shop.store.require_order(order_id).totals.total.amount
    assert shop.gateway.captured(order_id) == (total if success else 0)
