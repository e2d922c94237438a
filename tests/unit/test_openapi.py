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


def _resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _is_typed(doc: dict, schema: dict) -> bool:
    """A schema a client generator can type: an object with declared properties, a list of such, or a union
    of such; not a bare ``dict[str, Any]`` (an object with nothing declared) or an empty schema."""
    schema = _resolve(doc, schema)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return all(_is_typed(doc, s) for s in schema[key])
    if schema.get("type") == "array":
        return _is_typed(doc, schema.get("items") or {})
    return schema.get("type") == "object" and bool(schema.get("properties"))


DOC = build()
SUCCESS = sorted((path, method, status) for path, ops in DOC["paths"].items() for method, op in ops.items()
                 for status in op["responses"] if status.startswith("2"))


@pytest.mark.parametrize(("path", "method", "status"), SUCCESS, ids=[f"{m.upper()} {p} {s}" for p, m, s in SUCCESS])
def test_every_success_answer_has_a_typed_schema(path: str, method: str, status: str):
    content = DOC["paths"][path][method]["responses"][status].get("content") or {}
    schema = (content.get("application/json") or {}).get("schema") or {}
    assert _is_typed(DOC, schema), f"{method.upper()} {path} {status}: no response model (return annotation)"
