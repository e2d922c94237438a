"""get_settings validates only the variables an environment sets, with a model of those fields (issue 17: the
fifty-field Settings model is no longer built at every cold start). It must give exactly what validating the whole
model gives: the same values, the same fields set, the same errors, for every function's environment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from shop.config import Settings, function_environment, get_settings
from shop.errors import ConfigurationError

from tests.unit.test_function_config import FUNCTIONS, _placeholder_env, template_functions

pytestmark = pytest.mark.unit


def _same(env: dict[str, str]) -> None:
    whole = Settings.model_validate(env)
    with function_environment(env):
        got = get_settings()
    assert type(got) is Settings
    assert got.model_dump() == whole.model_dump()
    assert got.model_fields_set == whole.model_fields_set


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_a_functions_environment_gives_what_the_whole_model_gives(logical_id: str) -> None:
    env = _placeholder_env(template_functions()[logical_id])
    # a stage's choice (a template Parameter: a stand-in here) gets a value it could have, its code default's
    by_alias = {f.alias: f for f in Settings.model_fields.values()}
    for var, value in env.items():
        default = by_alias[var].default if var in by_alias else None
        if value.startswith("<") and isinstance(default, bool | int | str):
            env[var] = str(default).lower() if isinstance(default, bool) else str(default)
    _same({**env, "AWS_REGION": "eu-west-1"})


def test_set_values_are_parsed_and_the_others_keep_their_defaults() -> None:
    env = {"TAX_RATES_BPS": '{"DE": 1900}', "SHIPPING_RATES": '{"eu": {"base": 1, "per_kg": 2}}',
           "AUTO_CONFIRM_SIGNUPS": "true", "MAX_CART_LINES": "7", "ignored_lowercase": "x", "NOT_A_SETTING": "y"}
    _same(env)
    _same({})
    with function_environment(env):
        s = get_settings()
    assert s.shipping_rates["eu"].per_kg == 2 and s.max_cart_lines == 7 and s.auto_confirm_signups is True
    assert s.shipping_zones == Settings().shipping_zones and s.currency == "EUR"


@pytest.mark.parametrize("env", [{"TAX_RATES_BPS": '{"DE": 20000}'}, {"DEFAULT_COUNTRY": "Germany"},
                                 {"SHOP_CURRENCY": "euro", "MAX_CART_LINES": "0"}, {"SMS_SENDER_ID": "too-long-id!"}])
def test_an_invalid_value_is_the_error_the_whole_model_gives(env: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as whole:
        Settings.model_validate(env)
    with function_environment(env), pytest.raises(ConfigurationError) as got:
        get_settings()
    assert str(got.value) == f"invalid configuration: {whole.value}"
