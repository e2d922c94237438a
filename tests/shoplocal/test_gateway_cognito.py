"""JwtAuthorizer (on a Cognito pool, as the template configures it) and Gateway against real Cognito tokens issued by a
moto server (no stack needed)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.event_handler.api_gateway import Router
from shop.api import make_resolver, principal

from shoplocal.gateway import Gateway, JwtAuthorizer, Route, Unauthorized

pytestmark = pytest.mark.integration

REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Pool:
    endpoint: str
    pool_id: str
    client_id: str
    other_client_id: str
    idp: Any

    def authorizer(self, audience: str | None = None) -> JwtAuthorizer:
        """The template's JWT authorizer: issuer the pool, audience [the app client]."""
        return JwtAuthorizer(jwks_url=f"{self.endpoint}/{self.pool_id}/.well-known/jwks.json",
                             issuer=f"https://cognito-idp.{REGION}.amazonaws.com/{self.pool_id}",
                             audience=[audience or self.client_id])

    def login(self, groups: tuple[str, ...] = (), client_id: str | None = None) -> tuple[str, dict[str, str]]:
        email = f"u-{uuid.uuid4().hex[:10]}@example.com"
        password = f"Pw-{uuid.uuid4().hex[:10]}A1!"
        sub = self.idp.sign_up(ClientId=self.client_id, Username=email, Password=password,
                               UserAttributes=[{"Name": "email", "Value": email}])["UserSub"]
        self.idp.admin_confirm_sign_up(UserPoolId=self.pool_id, Username=email)
        for group in groups:
            self.idp.admin_add_user_to_group(UserPoolId=self.pool_id, Username=email, GroupName=group)
        tokens = self.idp.initiate_auth(ClientId=client_id or self.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                        AuthParameters={"USERNAME": email, "PASSWORD": password})
        return sub, tokens["AuthenticationResult"]


def _pool(idp: Any, endpoint: str) -> Pool:
    pool_id = idp.create_user_pool(PoolName=f"gw-{uuid.uuid4().hex[:8]}", UsernameAttributes=["email"],
                                   AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web",
                                            ExplicitAuthFlows=flows)["UserPoolClient"]["ClientId"]
    other = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="other",
                                        ExplicitAuthFlows=flows)["UserPoolClient"]["ClientId"]
    for group in ("admin", "warehouse"):
        idp.create_group(UserPoolId=pool_id, GroupName=group)
    return Pool(endpoint, pool_id, client_id, other, idp)


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def idp(moto_endpoint) -> Any:
    return boto3.client("cognito-idp", endpoint_url=moto_endpoint, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture(scope="module")
def pool(idp, moto_endpoint) -> Pool:
    return _pool(idp, moto_endpoint)


def test_real_id_token_verifies_with_http_api_claims(pool):
    sub, tokens = pool.login(groups=("admin", "warehouse"))
    claims = pool.authorizer().verify(f"Bearer {tokens['IdToken']}")
    assert claims["sub"] == sub
    assert claims["token_use"] == "id"
    assert claims["aud"] == pool.client_id
    assert claims["iss"].endswith(f"/{pool.pool_id}")
    assert claims["email"].endswith("@example.com")
    assert claims["cognito:groups"] in ("[admin warehouse]", "[warehouse admin]")
    assert claims["exp"].isdigit() and claims["iat"].isdigit()
    assert all(isinstance(v, str) for v in claims.values())


def test_user_without_groups_has_no_groups_claim_or_an_empty_one(pool):
    _, tokens = pool.login()
    claims = pool.authorizer().verify(tokens["IdToken"])
    assert claims.get("cognito:groups", "[]") == "[]"


def test_access_token_is_accepted_on_its_client_id(pool):
    # an HTTP API JWT authorizer checks no token_use; without aud, client_id must be in the audience
    sub, tokens = pool.login(groups=("admin",))
    claims = pool.authorizer().verify(tokens["AccessToken"])
    assert claims["sub"] == sub and claims["token_use"] == "access" and claims["client_id"] == pool.client_id
    assert "aud" not in claims


def test_tokens_of_another_app_client_are_rejected(pool):
    _, tokens = pool.login(client_id=pool.other_client_id)
    for token in (tokens["IdToken"], tokens["AccessToken"]):
        with pytest.raises(Unauthorized, match="valid audience"):
            pool.authorizer().verify(token)
    assert pool.authorizer(audience=pool.other_client_id).verify(tokens["IdToken"])["aud"] == pool.other_client_id


def test_token_of_another_pool_is_rejected(pool, idp, moto_endpoint):
    # moto signs every pool's tokens with the same key: only the issuer check tells pools apart
    other = _pool(idp, moto_endpoint)
    _, tokens = other.login()
    with pytest.raises(Unauthorized):
        pool.authorizer(audience=other.client_id).verify(tokens["IdToken"])


def test_tampered_real_token_is_rejected(pool):
    _, tokens = pool.login()
    header, payload, signature = tokens["IdToken"].split(".")
    flipped = signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")
    with pytest.raises(Unauthorized):
        pool.authorizer().verify(f"{header}.{payload}.{flipped}")


def test_gateway_to_powertools_principal_with_real_tokens(pool):
    """Token -> JWT authorizer -> payload 1.0 event -> shop.api.principal sees the user and the groups."""
    app = make_resolver()
    me = Router()

    @me.get("/me")
    def who() -> dict[str, Any]:
        p = principal(app)
        return {"user_id": p.user_id, "email": p.email, "groups": sorted(p.groups)}

    app.include_router(me)
    gw = Gateway([Route("GET", "/me", "Me", "JWT", "ShopHttpApi")],
                 lambda fn, event: app.resolve(event, None), pool.authorizer())  # type: ignore[arg-type]
    sub, tokens = pool.login(groups=("warehouse", "admin"))
    resp = gw.handle("GET", "/me", headers={"Authorization": f"Bearer {tokens['IdToken']}"})
    assert resp.status == 200, resp.body
    assert resp.json() == {"user_id": sub, "email": resp.json()["email"], "groups": ["admin", "warehouse"]}
    assert resp.json()["email"].endswith("@example.com")
    by_access = gw.handle("GET", "/me", headers={"Authorization": tokens["AccessToken"]})
    assert by_access.status == 200, by_access.body
    assert by_access.json()["user_id"] == sub and by_access.json()["groups"] == ["admin", "warehouse"]
    assert gw.handle("GET", "/me").status == 401
