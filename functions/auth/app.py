"""Auth API: register, confirm, login and refresh shoppers against the Cognito user pool."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from shop.api import JSON, field_locations, http_handler, make_resolver
from shop.auth import service
from shop.auth.contracts import AuthTokens, Confirmation, Registration
from shop.auth.models import ConfirmIn, LoginIn, RefreshIn, RegisterIn
from shop.errors import DomainError
from shop.observability import observability

obs = observability("auth", needs=("user_pool_id", "user_pool_client_id", "auto_confirm_signups",
                                   "cors_allowed_origins"))
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


app.include_router(auth)


handler = http_handler(app, obs)
