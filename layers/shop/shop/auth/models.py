"""Auth request models: email format and the user pool's password policy are checked here, so bad input
is a 422 naming the field before Cognito is called."""

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, field_validator

from shop.errors import Forbidden

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
MIN_PASSWORD = 8


class UserNotConfirmed(Forbidden):
    code = "user_not_confirmed"


def normalize_email(value: str) -> str:
    """The one spelling of an address: trimmed and in lower case, so ``SHOPPER@example.com`` and
    ``shopper@example.com`` are one account (register, confirm and login all go through here; the user pool is
    case-insensitive too, see template.yaml UsernameConfiguration)."""
    email = value.strip()
    if len(email) > 254 or not _EMAIL.match(email) or ".." in email:
        raise ValueError("must be a valid email address")
    return email.lower()


def password_problems(password: str) -> list[str]:
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(f"at least {MIN_PASSWORD} characters")
    if not re.search(r"[A-Z]", password):
        problems.append("an upper-case letter")
    if not re.search(r"[a-z]", password):
        problems.append("a lower-case letter")
    if not re.search(r"[0-9]", password):
        problems.append("a digit")
    return problems


def _policy(password: str) -> str:
    problems = password_problems(password)
    if problems:
        raise ValueError("must contain " + ", ".join(problems))
    return password


# a password the shopper chooses (register, reset): the pool's policy, checked before Cognito is called
NewPassword = Annotated[str, StringConstraints(max_length=256), AfterValidator(_policy)]


class _Body(BaseModel):
    # request bodies: built on their route's first request (issue 17)
    model_config = ConfigDict(extra="forbid", defer_build=True)


class _WithEmail(_Body):
    email: Annotated[str, StringConstraints(max_length=254)]

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        return normalize_email(v)


class RegisterIn(_WithEmail):
    password: NewPassword
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)] | None = None


class ConfirmIn(_WithEmail):
    code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9A-Za-z]{4,12}$")]


class LoginIn(_WithEmail):
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class RefreshIn(_Body):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=8192)]


class EmailOnlyIn(_WithEmail):
    """POST /auth/forgot-password and /auth/resend-code: the address alone."""


class ResetPasswordIn(ConfirmIn):
    """POST /auth/reset-password: the mailed code and the new password (the pool's policy, checked here)."""

    password: NewPassword
