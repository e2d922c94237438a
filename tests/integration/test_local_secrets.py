"""The local stack keeps its secrets where AWS keeps them: in the template's Secrets Manager secret (moto)."""

from __future__ import annotations

import json
import time

import pytest

pytestmark = pytest.mark.integration


def test_the_local_secret_holds_the_local_values_and_functions_get_only_its_arn(stack):
    arn = stack.deployment.physical["ShopSecrets"]
    stored = json.loads(stack.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])
    assert stored == stack.secrets == {"stripe_api_key": "sk_test_local", "stripe_webhook_secret": "whsec_local",
                                       "carrier_webhook_secret": "carrier_local"}
    readers = set()
    for lid, spec in stack.deployment.functions.items():
        assert not set(spec.environment) & {"STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET", "CARRIER_WEBHOOK_SECRET"}
        assert not set(stored.values()) & set(spec.environment.values()), lid
        if "SHOP_SECRETS_ARN" in spec.environment:
            assert spec.environment["SHOP_SECRETS_ARN"] == arn
            readers.add(lid)
    assert {"PaymentFunction", "WebhooksFunction"} <= readers


def test_a_carrier_event_signed_with_another_secret_is_refused(stack):
    from shop.orderflow.webhooks import carrier_signature

    body = json.dumps({"event_id": "evt_forged", "tracking_number": "SPNOPE", "status": "delivered",
                       "occurred_at": "2026-11-27T10:00:00Z"})
    forged = carrier_signature("guess", int(time.time()), body)
    resp = stack.request("POST", "/webhooks/carrier", body=body, headers={"Carrier-Signature": forged})
    assert resp.status == 401, resp.body
