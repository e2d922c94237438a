"""Order status transitions (pure). Every status change in the data layer is a conditional write whose
condition is derived from this table, so concurrent actors (payment, sweeper, cancel) cannot both win."""

from __future__ import annotations

from shop.orders.models import RESERVATION_HOLDING, OrderStatus

S = OrderStatus

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING_PAYMENT: frozenset({S.PAYMENT_PROCESSING, S.PAYMENT_FAILED, S.EXPIRED, S.CANCELLED}),
    S.PAYMENT_PROCESSING: frozenset({S.PAID, S.PAYMENT_FAILED, S.CANCELLED}),
    S.PAID: frozenset({S.FULFILLING, S.CANCELLED}),
    S.FULFILLING: frozenset({S.DISPATCHING, S.CANCELLED}),
    # a carrier may report delivery without a pickup scan we saw: DISPATCHING -> DELIVERED is allowed
    S.DISPATCHING: frozenset({S.DISPATCHING, S.SHIPPED, S.DELIVERED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset(),
    S.PAYMENT_FAILED: frozenset(),
    S.EXPIRED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Statuses reached by releasing the reservation, and where each release may start from. An expiry only
# ever applies to an order nobody is paying for (PENDING_PAYMENT): once payment has started the order is
# the payment's to finish, so a sweeper racing a payment can never release stock being paid for.
RELEASE_FROM: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.EXPIRED: frozenset({S.PENDING_PAYMENT}),
    S.PAYMENT_FAILED: frozenset({S.PENDING_PAYMENT, S.PAYMENT_PROCESSING}),
    # cancellation (by the shopper, or the workflow's compensation after a fulfillment failure) is possible
    # until the first parcel is packed: after that its stock has left the shelf (DISPATCHING)
    S.CANCELLED: frozenset(RESERVATION_HOLDING),
}

CANCELLABLE = RELEASE_FROM[S.CANCELLED]
CLOSED = frozenset({S.PAYMENT_FAILED, S.EXPIRED, S.CANCELLED})
SHIPPING_STARTED = frozenset({S.DISPATCHING, S.SHIPPED, S.DELIVERED})


class InvalidTransition(ValueError):
    def __init__(self, current: OrderStatus, target: OrderStatus):
        super().__init__(f"order cannot go from {current} to {target}")
        self.current = current
        self.target = target


def can_transition(current: OrderStatus, target: OrderStatus) -> bool:
    return target in TRANSITIONS[current]


def sources_of(target: OrderStatus) -> frozenset[OrderStatus]:
    """Every status from which ``target`` can be reached directly."""
    return frozenset(s for s, targets in TRANSITIONS.items() if target in targets)


def release_sources(target: OrderStatus) -> frozenset[OrderStatus]:
    try:
        return RELEASE_FROM[target]
    except KeyError:
        raise ValueError(f"{target} is not a release outcome") from None


def check(current: OrderStatus, target: OrderStatus) -> None:
    if not can_transition(current, target):
        raise InvalidTransition(current, target)
