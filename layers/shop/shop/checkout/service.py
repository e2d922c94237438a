"""Checkout: turn the shopper's cart into an order holding reserved stock, exactly once per Idempotency-Key.

The whole request is one transaction plus two reads (issue 7's budget):

1. order_id is derived from (customer, Idempotency-Key). ONE batch read gets the cart and that order: if the
   order exists this is a replay, answered from it (the same request body is required: its hash is stored on
   the order, a different body is 422 idempotency_key_reused). The order item is the idempotency record, so
   a retry finds its order forever, and the conditional order Put makes placing it twice impossible.
2. ONE batch read (shop.cart.basket) gets the lines' SKUs and products, their stock levels in every known
   warehouse, the sales and the coupon with this customer's uses of it. An allocation is computed
   (shop.inventory.allocation); if a SKU is short, the warehouse list is re-read (it may be a copy up to a
   minute old) and, if still short, 409 out_of_stock names every short SKU and nothing is written.
3. ONE TransactWriteItems reserves every allocation (available >= q; on a sharded level from a random shard
   that holds enough, shop.inventory.shards), puts the order and empties the cart
   on the version read, and counts the coupon's use. A stock condition failure means someone else reserved
   first: re-read the stock (one batch read) and retry (bounded, with jitter), then 409 naming the short
   SKUs, or 503 if stock exists but stays contended.
4. The order workflow is started with execution name = order_id (a second start is a no-op).

The store (reads and the transaction) and the workflow client are read at call time from shop.checkout.ports
and shop.orders.ports (production: DynamoDB and Step Functions; a fast test tier installs in-memory fakes).

Shipping is priced on the shipment plan of the allocation that is reserved (one parcel per warehouse,
shop.pricing.parcels_of; each by its weight and its route zone, origin warehouse country ->
destination country): the shopper pays what the order's labels will cost, and the cart's estimate is the
same computation on the same reads. When the shopper sends the total they saw (``expected_total``) and the
computed total differs (a price, a sale or the shipment plan changed), the checkout is refused with 409
price_changed carrying the new totals, before anything is written.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import time
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shop import pricing
from shop.cart import basket
from shop.checkout import repository as repo
from shop.checkout.idempotency import IdempotencyKeyReused
from shop.checkout.ports import CouponUse
from shop.checkout.ports import ports as checkout_ports
from shop.config import get_settings
from shop.errors import Conflict, InvalidInput, OutOfStock, ServiceBusy
from shop.inventory import shards
from shop.inventory.allocation import ShipTo, Shortage, allocate
from shop.models import Address, Sku
from shop.money import Money
from shop.orders.models import Order, OrderLine, OrderStatus, TimelineEntry
from shop.orders.ports import ports as order_ports
from shop.orders.service import order_view
from shop.orders.workflow_contracts import order_workflow_input
from shop.promotions import service as promotions

RESERVE_ATTEMPTS = 5
ORDER_WORKFLOW = "order_state_machine_arn"  # the setting naming the order state machine

PaymentMethodId = Annotated[str, StringConstraints(pattern=r"^pm_[A-Za-z0-9_]{1,200}$")]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                         pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class CheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shipping_address: Address
    payment_method_id: PaymentMethodId = Field(description="Stripe PaymentMethod id (pm_...)")
    email: Email | None = None
    expected_total: Money | None = Field(
        None, description="Optional: the order total the shopper was shown (as in the cart's totals.total: "
                          "Money {amount in minor units, currency}). When given and the total computed now differs "
                          "(a price, a promotion or the shipment plan changed), nothing is written and the answer "
                          "is 409 price_changed with the new totals in error.details.totals.")


class PriceChanged(Conflict):
    """The total computed at checkout is not the total the shopper saw (expected_total)."""

    code = "price_changed"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def order_id_for(customer_id: str, idempotency_key: str) -> str:
    digest = hashlib.sha256(f"{customer_id}\n{idempotency_key}".encode()).digest()
    return "ord_" + base64.b32encode(digest).decode().rstrip("=").lower()[:26]


def _short_details(short: list[Any]) -> dict[str, Any]:
    return {"skus": [{"sku": s.sku, "requested": s.requested, "available": s.available} for s in short]}


def _out_of_stock(exc: Shortage) -> OutOfStock:
    return OutOfStock(f"not enough stock for {', '.join(s.sku for s in exc.short)}", details=_short_details(exc.short))


def priced_lines(items: dict[str, int], skus: dict[str, Sku]) -> list[pricing.PricedLine]:
    return [pricing.PricedLine(sku=code, quantity=qty, unit_price=skus[code].price,
                               weight_grams=skus[code].weight_grams) for code, qty in sorted(items.items())]


def checkout_result(order: Order, *, replayed: bool) -> dict[str, Any]:
    view = order_view(order)
    return {"order_id": view["order_id"], "status": view["status"], "totals": view["totals"],
            "lines": view["lines"], "reservation_expires_at": view["reservation_expires_at"],
            "payment": view["payment"], "replayed": replayed}


def request_hash(body: CheckoutIn) -> str:
    fields = body.model_dump(mode="json")
    if fields.get("expected_total") is None:  # absent: the same hash as before the field existed
        fields.pop("expected_total", None)
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def start_workflow(order_id: str) -> bool:
    """Start the order workflow with execution name = order_id (input: OrderWorkflowInput, with how long its payment
    step waits, the charge and the shopper's 3-D Secure together). False if it was already started."""
    return order_ports.workflow.start(ORDER_WORKFLOW, order_id, order_workflow_input(order_id))


def _replay(existing: Order, customer_id: str, body_hash: str) -> dict[str, Any]:
    if existing.customer_id != customer_id:
        raise Conflict("this Idempotency-Key belongs to another checkout")
    if existing.request_hash is not None and existing.request_hash != body_hash:
        raise IdempotencyKeyReused("header.Idempotency-Key", "was already used for a different checkout request")
    if existing.status == OrderStatus.PENDING_PAYMENT:
        start_workflow(existing.order_id)
    return checkout_result(existing, replayed=True)


def _replay_if_placed(order_id: str, customer_id: str, body_hash: str) -> dict[str, Any] | None:
    existing = order_ports.store.get_order(order_id)
    return _replay(existing, customer_id, body_hash) if existing is not None else None


def place_order(customer_id: str, email: str | None, idempotency_key: str, body: CheckoutIn,
                on_event: Any = None) -> dict[str, Any]:
    """Returns the checkout result (order summary); on_event(name) is told OrderPlaced / CheckoutOutOfStock."""
    emit = on_event or (lambda _name: None)
    settings = get_settings()
    order_id = order_id_for(customer_id, idempotency_key)
    body_hash = request_hash(body)
    store = checkout_ports.store
    cart, existing = store.read_cart_and_order(customer_id, order_id, int(time.time()))
    if existing is not None:
        return _replay(existing, customer_id, body_hash)
    if not cart.items:
        raise InvalidInput("cart", "the cart is empty")

    codes = sorted(cart.items)
    read = store.read_basket(store.owners_of(codes, cart.products), settings, customer_id=customer_id,
                             coupon_code=cart.coupon_code)
    skus = read.skus
    gone = [code for code in codes if code not in skus or not skus[code].active]
    if gone:
        raise Conflict(f"no longer sold: {', '.join(gone)}; remove them from the cart", details={"skus": gone})
    address = body.shipping_address
    offers = basket.basket_discounts([(skus[c], cart.items[c]) for c in codes], read, settings.currency)
    if cart.coupon_code and offers is not None and offers.problem:
        raise promotions.CouponNotApplicable(promotions.problem_message(cart.coupon_code, offers.problem),
                                             details={"coupon": cart.coupon_code, "reason": offers.problem})
    coupon = offers.coupon if offers else None
    ship_to = ShipTo(address.country, pricing.shipping_zone(settings, address.country,
                                                            "shipping_address.country"))
    stock, known, fresh = read.stock, read.warehouses, False

    outcome = repo.Outcome.CONTENDED
    for attempt in range(RESERVE_ATTEMPTS):
        try:
            allocation = shards.expand(allocate(cart.items, stock, known, ship_to), stock)
        except Shortage as exc:
            if not fresh:  # the warehouse list may be a copy from before a warehouse was added: look again
                (stock, known), fresh = store.fresh_stock(codes, settings), True
                continue
            emit("CheckoutOutOfStock")
            raise _out_of_stock(exc) from exc
        # shipping is what this allocation's parcels will cost: priced per attempt, since a retry after a lost
        # race may allocate from other warehouses
        breakdown = pricing.compute_totals(
            priced_lines(cart.items, skus), pricing.Destination(address.country, address.region), settings,
            discounts=offers.applied if offers else (), country_field="shipping_address.country",
            parcels=pricing.parcels_of(allocation, {c: skus[c].weight_grams for c in codes}, known))
        if body.expected_total is not None and body.expected_total != breakdown.totals.total:
            emit("CheckoutPriceChanged")
            raise PriceChanged(
                f"the order total is now {breakdown.totals.total}, not the {body.expected_total} you were shown; "
                "review the cart and check out again",
                details={"expected_total": body.expected_total.model_dump(),
                         "totals": breakdown.totals.model_dump(mode="json")})
        now = now_iso()
        now_epoch = int(time.time())
        order = Order(
            order_id=order_id, customer_id=customer_id, email=body.email or email, status=OrderStatus.PENDING_PAYMENT,
            lines=[OrderLine(sku=code, product_id=skus[code].product_id, name=skus[code].name, quantity=qty,
                             unit_price=skus[code].price, weight_grams=skus[code].weight_grams,
                             allocations=allocation[code],
                             discount=promotions.line_discount(offers, code, settings.currency) if offers else None)
                   for code, qty in sorted(cart.items.items())],
            coupon_code=coupon["code"] if coupon else None, tax_rate_bps=breakdown.tax_rate_bps,
            totals=breakdown.totals, shipping_address=address, payment_method_id=body.payment_method_id,
            created_at=now, updated_at=now, reservation_expires_at=now_epoch + settings.reservation_ttl_seconds,
            timeline=[TimelineEntry(at=now, status=OrderStatus.PENDING_PAYMENT, note="stock reserved")],
            request_hash=body_hash,
            # decided now and kept with the order: the shopper is told, the label can ask for it, and a later
            # change of the threshold does not re-judge parcels already on their way
            signature_required=breakdown.totals.total.amount > settings.signature_required_above,
        )
        if repo.transaction_size(order) > repo.MAX_TRANSACTION_ITEMS:
            raise InvalidInput("cart", "the order needs too many stock reservations for one checkout; "
                                       "split it into smaller orders")
        coupon_use = CouponUse(coupon["code"], customer_id, order_id, coupon.get("global_limit"),
                               int(coupon["per_customer_limit"]), now) if coupon else None
        outcome = store.reserve_and_place(order, customer_id, cart.version, now, coupon_use)
        if outcome == repo.Outcome.PLACED:
            emit("OrderPlaced")
            start_workflow(order_id)
            return checkout_result(order, replayed=False)
        if outcome in (repo.Outcome.ORDER_EXISTS, repo.Outcome.CART_CHANGED, repo.Outcome.UNKNOWN):
            # a concurrent request with the same key placed it (and emptied the cart), or our own transaction
            # was applied without its answer reaching us: answer as a replay. (One applied later still is
            # found by the next attempt: its order Put fails, ORDER_EXISTS.)
            replay = _replay_if_placed(order_id, customer_id, body_hash)
            if replay is not None:
                return replay
        if outcome == repo.Outcome.COUPON_EXHAUSTED:
            emit("CouponExhausted")
            raise promotions.CouponNotApplicable(
                f"coupon {cart.coupon_code} has been used up; remove it to check out without it",
                details={"coupon": cart.coupon_code, "reason": "exhausted"})
        if outcome == repo.Outcome.CART_CHANGED:
            raise Conflict("the cart changed during checkout; review it and check out again",
                           details={"reason": "cart_changed"})
        time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
        stock = store.read_stock(codes, list(known), settings)
    # still failing: report shortage if there is one now, else ask the client to retry
    try:
        allocate(cart.items, stock, known)
    except Shortage as exc:
        emit("CheckoutOutOfStock")
        raise _out_of_stock(exc) from exc
    raise ServiceBusy(f"checkout is contended ({outcome}), retry with the same Idempotency-Key")
