"""Auth use cases. Shopper routes take the Cognito IdToken as `Authorization: Bearer <id_token>`."""

from __future__ import annotations

from typing import Any

from shop.auth import repository as repo
from shop.auth.models import ConfirmIn, EmailOnlyIn, LoginIn, RefreshIn, RegisterIn, ResetPasswordIn
from shop.config import get_settings

TOKEN_TYPE = "Bearer"


def register(body: RegisterIn) -> dict[str, Any]:
    user_id = repo.sign_up(body.email, body.password, body.name)
    confirmed = False
    if get_settings().auto_confirm_signups:
        repo.admin_confirm(body.email)
        confirmed = True
    return {"user_id": user_id, "email": body.email, "confirmed": confirmed}


def confirm(body: ConfirmIn) -> dict[str, Any]:
    repo.confirm(body.email, body.code)
    return {"email": body.email, "confirmed": True}


def _token_view(auth: dict[str, Any], refresh_token: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"id_token": auth["IdToken"], "access_token": auth["AccessToken"],
                           "expires_in": int(auth.get("ExpiresIn", 3600)), "token_type": TOKEN_TYPE,
                           "usage": "send the id_token as 'Authorization: Bearer <id_token>'"}
    if refresh_token:
        out["refresh_token"] = refresh_token
    return out


def login(body: LoginIn) -> dict[str, Any]:
    auth = repo.password_login(body.email, body.password)
    return _token_view(auth, auth.get("RefreshToken"))


def refresh(body: RefreshIn) -> dict[str, Any]:
    auth = repo.refresh(body.refresh_token)
    return _token_view(auth, auth.get("RefreshToken"))


# Self-service codes: the answers never say whether an account exists for the address (the user pool client
# has PreventUserExistenceErrors; the repository swallows what would still tell), so they are fixed texts.
RESET_SENT = "if an account exists for this address, a password reset code has been mailed to it"
CODE_SENT = "if an unconfirmed account exists for this address, a new confirmation code has been mailed to it"


def forgot_password(body: EmailOnlyIn) -> dict[str, Any]:
    repo.forgot_password(body.email)
    return {"email": body.email, "message": RESET_SENT}


def reset_password(body: ResetPasswordIn) -> dict[str, Any]:
    repo.reset_password(body.email, body.code, body.password)
    return {"email": body.email, "password_reset": True}


def resend_code(body: EmailOnlyIn) -> dict[str, Any]:
    repo.resend_code(body.email)
    return {"email": body.email, "message": CODE_SENT}
