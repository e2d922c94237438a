"""The shop's secrets (Stripe key, Stripe and carrier webhook secrets), read at run time from Secrets Manager.

A function's environment holds only the secret's ARN (``SHOP_SECRETS_ARN``), never a value. The secret is
one JSON object created by the template (docs/deploy.md)::

    {"stripe_api_key": "sk_live_...", "stripe_webhook_secret": "whsec_...", "carrier_webhook_secret": "..."}

It is read with Powertools ``parameters`` (``SecretsProvider``, json transform) through the shared boto3
client of :func:`shop.aws.client`, so the local runtime's functions read it from moto like any other AWS
call. A value is cached for ``MAX_AGE_SECONDS`` per process: a rotated value is picked up within that time
without a deploy. A value that is missing, empty or still the template's ``REPLACE_ME`` placeholder is "not
configured"; in stage ``prod`` the local runtime's well-known values are refused as well.
"""

from __future__ import annotations

import threading
from typing import Any, Literal

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

from shop.aws import client
from shop.config import get_settings
from shop.errors import ConfigurationError

SecretName = Literal["stripe_api_key", "stripe_webhook_secret", "carrier_webhook_secret"]
SECRET_NAMES: tuple[SecretName, ...] = ("stripe_api_key", "stripe_webhook_secret", "carrier_webhook_secret")
PLACEHOLDER = "REPLACE_ME"
# the values the local runtime (shoplocal) puts in its secret: public, so never accepted by stage prod
LOCAL_VALUES: dict[str, str] = {"stripe_api_key": "sk_test_local", "stripe_webhook_secret": "whsec_local",
                                "carrier_webhook_secret": "carrier_local"}
MAX_AGE_SECONDS = 300

_lock = threading.Lock()
_providers: dict[int, SecretsProvider] = {}


def _provider() -> SecretsProvider:
    """One provider (and cache) per shared boto3 client, i.e. per region and endpoint."""
    sm = client("secretsmanager")
    with _lock:
        found = _providers.get(id(sm))
        if found is None:
            found = SecretsProvider(boto3_client=sm)
            _providers[id(sm)] = found
        return found


def clear_cache() -> None:
    """Forget every cached value (tests; a function never needs it: values expire after MAX_AGE_SECONDS)."""
    with _lock:
        for provider in _providers.values():
            provider.clear_cache()


def shop_secrets() -> dict[str, Any]:
    """The whole secret as a dict (cached). ConfigurationError when the function has no secret or cannot read it."""
    arn = get_settings().require("shop_secrets_arn")
    try:
        value = _provider().get(arn, max_age=MAX_AGE_SECONDS, transform="json")
    except TransformParameterError as exc:
        raise ConfigurationError(f"secret {arn} is not a JSON object") from exc
    except GetParameterError as exc:
        raise ConfigurationError(f"secret {arn} cannot be read: {exc}") from exc
    if not isinstance(value, dict):
        raise ConfigurationError(f"secret {arn} is not a JSON object")
    return value


def optional_secret(name: SecretName) -> str | None:
    """The value, or None when this function has no secret or the value is not set (missing or placeholder)."""
    if not get_settings().shop_secrets_arn:
        return None
    value = shop_secrets().get(name)
    if not isinstance(value, str) or not value.strip() or value.strip() == PLACEHOLDER:
        return None
    if get_settings().stage == "prod" and value == LOCAL_VALUES[name]:
        raise ConfigurationError(f"secret value {name} is the local runtime's public value: refused in stage prod")
    return value


def require_secret(name: SecretName) -> str:
    value = optional_secret(name)
    if value is None:
        raise ConfigurationError(
            f"secret value {name} is not configured: put it in the secret SHOP_SECRETS_ARN "
            f"({get_settings().shop_secrets_arn or 'not set for this function'}), see docs/deploy.md")
    return value
