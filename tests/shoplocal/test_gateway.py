"""The API Gateway emulation: routes from the template, matching, proxy event shape, responses, CORS, limits."""

from __future__ import annotations

import base64
import json
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from shoplocal.gateway import (
    MAX_BODY,
    CorsConfig,
    Gateway,
    GatewayResponse,
    GatewayResponseConfig,
    GatewayResponses,
    MalformedProxyResponse,
    Route,
    claims_for_event,
    load_gateway_responses,
    load_routes,
)

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]

# Key sets of `sam local generate-event apigateway aws-proxy` (aws-sam-cli 1.170.0), the reference shape.
SAM_EVENT_KEYS = {"body", "resource", "path", "httpMethod", "isBase64Encoded", "queryStringParameters",
                  "multiValueQueryStringParameters", "pathParameters", "stageVariables", "headers",
                  "multiValueHeaders", "requestContext"}
SAM_CONTEXT_KEYS = {"accountId", "resourceId", "stage", "requestId", "requestTime", "requestTimeEpoch", "identity",
                    "path", "resourcePath", "httpMethod", "apiId", "protocol"}
SAM_IDENTITY_KEYS = {"cognitoIdentityPoolId", "accountId", "cognitoIdentityId", "caller", "accessKey", "sourceIp",
                     "cognitoAuthenticationType", "cognitoAuthenticationProvider", "userArn", "userAgent", "user"}


class FakeAuthorizer:
    """Accepts exactly one token; the real verifier has its own tests."""

    def __init__(self, token: str, claims: dict[str, str]):
        self.token, self.claims, self.calls = token, claims, 0

    def verify(self, header: str | None) -> dict[str, str]:
        from shoplocal.gateway import Unauthorized

        self.calls += 1
        value = (header or "").removeprefix("Bearer ").strip()
        if value != self.token:
            raise Unauthorized("bad token")
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
    Route("GET", "/products", "Catalog", "NONE", "ShopApi"),
    Route("GET", "/products/{productId}", "Catalog", "NONE", "ShopApi"),
    Route("GET", "/products/search", "Search", "NONE", "ShopApi"),
    Route("GET", "/cart", "Cart", "COGNITO", "ShopApi"),
    Route("PUT", "/cart/items/{sku}", "Cart", "COGNITO", "ShopApi"),
    Route("DELETE", "/cart/items/{sku}", "Cart", "COGNITO", "ShopApi"),
    Route("ANY", "/files/{proxy+}", "Files", "NONE", "ShopApi"),
    Route("GET", "/files/special", "Special", "NONE", "ShopApi"),
]
CORS = CorsConfig("*", "Content-Type,Authorization", "GET,POST,PUT,DELETE,OPTIONS")
# what template.yaml's GatewayResponses give API Gateway's own answers
GW_RESPONSES = GatewayResponses({t: GatewayResponseConfig((("Access-Control-Allow-Origin", "'*'"),))
                                 for t in ("DEFAULT_4XX", "DEFAULT_5XX")})
TOKEN = "good-token"
CLAIMS = {"sub": "user-1", "email": "u@example.com", "cognito:groups": "admin,warehouse", "token_use": "id"}


def make(result: Any = None, exc: Exception | None = None, cors: CorsConfig | None = CORS,
         routes: list[Route] | None = None,
         gateway_responses: GatewayResponses | None = GW_RESPONSES) -> tuple[Gateway, Recorder, FakeAuthorizer]:
    rec = Recorder(result, exc)
    auth = FakeAuthorizer(TOKEN, CLAIMS)
    gw = Gateway(routes or ROUTES, rec, auth, cors=cors, stage="local",  # type: ignore[arg-type]
                 gateway_responses=gateway_responses)
    return gw, rec, auth


# --------------------------------------------------------------------------- template
def test_real_template_routes_load_with_their_auth():
    routes, cors = load_routes(ROOT / "template.yaml")
    by_key = {(r.method, r.path): r for r in routes}
    assert by_key[("GET", "/products")].auth == "NONE"
    assert by_key[("GET", "/products/{productId}")].auth == "NONE"
    assert by_key[("GET", "/cart")].auth == "COGNITO"
    assert by_key[("POST", "/checkout")].auth == "COGNITO"
    assert by_key[("POST", "/auth/login")].auth == "NONE"
    assert by_key[("GET", "/cart")].function == "CartFunction"
    assert by_key[("GET", "/products")].api == "ShopApi"
    assert all(r.method == r.method.upper() and r.path.startswith("/") for r in routes)
    assert cors is not None and cors.allow_origin == "*"
    assert "Authorization" in cors.allow_headers and "OPTIONS" in cors.allow_methods
    # most specific first
    specs = [r.specificity() for r in routes]
    assert specs == sorted(specs, reverse=True)


def write_template(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(text)
    return path


def test_globals_implicit_api_and_short_form_tags(tmp_path):
    path = write_template(tmp_path, """
Transform: AWS::Serverless-2016-10-31
Globals:
  Api:
    Cors: "'https://shop.example'"
    Auth:
      DefaultAuthorizer: Pool
      Authorizers:
        Pool: {UserPoolArn: !GetAtt UserPool.Arn}
Resources:
  UserPool: {Type: AWS::Cognito::UserPool}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: !Sub "functions/${AWS::Region}"
      Events:
        Open: {Type: Api, Properties: {Path: /open/, Method: any, Auth: {Authorizer: NONE}}}
        Closed: {Type: Api, Properties: {Path: /closed, Method: post}}
        Queue: {Type: SQS, Properties: {Queue: !Ref Q}}
""")
    routes, cors = load_routes(path)
    assert {(r.method, r.path, r.auth, r.api) for r in routes} == {
        ("ANY", "/open", "NONE", "ServerlessRestApi"), ("POST", "/closed", "COGNITO", "ServerlessRestApi")}
    assert cors == CorsConfig(allow_origin="https://shop.example")


def test_non_cognito_authorizer_fails_loudly(tmp_path):
    path = write_template(tmp_path, """
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: x
      Auth:
        DefaultAuthorizer: Lambda
        Authorizers: {Lambda: {FunctionArn: arn:aws:lambda:x}}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        E: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /x, Method: get}}
""")
    with pytest.raises(ValueError, match="Cognito"):
        load_routes(path)


# --------------------------------------------------------------------------- matching
@pytest.mark.parametrize(("method", "path", "function", "params"), [
    ("GET", "/products", "Catalog", None),
    ("GET", "/products/", "Catalog", None),
    ("GET", "/products/p-1", "Catalog", {"productId": "p-1"}),
    ("GET", "/products/search", "Search", None),
    ("GET", "/products/a%20b%2Fc", "Catalog", {"productId": "a b/c"}),
    ("GET", "/files/special", "Special", None),
    ("POST", "/files/a/b/c.txt", "Files", {"proxy": "a/b/c.txt"}),
    ("GET", "/files/x", "Files", {"proxy": "x"}),
    ("delete", "/cart/items/SKU-1", "Cart", {"sku": "SKU-1"}),
])
def test_route_matching_and_path_parameters(method, path, function, params):
    gw, rec, _ = make()
    resp = gw.handle(method, path, headers={"Authorization": TOKEN})
    assert resp.status == 200
    called, event = rec.calls[0]
    assert called == function
    assert event["pathParameters"] == params
    assert event["httpMethod"] == method.upper()


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/nope"),
    ("GET", "/products/p-1/extra"),
    ("POST", "/products"),  # resource exists, method does not
    ("POST", "/files/special"),  # the literal resource wins; no fallback to {proxy+} (as API Gateway)
    ("GET", "/files"),  # {proxy+} needs at least one segment
    ("GET", "/"),
])
def test_unknown_route_is_403_missing_authentication_token(method, path):
    gw, rec, _ = make()
    resp = gw.handle(method, path)
    assert resp.status == 403
    assert resp.json() == {"message": "Missing Authentication Token"}
    assert resp.header("x-amzn-ErrorType") == "MissingAuthenticationTokenException"
    assert rec.calls == []


def test_literal_segment_beats_parameter_regardless_of_declaration_order():
    gw, rec, _ = make(routes=[Route("GET", "/a/{x}/c", "Param", "NONE"), Route("GET", "/a/b/{y}", "Literal", "NONE"),
                              Route("GET", "/{proxy+}", "Greedy", "NONE")])
    gw.handle("GET", "/a/b/c")
    gw.handle("GET", "/a/z/c")
    gw.handle("GET", "/q/r")
    assert [c[0] for c in rec.calls] == ["Literal", "Param", "Greedy"]


# --------------------------------------------------------------------------- event shape
def test_event_has_the_shape_of_an_api_gateway_rest_proxy_event():
    gw, rec, _ = make()
    resp = gw.handle("PUT", "/cart/items/SKU-9", query="a=1&a=2&b=&c=x%20y",
                     headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json",
                              "User-Agent": "pytest-agent", "X-Multi": ["one", "two"]},
                     body='{"quantity": 2}', source_ip="10.1.2.3")
    assert resp.status == 200
    event = rec.event
    assert set(event) == SAM_EVENT_KEYS
    assert event["resource"] == "/cart/items/{sku}"
    assert event["path"] == "/cart/items/SKU-9"
    assert event["httpMethod"] == "PUT"
    assert event["queryStringParameters"] == {"a": "2", "b": "", "c": "x y"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""], "c": ["x y"]}
    assert event["pathParameters"] == {"sku": "SKU-9"}
    assert event["stageVariables"] is None
    assert event["body"] == '{"quantity": 2}'
    assert event["isBase64Encoded"] is False
    assert event["headers"]["Content-Type"] == "application/json"
    assert event["headers"]["X-Multi"] == "two"
    assert event["multiValueHeaders"]["X-Multi"] == ["one", "two"]
    assert event["headers"]["X-Forwarded-For"] == "10.1.2.3"
    assert all(isinstance(v, list) for v in event["multiValueHeaders"].values())
    ctx = event["requestContext"]
    assert SAM_CONTEXT_KEYS <= set(ctx)
    assert set(ctx["identity"]) == SAM_IDENTITY_KEYS
    assert ctx["resourcePath"] == "/cart/items/{sku}"
    assert ctx["httpMethod"] == "PUT"
    assert ctx["path"] == "/local/cart/items/SKU-9"
    assert ctx["stage"] == "local"
    assert ctx["apiId"] == "ShopApi"
    assert ctx["accountId"] == "123456789012"
    assert ctx["identity"]["sourceIp"] == "10.1.2.3"
    assert ctx["identity"]["userAgent"] == "pytest-agent"
    assert isinstance(ctx["requestTimeEpoch"], int) and ctx["requestTimeEpoch"] > 1_600_000_000_000
    assert str(uuid.UUID(ctx["requestId"])) == ctx["requestId"]
    assert resp.header("x-amzn-RequestId") == ctx["requestId"]
    assert ctx["authorizer"] == {"claims": CLAIMS}
    assert json.loads(json.dumps(event)) == event  # JSON-serialisable like the real thing


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


def test_query_in_the_path_is_used_when_no_query_is_given():
    gw, rec, _ = make()
    gw.handle("GET", "/products?sort=price&sort=name")
    assert rec.event["path"] == "/products"
    assert rec.event["multiValueQueryStringParameters"] == {"sort": ["price", "name"]}


def test_query_as_mapping_with_list_values():
    gw, rec, _ = make()
    gw.handle("GET", "/products", query={"category": "shoes", "size": ["41", "42"], "skip": None})
    assert rec.event["queryStringParameters"] == {"category": "shoes", "size": "42"}
    assert rec.event["multiValueQueryStringParameters"] == {"category": ["shoes"], "size": ["41", "42"]}


def test_non_utf8_body_is_base64_encoded():
    gw, rec, _ = make()
    payload = b"\x89PNG\r\n\x1a\n\xff\xfe"
    gw.handle("POST", "/files/upload.png", body=payload)
    assert rec.event["isBase64Encoded"] is True
    assert base64.b64decode(rec.event["body"]) == payload


def test_utf8_bytes_body_stays_text():
    gw, rec, _ = make()
    gw.handle("POST", "/files/x", body="grüße €".encode())
    assert rec.event["body"] == "grüße €"
    assert rec.event["isBase64Encoded"] is False


def test_handler_powertools_resolver_accepts_the_event():
    """The event drives a real Powertools APIGatewayRestResolver, path params and claims included."""
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    app = APIGatewayRestResolver()

    @app.put("/cart/items/<sku>")
    def put_item(sku: str) -> dict[str, Any]:
        claims = app.current_event.request_context.authorizer.claims
        return {"sku": sku, "user": claims["sub"], "qty": app.current_event.json_body["quantity"],
                "multi": app.current_event.multi_value_query_string_parameters}

    gw = Gateway(ROUTES, lambda fn, event: app.resolve(event, None), FakeAuthorizer(TOKEN, CLAIMS), cors=None)  # type: ignore[arg-type]
    resp = gw.handle("PUT", "/cart/items/SKU-1", headers={"Authorization": TOKEN}, query="x=1&x=2",
                     body='{"quantity": 3}')
    assert resp.status == 200, resp.body
    assert resp.json() == {"sku": "SKU-1", "user": "user-1", "qty": 3, "multi": {"x": ["1", "2"]}}


# --------------------------------------------------------------------------- auth
def test_protected_route_without_or_with_bad_token_is_401_and_not_invoked():
    gw, rec, _ = make()
    for headers in ({}, {"Authorization": "nope"}, {"authorization": "Bearer nope"}):
        resp = gw.handle("GET", "/cart", headers=headers)
        assert resp.status == 401
        assert resp.json() == {"message": "Unauthorized"}
        assert resp.header("Access-Control-Allow-Origin") == "*"  # from GatewayResponses DEFAULT_4XX
    assert rec.calls == []


def test_protected_route_accepts_bare_and_bearer_tokens_any_header_case():
    gw, rec, _ = make()
    assert gw.handle("GET", "/cart", headers={"Authorization": TOKEN}).status == 200
    assert gw.handle("GET", "/cart", headers={"authorization": f"Bearer {TOKEN}"}).status == 200
    assert [c[1]["requestContext"]["authorizer"]["claims"]["sub"] for c in rec.calls] == ["user-1", "user-1"]


def test_protected_route_without_configured_authorizer_is_500_not_open():
    rec = Recorder()
    gw = Gateway(ROUTES, rec, None)
    resp = gw.handle("GET", "/cart")
    assert resp.status == 500
    assert rec.calls == []


def test_claims_are_strings_like_api_gateway_rest():
    claims = claims_for_event({"sub": "s", "cognito:groups": ["admin", "warehouse"], "email_verified": True,
                               "exp": 1590001295, "iat": 1589997695, "auth_time": 1589997695, "custom": {"a": 1}})
    assert claims == {"sub": "s", "cognito:groups": "admin,warehouse", "email_verified": "true",
                      "exp": "Wed May 20 19:01:35 UTC 2020", "iat": "Wed May 20 18:01:35 UTC 2020",
                      "auth_time": "1589997695", "custom": '{"a":1}'}


# --------------------------------------------------------------------------- CORS
def test_preflight_is_answered_without_invoking_or_authorizing():
    gw, rec, auth = make()
    resp = gw.handle("OPTIONS", "/cart", headers={"Origin": "http://localhost:5173",
                                                   "Access-Control-Request-Method": "GET"})
    assert resp.status == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert resp.headers["Access-Control-Allow-Headers"] == "Content-Type,Authorization"
    assert resp.headers["Access-Control-Allow-Methods"] == "GET,POST,PUT,DELETE,OPTIONS"
    assert resp.body == ""
    assert rec.calls == [] and auth.calls == 0


def test_preflight_on_route_with_params_and_unknown_path():
    gw, rec, _ = make()
    assert gw.handle("OPTIONS", "/products/p-1").status == 200
    unknown = gw.handle("OPTIONS", "/does-not-exist")
    assert unknown.status == 403
    assert rec.calls == []


def test_preflight_methods_default_to_the_resources_methods():
    gw, _, _ = make(cors=CorsConfig(allow_origin="https://shop.example"))
    resp = gw.handle("OPTIONS", "/cart/items/S1")
    assert resp.headers["Access-Control-Allow-Methods"] == "DELETE,OPTIONS,PUT"
    assert resp.headers["Access-Control-Allow-Origin"] == "https://shop.example"


def test_function_answers_pass_through_without_cors_headers_of_the_gateway():
    # API Gateway adds nothing to a Lambda proxy answer: CORS headers must come from the function
    gw, _, _ = make()
    resp = gw.handle("GET", "/products", headers={"Origin": "https://shop.example"})
    assert not any(k.lower().startswith("access-control-") for k in resp.headers)
    gw2, _, _ = make(result={"statusCode": 200, "headers": {"access-control-allow-origin": "https://x"}, "body": ""})
    resp = gw2.handle("GET", "/products")
    assert resp.header("Access-Control-Allow-Origin") == "https://x"
    assert sum(k.lower() == "access-control-allow-origin" for k in resp.headers) == 1


def test_gateway_errors_carry_exactly_the_gateway_responses_headers():
    gw, _, _ = make()
    for resp in (gw.handle("GET", "/cart"), gw.handle("GET", "/nope"), gw.handle("OPTIONS", "/nope"),
                 gw.handle("POST", "/files/big", body=b"x" * (MAX_BODY + 1))):
        assert resp.status in (401, 403, 413)
        assert {k for k in resp.headers if k.lower().startswith("access-control-")} == {"Access-Control-Allow-Origin"}
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
    bare, _, _ = make(gateway_responses=None)
    for resp in (bare.handle("GET", "/cart"), bare.handle("GET", "/nope")):
        assert not any(k.lower().startswith("access-control-") for k in resp.headers)


def test_gateway_errors_of_a_failing_function_use_default_5xx():
    gw, _, _ = make(exc=RuntimeError("boom"))
    resp = gw.handle("GET", "/products")
    assert resp.status == 502 and resp.headers["Access-Control-Allow-Origin"] == "*"


def test_gateway_responses_specific_type_wins_and_may_echo_a_request_header_or_change_status():
    responses = GatewayResponses({
        "DEFAULT_4XX": GatewayResponseConfig((("Access-Control-Allow-Origin", "'*'"),)),
        "UNAUTHORIZED": GatewayResponseConfig((("Access-Control-Allow-Origin", "method.request.header.Origin"),
                                               ("X-Why", "'login'")), status=419),
    })
    gw, _, _ = make(gateway_responses=responses)
    resp = gw.handle("GET", "/cart", headers={"origin": "https://a.example"})
    assert resp.status == 419
    assert resp.headers["Access-Control-Allow-Origin"] == "https://a.example" and resp.headers["X-Why"] == "login"
    assert "Access-Control-Allow-Origin" not in gw.handle("GET", "/cart").headers  # no Origin: nothing to map
    assert gw.handle("GET", "/nope").headers["Access-Control-Allow-Origin"] == "*"


def test_load_gateway_responses_from_the_real_template_and_refuses_what_it_cannot_emulate(tmp_path):
    real = load_gateway_responses(ROOT / "template.yaml")
    for t in ("DEFAULT_4XX", "DEFAULT_5XX"):
        assert dict(real.by_type[t].headers)["Access-Control-Allow-Origin"] == "'*'"
    assert real.lookup("UNAUTHORIZED", 401) is real.by_type["DEFAULT_4XX"]
    assert real.lookup("INTEGRATION_FAILURE", 502) is real.by_type["DEFAULT_5XX"]
    path = tmp_path / "t.yaml"
    path.write_text(textwrap.dedent("""
        Resources:
          Api:
            Type: AWS::Serverless::Api
            Properties:
              GatewayResponses:
                DEFAULT_4XX:
                  ResponseTemplates: {"application/json": '{"m": $context.error.messageString}'}
    """))
    with pytest.raises(ValueError, match="not emulated"):
        load_gateway_responses(path)


def test_without_cors_options_is_a_missing_route_and_no_cors_headers():
    gw, rec, _ = make(cors=None)
    assert gw.handle("OPTIONS", "/products").status == 403
    resp = gw.handle("GET", "/products")
    assert resp.header("Access-Control-Allow-Origin") is None
    assert len(rec.calls) == 1


# --------------------------------------------------------------------------- limits and failures
def test_body_over_10_mb_is_413_and_not_invoked():
    gw, rec, _ = make()
    resp = gw.handle("POST", "/files/big", body=b"x" * (MAX_BODY + 1))
    assert resp.status == 413
    assert resp.json() == {"message": "Request Too Long"}
    assert rec.calls == []
    assert gw.handle("POST", "/files/ok", body=b"x" * MAX_BODY).status == 200


def test_handler_exception_is_502_internal_server_error_with_traceback_logged(caplog):
    gw, rec, _ = make(exc=RuntimeError("boom in handler"))
    with caplog.at_level("ERROR", logger="shoplocal.gateway"):
        resp = gw.handle("GET", "/products")
    assert resp.status == 502
    assert resp.json() == {"message": "Internal server error"}
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
def test_malformed_proxy_response_is_502(result):
    gw, _, _ = make(result=lambda event: result)
    resp = gw.handle("GET", "/products")
    assert resp.status == 502
    assert resp.json() == {"message": "Internal server error"}


def test_response_mapping_headers_multivalue_and_base64():
    png = b"\x89PNG\r\n\x1a\n\x00\xff"
    resp = Gateway.response({
        "statusCode": 201,
        "headers": {"Content-Type": "image/png", "X-Single": "s", "Set-Cookie": "ignored=1", "X-Bool": True},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "X-Multi": ["m1", "m2"]},
        "body": base64.b64encode(png).decode(),
        "isBase64Encoded": True,
    }, {"Access-Control-Allow-Origin": "*"}, "req-1")
    assert resp.status == 201
    assert resp.raw == png
    assert resp.multi_headers["Set-Cookie"] == ["a=1", "b=2"]  # multiValueHeaders win for the same name
    assert resp.headers["X-Multi"] == "m1, m2"
    assert resp.headers["X-Single"] == "s"
    assert resp.headers["X-Bool"] == "true"
    assert resp.headers["Content-Type"] == "image/png"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert resp.headers["x-amzn-RequestId"] == "req-1"


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
