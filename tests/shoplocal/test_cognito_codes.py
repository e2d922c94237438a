"""Patch 11 (shoplocal/patches.py): the local Cognito mails its codes to the outbox and checks them, as Cognito
does: ForgotPassword and ResendConfirmationCode (which moto lacks) mail a 6-digit code, ConfirmForgotPassword takes
only that code and the password policy, ConfirmSignUp checks a resent code. Against moto directly (boto3)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.integration

PASSWORD = "Corr3ct-Horse"


def _pool(stack: Any) -> tuple[Any, str, str]:
    return (stack.client("cognito-idp"), stack.physical_id_of_type("AWS::Cognito::UserPool"),
            stack.physical_id_of_type("AWS::Cognito::UserPoolClient"))


def _code(stack: Any, email: str, subject: str) -> str:
    mails = [m for m in stack.sent_emails() if email in m["destinations"] and m["subject"] == subject]
    assert mails, f"no {subject!r} mail to {email}"
    assert mails[-1]["source"] == "no-reply@verificationemail.com"
    found = re.search(r"\b(\d{6})\b", str(mails[-1]["body"]))
    assert found
    return found.group(1)


def _user(stack: Any, confirmed: bool = True) -> str:
    idp, pool, client = _pool(stack)
    email = f"codes-{uuid.uuid4().hex[:10]}@example.com"
    idp.sign_up(ClientId=client, Username=email, Password=PASSWORD, UserAttributes=[{"Name": "email", "Value": email}])
    if confirmed:
        idp.admin_confirm_sign_up(UserPoolId=pool, Username=email)
    return email


def test_forgot_password_mails_a_code_that_alone_resets_the_password(stack: Any) -> None:
    idp, _, client = _pool(stack)
    email = _user(stack)
    sent = idp.forgot_password(ClientId=client, Username=email)["CodeDeliveryDetails"]
    assert sent["DeliveryMedium"] == "EMAIL" and sent["AttributeName"] == "email"
    code = _code(stack, email, "Your password reset code")
    for wrong in ("000000" if code != "000000" else "111111", "moto-confirmation-code:123456", "anything"):
        with pytest.raises(idp.exceptions.CodeMismatchException):
            idp.confirm_forgot_password(ClientId=client, Username=email, ConfirmationCode=wrong, Password="New-Pass1")
    with pytest.raises(idp.exceptions.InvalidPasswordException):
        idp.confirm_forgot_password(ClientId=client, Username=email, ConfirmationCode=code, Password="weak")
    idp.confirm_forgot_password(ClientId=client, Username=email, ConfirmationCode=code, Password="New-Pass1")
    assert idp.initiate_auth(ClientId=client, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={
        "USERNAME": email, "PASSWORD": "New-Pass1"})["AuthenticationResult"]["IdToken"]
    with pytest.raises(idp.exceptions.CodeMismatchException):  # spent
        idp.confirm_forgot_password(ClientId=client, Username=email, ConfirmationCode=code, Password="New-Pass2")


def test_an_unknown_user_gets_a_delivery_and_no_mail_and_cannot_reset(stack: Any) -> None:
    idp, _, client = _pool(stack)
    email = f"nobody-{uuid.uuid4().hex[:10]}@example.com"
    assert idp.forgot_password(ClientId=client, Username=email)["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    assert idp.resend_confirmation_code(ClientId=client, Username=email)["CodeDeliveryDetails"]
    assert not [m for m in stack.sent_emails() if email in m["destinations"]]
    with pytest.raises(idp.exceptions.CodeMismatchException):
        idp.confirm_forgot_password(ClientId=client, Username=email, ConfirmationCode="123456", Password="New-Pass1")


def test_resend_confirmation_code_mails_a_code_that_confirm_sign_up_checks(stack: Any) -> None:
    idp, _, client = _pool(stack)
    email = _user(stack, confirmed=False)
    idp.resend_confirmation_code(ClientId=client, Username=email)
    code = _code(stack, email, "Your verification code")
    with pytest.raises(idp.exceptions.CodeMismatchException):
        idp.confirm_sign_up(ClientId=client, Username=email, ConfirmationCode="000000" if code != "000000" else "1")
    idp.confirm_sign_up(ClientId=client, Username=email, ConfirmationCode=code)
    with pytest.raises(idp.exceptions.InvalidParameterException):  # confirmed now
        idp.resend_confirmation_code(ClientId=client, Username=email)


def test_without_a_resent_code_confirm_sign_up_keeps_accepting_any_code(stack: Any) -> None:
    """moto's behaviour the local stack relies on (it confirms sign-ups itself) is unchanged."""
    idp, _, client = _pool(stack)
    email = _user(stack, confirmed=False)
    idp.confirm_sign_up(ClientId=client, Username=email, ConfirmationCode="123456")
