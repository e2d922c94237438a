import json

import pytest

from shoplocal.openapi import ROOT, build

pytestmark = pytest.mark.unit


def test_every_template_route_has_a_handler_and_the_published_document_is_current():
    doc = build()  # raises when a template route has no handler route or the other way round
    published = json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert published == json.loads(json.dumps(doc)), "run `python -m shoplocal openapi` and commit docs/openapi.json"


def test_protected_routes_declare_the_cognito_scheme_and_public_ones_do_not():
    paths = build()["paths"]
    assert "security" not in paths["/products"]["get"]
    assert paths["/checkout"]["post"]["security"] == [{"cognito": []}]
    assert paths["/admin/products"]["post"]["security"] == [{"cognito": []}]
    body = paths["/checkout"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body  # the request model is published
