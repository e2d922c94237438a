"""Shopper self-service on auth: a forgotten password (POST /auth/forgot-password, the code from the outbox,
POST /auth/reset-password, log in with the new password) and a new sign-up code (POST /auth/resend-code). The code
requests answer the same whether the address has an account; a wrong code is a 422 naming ``code``; Cognito's
limits are a 429."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.integration

PASSWORD = "Corr3ct-Horse"
NEW_PASSWORD = "Batt3ry-Staple"


def new_email() -> str:
    return f"shopper-{uuid.uuid4().hex[:12]}@example.com"


def codes_to(stack: Any, email: str, subject: str) -> list[str]:
    """The codes mailed to ``email`` under ``subject`` (the local stack's outbox), oldest first."""
    return [re.search(r"\b(\d{6})\b", str(m["body"])).group(1)  # type: ignore[union-attr]
            for m in stack.sent_emails() if email in m["destinations"] and m["subject"] == subject]


def login(stack: Any, email: str, password: str) -> int:
    return int(stack.request("POST", "/auth/login", json={"email": email, "password": password}).status)


def test_forgot_then_reset_with_the_mailed_code_then_log_in_with_the_new_password(stack: Any) -> None:
    email = new_email()
    assert stack.request("POST", "/auth/register", json={"email": email, "password": PASSWORD}).status == 201

    r = stack.request("POST", "/auth/forgot-password", json={"email": email.upper()})
    assert r.status == 200, r.body
    known = r.json()
    assert known["email"] == email
    [code] = codes_to(stack, email, "Your password reset code")

    # a wrong code: 422 naming the field, the password unchanged
    wrong = "000000" if code != "000000" else "111111"
    r = stack.request("POST", "/auth/reset-password", json={"email": email, "code": wrong, "password": NEW_PASSWORD})
    assert r.status == 422 and [f["field"] for f in r.json()["error"]["details"]["fields"]] == ["body.code"]
    # a password the policy refuses: 422 naming it, before Cognito is asked
    r = stack.request("POST", "/auth/reset-password", json={"email": email, "code": code, "password": "short"})
    assert r.status == 422 and [f["field"] for f in r.json()["error"]["details"]["fields"]] == ["body.password"]
    assert login(stack, email, PASSWORD) == 200

    r = stack.request("POST", "/auth/reset-password", json={"email": email, "code": code, "password": NEW_PASSWORD})
    assert r.status == 200, r.body
    assert r.json() == {"email": email, "password_reset": True}
    assert login(stack, email, NEW_PASSWORD) == 200
    assert login(stack, email, PASSWORD) == 401
    # the code is spent
    r = stack.request("POST", "/auth/reset-password", json={"email": email, "code": code, "password": PASSWORD})
    assert r.status == 422


def test_an_unknown_address_gets_the_same_answers_and_no_mail(stack: Any) -> None:
    known, unknown = new_email(), new_email()
    assert stack.request("POST", "/auth/register", json={"email": known, "password": PASSWORD}).status == 201
    for route in ("/auth/forgot-password", "/auth/resend-code"):
        a = stack.request("POST", route, json={"email": known})
        b = stack.request("POST", route, json={"email": unknown})
        assert (a.status, b.status) == (200, 200)
        assert {**a.json(), "email": None} == {**b.json(), "email": None}
    assert not [m for m in stack.sent_emails() if unknown in m["destinations"]]
    # resetting an unknown address is the wrong-code answer, not "no such user"
    r = stack.request("POST", "/auth/reset-password", json={"email": unknown, "code": "123456",
                                                            "password": NEW_PASSWORD})
    assert r.status == 422 and [f["field"] for f in r.json()["error"]["details"]["fields"]] == ["body.code"]


def test_resend_code_mails_a_new_sign_up_code_that_confirms_the_account(stack: Any) -> None:
    email = new_email()
    env = stack.function_env("AuthFunction")
    stack.client("cognito-idp").sign_up(ClientId=env["USER_POOL_CLIENT_ID"], Username=email, Password=PASSWORD,
                                        UserAttributes=[{"Name": "email", "Value": email}])
    assert login(stack, email, PASSWORD) == 403  # not confirmed yet
    assert stack.request("POST", "/auth/resend-code", json={"email": email}).status == 200
    [code] = codes_to(stack, email, "Your verification code")
    wrong = "000000" if code != "000000" else "111111"
    r = stack.request("POST", "/auth/confirm", json={"email": email, "code": wrong})
    assert r.status == 422 and [f["field"] for f in r.json()["error"]["details"]["fields"]] == ["body.code"]
    assert stack.request("POST", "/auth/confirm", json={"email": email, "code": code}).status == 200
    assert login(stack, email, PASSWORD) == 200
    # confirmed now: the same answer, no new mail
    assert stack.request("POST", "/auth/resend-code", json={"email": email}).status == 200
    assert len(codes_to(stack, email, "Your verification code")) == 1


@pytest.mark.parametrize("body", [{}, {"email": "not-an-email"}, {"email": "a@example.com", "extra": 1}])
@pytest.mark.parametrize("route", ["/auth/forgot-password", "/auth/resend-code"])
def test_bad_bodies_are_422(stack: Any, route: str, body: dict[str, Any]) -> None:
    assert stack.request("POST", route, json=body).status == 422


class _FailingIdp:
    """Stands in for the Cognito client to raise what moto never does (its limits)."""

    def __init__(self, code: str):
        self.code = code

    def __getattr__(self, name: str) -> Any:
        def fail(**_: Any) -> Any:
            raise ClientError({"Error": {"Code": self.code, "Message": f"{self.code} from Cognito"}}, name)
        return fail


@pytest.mark.parametrize(("route", "body"), [
    ("/auth/forgot-password", {"email": "a@example.com"}),
    ("/auth/resend-code", {"email": "a@example.com"}),
    ("/auth/reset-password", {"email": "a@example.com", "code": "123456", "password": NEW_PASSWORD}),
])
@pytest.mark.parametrize(("code", "status"), [
    ("LimitExceededException", 429), ("TooManyRequestsException", 429), ("TooManyFailedAttemptsException", 429),
    ("CodeDeliveryFailureException", 502), ("InternalErrorException", 502),
])
def test_cognito_limits_are_429(stack: Any, monkeypatch: pytest.MonkeyPatch, route: str, body: dict[str, Any],
                                code: str, status: int) -> None:
    from shop.auth import repository

    monkeypatch.setattr(repository, "_idp", lambda: _FailingIdp(code))
    r = stack.request("POST", route, json=body)
    assert r.status == status, r.body
    assert r.json()["error"]["code"] == ("too_many_requests" if status == 429 else "dependency_failed")
    assert code not in r.body


@pytest.mark.parametrize("code", ["UserNotFoundException", "InvalidParameterException", "NotAuthorizedException"])
def test_what_would_reveal_an_account_answers_as_a_sent_code(stack: Any, monkeypatch: pytest.MonkeyPatch,
                                                              code: str) -> None:
    from shop.auth import repository

    monkeypatch.setattr(repository, "_idp", lambda: _FailingIdp(code))
    for route in ("/auth/forgot-password", "/auth/resend-code"):
        assert stack.request("POST", route, json={"email": "a@example.com"}).status == 200
    r = stack.request("POST", "/auth/reset-password", json={"email": "a@example.com", "code": "123456",
                                                            "password": NEW_PASSWORD})
    assert r.status == 422 and [f["field"] for f in r.json()["error"]["details"]["fields"]] == ["body.code"]
