"""The HTTP API emulation: routes from the template, route selection, payload format 1.0 events, responses, CORS,
limits (docs/local-gateway.md)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from shoplocal.gateway import (
    MAX_BODY,
    CorsConfig,
    Gateway,
    GatewayResponse,
    JwtConfig,
    MalformedProxyResponse,
    Route,
    Unauthorized,
    claims_for_event,
    load_api,
    load_routes,
)

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]

# The keys of the documented payload format 1.0 event of an HTTP API
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html)
EVENT_KEYS = {"version", "resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
              "multiValueQueryStringParameters", "requestContext", "pathParameters", "stageVariables", "body",
              "isBase64Encoded"}
CONTEXT_KEYS = {"accountId", "apiId", "domainName", "domainPrefix", "extendedRequestId", "httpMethod", "identity",
                "path", "protocol", "requestId", "requestTime", "requestTimeEpoch", "resourceId", "resourcePath",
                "stage"}
IDENTITY_KEYS = {"accessKey", "accountId", "caller", "cognitoAuthenticationProvider", "cognitoAuthenticationType",
                 "cognitoIdentityId", "cognitoIdentityPoolId", "principalOrgId", "sourceIp", "user", "userAgent",
                 "userArn"}


class FakeAuthorizer:
    """Accepts exactly one token; the real verifier has its own tests."""

    identity_header = "Authorization"

    def __init__(self, token: str, claims: dict[str, str]):
        self.token, self.claims, self.calls = token, claims, 0

    def verify(self, header: str | None) -> dict[str, str]:
        self.calls += 1
        if not header:
            raise Unauthorized(None)
        if header.removeprefix("Bearer ").strip() != self.token:
            raise Unauthorized("the token does not have a valid audience")
        return dict(self.claims)


class Recorder:
    def __init__(self, result: Any = None, exc: Exception | None = None):
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.result = result if result is not None else {"statusCode": 200, "body": json.dumps({"ok": True}),
                                                          "headers": {"Content-Type": "application/json"}}
        self.exc = exc

    def __call__(self, function: str, event: dict[str, Any]) -> Any:
        self.calls.append((function, event))
        if self.exc is not None:
            raise self.exc
        return self.result(event) if callable(self.result) else self.result

    @property
    def event(self) -> dict[str, Any]:
        assert len(self.calls) == 1, self.calls
        return self.calls[0][1]


ROUTES = [
    Route("GET", "/products", "Catalog", "NONE", "ShopHttpApi"),
    Route("GET", "/products/{productId}", "Catalog", "NONE", "ShopHttpApi"),
    Route("GET", "/products/search", "Search", "NONE", "ShopHttpApi"),
    Route("GET", "/cart", "Cart", "JWT", "ShopHttpApi"),
    Route("PUT", "/cart/items/{sku}", "Cart", "JWT", "ShopHttpApi"),
    Route("DELETE", "/cart/items/{sku}", "Cart", "JWT", "ShopHttpApi"),
    Route("ANY", "/files/{proxy+}", "Files", "NONE", "ShopHttpApi"),
    Route("GET", "/files/special", "Special", "NONE", "ShopHttpApi"),
]
SHOP = "http://localhost:5173"
FOREIGN = "https://evil.example"
CORS = CorsConfig(allow_origins=("http://localhost:3000", SHOP), allow_headers=("Content-Type", "Authorization"),
                  allow_methods=("GET", "POST", "PUT", "DELETE", "OPTIONS"), max_age=600)
TOKEN = "good-token"
CLAIMS = {"sub": "user-1", "email": "u@example.com", "cognito:groups": "[admin warehouse]", "token_use": "id"}


def make(result: Any = None, exc: Exception | None = None, cors: CorsConfig | None = CORS,
         routes: list[Route] | None = None) -> tuple[Gateway, Recorder, FakeAuthorizer]:
    rec = Recorder(result, exc)
    auth = FakeAuthorizer(TOKEN, CLAIMS)
    gw = Gateway(routes or ROUTES, rec, auth, cors=cors)  # type: ignore[arg-type]
    return gw, rec, auth


def cors_headers(resp: GatewayResponse) -> dict[str, str]:
    return {k: v for k, v in resp.headers.items() if k.lower().startswith("access-control-")}


# --------------------------------------------------------------------------- template
def test_real_template_routes_cors_and_jwt_authorizer_load():
    spec = load_api(ROOT / "template.yaml")
    by_key = {r.key: r for r in spec.routes}
    assert by_key["GET /products"].auth == "NONE"
    assert by_key["GET /products/{productId}"].auth == "NONE"
    assert by_key["POST /auth/login"].auth == "NONE"
    assert by_key["GET /cart"].auth == "JWT"
    assert by_key["POST /checkout"].auth == "JWT"
    assert by_key["GET /cart"].function == "CartFunction"
    assert {r.api for r in spec.routes} == {"ShopHttpApi"}
    assert all(r.method == r.method.upper() and r.path.startswith("/") for r in spec.routes)
    # intrinsics resolved with the parameters' defaults (the stack resolves them against its deployment)
    assert spec.jwt == JwtConfig("https://cognito-idp.us-east-1.amazonaws.com/UserPool", ("UserPoolClient",))
    assert spec.cors is not None
    assert "http://localhost:5173" in spec.cors.allow_origins and "*" not in spec.cors.allow_origins
    assert spec.cors.allow_headers == ("Content-Type", "Authorization", "Idempotency-Key")
    assert spec.cors.max_age == 600 and not spec.cors.allow_credentials
    assert load_routes(ROOT / "template.yaml") == (spec.routes, spec.cors)
    specs = [r.specificity() for r in spec.routes]
    assert specs == sorted(specs, reverse=True)  # most specific first


def write_template(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(text)
    return path


POOL = """
  UserPool: {Type: AWS::Cognito::UserPool}
  Client: {Type: AWS::Cognito::UserPoolClient}
"""


def test_implicit_api_globals_and_short_form_tags(tmp_path):
    path = write_template(tmp_path, """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Origins: {Type: String, Default: "https://a.example,https://b.example"}
Globals:
  HttpApi:
    CorsConfiguration:
      AllowOrigins: !Split [",", !Ref Origins]
      ExposeHeaders: [X-Request-Id]
      AllowCredentials: true
    Auth:
      DefaultAuthorizer: Jwt
      Authorizers:
        Jwt:
          IdentitySource: $request.header.X-Token
          JwtConfiguration: {issuer: !Sub "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}",
                             audience: [!Ref Client]}
Resources:""" + POOL + """
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: !Sub "functions/${AWS::Region}"
      Events:
        Open: {Type: HttpApi, Properties: {PayloadFormatVersion: "1.0", Path: /open/, Method: any,
                                            Auth: {Authorizer: NONE}}}
        Closed: {Type: HttpApi, Properties: {PayloadFormatVersion: "1.0", Path: /closed, Method: post}}
        Queue: {Type: SQS, Properties: {Queue: !Ref Q}}
""")
    spec = load_api(path)
    assert {(r.key, r.auth, r.api) for r in spec.routes} == {
        ("ANY /open", "NONE", "ServerlessHttpApi"), ("POST /closed", "JWT", "ServerlessHttpApi")}
    assert spec.cors == CorsConfig(allow_origins=("https://a.example", "https://b.example"),
                                   expose_headers=("X-Request-Id",), allow_credentials=True)
    assert spec.jwt == JwtConfig("https://cognito-idp.us-east-1.amazonaws.com/UserPool", ("Client",), "X-Token")


def one_event(tmp_path: Path, event: str, api: str = "") -> Path:
    return write_template(tmp_path, """
Resources:""" + POOL + """
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: A
        Authorizers:""" + (api or """
          A: {JwtConfiguration: {issuer: https://issuer.example, audience: [c1]}}""") + """
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        E: """ + event + "\n")


@pytest.mark.parametrize(("event", "api", "match"), [
    # SAM's default payload format for HttpApi events is 2.0: a route must not silently get another event shape
    ("{Type: HttpApi, Properties: {ApiId: !Ref Api, Path: /x, Method: get}}", "", "PayloadFormatVersion 2.0"),
    ('{Type: HttpApi, Properties: {ApiId: !Ref Api, PayloadFormatVersion: "2.0", Path: /x, Method: get}}', "",
     "PayloadFormatVersion 2.0"),
    ('{Type: HttpApi, Properties: {ApiId: !Ref Api, PayloadFormatVersion: "1.0"}}', "", r"\$default route"),
    ('{Type: HttpApi, Properties: {ApiId: !Ref Nope, PayloadFormatVersion: "1.0", Path: /x, Method: get}}', "",
     "not an AWS::Serverless::HttpApi"),
    ('{Type: HttpApi, Properties: {ApiId: !Ref Api, PayloadFormatVersion: "1.0", Path: /x, Method: get,'
     ' Auth: {AuthorizationScopes: [a]}}}', "", "AuthorizationScopes"),
    ('{Type: HttpApi, Properties: {ApiId: !Ref Api, PayloadFormatVersion: "1.0", Path: /x, Method: get}}', """
          A: {FunctionArn: arn:aws:lambda:x, AuthorizerPayloadFormatVersion: "2.0"}""", "not a JWT authorizer"),
    ('{Type: HttpApi, Properties: {ApiId: !Ref Api, PayloadFormatVersion: "1.0", Path: /x, Method: get}}', """
          A: {JwtConfiguration: {issuer: https://i.example, audience: [c]},
              IdentitySource: "$request.querystring.t"}""", "identity source"),
    ("{Type: Api, Properties: {Path: /x, Method: get}}", "", "REST API event"),
])
def test_what_is_not_emulated_fails_loudly(tmp_path, event, api, match):
    with pytest.raises(ValueError, match=match):
        load_api(one_event(tmp_path, event, api))


# --------------------------------------------------------------------------- route selection
@pytest.mark.parametrize(("method", "path", "function", "params"), [
    ("GET", "/products", "Catalog", None),
    ("GET", "/products/", "Catalog", None),
    ("GET", "/products/p-1", "Catalog", {"productId": "p-1"}),
    ("GET", "/products/search", "Search", None),
    ("GET", "/products/a%20b%2Fc", "Catalog", {"productId": "a b/c"}),
    ("GET", "/files/special", "Special", None),
    ("POST", "/files/a/b/c.txt", "Files", {"proxy": "a/b/c.txt"}),
    # no POST /files/special: the greedy ANY route takes it (an HTTP API picks among the routes of the method)
    ("POST", "/files/special", "Files", {"proxy": "special"}),
    ("delete", "/cart/items/SKU-1", "Cart", {"sku": "SKU-1"}),
])
def test_route_selection_and_path_parameters(method, path, function, params):
    gw, rec, _ = make()
    resp = gw.handle(method, path, headers={"Authorization": TOKEN})
    assert resp.status == 200
    called, event = rec.calls[0]
    assert called == function
    assert event["pathParameters"] == params
    assert event["httpMethod"] == method.upper()


def test_a_route_without_greedy_variable_wins_then_the_most_specific_then_the_named_method():
    gw, rec, _ = make(routes=[Route("GET", "/a/{x}/c", "Param", "NONE"),
                              Route("GET", "/a/b/{proxy+}", "Greedy", "NONE"),
                              Route("GET", "/a/b/{y}", "Literal", "NONE"), Route("ANY", "/a/b/{y}", "Any", "NONE"),
                              Route("ANY", "/{proxy+}", "Root", "NONE")])
    for path in ("/a/b/c", "/a/z/c", "/a/b/c/d", "/q/r"):
        gw.handle("GET", path)
    gw.handle("POST", "/a/b/c")
    assert [c[0] for c in rec.calls] == ["Literal", "Param", "Greedy", "Root", "Any"]


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/nope"),
    ("GET", "/products/p-1/extra"),
    ("POST", "/products"),  # the path exists, the method does not
    ("HEAD", "/products"),  # no HEAD route
    ("TRACE", "/cart"),
    ("OPTIONS", "/products"),  # not a preflight (no Origin / Access-Control-Request-Method): routed, no route
    ("GET", "/files"),  # {proxy+} needs at least one segment
    ("GET", "/"),
])
def test_no_route_is_404_not_found(method, path):
    gw, rec, auth = make()
    resp = gw.handle(method, path, headers={"Origin": SHOP})
    assert resp.status == 404
    assert resp.json() == {"message": "Not Found"}
    assert resp.header("apigw-requestid")
    assert cors_headers(resp) == {}  # the gateway's own answer: no CORS header
    assert rec.calls == [] and auth.calls == 0


# --------------------------------------------------------------------------- event shape
def test_event_has_the_shape_of_an_http_api_payload_1_0_event():
    gw, rec, _ = make()
    resp = gw.handle("PUT", "/cart/items/SKU-9", query="a=1&a=2&b=&c=x%20y",
                     headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json",
                              "User-Agent": "pytest-agent", "X-Multi": ["one", "two"]},
                     body='{"quantity": 2}', source_ip="10.1.2.3")
    assert resp.status == 200
    event = rec.event
    assert set(event) == EVENT_KEYS
    assert event["version"] == "1.0"
    assert event["resource"] == "/cart/items/{sku}"
    assert event["path"] == "/cart/items/SKU-9"  # no stage prefix: the $default stage
    assert event["httpMethod"] == "PUT"
    assert event["queryStringParameters"] == {"a": "1", "b": "", "c": "x y"}  # the first value, as documented
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""], "c": ["x y"]}
    assert event["pathParameters"] == {"sku": "SKU-9"}
    assert event["stageVariables"] is None
    assert event["body"] == '{"quantity": 2}'
    assert event["isBase64Encoded"] is False
    # header names lower-cased, as an HTTP API sends them
    assert all(k == k.lower() for k in event["headers"]) and all(k == k.lower() for k in event["multiValueHeaders"])
    assert event["headers"]["content-type"] == "application/json"
    assert event["headers"]["x-multi"] == "two"
    assert event["multiValueHeaders"]["x-multi"] == ["one", "two"]
    assert event["headers"]["x-forwarded-for"] == "10.1.2.3"
    assert event["headers"]["x-forwarded-proto"] == "https"
    ctx = event["requestContext"]
    assert set(ctx) == CONTEXT_KEYS | {"authorizer"}
    assert set(ctx["identity"]) == IDENTITY_KEYS
    assert ctx["stage"] == "$default"
    assert ctx["path"] == "/cart/items/SKU-9"
    assert ctx["resourcePath"] == "/cart/items/{sku}"
    assert ctx["resourceId"] == "PUT /cart/items/{sku}"
    assert ctx["httpMethod"] == "PUT"
    assert ctx["apiId"] == "ShopHttpApi"
    assert ctx["accountId"] == "123456789012"
    assert ctx["identity"]["sourceIp"] == "10.1.2.3"
    assert ctx["identity"]["userAgent"] == "pytest-agent"
    assert isinstance(ctx["requestTimeEpoch"], int) and ctx["requestTimeEpoch"] > 1_600_000_000_000
    assert resp.header("apigw-requestid") == ctx["requestId"]
    assert ctx["authorizer"] == {"claims": CLAIMS, "scopes": None}
    assert json.loads(json.dumps(event)) == event


def test_public_route_event_has_nulls_and_no_authorizer():
    gw, rec, auth = make()
    gw.handle("GET", "/products")
    event = rec.event
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["body"] is None
    assert "authorizer" not in event["requestContext"]
    assert auth.calls == 0


def test_query_in_the_path_and_as_mapping():
    gw, rec, _ = make()
    gw.handle("GET", "/products?sort=price&sort=name")
    gw.handle("GET", "/products", query={"category": "shoes", "size": ["41", "42"], "skip": None})
    first, second = (c[1] for c in rec.calls)
    assert first["path"] == "/products"
    assert first["multiValueQueryStringParameters"] == {"sort": ["price", "name"]}
    assert second["queryStringParameters"] == {"category": "shoes", "size": "41"}
    assert second["multiValueQueryStringParameters"] == {"category": ["shoes"], "size": ["41", "42"]}


def test_bodies_utf8_text_or_base64():
    gw, rec, _ = make()
    payload = b"\x89PNG\r\n\x1a\n\xff\xfe"
    gw.handle("POST", "/files/upload.png", body=payload)
    gw.handle("POST", "/files/x", body="grüße €".encode())
    binary, text = (c[1] for c in rec.calls)
    assert binary["isBase64Encoded"] is True and base64.b64decode(binary["body"]) == payload
    assert text["isBase64Encoded"] is False and text["body"] == "grüße €"


def test_handler_powertools_rest_resolver_accepts_the_event():
    """The 1.0 event drives Powertools' APIGatewayRestResolver, path params, claims and groups included."""
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from shop.api import _parse_groups

    app = APIGatewayRestResolver()

    @app.put("/cart/items/<sku>")
    def put_item(sku: str) -> dict[str, Any]:
        claims = app.current_event.request_context.authorizer.claims
        return {"sku": sku, "user": claims["sub"], "qty": app.current_event.json_body["quantity"],
                "groups": sorted(_parse_groups(claims["cognito:groups"])),
                "agent": app.current_event.headers.get("User-Agent"),  # case-insensitive lookup
                "multi": app.current_event.multi_value_query_string_parameters}

    gw = Gateway(ROUTES, lambda fn, event: app.resolve(event, None), FakeAuthorizer(TOKEN, CLAIMS))  # type: ignore[arg-type]
    resp = gw.handle("PUT", "/cart/items/SKU-1", headers={"Authorization": TOKEN, "User-Agent": "UA"},
                     query="x=1&x=2", body='{"quantity": 3}')
    assert resp.status == 200, resp.body
    assert resp.json() == {"sku": "SKU-1", "user": "user-1", "qty": 3, "groups": ["admin", "warehouse"],
                           "agent": "UA", "multi": {"x": ["1", "2"]}}


# --------------------------------------------------------------------------- auth
def test_protected_route_without_token_is_401_without_www_authenticate():
    gw, rec, _ = make()
    resp = gw.handle("GET", "/cart", headers={"Origin": SHOP})
    assert resp.status == 401
    assert resp.json() == {"message": "Unauthorized"}
    assert resp.header("www-authenticate") is None
    assert cors_headers(resp) == {}  # the gateway's own answer
    assert rec.calls == []


def test_protected_route_with_bad_token_is_401_with_www_authenticate_and_not_invoked():
    gw, rec, _ = make()
    for headers in ({"Authorization": "nope"}, {"authorization": "Bearer nope"}):
        resp = gw.handle("GET", "/cart", headers=headers)
        assert resp.status == 401
        assert resp.json() == {"message": "Unauthorized"}
        assert resp.header("www-authenticate") == (
            'Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience"')
    assert rec.calls == []


def test_protected_route_accepts_bare_and_bearer_tokens_any_header_case():
    gw, rec, _ = make()
    assert gw.handle("GET", "/cart", headers={"Authorization": TOKEN}).status == 200
    assert gw.handle("GET", "/cart", headers={"authorization": f"Bearer {TOKEN}"}).status == 200
    assert [c[1]["requestContext"]["authorizer"]["claims"]["sub"] for c in rec.calls] == ["user-1", "user-1"]


def test_protected_route_without_configured_authorizer_is_500_not_open():
    rec = Recorder()
    resp = Gateway(ROUTES, rec, None).handle("GET", "/cart")
    assert resp.status == 500 and resp.json() == {"message": "Internal Server Error"}
    assert rec.calls == []


def test_claims_are_strings_as_the_jwt_authorizer_renders_them():
    claims = claims_for_event({"sub": "s", "cognito:groups": ["admin", "warehouse"], "email_verified": True,
                               "exp": 1590001295, "iat": 1589997695.0, "auth_time": 1589997695,
                               "amr": [], "custom": {"b": 2, "a": "x"}})
    assert claims == {"sub": "s", "cognito:groups": "[admin warehouse]", "email_verified": "true",
                      "exp": "1590001295", "iat": "1589997695", "auth_time": "1589997695", "amr": "[]",
                      "custom": "map[a:x b:2]"}


# --------------------------------------------------------------------------- CORS
def test_preflight_from_an_allowed_origin_is_answered_by_the_gateway():
    gw, rec, auth = make()
    resp = gw.handle("OPTIONS", "/cart", headers={"Origin": SHOP, "Access-Control-Request-Method": "PUT",
                                                   "Access-Control-Request-Headers": "authorization,content-type"})
    assert resp.status == 204 and resp.body == ""
    assert cors_headers(resp) == {"Access-Control-Allow-Origin": SHOP,
                                  "Access-Control-Allow-Methods": "GET,POST,PUT,DELETE,OPTIONS",
                                  "Access-Control-Allow-Headers": "Content-Type,Authorization",
                                  "Access-Control-Max-Age": "600"}
    assert rec.calls == [] and auth.calls == 0


@pytest.mark.parametrize("headers", [
    {"Origin": FOREIGN, "Access-Control-Request-Method": "GET"},
    {"Origin": "http://localhost:5174", "Access-Control-Request-Method": "GET"},  # the port counts
    {"Origin": SHOP, "Access-Control-Request-Method": "PATCH"},  # a method not allowed
    {"Origin": SHOP, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-secret"},
])
def test_preflight_not_allowed_gets_no_cors_headers(headers):
    gw, rec, _ = make()
    resp = gw.handle("OPTIONS", "/products", headers=headers)
    assert resp.status == 204
    assert cors_headers(resp) == {}
    assert rec.calls == []


def test_preflight_on_any_path_even_without_a_route():
    gw, rec, _ = make()
    resp = gw.handle("OPTIONS", "/does-not-exist", headers={"Origin": SHOP, "Access-Control-Request-Method": "GET"})
    assert resp.status == 204 and resp.header("Access-Control-Allow-Origin") == SHOP
    assert rec.calls == []


def test_wildcard_origin():
    gw, _, _ = make(cors=CorsConfig(allow_origins=("*",), allow_methods=("GET",)))
    pre = gw.handle("OPTIONS", "/products", headers={"Origin": FOREIGN, "Access-Control-Request-Method": "GET"})
    assert pre.header("Access-Control-Allow-Origin") == "*"
    assert gw.handle("GET", "/products", headers={"Origin": FOREIGN}).header("Access-Control-Allow-Origin") == "*"


def test_function_cors_headers_are_dropped_and_replaced_for_an_allowed_origin():
    result = {"statusCode": 200, "body": "{}", "headers": {"access-control-allow-origin": "*", "X-Own": "1"},
              "multiValueHeaders": {"Access-Control-Allow-Headers": ["*"]}}
    gw, _, _ = make(result=result, cors=CorsConfig(allow_origins=(SHOP,), expose_headers=("X-Own",)))
    resp = gw.handle("GET", "/products", headers={"Origin": SHOP})
    assert cors_headers(resp) == {"Access-Control-Allow-Origin": SHOP, "Access-Control-Expose-Headers": "X-Own"}
    assert resp.header("X-Own") == "1"


def test_function_cors_headers_are_dropped_for_a_disallowed_or_missing_origin():
    result = {"statusCode": 422, "body": "{}", "headers": {"Access-Control-Allow-Origin": "*"}}
    gw, _, _ = make(result=result)
    for headers in ({"Origin": FOREIGN}, {}):
        resp = gw.handle("GET", "/products", headers=headers)
        assert resp.status == 422
        assert cors_headers(resp) == {}


def test_function_answer_of_an_allowed_origin_2xx_and_4xx_carry_the_origin():
    gw, _, _ = make(result=lambda e: {"statusCode": 200 if e["path"] == "/products" else 422, "body": "{}"})
    for path in ("/products", "/products/p-1"):
        assert cors_headers(gw.handle("GET", path, headers={"Origin": SHOP})) == {"Access-Control-Allow-Origin": SHOP}


def test_gateway_errors_carry_no_cors_header():
    gw, _, _ = make(exc=RuntimeError("boom"))
    origin = {"Origin": SHOP}
    for resp in (gw.handle("GET", "/cart", headers=origin), gw.handle("GET", "/nope", headers=origin),
                 gw.handle("GET", "/products", headers=origin),
                 gw.handle("POST", "/files/big", headers=origin, body=b"x" * (MAX_BODY + 1))):
        assert resp.status in (401, 404, 413, 500)
        assert cors_headers(resp) == {}


def test_without_cors_options_is_routed_and_function_headers_pass():
    gw, rec, _ = make(cors=None, result={"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "x"}})
    assert gw.handle("OPTIONS", "/products", headers={"Origin": SHOP,
                                                       "Access-Control-Request-Method": "GET"}).status == 404
    assert gw.handle("GET", "/products").header("Access-Control-Allow-Origin") == "x"
    assert len(rec.calls) == 1


# --------------------------------------------------------------------------- limits and failures
def test_body_over_10_mb_is_413_and_not_invoked():
    gw, rec, _ = make()
    resp = gw.handle("POST", "/files/big", body=b"x" * (MAX_BODY + 1))
    assert resp.status == 413
    assert resp.json() == {"message": "Request Entity Too Large"}
    assert rec.calls == []
    assert gw.handle("POST", "/files/ok", body=b"x" * MAX_BODY).status == 200


def test_handler_exception_is_500_internal_server_error_with_traceback_logged(caplog):
    gw, rec, _ = make(exc=RuntimeError("boom in handler"))
    with caplog.at_level("ERROR", logger="shoplocal.gateway"):
        resp = gw.handle("GET", "/products")
    assert resp.status == 500
    assert resp.json() == {"message": "Internal Server Error"}
    assert len(rec.calls) == 1
    assert any(r.exc_info and "boom in handler" in str(r.exc_info[1]) for r in caplog.records)


@pytest.mark.parametrize("result", [
    None,
    "just a string",
    {"body": "no status"},
    {"statusCode": "abc", "body": ""},
    {"statusCode": 200, "body": {"not": "a string"}},
    {"statusCode": 200, "body": "", "extra": 1},
    {"statusCode": 200, "headers": {"X": {"nested": 1}}},
    {"statusCode": 200, "multiValueHeaders": {"X": "not-a-list"}},
    {"statusCode": 200, "body": "!!!", "isBase64Encoded": True},
    {"statusCode": 700},
    {"errorType": "ValueError", "errorMessage": "x"},
])
def test_malformed_proxy_response_is_500(result):
    gw, _, _ = make(result=lambda event: result)
    resp = gw.handle("GET", "/products", headers={"Origin": SHOP})
    assert resp.status == 500
    assert resp.json() == {"message": "Internal Server Error"}
    assert cors_headers(resp) == {}


def test_response_mapping_headers_multivalue_and_base64():
    png = b"\x89PNG\r\n\x1a\n\x00\xff"
    resp = Gateway.response({
        "statusCode": 201,
        "headers": {"Content-Type": "image/png", "X-Single": "s", "Set-Cookie": "ignored=1", "X-Bool": True},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "X-Multi": ["m1", "m2"]},
        "body": base64.b64encode(png).decode(),
        "isBase64Encoded": True,
    }, "req-1")
    assert resp.status == 201
    assert resp.raw == png
    assert resp.multi_headers["Set-Cookie"] == ["a=1", "b=2"]  # multiValueHeaders win for the same name
    assert resp.headers["X-Multi"] == "m1, m2"
    assert resp.headers["X-Single"] == "s"
    assert resp.headers["X-Bool"] == "true"
    assert resp.headers["Content-Type"] == "image/png"
    assert resp.headers["apigw-requestid"] == "req-1"


def test_response_defaults_and_string_status():
    resp = Gateway.response({"statusCode": "204"})
    assert resp.status == 204
    assert resp.body == "" and resp.raw == b""
    assert resp.headers["Content-Type"] == "application/json"
    with pytest.raises(MalformedProxyResponse):
        Gateway.response({"statusCode": True})


def test_gateway_response_json_and_defaults():
    resp = GatewayResponse(200, {"Content-Type": "application/json"}, '{"a": 1}')
    assert resp.json() == {"a": 1}
    assert resp.raw == b'{"a": 1}'
    assert resp.multi_headers == {"Content-Type": ["application/json"]}
    assert GatewayResponse(204).json() is None
