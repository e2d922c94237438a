"""The shopper's cart: lines (sku -> quantity) with a priced estimate for a destination.

- Reads price every line from the catalogue at read time (the cart stores only quantities), so an estimate
  always shows current prices. Lines whose SKU disappeared or was deactivated stay in the cart, shown with
  ``available`` 0 and a warning, and are left out of the totals; the shopper removes them explicitly.
- Shipping is estimated exactly as checkout charges it: the lines are allocated to warehouses by the same
  policy on the same reads (shop.inventory.allocation), grouped into one parcel per warehouse
  (shop.pricing.parcels_of) and each parcel priced by weight and route zone. A cart that cannot be
  fully allocated (short of stock: checkout would refuse it) is estimated as one parcel.
- Writes re-read the cart and write it back conditioned on the version read, retrying a bounded number of
  times on a conflict, so two concurrent updates of one cart never lose a line. Every write refreshes the
  cart's expiry (TTL); a cart read after its expiry is empty.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from shop import pricing
from shop.cart import basket
from shop.cart import repository as repo
from shop.cart.basket import Basket
from shop.config import Settings, get_settings
from shop.errors import ConfigurationError, Conflict, InvalidInput, NotFound, OutOfStock
from shop.inventory.allocation import ShipTo, Shortage, allocate, total_available
from shop.models import Sku, StockLevel, Warehouse
from shop.promotions import service as promotions

WRITE_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 0.01
COUNTRY_FIELD = "country"
QUANTITY_FIELD = "quantity"
SKU_FIELD = "sku"


@dataclass(frozen=True)
class Change:
    """What a write did, for metrics: the line's quantity before and after."""

    sku: str
    before: int
    after: int


def _now_epoch() -> int:
    return int(time.time())


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---------------------------------------------------------------------------------------------- pricing view

def destination_for(settings: Settings, country: str | None, region: str | None) -> pricing.Destination:
    """The estimate's destination; validated up front (shippable, taxed) so a write never precedes a 422."""
    dest = pricing.Destination(country=country or settings.default_country, region=region or None)
    pricing.shipping_zone(settings, dest.country, COUNTRY_FIELD)
    pricing.tax_rate_bps(settings, dest)
    return dest


def _unavailable_warning(code: str, reason: str) -> dict[str, Any]:
    return {"code": "sku_unavailable", "sku": code,
            "message": f"{code} {reason}; it is not included in the totals and cannot be checked out"}


def shipment_plan(lines: Sequence[pricing.PricedLine], stock: Mapping[str, Sequence[StockLevel]],
                  known_warehouses: Mapping[str, Warehouse], destination: pricing.Destination,
                  settings: Settings) -> list[pricing.Parcel] | None:
    """The parcels checkout would ship these lines in (same allocation policy, same reads); None when the
    stock cannot cover them."""
    if not lines:
        return []
    ship_to = ShipTo(destination.country, pricing.shipping_zone(settings, destination.country, COUNTRY_FIELD))
    try:
        allocation = allocate({ln.sku: ln.quantity for ln in lines}, stock, known_warehouses, ship_to)
    except Shortage:
        return None
    return pricing.parcels_of(allocation, {ln.sku: ln.weight_grams for ln in lines}, known_warehouses)


def build_view(cart: repo.CartRecord, skus: Mapping[str, Sku], stock: Mapping[str, Sequence[StockLevel]],
               known_warehouses: Mapping[str, Warehouse], destination: pricing.Destination,
               settings: Settings, priced_promotions: promotions.Priced | None = None) -> dict[str, Any]:
    """The cart as the API returns it (pure: all reads are done by the caller)."""
    currency = settings.currency
    items: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    priced: list[pricing.PricedLine] = []
    for code, qty in sorted(cart.items.items()):
        sku = skus.get(code)
        if sku is None:
            items.append({"sku": code, "product_id": None, "name": None, "options": {}, "quantity": qty,
                          "unit_price": None, "line_total": None, "weight_grams": None, "available": 0})
            warnings.append(_unavailable_warning(code, "is no longer sold"))
            continue
        if sku.price.currency != currency:
            raise ConfigurationError(f"sku {code} is priced in {sku.price.currency}, the shop sells in {currency}")
        available = total_available(stock.get(code, ()), known_warehouses) if sku.active else 0
        items.append({"sku": code, "product_id": sku.product_id, "name": sku.name, "options": dict(sku.options),
                      "quantity": qty, "unit_price": sku.price.model_dump(),
                      "line_total": sku.price.times(qty).model_dump(), "weight_grams": sku.weight_grams,
                      "available": available})
        if not sku.active:
            warnings.append(_unavailable_warning(code, "is currently not available"))
            continue
        if available < qty:
            warnings.append({"code": "insufficient_stock", "sku": code, "requested": qty, "available": available,
                             "message": f"only {available} of {code} in stock"})
        priced.append(pricing.PricedLine(sku=code, quantity=qty, unit_price=sku.price,
                                         weight_grams=sku.weight_grams))
    if priced_promotions is not None:
        for item in items:
            found = priced_promotions.result.lines.get(item["sku"])
            if found is not None and found.total.amount:
                item["discount"] = found.total.model_dump()
        if cart.coupon_code and priced_promotions.problem:
            warnings.append({"code": "coupon_not_applicable", "coupon": cart.coupon_code,
                             "reason": priced_promotions.problem,
                             "message": promotions.problem_message(cart.coupon_code, priced_promotions.problem)})
    breakdown = pricing.compute_totals(priced, destination, settings, currency=currency,
                                       discounts=priced_promotions.applied if priced_promotions else (),
                                       country_field=COUNTRY_FIELD,
                                       parcels=shipment_plan(priced, stock, known_warehouses, destination, settings))
    return {
        "items": items,
        "totals": breakdown.totals.model_dump(),
        "discounts": [{"code": d.code, "description": d.description, "amount": d.amount.model_dump()}
                      for d in breakdown.discounts],
        "coupon": cart.coupon_code,
        "destination": {"country": destination.country, "region": destination.region},
        "currency": currency,
        "expires_at": cart.expires_at,
        "version": cart.version,
        "warnings": warnings,
    }


def _render(cart: repo.CartRecord, destination: pricing.Destination, settings: Settings,
            read: Basket | None = None) -> dict[str, Any]:
    """The view of ``cart``, from ``read`` when it covers every line, else from one fresh batch read."""
    codes = sorted(cart.items)
    if not codes:
        return build_view(cart, {}, {}, {}, destination, settings)
    if read is None or not set(codes) <= set(read.owners) or read.coupon_code != cart.coupon_code:
        read = basket.read(basket.owners_of(codes, cart.products), settings, customer_id=cart.customer_id,
                           coupon_code=cart.coupon_code)
    skus = read.skus
    live = [c for c in codes if c in skus and skus[c].active]
    priced = basket.basket_discounts([(skus[c], cart.items[c]) for c in live], read,
                                         settings.currency) if live else None
    return build_view(cart, skus, read.stock, read.warehouses, destination, settings, priced)


def view(customer_id: str, country: str | None = None, region: str | None = None) -> dict[str, Any]:
    settings = get_settings()
    destination = destination_for(settings, country, region)
    return _render(repo.get_cart(customer_id, _now_epoch()), destination, settings)


# ---------------------------------------------------------------------------------------------- writes

def write_with_retry(customer_id: str, change: Callable[[dict[str, int]], dict[str, int] | None],
                     settings: Settings, *, attempts: int = WRITE_ATTEMPTS,
                     sleep: Callable[[float], None] = time.sleep, first: repo.CartRecord | None = None,
                     products: Mapping[str, str] | None = None, email: str | None = None) -> repo.CartRecord:
    """Optimistic read-modify-write. ``change(items)`` returns the new lines, or None when nothing changes
    (no write: the cart read is returned as is). It may raise a domain error, which aborts the write. After
    ``attempts`` conflicting writes the caller gets 409 and may retry. ``first`` is a cart the caller has just
    read (used for the first attempt); ``products`` adds known product ids of lines; ``email`` is the shopper's
    address (kept on the cart for its abandoned-cart reminder, shop.cart.reminders)."""
    for attempt in range(attempts):
        now = time.time()
        cart = first if attempt == 0 and first is not None else repo.get_cart(customer_id, int(now))
        items = change(dict(cart.items))
        if items is None:
            return cart
        try:
            return repo.save_cart(customer_id, items, cart.version, now=_iso(now),
                                  expires_at=int(now) + settings.cart_ttl_seconds, coupon_code=cart.coupon_code,
                                  products={**cart.products, **(products or {})}, email=email or cart.email,
                                  reminded_at=cart.reminded_at)
        except repo.StaleCart:
            if attempt + 1 < attempts:
                sleep(random.uniform(0.5, 1.5) * BACKOFF_BASE_SECONDS * 2**attempt)
    raise Conflict("the cart was changed concurrently; retry the request")


def _check_line(settings: Settings, cart: repo.CartRecord, code: str, quantity: int,
                looked_up: Mapping[str, str] | None = None) -> Basket:
    """The SKU is sold and the quantity can currently be supplied (over all known warehouses). Returns the
    batch read of the cart's lines and this one, for the view after the write. ``looked_up``: the product of
    ``code`` read with the cart (basket.cart_and_owner; empty: no such SKU)."""
    products = {**cart.products, **(looked_up or {})}
    if looked_up is not None and code not in products:
        raise NotFound(f"sku {code} not found", details={"sku": code})
    owners = basket.owners_of(sorted(set(cart.items) | {code}), products)
    if code not in owners:
        raise NotFound(f"sku {code} not found", details={"sku": code})
    read = basket.read(owners, settings, customer_id=cart.customer_id, coupon_code=cart.coupon_code)
    sku = read.skus.get(code)
    if sku is None or not sku.active:
        raise NotFound(f"sku {code} not found", details={"sku": code})
    if sku.price.currency != settings.currency:
        raise ConfigurationError(f"sku {code} is priced in {sku.price.currency}, the shop sells in "
                                 f"{settings.currency}")
    available = total_available(read.stock.get(code, []), read.warehouses)
    if quantity > available:  # stock may sit in a warehouse added since the copy of the list was read
        stock, known = basket.fresh_stock(sorted(owners), settings)
        read = replace(read, stock=stock, warehouses=known)
        available = total_available(read.stock.get(code, []), read.warehouses)
    if quantity > available:
        raise OutOfStock(f"only {available} of sku {code} available",
                         details={"skus": [{"sku": code, "requested": quantity, "available": available}]})
    return read


def set_quantity(customer_id: str, code: str, quantity: int, country: str | None = None,
                 region: str | None = None, *, email: str | None = None) -> tuple[dict[str, Any], Change]:
    """Set a line's quantity (0 removes it); returns the updated cart view and what changed."""
    settings = get_settings()
    destination = destination_for(settings, country, region)
    if quantity > settings.max_line_quantity:
        raise InvalidInput(QUANTITY_FIELD, f"must be at most {settings.max_line_quantity}")
    if quantity == 0:
        return remove(customer_id, code, country, region)
    first, looked_up = basket.cart_and_owner(customer_id, code, _now_epoch())
    read = _check_line(settings, first, code, quantity, looked_up)
    before = 0

    def change(items: dict[str, int]) -> dict[str, int]:
        nonlocal before
        before = items.get(code, 0)
        if code not in items and len(items) >= settings.max_cart_lines:
            raise InvalidInput(SKU_FIELD, f"the cart already has the maximum of {settings.max_cart_lines} "
                                          "lines; remove one first")
        items[code] = quantity
        return items

    cart = write_with_retry(customer_id, change, settings, first=first, products=read.owners, email=email)
    return _render(cart, destination, settings, read), Change(sku=code, before=before, after=quantity)


def remove(customer_id: str, code: str, country: str | None = None,
           region: str | None = None) -> tuple[dict[str, Any], Change]:
    """Remove a line (whether or not its SKU still exists); removing an absent line changes nothing."""
    settings = get_settings()
    destination = destination_for(settings, country, region)
    before = 0

    def change(items: dict[str, int]) -> dict[str, int] | None:
        nonlocal before
        before = items.pop(code, 0)
        return items if before else None

    cart = write_with_retry(customer_id, change, settings)
    return _render(cart, destination, settings), Change(sku=code, before=before, after=0)


# ---------------------------------------------------------------------------------------------- coupon

def set_coupon(customer_id: str, code: str | None, country: str | None = None,
               region: str | None = None) -> dict[str, Any]:
    """Put a coupon on the cart (one per cart: it replaces the one there), or take it off (None). An unknown
    code is refused (404); one that does not apply right now stays on the cart with a warning that says why
    (it may apply once the cart grows), and checkout refuses it explicitly."""
    settings = get_settings()
    destination = destination_for(settings, country, region)
    if code is not None and promotions.repo.coupon_record(code) is None:
        raise NotFound(f"coupon {code} not found")
    for attempt in range(WRITE_ATTEMPTS):
        now = time.time()
        cart = repo.get_cart(customer_id, int(now))
        try:
            saved = repo.save_cart(customer_id, cart.items, cart.version, now=_iso(now),
                                   expires_at=int(now) + settings.cart_ttl_seconds, coupon_code=code,
                                   products=cart.products, email=cart.email, reminded_at=cart.reminded_at)
            return _render(saved, destination, settings)
        except repo.StaleCart:
            time.sleep(random.uniform(0.5, 1.5) * BACKOFF_BASE_SECONDS * 2**attempt)
    raise Conflict("the cart was changed concurrently; retry the request")
