"""Checkout's idempotency: the order item is the idempotency record.

The order id is derived from (customer, Idempotency-Key) (service.order_id_for) and the order Put in the
checkout transaction is conditional on the order not existing, so one key places at most one order, for as
long as the order exists (not only for an expiry window). The hash of the request body is stored on the order;
a replay with a different body is refused with 422 idempotency_key_reused, a replay with the same body gets
the order (``replayed: true``). Concurrent duplicates race in the transaction: one places the order, the
other finds it and answers as a replay.

Powertools' idempotency utility (used by the payment and webhook handlers) is not used here: it costs a write
before and a write after every checkout, and checkout's budget is one transaction plus two reads.
"""

from __future__ import annotations

from shop.idempotency import IdempotencyKeyReused

__all__ = ["IdempotencyKeyReused"]
