"""Cognito user pool access (the only auth code that talks to boto3); Cognito errors become domain errors.

Wrong password and unknown user produce the same 401 so the API does not reveal which emails exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError

from shop import aws
from shop.auth.models import UserNotConfirmed
from shop.config import get_settings
from shop.errors import Conflict, DependencyFailed, InvalidInput, ServiceBusy, TooManyRequests, Unauthorized

# Who owns a table (docs/conventions.md; tests/unit/test_table_ownership.py): no table (Cognito); other contexts
# use the names in PUBLIC.
TABLE = None
KEY_PREFIXES: tuple[str, ...] = ()
PUBLIC = frozenset({"find_users"})

BAD_CREDENTIALS = "incorrect email or password"
BUSY = frozenset({"TooManyRequestsException", "LimitExceededException", "TooManyFailedAttemptsException"})


@contextmanager
def _cognito(what: str, limited: bool = False) -> Iterator[None]:
    """Cognito errors as domain errors. ``limited``: the self-service code flows, where Cognito's limits (too many
    requests, codes or failed attempts for an address) are the caller's to respect: 429, not 503."""
    try:
        yield
    except ClientError as exc:
        code = aws.error_code(exc)
        message = str(exc.response.get("Error", {}).get("Message", ""))
        if limited and (code in BUSY or code in aws.THROTTLING_CODES):
            raise TooManyRequests(f"{what}: too many attempts for now, try again later") from exc
        if code == "UsernameExistsException":
            raise Conflict("an account with this email already exists", details={"field": "email"}) from exc
        if code == "InvalidPasswordException":
            raise InvalidInput("password", message or "does not meet the password policy") from exc
        if code in ("NotAuthorizedException", "UserNotFoundException"):
            raise Unauthorized(BAD_CREDENTIALS) from exc
        if code == "UserNotConfirmedException":
            raise UserNotConfirmed("the account is not confirmed yet: confirm it with the emailed code") from exc
        if code in ("CodeMismatchException", "ExpiredCodeException"):
            raise InvalidInput("code", "invalid or expired confirmation code") from exc
        if code in BUSY or code in aws.THROTTLING_CODES:
            raise ServiceBusy(f"{what}: too many requests, retry shortly") from exc
        if code == "InvalidParameterException":
            raise InvalidInput("", message or "invalid parameter") from exc
        raise DependencyFailed(f"{what}: the identity provider failed, retry later") from exc


def _idp() -> Any:
    return aws.client("cognito-idp")


def _client_id() -> str:
    return get_settings().require("user_pool_client_id")


def sign_up(email: str, password: str, name: str | None) -> str:
    attrs = [{"Name": "email", "Value": email}]
    if name:
        attrs.append({"Name": "name", "Value": name})
    with _cognito("register"):
        resp = _idp().sign_up(ClientId=_client_id(), Username=email, Password=password, UserAttributes=attrs)
    return str(resp["UserSub"])


def admin_confirm(email: str) -> None:
    with _cognito("confirm"):
        _idp().admin_confirm_sign_up(UserPoolId=get_settings().require("user_pool_id"), Username=email)


def confirm(email: str, code: str) -> None:
    try:
        with _cognito("confirm"):
            _idp().confirm_sign_up(ClientId=_client_id(), Username=email, ConfirmationCode=code)
    except Unauthorized as exc:
        # unknown user or already confirmed: do not reveal which
        raise InvalidInput("code", "invalid or expired confirmation code") from exc


def _tokens(result: dict[str, Any]) -> dict[str, Any]:
    auth = result.get("AuthenticationResult")
    if not auth:
        # a challenge (e.g. NEW_PASSWORD_REQUIRED) the storefront does not support
        raise Unauthorized(f"additional sign-in step required: {result.get('ChallengeName', 'unknown')}")
    return auth


def password_login(email: str, password: str) -> dict[str, Any]:
    with _cognito("login"):
        resp = _idp().initiate_auth(ClientId=_client_id(), AuthFlow="USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": email, "PASSWORD": password})
    return _tokens(resp)


# ------------------------------------------------------------------ staff look-ups (shop.orderflow.customers)
def _user_view(user: dict[str, Any]) -> dict[str, Any]:
    attrs = {a["Name"]: a["Value"] for a in user.get("Attributes") or user.get("UserAttributes") or []}
    created: Any = user.get("UserCreateDate")
    return {"customer_id": attrs.get("sub", ""), "email": attrs.get("email"), "name": attrs.get("name"),
            "email_verified": attrs.get("email_verified") == "true", "status": str(user.get("UserStatus", "")),
            "enabled": bool(user.get("Enabled", True)),
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(created, "strftime") else None}


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def find_users(attribute: str, text: str, *, prefix: bool = False, limit: int = 20) -> list[dict[str, Any]]:
    """Users whose ``attribute`` (email or sub) equals ``text`` (or starts with it): Cognito ListUsers with a
    filter (one request, at most ``limit`` users; Cognito searches one attribute per request)."""
    if attribute not in ("email", "sub"):
        raise ValueError(f"cannot search users by {attribute}")
    expression = f'{attribute} {"^=" if prefix else "="} "{_quoted(text)}"'
    with _cognito("user search"):
        resp = _idp().list_users(UserPoolId=get_settings().require("user_pool_id"), Filter=expression,
                                 Limit=min(max(limit, 1), 60))
    return [_user_view(u) for u in resp.get("Users", [])]


def refresh(refresh_token: str) -> dict[str, Any]:
    try:
        with _cognito("refresh"):
            resp = _idp().initiate_auth(ClientId=_client_id(), AuthFlow="REFRESH_TOKEN_AUTH",
                                        AuthParameters={"REFRESH_TOKEN": refresh_token})
    except Unauthorized as exc:
        raise Unauthorized("invalid or expired refresh token") from exc
    return _tokens(resp)


# ------------------------------------------------------------------ self-service codes
# Whatever would tell whether an account exists (an unknown address, one that cannot receive codes, one that is
# already confirmed) is swallowed: the caller gets the same answer as for an address that got its code.
_SILENT = (Unauthorized, UserNotConfirmed, InvalidInput)


def forgot_password(email: str) -> None:
    """ForgotPassword: Cognito mails a reset code to a confirmed account's verified address."""
    try:
        with _cognito("forgot password", limited=True):
            _idp().forgot_password(ClientId=_client_id(), Username=email)
    except _SILENT:
        pass


def reset_password(email: str, code: str, password: str) -> None:
    """ConfirmForgotPassword. A wrong or expired code and an unknown address are the same 422 naming ``code``; a
    password the pool refuses is a 422 naming ``password``."""
    try:
        with _cognito("reset password", limited=True):
            _idp().confirm_forgot_password(ClientId=_client_id(), Username=email, ConfirmationCode=code,
                                           Password=password)
    except InvalidInput as exc:
        if exc.field in ("code", "password"):
            raise
        raise InvalidInput("code", "invalid or expired code") from exc
    except (Unauthorized, UserNotConfirmed) as exc:
        raise InvalidInput("code", "invalid or expired code") from exc


def resend_code(email: str) -> None:
    """ResendConfirmationCode: Cognito mails a new sign-up code to an unconfirmed account."""
    try:
        with _cognito("resend code", limited=True):
            _idp().resend_confirmation_code(ClientId=_client_id(), Username=email)
    except _SILENT:
        pass
