"""scripts/deploy_console.py (make deploy-console): config.json from the stack's outputs, and the check that the
console's CloudFront origin is among the API's AllowedOrigins before anything is uploaded."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
OUTPUTS = {"ApiUrl": "https://abc123.execute-api.eu-central-1.amazonaws.com",
           "ConsoleUrl": "https://d111111abcdef8.cloudfront.net", "ConsoleBucket": "b", "ConsoleDistributionId": "E1"}


@pytest.fixture(scope="module")
def script() -> Any:
    spec = importlib.util.spec_from_file_location("deploy_console", ROOT / "scripts" / "deploy_console.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["deploy_console"] = module
    spec.loader.exec_module(module)
    return module


def test_config_names_the_api_url_without_a_trailing_slash(script):
    assert script.console_config(OUTPUTS) == {"api_base": "https://abc123.execute-api.eu-central-1.amazonaws.com"}
    slashed = {**OUTPUTS, "ApiUrl": "https://abc123.execute-api.eu-central-1.amazonaws.com/"}
    assert script.console_config(slashed) == {"api_base": "https://abc123.execute-api.eu-central-1.amazonaws.com"}


@pytest.mark.parametrize(("allowed", "missing"), [
    ("https://shop.example", "https://d111111abcdef8.cloudfront.net"),
    ("", "https://d111111abcdef8.cloudfront.net"),
    ("https://shop.example,https://d111111abcdef8.cloudfront.net", None),
    ("https://d111111abcdef8.cloudfront.net/", None),
    ("*", None),
])
def test_the_console_origin_must_be_allowed(script, allowed, missing):
    assert script.missing_origin(OUTPUTS, allowed) == missing


def test_the_template_outputs_what_the_script_reads():
    from shoplocal.template import load_yaml

    outputs = load_yaml(ROOT / "template.yaml")["Outputs"]
    assert {"ApiUrl", "ConsoleUrl", "ConsoleBucket", "ConsoleDistributionId"} <= set(outputs)
