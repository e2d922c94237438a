"""Schemathesis over the published OpenAPI document (docs/openapi.json) against the local stack's HTTP gateway.

One test per operation (``test_fuzz[PUT /cart/items/{sku}]``...), each sending generated requests with a real
Cognito ID token: a shopper, an admin on ``/admin/...`` and warehouse staff on ``/warehouse/...``. Schemathesis
also drops or breaks the token on its own in negative cases (401 expected).

Run it without pytest-xdist (``make test`` runs it in a pytest of its own): its per-operation items share one node
id, which xdist would silently drop (tests/conftest.py refuses that loudly).

Generation, kept small and reproducible (about 2,300 requests over one keep-alive connection; 30-40 s on a
busy 2-core machine, stack start included):
- fixed seed; Hypothesis example database off (no state carried between runs);
- coverage phase, negative cases only: per operation, deterministic boundary and constraint-breaking inputs
  (a missing required field, a wrong type, a value just over ``maximum``/``maxLength``, a pattern broken, a
  body with an undeclared Content-Type, the undeclared method TRACE). These are the bad inputs this module is
  about; positive boundary values come from the fuzzing phase;
- fuzzing phase, positive and negative: 5 examples per operation;
- no examples phase (the document has no examples) and no stateful phase (no OpenAPI links).

Checks, and why these:
- ``not_a_server_error``: no input makes the API answer 5xx. The point of the module.
- ``negative_data_rejection``: a request breaking the document's schema gets a 4xx, i.e. it is refused, not
  half-accepted (this found a number taken as a coupon date and false as a category's sort order, now strict).
- ``status_code_conformance``: every status answered is one the document declares for the operation (the
  success code, 201 where a route creates, and the error statuses shoplocal.openapi declares per route).
- ``content_type_conformance``: the response has the media type the document declares (``application/json``).
- ``response_schema_conformance``: the body validates against the declared schema. Every error answer has the
  ``Error`` envelope schema (the gateway's own 401 ``GatewayError``); every 2xx has its route's response
  model (the ``contracts`` module of its context), which the function also enforces before answering.
- ``error_envelope`` (below): what the document does not say. Every 4xx a function answers has the project's
  envelope ``{"error": {"code", "message"}}``; a 400, 413, 415 or 422 also names the offending fields in
  ``details.fields``. 401/403 answered by the gateway itself keep API Gateway's ``{"message"}`` shape.
- Not used: ``response_headers_conformance`` (the document declares no response headers).

Operations excluded (the only ones): ``POST /webhooks/stripe`` and ``POST /webhooks/carrier``. They authenticate
with an HMAC signature over the raw body, which a generator cannot produce, so every case would be the same
401; test_bad_input.py sends them missing, forged and stale signatures instead.

The stack is shared with the worker's other tests, so one generated write is neutralised: a fuzzed sale is sent
with ``active: false`` (a live shop-wide sale would change every price other tests see). Every other write uses
generated ids, which no other test uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.e2e

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
SEED = 20261127
CONFIG = schemathesis.Config.from_dict({
    "seed": SEED,
    "generation": {"mode": "all", "max-examples": 5, "database": "none"},
    "phases": {
        "examples": {"enabled": False},
        "coverage": {"generation": {"mode": "negative"}, "unexpected-methods": ["TRACE"]},
        "stateful": {"enabled": False},
    },
})
schema = schemathesis.openapi.from_path(DOCUMENT, config=CONFIG).exclude(path_regex=r"^/webhooks/")

FIELD_ERRORS = {400, 413, 415, 422}
TIMEOUT = 15


def error_envelope(ctx: Any, response: Any, case: Any) -> None:
    """A 4xx from a function is ``{"error": {"code", "message"}}`` and names the fields of bad input."""
    if not 400 <= response.status_code < 500:
        return  # not an error
    body = response.json()
    if isinstance(body, dict) and set(body) == {"message"}:
        return  # API Gateway's own answer (404 no route, the authorizer's 401, 413): {"message": ...}
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict), f"{response.status_code} without the error envelope: {response.text[:300]}"
    assert isinstance(error.get("code"), str) and error["code"], f"no error code: {error}"
    assert isinstance(error.get("message"), str) and error["message"], f"no error message: {error}"
    if response.status_code in FIELD_ERRORS:
        fields = (error.get("details") or {}).get("fields")
        assert fields and all(isinstance(f.get("field"), str) and f["field"] for f in fields), \
            f"{response.status_code} does not name the offending fields: {error}"


CHECKS = [not_a_server_error, negative_data_rejection, status_code_conformance, content_type_conformance,
          response_schema_conformance,
          error_envelope]


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:  # keep-alive: a connection per module, not per request
        yield s


@pytest.fixture(scope="module")
def tokens(stack: Any) -> dict[str, str]:
    return {"shopper": stack.user().id_token, "admin": stack.user(groups=("admin",)).id_token,
            "warehouse": stack.user(groups=("warehouse",)).id_token}


def role_for(path: str) -> str:
    return "admin" if path.startswith("/admin/") else "warehouse" if path.startswith("/warehouse/") else "shopper"


@schema.parametrize()
def test_fuzz(case: Any, stack: Any, session: requests.Session, tokens: dict[str, str]) -> None:
    label = f"{case.operation.method.upper()} {case.operation.path}"
    if label == "PUT /admin/sales/{saleId}" and isinstance(case.body, dict):
        case.body["active"] = False
    checks = list(CHECKS)
    # Schemathesis puts an Authorization header (a placeholder) in every case but the negative ones that test a
    # missing token: those keep it missing (401 expected); every other case carries the role's real token
    dropped = not any(name.lower() == "authorization" for name in (case.headers or {}))
    token = {} if dropped else {"Authorization": f"Bearer {tokens[role_for(case.operation.path)]}"}
    case.call_and_validate(base_url=stack.base_url, session=session, checks=checks, timeout=TIMEOUT, headers=token)
