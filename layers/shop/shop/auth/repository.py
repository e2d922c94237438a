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
from shop.errors import Conflict, DependencyFailed, InvalidInput, ServiceBusy, Unauthorized

BAD_CREDENTIALS = "incorrect email or password"
BUSY = frozenset({"TooManyRequestsException", "LimitExceededException", "TooManyFailedAttemptsException"})


@contextmanager
def _cognito(what: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        code = aws.error_code(exc)
        message = str(exc.response.get("Error", {}).get("Message", ""))
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


def refresh(refresh_token: str) -> dict[str, Any]:
    try:
        with _cognito("refresh"):
            resp = _idp().initiate_auth(ClientId=_client_id(), AuthFlow="REFRESH_TOKEN_AUTH",
                                        AuthParameters={"REFRESH_TOKEN": refresh_token})
    except Unauthorized as exc:
        raise Unauthorized("invalid or expired refresh token") from exc
    return _tokens(resp)
