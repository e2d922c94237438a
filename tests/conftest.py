"""Shared fixtures. One local stack (moto + deployed template + gateway + localstripe) per pytest worker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shoplocal.stack import Stack, TestUser


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    s = Stack()
    try:
        s.start()
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="session")
def admin(stack: Stack) -> TestUser:
    """A shop administrator (Cognito group admin), logged in."""
    return stack.user(groups=("admin",))
