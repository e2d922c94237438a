"""Shared fixtures. One local stack (moto + deployed template + gateway + localstripe) per pytest worker."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from shoplocal.stack import Stack, TestUser
from tests.factories import AdminApi

AUTH_TIMEOUT_SECONDS = 10  # the payment step's wait: the charge and the shopper's 3-D Secure together
FUZZ_MODULE = "tests/e2e/test_openapi_fuzz.py"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Schemathesis gives all its per-operation items one node id, and pytest-xdist silently drops items with
    the same id: under ``-n`` the fuzz module would report nothing and run nothing. Fail loudly instead
    (``make test`` runs it in a separate pytest without xdist)."""
    if getattr(config, "workerinput", None) is not None and any(i.nodeid.startswith(FUZZ_MODULE) for i in items):
        raise pytest.UsageError(f"{FUZZ_MODULE} cannot run under pytest-xdist; pass --ignore={FUZZ_MODULE} "
                                f"and run it in a pytest without -n (as make test does)")


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    # a short 3-D Secure wait so the payment-timeout path runs in seconds (real stages wait 15 minutes)
    s = Stack(parameters={"PaymentAuthTimeoutSeconds": str(AUTH_TIMEOUT_SECONDS)})
    try:
        s.start()
        # what starting it loaded (botocore models, moto, the deployed template: about a million objects) lives as
        # long as the worker: moved out of the cyclic collector's way, so its full collections only walk what the
        # tests create (they cost seconds each otherwise)
        gc.collect()
        gc.freeze()
        # and collected less often: the tests allocate millions of short-lived objects (moto's request and item
        # copies, 200-thread races), and the default threshold (a young collection every 2000 allocations, an
        # older one every 10 of those) spent ~8% of a race module's time in the collector (~5% at these values)
        gc.set_threshold(20_000, 20, 10)
        yield s
    finally:
        s.stop()


@pytest.fixture(autouse=True)
def _invariant_audit(request: pytest.FixtureRequest) -> Iterator[None]:
    """Around every test marked ``audited`` (concurrency, fault and end-to-end modules), the system-wide
    invariant audit (tests/audit.py) of the worker's stack: money, stock and records never diverge."""
    if "stack" not in request.fixturenames:
        yield
        return
    from tests import audit

    stack = request.getfixturevalue("stack")
    audited = request.node.get_closest_marker("audited") is not None
    if audited:
        audit.before_audited_test(stack)
    yield
    audit.after_test(stack, audited)


@pytest.fixture(scope="session")
def admin(stack: Stack) -> TestUser:
    """A shop administrator (Cognito group admin), logged in."""
    return stack.user(groups=("admin",))


@pytest.fixture
def api(stack: Stack, admin: TestUser) -> AdminApi:
    """Admin requests that assert their status and return the JSON answer."""
    return AdminApi(stack, admin)


@pytest.fixture(scope="session")
def staff(stack: Stack) -> TestUser:
    """Warehouse staff (Cognito group warehouse), logged in."""
    return stack.user(groups=("warehouse",))
