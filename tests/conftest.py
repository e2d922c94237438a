"""Shared fixtures. One local stack (moto + deployed template + gateway + localstripe) per pytest worker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shoplocal.stack import Stack, TestUser

AUTH_TIMEOUT_SECONDS = 6


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    # a short 3-D Secure wait so the payment-timeout path runs in seconds (real stages wait 15 minutes)
    s = Stack(parameters={"PaymentAuthTimeoutSeconds": str(AUTH_TIMEOUT_SECONDS)})
    try:
        s.start()
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="session")
def admin(stack: Stack) -> TestUser:
    """A shop administrator (Cognito group admin), logged in."""
    return stack.user(groups=("admin",))


@pytest.fixture(scope="session")
def staff(stack: Stack) -> TestUser:
    """Warehouse staff (Cognito group warehouse), logged in."""
    return stack.user(groups=("warehouse",))
