"""HTTP answers of the auth API (functions/auth): registration, confirmation and Cognito tokens.

The shapes are those ``shop.auth.service`` has always returned. ``refresh_token`` is absent when Cognito does
not issue a new one (a refresh usually keeps the old one), so it is declared with ``exclude_if``: it stays
absent from the answer instead of turning into a null.
"""

from typing import Literal

from pydantic import Field

from shop.contracts import ResponseModel, absent


class Registration(ResponseModel):
    user_id: str = Field(description="the Cognito user's sub: the shopper's id everywhere else")
    email: str = Field(description="normalised: trimmed, lower case")
    confirmed: bool = Field(description="false until the emailed code is confirmed (POST /auth/confirm); true "
                                        "when the shop confirms sign-ups itself")


class Confirmation(ResponseModel):
    email: str
    confirmed: bool = Field(description="always true: the account can log in now")


class AuthTokens(ResponseModel):
    id_token: str = Field(description="send as 'Authorization: Bearer <id_token>'")
    access_token: str
    expires_in: int = Field(description="seconds until the id and access tokens expire")
    token_type: Literal["Bearer"]
    usage: str = Field(description="how to use the tokens, for humans")
    refresh_token: str | None = Field(None, exclude_if=absent,
                                      description="for POST /auth/refresh; absent when no new one was issued")


class CodeRequested(ResponseModel):
    """The answer to a code request, the same whether an account exists for the address or not."""

    email: str = Field(description="normalised: trimmed, lower case")
    message: str = Field(description="for humans: a code is mailed if an account can use one")


class PasswordReset(ResponseModel):
    email: str
    password_reset: bool = Field(description="always true: log in with the new password")
