"""One OpenAPI 3.1 document for the whole storefront API, generated from the handlers.

Each HTTP function's Powertools resolver generates the schema of its own routes (from the pydantic models
it validates with); this merges them and adds the Cognito security requirement per route as the template
declares it, and the error responses every route can give (the shop's error envelope; the gateway's own
401 body). `python -m shoplocal openapi` writes docs/openapi.json; a test keeps that file current.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from shoplocal.gateway import load_routes
from shoplocal.template import load_yaml

ROOT = Path(__file__).resolve().parent.parent


def _function_dirs(template_path: Path) -> dict[str, Path]:
    resources = load_yaml(template_path)["Resources"]
    return {lid: (template_path.parent / r["Properties"]["CodeUri"]).resolve()
            for lid, r in resources.items()
            if r.get("Type") == "AWS::Serverless::Function" and isinstance(r["Properties"].get("CodeUri"), str)}


def _resolver(logical_id: str, code_dir: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"shoplocal_openapi_{logical_id}", code_dir / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


ERROR = {"type": "object", "required": ["error"], "additionalProperties": False, "properties": {"error": {
    "type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string", "description": "machine-readable: validation_error, not_found, out_of_stock, ..."},
        "message": {"type": "string"},
        "details": {"type": "object", "description": "validation errors: fields, a list of {field, message}; "
                                                     "out_of_stock: skus, each with requested and available"}}}}}
GATEWAY_ERROR = {"type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}}


def _error(description: str, schema: str = "Error") -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def error_responses(path: str, method: str, op: dict[str, Any], protected: bool) -> dict[str, Any]:
    """The error answers an operation can give (shop.api maps each domain error to one status)."""
    out = {"422": _error("invalid input: details.fields names each field"),
           "500": _error("internal error (details only in the function's log)"),
           "502": _error("a service the shop depends on failed; retry later"),
           "503": _error("busy; retry shortly (a checkout with the same Idempotency-Key)")}
    if "requestBody" in op:
        out.update({"400": _error("the body is not JSON (or not UTF-8, or nested too deeply)"),
                    "413": _error("the body is larger than the function accepts"),
                    "415": _error("the body was sent as another media type than application/json")})
    if path.startswith("/auth/"):
        out["401"] = _error("wrong credentials, or an invalid refresh token")
    if protected:
        out["401"] = _error("missing, invalid or expired token (API Gateway's answer)", "GatewayError")
        out["403"] = _error("the token's groups do not allow this route")
    if "{" in path or method != "get":
        out["404"] = _error("not found (or not yours: another shopper's order looks the same as none)")
    if method != "get":
        out["409"] = _error("conflicts with the current state (out_of_stock names each short SKU)")
    return out


def build(template_path: Path = ROOT / "template.yaml") -> dict[str, Any]:
    routes, _ = load_routes(template_path)
    dirs = _function_dirs(template_path)
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Serverless Shop API", "version": "1.0.0",
                 "description": "Storefront, admin and workflow routes. Money is integer minor units + currency."},
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {
            "cognito": {"type": "apiKey", "in": "header", "name": "Authorization",
                        "description": "Cognito ID or access token of the storefront app client, optionally "
                                       "prefixed with 'Bearer '."}}},
    }
    auth = {(r.path, r.method.lower()): r.auth for r in routes}
    for lid in sorted({r.function for r in routes}):
        schema = json.loads(_resolver(lid, dirs[lid]).get_openapi_json_schema())
        for path, ops in schema.get("paths", {}).items():
            for method, op in ops.items():
                op.setdefault("tags", [lid.removesuffix("Function")])
                protected = auth.get((path, method)) == "JWT"
                if protected:
                    op["security"] = [{"cognito": []}]
                op["responses"] = {**op.get("responses", {}), **error_responses(path, method, op, protected)}
                doc["paths"].setdefault(path, {})[method] = op
        for name, model in schema.get("components", {}).get("schemas", {}).items():
            known = doc["components"]["schemas"].setdefault(name, model)
            if known != model:  # two functions publishing different models under one name: one would be lost
                raise RuntimeError(f"two different schemas are named {name}; give one model another name")
    doc["components"]["schemas"].update({"Error": ERROR, "GatewayError": GATEWAY_ERROR})
    # Powertools' 422 and response-validation shapes: ours is Error
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        doc["components"]["schemas"].pop(name, None)
    declared = {(r.path, r.method.lower()) for r in routes}
    documented = {(p, m) for p, ops in doc["paths"].items() for m in ops}
    missing = sorted(declared - documented)
    if missing:
        raise RuntimeError(f"routes in template.yaml without a handler route: {missing}")
    extra = sorted(documented - declared)
    if extra:
        raise RuntimeError(f"handler routes not declared in template.yaml: {extra}")
    return doc


def write(path: Path = ROOT / "docs" / "openapi.json") -> Path:
    path.write_text(json.dumps(build(), indent=2, sort_keys=True) + "\n")
    return path
