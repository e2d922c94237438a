"""One OpenAPI 3.1 document for the whole storefront API, generated from the handlers.

Each HTTP function's Powertools resolver generates the schema of its own routes (from the pydantic models
it validates with); this merges them and adds the Cognito security requirement per route as the template
declares it. `python -m shoplocal openapi` writes docs/openapi.json; a test keeps that file current.
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
                        "description": "Cognito ID token, optionally prefixed with 'Bearer '."}}},
    }
    auth = {(r.path, r.method.lower()): r.auth for r in routes}
    for lid in sorted({r.function for r in routes}):
        schema = json.loads(_resolver(lid, dirs[lid]).get_openapi_json_schema())
        for path, ops in schema.get("paths", {}).items():
            for method, op in ops.items():
                op.setdefault("tags", [lid.removesuffix("Function")])
                if auth.get((path, method)) == "COGNITO":
                    op["security"] = [{"cognito": []}]
                    op.setdefault("responses", {})["401"] = {"description": "missing or invalid token"}
                doc["paths"].setdefault(path, {})[method] = op
        doc["components"]["schemas"].update(schema.get("components", {}).get("schemas", {}))
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
