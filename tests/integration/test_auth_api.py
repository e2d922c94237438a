"""Auth API (register, confirm, login, refresh) through the gateway emulation against moto's Cognito."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.integration

PASSWORD = "Corr3ct-Horse"


def new_email() -> str:
    return f"shopper-{uuid.uuid4().hex[:12]}@example.com"


def fields(resp: Any) -> set[str]:
    return {f["field"] for f in resp.json()["error"].get("details", {}).get("fields", [])}


def register(stack: Any, email: str, password: str = PASSWORD, **extra: Any) -> Any:
    return stack.request("POST", "/auth/register", json={"email": email, "password": password, **extra})


def test_register_login_refresh(stack: Any) -> None:
    email = new_email()
    r = register(stack, email, name="Ada Lovelace")
    assert r.status == 201, r.body
    body = r.json()
    assert body["email"] == email and body["confirmed"] is True and body["user_id"]

    r = stack.request("POST", "/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status == 200, r.body
    tokens = r.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 0
    assert tokens["id_token"] and tokens["access_token"] and tokens["refresh_token"]

    # the IdToken passes the API's Cognito authorizer: a shopper reaches an admin route and gets 403, not 401
    assert stack.request("GET", "/admin/warehouses", token=tokens["id_token"]).status == 403

    r = stack.request("POST", "/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status == 200, r.body
    assert r.json()["id_token"] and r.json()["token_type"] == "Bearer"
    assert stack.request("GET", "/admin/warehouses", token=r.json()["id_token"]).status == 403


def test_duplicate_registration_is_409(stack: Any) -> None:
    email = new_email()
    assert register(stack, email).status == 201
    r = register(stack, email)
    assert r.status == 409 and r.json()["error"]["code"] == "conflict"


@pytest.mark.parametrize(("body", "field"), [
    ({"email": "not-an-email", "password": PASSWORD}, "body.email"),
    ({"email": "x@example.com", "password": "short1A"}, "body.password"),
    ({"email": "x@example.com", "password": "nouppercase1"}, "body.password"),
    ({"email": "x@example.com", "password": "NoDigitsAtAll"}, "body.password"),
    ({"password": PASSWORD}, "body.email"),
    ({"email": "x@example.com"}, "body.password"),
])
def test_register_bad_input(stack: Any, body: dict[str, Any], field: str) -> None:
    r = stack.request("POST", "/auth/register", json=body)
    assert r.status == 422 and field in fields(r), r.body


def test_wrong_password_and_unknown_user_look_the_same(stack: Any) -> None:
    email = new_email()
    assert register(stack, email).status == 201
    wrong = stack.request("POST", "/auth/login", json={"email": email, "password": "Wrong-Passw0rd"})
    unknown = stack.request("POST", "/auth/login", json={"email": new_email(), "password": PASSWORD})
    assert wrong.status == 401 and unknown.status == 401
    assert wrong.json() == unknown.json()
    r = stack.request("POST", "/auth/login", json={"email": "bad", "password": PASSWORD})
    assert r.status == 422 and fields(r) == {"body.email"}


def test_bad_refresh_token_is_401(stack: Any) -> None:
    r = stack.request("POST", "/auth/refresh", json={"refresh_token": "definitely-not-a-token"})
    assert r.status == 401
    r = stack.request("POST", "/auth/refresh", json={})
    assert r.status == 422 and fields(r) == {"body.refresh_token"}


def test_unconfirmed_user_gets_403_user_not_confirmed(stack: Any) -> None:
    env = stack.function_env("AuthFunction")
    email = new_email()
    stack.client("cognito-idp").sign_up(ClientId=env["USER_POOL_CLIENT_ID"], Username=email, Password=PASSWORD,
                                        UserAttributes=[{"Name": "email", "Value": email}])
    r = stack.request("POST", "/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status == 403 and r.json()["error"]["code"] == "user_not_confirmed"


def test_confirm_flow(stack: Any) -> None:
    env = stack.function_env("AuthFunction")
    email = new_email()
    stack.client("cognito-idp").sign_up(ClientId=env["USER_POOL_CLIENT_ID"], Username=email, Password=PASSWORD,
                                        UserAttributes=[{"Name": "email", "Value": email}])
    r = stack.request("POST", "/auth/confirm", json={"email": email, "code": "!"})
    assert r.status == 422 and fields(r) == {"body.code"}
    r = stack.request("POST", "/auth/confirm", json={"email": email, "code": "123456"})
    assert r.status == 200 and r.json() == {"email": email, "confirmed": True}
    assert stack.request("POST", "/auth/login", json={"email": email, "password": PASSWORD}).status == 200


class _FailingIdp:
    """Stands in for the Cognito client to inject errors moto never raises (moto accepts any code)."""

    def __init__(self, code: str):
        self.code = code

    def __getattr__(self, name: str) -> Any:
        def fail(**_: Any) -> Any:
            raise ClientError({"Error": {"Code": self.code, "Message": f"{self.code} from Cognito"}}, name)
        return fail


@pytest.mark.parametrize(("route", "body", "code", "status", "field"), [
    ("/auth/confirm", {"email": "a@example.com", "code": "123456"}, "CodeMismatchException", 422, "body.code"),
    ("/auth/confirm", {"email": "a@example.com", "code": "123456"}, "ExpiredCodeException", 422, "body.code"),
    ("/auth/register", {"email": "a@example.com", "password": PASSWORD}, "InvalidPasswordException", 422,
     "body.password"),
    ("/auth/register", {"email": "a@example.com", "password": PASSWORD}, "UsernameExistsException", 409, None),
    ("/auth/login", {"email": "a@example.com", "password": PASSWORD}, "TooManyRequestsException", 503, None),
    ("/auth/login", {"email": "a@example.com", "password": PASSWORD}, "UserNotFoundException", 401, None),
    ("/auth/login", {"email": "a@example.com", "password": PASSWORD}, "InternalErrorException", 502, None),
])
def test_cognito_errors_map_to_statuses(stack: Any, monkeypatch: pytest.MonkeyPatch, route: str,
                                        body: dict[str, Any], code: str, status: int, field: str | None) -> None:
    from shop.auth import repository

    monkeypatch.setattr(repository, "_idp", lambda: _FailingIdp(code))
    r = stack.request("POST", route, json=body)
    assert r.status == status, r.body
    if field:
        assert fields(r) == {field}
    assert code not in r.body or status < 500  # 5xx never leaks provider details
