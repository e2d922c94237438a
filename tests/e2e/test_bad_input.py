"""Bad input over real HTTP against the local gateway: every refusal is a 4xx, never a 5xx, with the project's
JSON error envelope naming the offending field, and a refused write leaves nothing behind (cart, stock,
orders, tickets, shipments as they were).

Error shapes: a function answers ``{"error": {"code", "message", "details"?}}``; input errors (400, 413, 415,
422) list the offending fields in ``details.fields``. The gateway itself answers API Gateway's
``{"message": ...}`` for 401 (token) and 403 (no such route or method).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
import requests
from shop.orderflow.webhooks import carrier_signature

from shoplocal.stack import CARRIER_WEBHOOK_SECRET, STRIPE_WEBHOOK_SECRET
from tests.factories import (
    ADDRESS,
    Product,
    make_product,
    ok,
    order_item,
    order_view,
    pick_and_pack,
    put_in_cart,
    stock_of,
    stripe_signature,
    uid,
    wait_for,
    wait_paid,
)

# one worker runs the whole module (pytest -n 2 --dist loadgroup): its module fixtures (a product, and an order
# placed, paid, packed and shipped) are built once, not once on each worker
pytestmark = [pytest.mark.e2e, pytest.mark.audited, pytest.mark.xdist_group("bad_input")]

TIMEOUT = 15
BODY_LIMIT = 64 * 1024  # shop.api.MAX_BODY_BYTES
WEBHOOK_BODY_LIMIT = 256 * 1024  # shop.orderflow.webhooks.MAX_BODY_BYTES


# ---------------------------------------------------------------------------------------------- helpers
class Http:
    """requests against the gateway's HTTP port."""

    def __init__(self, base_url: str):
        self.base = base_url
        self.session = requests.Session()

    def __call__(self, method: str, path: str, *, token: str | None = None, json_body: Any = None,
                 data: str | bytes | None = None, headers: dict[str, str] | None = None,
                 auth_header: str | None = None) -> requests.Response:
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        if auth_header is not None:
            hdrs["Authorization"] = auth_header
        if json_body is not None:
            data = json.dumps(json_body)
        return self.session.request(method, self.base + path, data=data, headers=hdrs, timeout=TIMEOUT)


def refused(resp: requests.Response, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """The function's error envelope with this status and code; with ``field``, that field is named."""
    assert resp.status_code == status, (resp.status_code, resp.text[:500])
    assert resp.headers["Content-Type"].startswith("application/json")
    error = resp.json()["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"], error
    if field is not None:
        named = [f["field"] for f in error["details"]["fields"]]
        assert field in named, (field, error)
        assert all(f["message"] for f in error["details"]["fields"]), error
    return dict(error)


def gateway_refused(resp: requests.Response, status: int, message: str) -> None:
    """API Gateway's own answer: the function never ran."""
    assert resp.status_code == status, (resp.status_code, resp.text[:500])
    assert resp.json() == {"message": message}
    assert resp.headers.get("apigw-requestid")


def cart(http: Http, token: str) -> list[tuple[str, int]]:
    resp = http("GET", "/cart", token=token)
    assert resp.status_code == 200, resp.text
    return sorted((i["sku"], i["quantity"]) for i in resp.json()["items"])


def orders_of(http: Http, token: str) -> list[str]:
    resp = http("GET", "/orders", token=token)
    assert resp.status_code == 200, resp.text
    return [o["order_id"] for o in resp.json()["items"]]


@dataclass
class Shop:
    stack: Any
    http: Http
    admin: str
    product: Product
    shopper: Any  # has one line of ``sku`` x2 in the cart, never checks out
    stock: dict[str, dict[str, int]]

    @property
    def sku(self) -> str:
        return self.product.skus[0]

    @property
    def warehouse(self) -> str:
        return self.product.warehouses[0]

    def unchanged(self) -> None:
        """The shopper's cart and the SKU's stock are as the fixture left them."""
        assert cart(self.http, self.shopper.id_token) == [(self.sku, 2)]
        assert stock_of(self.stack, self.sku) == self.stock
        assert orders_of(self.http, self.shopper.id_token) == []


@pytest.fixture(scope="module")
def shop(stack: Any, admin: Any) -> Shop:
    http = Http(stack.base_url)
    product = make_product(stack, admin.id_token, stock={"a": 5})
    shopper = stack.user()
    put_in_cart(stack, shopper.id_token, product.skus[0], 2)
    return Shop(stack, http, admin.id_token, product, shopper, stock_of(stack, product.skus[0]))


@dataclass
class Placed:
    """A paid, packed order of shopper ``owner`` with a carrier label: the target of the ownership and
    webhook cases."""

    owner: Any
    order_id: str
    tracking_number: str


@pytest.fixture(scope="module")
def placed(stack: Any, admin: Any, staff: Any, shop: Shop) -> Placed:
    product = make_product(stack, admin.id_token, stock={"a": 3})
    owner = stack.user()
    put_in_cart(stack, owner.id_token, product.skus[0], 1)
    resp = shop.http("POST", "/checkout", token=owner.id_token, json_body={
        "shipping_address": ADDRESS, "payment_method_id": "pm_card_visa"},
        headers={"Idempotency-Key": f"bad-input-{uid(12)}"})
    assert resp.status_code == 201, resp.text
    order_id = resp.json()["order_id"]
    wait_paid(stack, order_id)
    pick_and_pack(stack, staff.id_token, order_id, product.warehouses[0])
    tracking = wait_for(lambda: order_view(stack, owner.id_token, order_id)["shipments"][0]["tracking_number"],
                        30, f"the label of {order_id}")
    return Placed(owner, order_id, str(tracking))


# ---------------------------------------------------------------------------------------------- body size
def test_a_body_over_the_limit_is_413_naming_the_body_and_nothing_is_written(shop: Shop) -> None:
    pad = "x" * BODY_LIMIT
    big = shop.http("PUT", f"/cart/items/{shop.sku}", token=shop.shopper.id_token,
                    json_body={"quantity": 1, "note": pad})
    error = refused(big, 413, "payload_too_large", "body")
    assert error["details"]["limit_bytes"] == BODY_LIMIT
    checkout = shop.http("POST", "/checkout", token=shop.shopper.id_token,
                         headers={"Idempotency-Key": f"big-{uid(12)}"},
                         json_body={"shipping_address": {**ADDRESS, "line2": pad}, "payment_method_id": "pm_card_visa"})
    refused(checkout, 413, "payload_too_large", "body")
    admin = shop.http("POST", "/admin/products", token=shop.admin, data="[" + " " * BODY_LIMIT + "]")
    refused(admin, 413, "payload_too_large", "body")
    # the limit is exactly the documented one: a body of BODY_LIMIT bytes is read (and refused for what it says)
    exact = json.dumps({"quantity": 1, "note": ""})
    exact = exact[:-2] + "x" * (BODY_LIMIT - len(exact)) + '"}'
    assert len(exact.encode()) == BODY_LIMIT
    refused(shop.http("PUT", f"/cart/items/{shop.sku}", token=shop.shopper.id_token, data=exact),
            422, "validation_error", "body.note")
    one_more = exact[:-2] + 'x"}'
    refused(shop.http("PUT", f"/cart/items/{shop.sku}", token=shop.shopper.id_token, data=one_more),
            413, "payload_too_large", "body")
    shop.unchanged()


def test_a_webhook_body_over_its_limit_is_413_before_the_signature_is_looked_at(shop: Shop) -> None:
    body = json.dumps({"event_id": "evt", "pad": "x" * WEBHOOK_BODY_LIMIT})
    for path, header in (("/webhooks/carrier", "Carrier-Signature"), ("/webhooks/stripe", "Stripe-Signature")):
        resp = shop.http("POST", path, data=body, headers={header: "t=1,v1=00"})
        refused(resp, 413, "payload_too_large", "body")


# ---------------------------------------------------------------------------------------------- unreadable bodies
NOT_JSON: list[tuple[str, str | bytes]] = [
    ("truncated", '{"quantity": 1'),
    ("bare word", "nope"),
    ("single quotes", "{'quantity': 1}"),
    ("trailing comma", '{"quantity": 1,}'),
    ("not utf-8", b'{"quantity": "\xff\xfe"}'),
    ("nested too deeply", "[" * 20_000 + "]" * 20_000),  # 40 kB, under the size limit
]


@pytest.mark.parametrize(("label", "body"), NOT_JSON, ids=[label for label, _ in NOT_JSON])
def test_a_body_that_is_not_json_is_400_naming_the_body(shop: Shop, label: str, body: str | bytes) -> None:
    for method, path, token, headers in (
            ("PUT", f"/cart/items/{shop.sku}", shop.shopper.id_token, {}),
            ("POST", "/checkout", shop.shopper.id_token, {"Idempotency-Key": f"nojson-{uid(12)}"}),
            ("PUT", f"/admin/inventory/{shop.sku}/{shop.warehouse}", shop.admin, {})):
        refused(shop.http(method, path, token=token, data=body, headers=headers), 400, "malformed_json", "body")
    shop.unchanged()


def test_an_empty_or_missing_body_is_422_naming_the_body(shop: Shop) -> None:
    for body in ("", None):
        refused(shop.http("PUT", f"/cart/items/{shop.sku}", token=shop.shopper.id_token, data=body),
                422, "validation_error", "body")
    refused(shop.http("PUT", f"/cart/items/{shop.sku}", token=shop.shopper.id_token, data="null"),
            422, "validation_error", "body")
    shop.unchanged()


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data",
                                          "multipart/form-data; boundary=x"])
def test_a_body_of_another_media_type_is_415_naming_the_content_type(shop: Shop, content_type: str) -> None:
    resp = shop.http("PUT", f"/cart/items/{shop.sku}", token=shop.shopper.id_token,
                     data='{"quantity": 1}', headers={"Content-Type": content_type})
    refused(resp, 415, "unsupported_media_type", "header.Content-Type")
    shop.unchanged()


# ---------------------------------------------------------------------------------------------- wrong values
WRONG_QUANTITIES: list[tuple[str, Any]] = [
    ("string", "2"), ("true", True), ("float", 1.5), ("null", None), ("list", [1]), ("object", {"n": 1}),
    ("negative", -1), ("huge", 10**30), ("infinite", "1e400"), ("over the per-line maximum", 101),
]


@pytest.mark.parametrize(("label", "quantity"), WRONG_QUANTITIES, ids=[label for label, _ in WRONG_QUANTITIES])
def test_a_wrong_cart_quantity_is_422_naming_body_quantity(shop: Shop, label: str, quantity: Any) -> None:
    data = '{"quantity": 1e400}' if quantity == "1e400" else json.dumps({"quantity": quantity})
    resp = shop.http("PUT", f"/cart/items/{shop.sku}", token=shop.shopper.id_token, data=data)
    refused(resp, 422, "invalid_input" if label == "over the per-line maximum" else "validation_error",
            "body.quantity")
    shop.unchanged()


def test_zero_removes_a_line_and_is_not_an_error(stack: Any, shop: Shop) -> None:
    other = stack.user()
    put_in_cart(stack, other.id_token, shop.sku, 1)
    resp = shop.http("PUT", f"/cart/items/{shop.sku}", token=other.id_token, json_body={"quantity": 0})
    assert resp.status_code == 200 and resp.json()["items"] == []


def test_an_unknown_or_malformed_sku_is_refused_naming_it(shop: Shop) -> None:
    unknown = f"NO-SUCH-{uid().upper()}"
    error = refused(shop.http("PUT", f"/cart/items/{unknown}", token=shop.shopper.id_token,
                              json_body={"quantity": 1}), 404, "not_found")
    assert error["details"] == {"sku": unknown}
    for malformed in ("lower-case", "A", "X" * 41, "WITH%20SPACE"):
        refused(shop.http("PUT", f"/cart/items/{malformed}", token=shop.shopper.id_token,
                          json_body={"quantity": 1}), 422, "validation_error", "path.sku")
    shop.unchanged()


def test_extra_fields_are_422_naming_them(shop: Shop) -> None:
    refused(shop.http("PUT", f"/cart/items/{shop.sku}", token=shop.shopper.id_token,
                      json_body={"quantity": 1, "unit_price": 1}), 422, "validation_error", "body.unit_price")
    key = f"extra-{uid(12)}"
    checkout = {"shipping_address": ADDRESS, "payment_method_id": "pm_card_visa"}
    refused(shop.http("POST", "/checkout", token=shop.shopper.id_token, headers={"Idempotency-Key": key},
                      json_body={**checkout, "total": {"amount": 1, "currency": "EUR"}}),
            422, "validation_error", "body.total")
    refused(shop.http("POST", "/checkout", token=shop.shopper.id_token, headers={"Idempotency-Key": key},
                      json_body={**checkout, "shipping_address": {**ADDRESS, "vat_id": "DE1"}}),
            422, "validation_error", "body.shipping_address.vat_id")
    shop.unchanged()


def test_refused_checkouts_reserve_nothing_and_create_no_order(shop: Shop) -> None:
    from shop.checkout.service import order_id_for

    good = {"shipping_address": ADDRESS, "payment_method_id": "pm_card_visa"}
    fresh = ""  # a new valid Idempotency-Key per case
    cases: list[tuple[str | None, Any, str]] = [
        (None, good, "header.Idempotency-Key"),
        ("short", good, "header.Idempotency-Key"),
        ("has spaces in it", good, "header.Idempotency-Key"),
        (fresh, {**good, "shipping_address": "Unter den Linden 1, Berlin"}, "body.shipping_address"),
        (fresh, {**good, "shipping_address": {**ADDRESS, "country": "Germany"}}, "body.shipping_address.country"),
        (fresh, {**good, "shipping_address": {k: v for k, v in ADDRESS.items() if k != "city"}},
         "body.shipping_address.city"),
        (fresh, {**good, "payment_method_id": 4242}, "body.payment_method_id"),
        (fresh, {**good, "payment_method_id": "card_4242"}, "body.payment_method_id"),
        (fresh, {"shipping_address": ADDRESS}, "body.payment_method_id"),
    ]
    for given, body, field in cases:
        key = f"refused-{uid(12)}" if given == fresh else given
        headers = {} if key is None else {"Idempotency-Key": key}
        resp = shop.http("POST", "/checkout", token=shop.shopper.id_token, headers=headers, json_body=body)
        refused(resp, 422, "validation_error" if field.startswith("body.") else "invalid_input", field)
        if key is not None:
            with pytest.raises(KeyError):
                order_item(shop.stack, order_id_for(shop.shopper.user_id, key))
    shop.unchanged()


def test_wrong_admin_values_are_422_and_leave_the_stock_as_it_was(shop: Shop) -> None:
    path = f"/admin/inventory/{shop.sku}/{shop.warehouse}"
    for body, field in (({"on_hand": "5"}, "body.on_hand"), ({"on_hand": -1}, "body.on_hand"),
                        ({"on_hand": 10**12}, "body.on_hand"), ({"on_hand": 5, "available": 5}, "body.available"),
                        ({"on_hand": 5, "reorder_point": -1}, "body.reorder_point")):
        refused(shop.http("PUT", path, token=shop.admin, json_body=body), 422, "validation_error", field)
    for body, field in (({"delta": 0, "reason": "found"}, "body.delta"),
                        ({"delta": 10**9, "reason": "found"}, "body.delta"),
                        ({"delta": 1, "reason": "because"}, "body.reason"),
                        ({"delta": "1", "reason": "found"}, "body.delta")):
        refused(shop.http("POST", path + "/adjustments", token=shop.admin, json_body=body),
                422, "invalid_input" if body["delta"] == 0 else "validation_error", field)
    refused(shop.http("PUT", f"/admin/skus/{shop.sku}/price", token=shop.admin,
                      json_body={"price": {"amount": -100, "currency": "EUR"}}), 422, "validation_error",
            "body.price.amount")
    refused(shop.http("PUT", f"/admin/skus/{shop.sku}/price", token=shop.admin,
                      json_body={"price": {"amount": "19.99", "currency": "EUR"}}), 422, "validation_error",
            "body.price.amount")
    for quantity in (0, -5, 10**30):
        refused(shop.http("POST", "/admin/purchase-orders", token=shop.admin, json_body={
            "supplier_id": "acme", "warehouse_id": shop.warehouse, "lines": [{"sku": shop.sku, "quantity": quantity}]}),
            422, "validation_error", "body.lines.0.quantity")
    shop.unchanged()


def test_wrong_types_for_dates_and_flags_are_422(shop: Shop) -> None:
    refused(shop.http("GET", "/admin/reports/daily?date=0", token=shop.admin), 422, "validation_error",
            "query.date")
    refused(shop.http("GET", "/admin/analytics/sales?from=1700000000&to=2026-01-01", token=shop.admin),
            422, "validation_error", "query.from")
    supplier = f"sup-{uid()}"
    refused(shop.http("PUT", f"/admin/suppliers/{supplier}", token=shop.admin, json_body={
        "name": "Acme", "email": "a@example.com", "currency": "EUR", "active": 0}), 422, "validation_error",
            "body.active")
    listed = shop.http("GET", "/admin/suppliers", token=shop.admin).json()["items"]
    assert all(s["supplier_id"] != supplier for s in listed)


def test_a_boolean_for_a_category_sort_order_is_refused(shop: Shop) -> None:
    resp = shop.http("PUT", f"/admin/categories/lax-{uid()}", token=shop.admin,
                     json_body={"name": "Lax", "sort_order": False})
    refused(resp, 422, "validation_error", "body.sort_order")


def test_a_number_for_a_coupon_date_is_refused(shop: Shop) -> None:
    resp = shop.http("PUT", f"/admin/coupons/LAX{uid().upper()}", token=shop.admin, json_body={
        "percent": 10, "starts_at": 0, "ends_at": "2099-01-01T00:00:00Z"})
    refused(resp, 422, "validation_error", "body.starts_at")


# ---------------------------------------------------------------------------------------------- tokens
def moto_signing_key() -> Any:
    """The private key moto signs every Cognito token with (kid "dummy"): tokens signed with it carry a valid
    signature, so only the authorizer's claim checks can refuse them."""
    from moto.utilities.utils import load_resource

    return jwt.PyJWK(load_resource("cognitoidp/resources/jwks-private.json")).key


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged_tokens(real: str) -> dict[str, str]:
    """Variants of a real ID token (same user) that the HTTP API's JWT authorizer must refuse. It checks the
    signature, expiry, issuer and audience, not token_use or sub: a token Cognito signed without those is no
    forgery (an access token passes; a function refuses a token without sub itself)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    kid = jwt.get_unverified_header(real)["kid"]
    claims = jwt.decode(real, options={"verify_signature": False})
    key = moto_signing_key()
    now = int(time.time())

    def sign(**changes: Any) -> str:
        payload = {k: v for k, v in {**claims, **changes}.items() if v is not None}
        return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})

    head, payload, signature = real.split(".")
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    hs_head = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    hs_mac = b64url(hmac.new(public_pem, f"{hs_head}.{payload}".encode(), hashlib.sha256).digest())
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "control: re-signed unchanged": sign(),  # must pass: the forgeries below fail on what they change
        "bad signature": f"{head}.{payload}.{signature[:-8]}{'A' * 8 if signature[-8:] != 'A' * 8 else 'B' * 8}",
        "signed with another key": jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": kid}),
        "unknown key id": jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "stranger"}),
        "expired": sign(iat=now - 7200, exp=now - 3600),
        "wrong audience": sign(aud="another-app-client"),
        "wrong issuer": sign(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_OTHERPOOL"),
        "without expiry": sign(exp=None),
        "alg none": f"{b64url(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{payload}.",
        "alg HS256 keyed with the public key": f"{hs_head}.{payload}.{hs_mac}",
        "garbage": "not-a-jwt",
    }


def test_forged_tokens_are_401_from_the_gateway_and_change_nothing(shop: Shop) -> None:
    tokens = forged_tokens(shop.shopper.id_token)
    control = tokens.pop("control: re-signed unchanged")
    assert cart(shop.http, control) == [(shop.sku, 2)]  # moto's key signs tokens the gateway accepts
    for label, token in tokens.items():
        for method, path, body in (("PUT", f"/cart/items/{shop.sku}", {"quantity": 1}),
                                   ("DELETE", f"/cart/items/{shop.sku}", None), ("GET", "/orders", None),
                                   ("POST", "/checkout", {"shipping_address": ADDRESS,
                                                          "payment_method_id": "pm_card_visa"})):
            resp = shop.http(method, path, auth_header=f"Bearer {token}", json_body=body,
                             headers={"Idempotency-Key": f"forged-{uid(12)}"})
            assert resp.status_code == 401, (label, method, path, resp.status_code, resp.text)
            gateway_refused(resp, 401, "Unauthorized")
    gateway_refused(shop.http("PUT", f"/cart/items/{shop.sku}", json_body={"quantity": 1}), 401, "Unauthorized")
    shop.unchanged()
    # the real token still works (the refusals were about the forgeries, not the user)
    assert shop.http("GET", "/cart", token=shop.shopper.id_token).status_code == 200


def test_tokens_the_jwt_authorizer_lets_through_are_judged_by_the_function(shop: Shop) -> None:
    """The JWT authorizer checks no token_use and no sub: Cognito's access token of the same app client is the
    same shopper; a signed token without sub reaches the function, which refuses it with its own 401."""
    resp = shop.http("GET", "/cart", token=shop.shopper.access_token)
    assert resp.status_code == 200 and sorted((i["sku"], i["quantity"]) for i in resp.json()["items"]) == [
        (shop.sku, 2)]
    claims = jwt.decode(shop.shopper.id_token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(shop.shopper.id_token)["kid"]
    no_sub = jwt.encode({k: v for k, v in claims.items() if k != "sub"}, moto_signing_key(), algorithm="RS256",
                        headers={"kid": kid})
    resp = shop.http("PUT", f"/cart/items/{shop.sku}", token=no_sub, json_body={"quantity": 1})
    assert resp.status_code == 401 and "error" in resp.json(), resp.text  # the function's envelope
    shop.unchanged()


# ---------------------------------------------------------------------------------------------- ownership
def test_another_shoppers_order_is_404_like_a_missing_one(stack: Any, shop: Shop, placed: Placed) -> None:
    intruder = stack.user()
    before = order_view(stack, placed.owner.id_token, placed.order_id)
    missing = f"ord_{uuid.uuid4().hex[:20]}"
    for method, suffix, body in (("GET", "", None), ("POST", "/cancel", None),
                                 ("POST", "/returns", {"lines": [{"sku": before["lines"][0]["sku"], "quantity": 1,
                                                                  "reason": "damaged"}]})):
        theirs = shop.http(method, f"/orders/{placed.order_id}{suffix}", token=intruder.id_token, json_body=body)
        nobody = shop.http(method, f"/orders/{missing}{suffix}", token=intruder.id_token, json_body=body)
        error = refused(theirs, 404, "not_found")
        # nothing tells an existing order of someone else from one that does not exist
        assert error == {**refused(nobody, 404, "not_found"),
                         "message": nobody.json()["error"]["message"].replace(missing, placed.order_id)}
        assert set(error) == {"code", "message"}, error
    after = order_view(stack, placed.owner.id_token, placed.order_id)
    assert after["status"] == before["status"] != "CANCELLED"
    assert after["timeline"] == before["timeline"] and after["payment"] == before["payment"]
    assert orders_of(shop.http, intruder.id_token) == []


def test_another_shoppers_ticket_is_404_and_cannot_be_written_to(stack: Any, shop: Shop) -> None:
    owner, intruder = stack.user(), stack.user()
    ticket = shop.http("POST", "/support/tickets", token=owner.id_token,
                       json_body={"subject": "Where is my parcel?", "message": "It has been a week."})
    assert ticket.status_code == 201, ticket.text
    ticket_id = ticket.json()["ticket_id"]
    refused(shop.http("GET", f"/support/tickets/{ticket_id}", token=intruder.id_token), 404, "not_found")
    refused(shop.http("POST", f"/support/tickets/{ticket_id}/messages", token=intruder.id_token,
                      json_body={"message": "mine now"}), 404, "not_found")
    view = shop.http("GET", f"/support/tickets/{ticket_id}", token=owner.id_token).json()
    assert [m["text"] for m in view["messages"]] == ["It has been a week."]


# ---------------------------------------------------------------------------------------------- groups
def test_a_shopper_on_admin_and_warehouse_routes_is_403_whatever_the_body(stack: Any, shop: Shop) -> None:
    shopper = shop.shopper.id_token
    path = f"/admin/inventory/{shop.sku}/{shop.warehouse}"
    sale_id = f"s-{uid()}"
    for method, route, body in (
            ("PUT", path, {"on_hand": 1000}), ("PUT", path, {"on_hand": "not even valid"}),
            ("POST", path + "/adjustments", {"delta": 100, "reason": "found"}),
            ("GET", f"/admin/inventory/{shop.sku}", None), ("GET", "/admin/warehouses", None),
            ("PUT", f"/admin/skus/{shop.sku}/price", {"price": {"amount": 1, "currency": "EUR"}}),
            ("PUT", f"/admin/sales/{sale_id}", {"name": "all free", "scope": "all", "percent": 90,
                                                "starts_at": "2020-01-01T00:00:00Z",
                                                "ends_at": "2099-01-01T00:00:00Z"}),
            ("GET", "/admin/support/tickets", None), ("GET", "/admin/reports/daily", None),
            ("POST", "/admin/purchase-orders", {"nonsense": True}),
            ("GET", f"/warehouse/{shop.warehouse}/tasks", None),
            ("POST", f"/warehouse/tasks/tsk_{uid(20)}/complete", {"picked": []})):
        refused(shop.http(method, route, token=shopper, json_body=body), 403, "forbidden")
    # warehouse staff are not admins either
    staff = stack.user(groups=("warehouse",)).id_token
    refused(shop.http("PUT", path, token=staff, json_body={"on_hand": 1000}), 403, "forbidden")
    assert all(s["sale_id"] != sale_id for s in ok(stack.request("GET", "/admin/sales", token=shop.admin))["items"])
    shop.unchanged()


def test_an_undefined_method_or_path_is_404_from_the_gateway_not_a_5xx(shop: Shop) -> None:
    for method, path in (("TRACE", "/cart"), ("PATCH", f"/cart/items/{shop.sku}"), ("GET", "/nope"),
                         ("PROPFIND", "/products")):
        resp = shop.http(method, path, token=shop.shopper.id_token)
        gateway_refused(resp, 404, "Not Found")


# ---------------------------------------------------------------------------------------------- webhooks
def test_carrier_webhooks_without_a_valid_fresh_signature_are_401_and_change_nothing(
        stack: Any, shop: Shop, placed: Placed) -> None:
    before = order_view(stack, placed.owner.id_token, placed.order_id)
    event_id = f"evt_{uid(16)}"
    body = json.dumps({"event_id": event_id, "tracking_number": placed.tracking_number, "status": "delivered",
                       "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    now = int(time.time())
    signatures = {
        "missing": None,
        "empty": "",
        "garbage": "definitely-not-a-signature",
        "no timestamp": "v1=" + "0" * 64,
        "forged": f"t={now},v1=" + "0" * 64,
        "wrong secret": carrier_signature("not-the-secret", now, body),
        "another body": carrier_signature(CARRIER_WEBHOOK_SECRET, now, body.replace("delivered", "exception")),
        "stale replay": carrier_signature(CARRIER_WEBHOOK_SECRET, now - 3600, body),
        "just too old": carrier_signature(CARRIER_WEBHOOK_SECRET, now - 310, body),
        "from the future": carrier_signature(CARRIER_WEBHOOK_SECRET, now + 3600, body),
    }
    for label, signature in signatures.items():
        headers = {} if signature is None else {"Carrier-Signature": signature}
        resp = shop.http("POST", "/webhooks/carrier", data=body, headers=headers)
        assert resp.status_code == 401, (label, resp.status_code, resp.text)
        refused(resp, 401, "bad_signature")
    after = order_view(stack, placed.owner.id_token, placed.order_id)
    assert after["status"] == before["status"] and after["shipments"] == before["shipments"]
    assert after["timeline"] == before["timeline"]
    # the refusals left no trace of the event id: the carrier's genuine delivery of it is processed
    genuine = shop.http("POST", "/webhooks/carrier", data=body,
                        headers={"Carrier-Signature": carrier_signature(CARRIER_WEBHOOK_SECRET, int(time.time()),
                                                                        body)})
    assert genuine.status_code == 200, genuine.text
    wait_for(lambda: order_view(stack, placed.owner.id_token, placed.order_id)["status"] == "DELIVERED", 30,
             f"{placed.order_id} delivered by the genuine event")


def test_a_validly_signed_carrier_event_with_bad_fields_is_422_naming_them(shop: Shop, placed: Placed) -> None:
    for event, field in (({"event_id": f"evt_{uid()}", "tracking_number": placed.tracking_number,
                           "status": "teleported", "occurred_at": "2026-11-27T10:00:00Z"}, "body.status"),
                         ({"event_id": f"evt_{uid()}", "tracking_number": "lower-case",
                           "status": "delivered", "occurred_at": "2026-11-27T10:00:00Z"}, "body.tracking_number")):
        body = json.dumps(event)
        resp = shop.http("POST", "/webhooks/carrier", data=body, headers={
            "Carrier-Signature": carrier_signature(CARRIER_WEBHOOK_SECRET, int(time.time()), body)})
        refused(resp, 422, "invalid_input", field)


def test_stripe_webhooks_without_a_valid_fresh_signature_are_401_and_change_nothing(
        stack: Any, shop: Shop, placed: Placed) -> None:
    def payment_state() -> dict[str, Any]:
        item = order_item(stack, placed.order_id)
        return {k: item.get(k) for k in ("status", "payment_intent_id", "payment_status", "decline_code",
                                         "refund_id", "refunded")}

    before = payment_state()
    body = json.dumps({"id": f"evt_{uid(16)}", "object": "event", "type": "payment_intent.payment_failed",
                       "data": {"object": {"id": "pi_forged", "object": "payment_intent",
                                           "metadata": {"order_id": placed.order_id}}}})
    now = int(time.time())
    signatures = {
        "missing": None,
        "garbage": "nope",
        "forged": f"t={now},v1=" + "0" * 64,
        "wrong secret": stripe_signature(body, secret="whsec_not_the_secret", timestamp=now),
        "stale replay": stripe_signature(body, secret=STRIPE_WEBHOOK_SECRET, timestamp=now - 3600),
        "just too old": stripe_signature(body, secret=STRIPE_WEBHOOK_SECRET, timestamp=now - 310),
        # no future case: stripe.Webhook (the reference check) only refuses old timestamps
    }
    for label, signature in signatures.items():
        headers = {} if signature is None else {"Stripe-Signature": signature}
        resp = shop.http("POST", "/webhooks/stripe", data=body, headers=headers)
        assert resp.status_code == 401, (label, resp.status_code, resp.text)
        refused(resp, 401, "bad_signature")
    assert payment_state() == before
