"""Auth API: register, confirm, login and refresh shoppers against the Cognito user pool, and the self-service
code flows: a forgotten password (a mailed code, then a new password) and a new sign-up code. The code requests
answer the same whether an account exists for the address or not; Cognito's limits on them are a 429."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from shop.api import JSON, field_locations, http_handler, make_resolver
from shop.auth import service
from shop.auth.contracts import AuthTokens, CodeRequested, Confirmation, PasswordReset, Registration
from shop.auth.models import ConfirmIn, EmailOnlyIn, LoginIn, RefreshIn, RegisterIn, ResetPasswordIn
from shop.errors import DomainError
from shop.observability import observability

obs = observability("auth", needs=("user_pool_id", "user_pool_client_id", "auto_confirm_signups"))
app = make_resolver(obs.logger)
auth = Router()


@auth.post("/auth/register", status_code=201)
@field_locations(email=None)  # the 409 for a taken email has always named the field plain "email"
def register(body: RegisterIn) -> Response[Registration]:
    try:
        result = service.register(body)
    except DomainError as exc:
        obs.count("RegistrationRejected")
        obs.logger.info("registration rejected", extra={"error_code": exc.code})
        raise
    obs.logger.append_keys(user_id=result["user_id"])
    obs.count("UserRegistered")
    return Response(status_code=201, content_type=JSON, body=result)


@auth.post("/auth/confirm")
def confirm(body: ConfirmIn) -> Confirmation:
    result = service.confirm(body)
    obs.count("UserConfirmed")
    return result


@auth.post("/auth/login")
def login(body: LoginIn) -> AuthTokens:
    try:
        result = service.login(body)
    except DomainError as exc:
        obs.count("LoginFailed")
        obs.logger.info("login failed", extra={"error_code": exc.code})
        raise
    obs.count("LoginSucceeded")
    return result


@auth.post("/auth/refresh")
def refresh(body: RefreshIn) -> AuthTokens:
    result = service.refresh(body)
    obs.count("TokenRefreshed")
    return result


@auth.post("/auth/forgot-password")
def forgot_password(body: EmailOnlyIn) -> CodeRequested:
    """Mail a password reset code (the same answer for an unknown address)."""
    result = service.forgot_password(body)
    obs.count("PasswordResetRequested")
    return result


@auth.post("/auth/reset-password")
def reset_password(body: ResetPasswordIn) -> PasswordReset:
    """Set a new password with the mailed code (a wrong or expired code: 422 naming ``code``)."""
    try:
        result = service.reset_password(body)
    except DomainError as exc:
        obs.count("PasswordResetFailed")
        obs.logger.info("password reset failed", extra={"error_code": exc.code})
        raise
    obs.count("PasswordReset")
    return result


@auth.post("/auth/resend-code")
def resend_code(body: EmailOnlyIn) -> CodeRequested:
    """Mail a new sign-up confirmation code (the same answer for an unknown or confirmed address)."""
    result = service.resend_code(body)
    obs.count("ConfirmationCodeResent")
    return result


app.include_router(auth)


handler = http_handler(app, obs)
