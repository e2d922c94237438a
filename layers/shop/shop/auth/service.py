"""Auth use cases. Shopper routes take the Cognito IdToken as `Authorization: Bearer <id_token>`."""

from __future__ import annotations

from typing import Any

from shop.auth import repository as repo
from shop.auth.models import ConfirmIn, LoginIn, RefreshIn, RegisterIn
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
