"""JwtAuthorizer (an HTTP API JWT authorizer) against tokens signed with a local RSA key, published by a tiny JWKS stub
server."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shoplocal.gateway import Gateway, JwtAuthorizer, Route, Unauthorized

pytestmark = pytest.mark.unit

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TESTPOOL"
CLIENT_ID = "local-client-id"
SECOND_CLIENT = "second-client-id"  # an authorizer's audience is a list


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    data = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**data, "kid": kid, "alg": "RS256", "use": "sig"}


class JwksStub:
    """Serves {"keys": [...]} and counts fetches."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.fetches = 0
        self.fail = False
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stub.fetches += 1
                body = b"oops" if stub.fail else json.dumps({"keys": stub.keys}).encode()
                self.send_response(500 if stub.fail else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/pool/.well-known/jwks.json"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture
def jwks(signing_key) -> Iterator[JwksStub]:
    stub = JwksStub()
    stub.keys = [jwk(signing_key, "kid-1")]
    yield stub
    stub.stop()


@pytest.fixture
def authorizer(jwks) -> JwtAuthorizer:
    return JwtAuthorizer(jwks.url, ISSUER, [CLIENT_ID, SECOND_CLIENT])


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"sub": str(uuid.uuid4()), "iss": ISSUER, "aud": CLIENT_ID, "token_use": "id", "iat": now,
            "auth_time": now, "exp": now + 3600, "email": "shopper@example.com", "email_verified": True,
            "cognito:username": "shopper", "cognito:groups": ["admin", "warehouse"]}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: rsa.RSAPrivateKey, payload: dict[str, Any], kid: str = "kid-1", alg: str = "RS256") -> str:
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid})


def access_claims(**overrides: Any) -> dict[str, Any]:
    """A Cognito access token: no aud, the app client in client_id, token_use access."""
    now = int(time.time())
    base = {"sub": str(uuid.uuid4()), "iss": ISSUER, "client_id": CLIENT_ID, "token_use": "access",
            "scope": "aws.cognito.signin.user.admin", "iat": now, "auth_time": now, "exp": now + 3600,
            "username": "shopper", "cognito:groups": ["admin"]}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def test_valid_id_token_gives_the_claims_as_strings(authorizer, signing_key):
    payload = claims()
    out = authorizer.verify(sign(signing_key, payload))
    assert out["sub"] == payload["sub"]
    assert out["email"] == "shopper@example.com"
    assert out["cognito:groups"] == "[admin warehouse]"
    assert out["email_verified"] == "true"
    assert out["token_use"] == "id"
    assert out["aud"] == CLIENT_ID
    assert out["exp"] == str(payload["exp"])
    assert out["iat"] == str(payload["iat"])
    assert out["auth_time"] == str(payload["auth_time"])
    assert all(isinstance(v, str) for v in out.values())


def test_access_token_passes_on_client_id(authorizer, signing_key):
    # an HTTP API JWT authorizer checks no token_use: client_id stands for aud when aud is absent
    out = authorizer.verify(sign(signing_key, access_claims()))
    assert out["token_use"] == "access" and out["client_id"] == CLIENT_ID and "aud" not in out
    assert out["cognito:groups"] == "[admin]"


def test_any_audience_of_the_list_passes(authorizer, signing_key):
    assert authorizer.verify(sign(signing_key, claims(aud=SECOND_CLIENT)))["aud"] == SECOND_CLIENT
    assert authorizer.verify(sign(signing_key, claims(aud=["x", SECOND_CLIENT])))["aud"] == f"[x {SECOND_CLIENT}]"


def test_bearer_prefix_and_bare_token_both_accepted(authorizer, signing_key, jwks):
    token = sign(signing_key, claims())
    assert authorizer.verify(f"Bearer {token}")["token_use"] == "id"
    assert authorizer.verify(f"bearer   {token}  ")["token_use"] == "id"
    assert authorizer.verify(token)["token_use"] == "id"
    assert jwks.fetches == 1  # fetched once, then cached


@pytest.mark.parametrize(("case", "payload", "description"), [
    ("expired", claims(exp=int(time.time()) - 5, iat=int(time.time()) - 3605), "the token has expired"),
    ("wrong issuer", claims(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_OTHER"),
     "the token does not have a valid issuer"),
    ("wrong audience", claims(aud="another-client"), "the token does not have a valid audience"),
    # aud is evaluated when present, even if client_id would match
    ("aud wins over client_id", claims(aud="another-client", client_id=CLIENT_ID),
     "the token does not have a valid audience"),
    ("access token of another client", access_claims(client_id="another-client"),
     "the token does not have a valid audience"),
    ("neither aud nor client_id", claims(aud=None), "the token does not have a valid audience"),
    ("not yet valid", claims(nbf=int(time.time()) + 600), None),
    ("issued in the future", claims(iat=int(time.time()) + 600), None),
    ("no exp", claims(exp=None), None),
    ("no iat", claims(iat=None), None),
])
def test_invalid_claims_are_rejected(authorizer, signing_key, case, payload, description):
    with pytest.raises(Unauthorized) as raised:
        authorizer.verify(sign(signing_key, payload))
    assert raised.value.description
    if description is not None:
        assert raised.value.description == description


def test_no_token_use_or_sub_check(authorizer, signing_key):
    # only signature, exp/nbf/iat, iss and aud/client_id are checked, as an HTTP API does
    assert authorizer.verify(sign(signing_key, claims(token_use=None, sub=None)))["iss"] == ISSUER


def test_bad_signature_is_rejected(authorizer, signing_key, other_key):
    forged = sign(other_key, claims())  # right kid, wrong key
    with pytest.raises(Unauthorized):
        authorizer.verify(forged)
    header, _payload, sig = sign(signing_key, claims()).split(".")
    tampered_payload = base64.urlsafe_b64encode(
        json.dumps({**claims(), "cognito:groups": ["admin"]}).encode()).rstrip(b"=").decode()
    with pytest.raises(Unauthorized):
        authorizer.verify(f"{header}.{tampered_payload}.{sig}")


def test_unknown_kid_is_rejected(authorizer, other_key, jwks):
    with pytest.raises(Unauthorized, match="unknown signing key"):
        authorizer.verify(sign(other_key, claims(), kid="kid-unknown"))
    # a flood of unknown kids does not become a flood of JWKS fetches
    for _ in range(5):
        with pytest.raises(Unauthorized):
            authorizer.verify(sign(other_key, claims(), kid=f"kid-{uuid.uuid4()}"))
    assert jwks.fetches == 1


def test_unknown_kid_refetches_jwks_for_rotated_keys(jwks, signing_key, other_key):
    authorizer = JwtAuthorizer(jwks.url, ISSUER, [CLIENT_ID], min_refetch_seconds=0)
    assert authorizer.verify(sign(signing_key, claims()))["iss"] == ISSUER
    jwks.keys = [*jwks.keys, jwk(other_key, "kid-2")]  # the pool rotated its keys
    assert authorizer.verify(sign(other_key, claims(), kid="kid-2"))["iss"] == ISSUER
    assert jwks.fetches == 2


def test_none_algorithm_and_hmac_confusion_are_rejected(authorizer, signing_key):
    unsigned = jwt.encode(claims(), "", algorithm="none", headers={"kid": "kid-1"})
    with pytest.raises(Unauthorized):
        authorizer.verify(unsigned)
    public_pem = signing_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": "kid-1", "typ": "JWT"}).encode())
    body = base64.urlsafe_b64encode(json.dumps(claims()).encode())
    import hashlib
    import hmac

    signing_input = header.rstrip(b"=") + b"." + body.rstrip(b"=")
    mac = base64.urlsafe_b64encode(hmac.new(public_pem, signing_input, hashlib.sha256).digest()).rstrip(b"=")
    with pytest.raises(Unauthorized):
        authorizer.verify((signing_input + b"." + mac).decode())


@pytest.mark.parametrize("value", [None, "", "   "])
def test_no_token_is_rejected_without_description(authorizer, value):
    with pytest.raises(Unauthorized) as raised:
        authorizer.verify(value)
    assert raised.value.description is None


@pytest.mark.parametrize("value", ["Bearer", "Bearer ", "not-a-jwt", "a.b.c", "Bearer a.b.c"])
def test_garbage_is_rejected_as_an_invalid_token(authorizer, value):
    with pytest.raises(Unauthorized) as raised:
        authorizer.verify(value)
    assert raised.value.description


def test_jwks_unavailable_is_unauthorized_not_a_crash(jwks, signing_key):
    jwks.fail = True
    authorizer = JwtAuthorizer(jwks.url, ISSUER, [CLIENT_ID], min_refetch_seconds=0)
    with pytest.raises(Unauthorized, match="signing keys unavailable"):
        authorizer.verify(sign(signing_key, claims()))
    jwks.fail = False
    assert authorizer.verify(sign(signing_key, claims()))["token_use"] == "id"


def test_gateway_with_real_authorizer_passes_claims_and_blocks_forgeries(authorizer, signing_key, other_key):
    calls: list[dict[str, Any]] = []

    def invoke(function: str, event: dict[str, Any]) -> dict[str, Any]:
        calls.append(event)
        return {"statusCode": 200, "body": "{}"}

    gw = Gateway([Route("GET", "/cart", "Cart", "JWT")], invoke, authorizer)
    payload = claims()
    ok = gw.handle("GET", "/cart", headers={"Authorization": f"Bearer {sign(signing_key, payload)}"})
    assert ok.status == 200
    assert calls[0]["requestContext"]["authorizer"] == {"claims": authorizer.verify(sign(signing_key, payload)),
                                                        "scopes": None}
    assert calls[0]["requestContext"]["authorizer"]["claims"]["cognito:groups"] == "[admin warehouse]"
    assert gw.handle("GET", "/cart", headers={"Authorization": sign(signing_key, access_claims())}).status == 200
    for token, why in ((sign(other_key, payload), None),
                       (sign(signing_key, claims(exp=int(time.time()) - 1)), "the token has expired"),
                       (sign(signing_key, claims(aud="another-client")), "the token does not have a valid audience")):
        resp = gw.handle("GET", "/cart", headers={"Authorization": token})
        assert resp.status == 401
        assert resp.json() == {"message": "Unauthorized"}
        challenge = resp.header("www-authenticate") or ""
        assert challenge.startswith('Bearer scope="" error="invalid_token" error_description="'), challenge
        if why:
            assert f'error_description="{why}"' in challenge
    missing = gw.handle("GET", "/cart")
    assert missing.status == 401 and missing.header("www-authenticate") is None
    assert len(calls) == 2


def test_identity_header_is_the_configured_one(jwks, signing_key):
    authorizer = JwtAuthorizer(jwks.url, ISSUER, [CLIENT_ID], identity_header="X-Token")
    gw = Gateway([Route("GET", "/cart", "Cart", "JWT")], lambda f, e: {"statusCode": 200}, authorizer)
    token = sign(signing_key, claims())
    assert gw.handle("GET", "/cart", headers={"Authorization": f"Bearer {token}"}).status == 401
    assert gw.handle("GET", "/cart", headers={"x-token": token}).status == 200


def test_audience_must_be_a_list():
    with pytest.raises(TypeError):
        JwtAuthorizer("http://x", ISSUER, CLIENT_ID)
