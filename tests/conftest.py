"""Shared fixtures. One local stack (moto + deployed template + gateway + localstripe) per pytest worker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shoplocal.stack import Stack


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    s = Stack()
    try:
        s.start()
        yield s
    finally:
        s.stop()
