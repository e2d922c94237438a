"""shop.secrets reads the Stripe key and webhook secrets from Secrets Manager (the stack's moto), never from env.

On the worker's stack, not in a ``mock_aws()`` of its own: the stack's moto lives in this process, and leaving a
``mock_aws()`` resets every in-process backend, the stack's tables included."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

pytestmark = pytest.mark.integration

REAL = {"stripe_api_key": "sk_live_abc", "stripe_webhook_secret": "whsec_abc", "carrier_webhook_secret": "c4rr13r"}


_BASE: dict[str, str] = {}


@pytest.fixture
def aws(stack) -> Iterator[object]:
    """The webhooks function's environment (the stack's endpoint and credentials) without its secret."""
    from shop import secrets
    from shop.config import function_environment

    _BASE.clear()
    _BASE.update({k: v for k, v in stack.function_env("WebhooksFunction").items() if k != "SHOP_SECRETS_ARN"})
    with function_environment(_BASE):
        secrets.clear_cache()
        yield secrets
        secrets.clear_cache()


def _secret(value: object) -> str:
    from shop.aws import client

    sm = client("secretsmanager")
    text = value if isinstance(value, str) else json.dumps(value)
    return str(sm.create_secret(Name=f"shop-test-{uuid.uuid4().hex}", SecretString=text)["ARN"])


def _env(arn: str | None, stage: str = "dev"):
    from shop.config import function_environment

    env = {**_BASE, "STAGE": stage}
    if arn:
        env["SHOP_SECRETS_ARN"] = arn
    return function_environment(env)


def test_values_come_from_the_secret_through_the_shared_client(aws) -> None:
    from shop.aws import client
    from shop.secrets import _provider, optional_secret, require_secret

    with _env(_secret(REAL)):
        assert require_secret("stripe_api_key") == "sk_live_abc"
        assert require_secret("stripe_webhook_secret") == "whsec_abc"
        assert optional_secret("carrier_webhook_secret") == "c4rr13r"
        assert _provider().client is client("secretsmanager")  # moto locally, the same endpoint as all data


def test_values_are_cached_until_max_age_then_reread(aws) -> None:
    from shop.aws import client
    from shop.secrets import MAX_AGE_SECONDS, clear_cache, require_secret

    assert 60 <= MAX_AGE_SECONDS <= 900  # a rotated value is picked up within minutes, not per call
    arn = _secret(REAL)
    with _env(arn):
        assert require_secret("stripe_api_key") == "sk_live_abc"
        client("secretsmanager").put_secret_value(SecretId=arn, SecretString=json.dumps({**REAL,
                                                                                          "stripe_api_key": "sk_2"}))
        assert require_secret("stripe_api_key") == "sk_live_abc"  # cached
        clear_cache()
        assert require_secret("stripe_api_key") == "sk_2"


@pytest.mark.parametrize("value", ["REPLACE_ME", "", "  ", None, 42])
def test_a_placeholder_or_missing_value_is_not_configured(aws, value: object) -> None:
    from shop.errors import ConfigurationError
    from shop.secrets import optional_secret, require_secret

    stored = {k: v for k, v in {**REAL, "stripe_api_key": value}.items() if v is not None}
    with _env(_secret(stored)):
        with pytest.raises(ConfigurationError, match="stripe_api_key is not configured"):
            require_secret("stripe_api_key")
        assert optional_secret("stripe_api_key") is None
        assert require_secret("stripe_webhook_secret") == "whsec_abc"


def test_prod_refuses_the_local_runtimes_public_values(aws) -> None:
    from shop.errors import ConfigurationError
    from shop.secrets import LOCAL_VALUES, require_secret

    arn = _secret(LOCAL_VALUES)
    with _env(arn, stage="local"):
        assert require_secret("carrier_webhook_secret") == "carrier_local"
    for name in LOCAL_VALUES:
        with _env(arn, stage="prod"), pytest.raises(ConfigurationError, match="refused in stage prod"):
            require_secret(name)  # type: ignore[arg-type]


def test_no_secret_for_the_function_or_an_unreadable_one_is_a_configuration_error(aws) -> None:
    from shop.errors import ConfigurationError
    from shop.secrets import optional_secret, require_secret

    with _env(None):
        assert optional_secret("carrier_webhook_secret") is None
        with pytest.raises(ConfigurationError, match="SHOP_SECRETS_ARN"):
            require_secret("stripe_api_key")
    with _env("arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf"), \
            pytest.raises(ConfigurationError, match="cannot be read"):
        require_secret("stripe_api_key")
    with _env(_secret("not json")), pytest.raises(ConfigurationError, match="not a JSON object"):
        require_secret("stripe_api_key")


def test_the_webhooks_verify_with_the_secrets_values(aws) -> None:
    import time

    import stripe
    from shop.errors import Unauthorized
    from shop.orderflow.webhooks import carrier_event, carrier_signature, stripe_event

    body = json.dumps({"event_id": "e1", "tracking_number": "SPABCDEFGH12", "status": "delivered",
                       "occurred_at": "2026-11-27T10:00:00Z"})
    now = int(time.time())
    with _env(_secret(REAL)):
        assert carrier_event(body, carrier_signature("c4rr13r", now, body), now=now).status == "delivered"
        with pytest.raises(Unauthorized):
            carrier_event(body, carrier_signature("carrier_local", now, body), now=now)
        event = json.dumps({"id": "evt_1", "type": "payment_intent.succeeded"})
        mac = stripe.WebhookSignature._compute_signature(f"{now}.{event}", "whsec_abc")
        assert stripe_event(event, f"t={now},v1={mac}")["id"] == "evt_1"
    with _env(_secret({**REAL, "carrier_webhook_secret": "REPLACE_ME"})), pytest.raises(Unauthorized):
        carrier_event(body, carrier_signature("REPLACE_ME", now, body), now=now)  # never the placeholder
