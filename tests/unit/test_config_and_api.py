import json

import pytest
from shop.api import _parse_groups, make_resolver, principal, require_group
from shop.config import function_environment, get_settings
from shop.errors import ConfigurationError, Forbidden, InvalidInput, OutOfStock, Unauthorized

pytestmark = pytest.mark.unit


def test_settings_come_from_the_function_environment_not_import_time():
    with function_environment({"CATALOG_TABLE": "cat-1", "SHOP_CURRENCY": "USD",
                               "TAX_RATES_BPS": '{"US": 0, "US-CA": 725}'}):
        s = get_settings()
        assert s.catalog_table == "cat-1"
        assert s.currency == "USD"
        assert s.tax_rates_bps == {"US": 0, "US-CA": 725}
    with function_environment({"CATALOG_TABLE": "cat-2"}):
        assert get_settings().catalog_table == "cat-2"
        with pytest.raises(ConfigurationError, match="orders_table"):
            get_settings().require("orders_table")


@pytest.mark.parametrize("env", [{"TAX_RATES_BPS": "{not json"}, {"TAX_RATES_BPS": '{"DE": 20000}'},
                                 {"SHOP_CURRENCY": "euro"}, {"SHIPPING_RATES": '{"eu": {"base": -1, "per_kg": 1}}'}])
def test_invalid_configuration_is_a_clear_error(env):
    with function_environment(env), pytest.raises(ConfigurationError, match="invalid configuration"):
        get_settings()


@pytest.mark.parametrize(("raw", "expected"), [
    (None, set()), ("", set()), ("admin", {"admin"}), ("admin,warehouse", {"admin", "warehouse"}),
    ("[admin warehouse]", {"admin", "warehouse"}), ('["admin"]', {"admin"}), (["warehouse"], {"warehouse"}),
])
def test_cognito_groups_claim_shapes(raw, expected):
    assert _parse_groups(raw) == expected


def _event(path="/things/1", claims=None, method="GET", body=None):
    ctx = {"resourcePath": "/things/{id}", "httpMethod": method, "requestId": "r-1", "stage": "local"}
    if claims is not None:
        ctx["authorizer"] = {"claims": claims}
    return {"resource": "/things/{id}", "path": path, "httpMethod": method, "headers": {},
            "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
            "pathParameters": {"id": path.rsplit("/", 1)[-1]}, "requestContext": ctx, "body": body,
            "isBase64Encoded": False}


def _app():
    app = make_resolver()

    @app.get("/things/<id>")
    def get_thing(id: str):
        who = require_group(app, "admin") if id == "admin" else principal(app)
        if id == "short":
            raise OutOfStock("not enough stock", details={"skus": [{"sku": "A-1", "requested": 2, "available": 1}]})
        if id == "bad":
            raise InvalidInput("shipping_address.country", "we do not ship to XX")
        if id == "boom":
            raise RuntimeError("secret internals")
        return {"user": who.user_id}

    return app


@pytest.mark.parametrize(("path", "claims", "status", "code"), [
    ("/things/1", None, 401, Unauthorized.code),
    ("/things/admin", {"sub": "u1", "cognito:groups": "warehouse"}, 403, Forbidden.code),
    ("/things/short", {"sub": "u1"}, 409, "out_of_stock"),
    ("/things/bad", {"sub": "u1"}, 422, "invalid_input"),
    ("/things/boom", {"sub": "u1"}, 500, "internal_error"),
])
def test_each_domain_error_maps_to_one_status_with_json_body(path, claims, status, code):
    resp = _app().resolve(_event(path, claims), {})
    assert resp["statusCode"] == status
    body = json.loads(resp["body"])
    assert body["error"]["code"] == code
    assert "secret internals" not in resp["body"]


def test_business_rule_error_names_the_field():
    body = json.loads(_app().resolve(_event("/things/bad", {"sub": "u"}), {})["body"])
    assert body["error"]["details"]["fields"] == [{"field": "shipping_address.country",
                                                   "message": "we do not ship to XX"}]


def test_admin_passes_and_unknown_route_is_json_404():
    app = _app()
    ok = app.resolve(_event("/things/admin", {"sub": "a1", "cognito:groups": "admin"}), {})
    assert ok["statusCode"] == 200 and json.loads(ok["body"]) == {"user": "a1"}
    missing = app.resolve(_event("/nope/1", {"sub": "a1"}), {})
    assert missing["statusCode"] == 404
    assert json.loads(missing["body"])["error"]["code"] == "route_not_found"


def test_request_validation_is_422_naming_the_fields():
    from pydantic import BaseModel, Field

    class Body(BaseModel):
        quantity: int = Field(ge=0)

    app = make_resolver()

    @app.put("/things/<id>")
    def put_thing(id: str, body: Body):
        return {"q": body.quantity}

    bad = app.resolve(_event("/things/1", {"sub": "u"}, method="PUT", body=json.dumps({"quantity": -1})), {})
    assert bad["statusCode"] == 422
    fields = json.loads(bad["body"])["error"]["details"]["fields"]
    assert [f["field"] for f in fields] == ["body.quantity"]
    good = app.resolve(_event("/things/1", {"sub": "u"}, method="PUT", body=json.dumps({"quantity": 3})), {})
    assert good["statusCode"] == 200 and json.loads(good["body"]) == {"q": 3}
    malformed = app.resolve(_event("/things/1", {"sub": "u"}, method="PUT", body="{nope"), {})
    assert malformed["statusCode"] in (400, 422)
    assert "error" in json.loads(malformed["body"])


@pytest.mark.parametrize(("guard_args", "resource", "claims", "status"), [
    (("/admin/", "admin"), "/admin/products", None, 401),
    (("/admin/", "admin"), "/admin/products", {"sub": "u", "cognito:groups": "warehouse"}, 403),
    (("/admin/", "admin"), "/admin/products", {"sub": "u", "cognito:groups": "admin"}, None),
    (("/admin/", "admin"), "/products", None, None),
    (("/",), "/cart", None, 401),
    (("/",), "/cart", {"sub": "u"}, None),
])
def test_guard_checks_access_before_the_resolver_sees_the_request(guard_args, resource, claims, status):
    from shop.api import Guard

    event = {"resource": resource, "requestContext": {"authorizer": {"claims": claims}} if claims else {}}
    blocked = Guard(*guard_args).denied(event)
    if status is None:
        assert blocked is None
    else:
        assert blocked["statusCode"] == status
        assert json.loads(blocked["body"])["error"]["code"] in ("unauthorized", "forbidden")
