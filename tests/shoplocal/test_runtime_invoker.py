"""The in-process invoker (no moto): per-function modules, per-invocation environments, Lambda error shape;
and the EventBridge target input rules shared by the patch and the scheduler."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from shoplocal.deploy import FunctionSpec
from shoplocal.lambdas import Invoker
from shoplocal.patches import select_path
from shoplocal.scheduler import target_input

pytestmark = pytest.mark.unit

APP = '''
import os
import threading
import time

from shop.config import environ

CALLS = []


class OutOfStock(Exception):
    pass


def handler(event, context):
    if event.get("raise"):
        raise OutOfStock("sku " + event["raise"])
    if event.get("wait"):
        event["wait"].wait(5)
    CALLS.append(1)
    return {"who": environ()["WHO"], "module": __name__, "calls": len(CALLS),
            "function": context.function_name, "arn": context.invoked_function_arn,
            "request_id": context.aws_request_id, "remaining": context.get_remaining_time_in_millis(),
            "in_os_environ": "WHO" in os.environ}
'''


def _spec(tmp_path: Path, logical_id: str, who: str) -> FunctionSpec:
    code = tmp_path / logical_id.lower()
    code.mkdir()
    (code / "app.py").write_text(APP)
    return FunctionSpec(logical_id=logical_id, name=f"shop-{logical_id}", arn=f"arn:aws:lambda:us-east-1:1:function:"
                        f"shop-{logical_id}", handler="app.handler", code_dir=code, environment={"WHO": who},
                        timeout=6, memory=256)


@pytest.fixture
def invoker(tmp_path):
    return Invoker({"A": _spec(tmp_path, "A", "alpha"), "B": _spec(tmp_path, "B", "beta")},
                   {"AWS_REGION": "us-east-1"})


def test_each_function_has_its_own_module_and_environment(invoker):
    a = invoker.invoke("A", {})
    b = invoker.invoke("shop-B", {})  # by function name, as moto passes it
    assert (a["who"], b["who"]) == ("alpha", "beta")
    assert a["module"] != b["module"]
    assert a["function"] == "shop-A" and a["arn"].endswith(":function:shop-A")
    assert 0 < a["remaining"] <= 6000
    assert a["in_os_environ"] is False and "WHO" not in os.environ
    env = invoker.environment(invoker.spec("A"))
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "shop-A" and env["AWS_REGION"] == "us-east-1"
    # a warm environment is reused: the module-level state survives between invocations
    assert invoker.invoke("A", {})["calls"] == 2
    assert invoker.cold_starts("A") == 1


def test_concurrent_invocations_get_separate_environments(invoker):
    gate = threading.Event()
    results = []
    threads = [threading.Thread(target=lambda: results.append(invoker.invoke("A", {"wait": gate})))
               for _ in range(3)]
    for t in threads:
        t.start()
    # all three are inside the handler at once (none can return before the gate opens)
    deadline = time.monotonic() + 5
    while invoker.cold_starts("A") < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    gate.set()
    for t in threads:
        t.join(timeout=10)
    assert invoker.cold_starts("A") == 3
    assert {r["module"] for r in results} == {f"shoplocal_fn_A_{i}" for i in (1, 2, 3)}
    assert {r["who"] for r in results} == {"alpha"}
    assert len({r["request_id"] for r in results}) == 3


def test_exceptions_propagate_and_become_the_lambda_error_payload(invoker):
    with pytest.raises(Exception, match="sku X1") as raised:
        invoker.invoke("A", {"raise": "X1"})
    assert type(raised.value).__name__ == "OutOfStock"
    result, error = invoker.invoke_as_lambda("A", {"raise": "X2"})
    assert result is None and error is not None
    payload = error.payload()
    assert payload["errorType"] == "OutOfStock"
    assert payload["errorMessage"] == "sku X2"
    assert any("OutOfStock" in line for line in payload["stackTrace"])


def test_unknown_function_is_a_key_error_naming_it(invoker):
    with pytest.raises(KeyError, match="Nope"):
        invoker.invoke("Nope", {})


EVENT = {"id": "1", "source": "shop.orders", "detail-type": "OrderPlaced",
         "detail": {"orderId": "o-1", "lines": [{"sku": "S1"}, {"sku": "S2"}]}}


def test_input_path_selects_part_of_the_event():
    assert select_path(EVENT, "$") == EVENT
    assert select_path(EVENT, "$.detail") == EVENT["detail"]
    assert select_path(EVENT, "$.detail.lines[1].sku") == "S2"
    with pytest.raises(KeyError):
        select_path(EVENT, "$.detail.missing")
    with pytest.raises(ValueError, match="unsupported"):
        select_path(EVENT, "detail")


def test_target_input_prefers_constant_input_then_input_path_then_the_event():
    assert target_input({"Input": '{"job": "sweep"}', "InputPath": "$.detail"}, EVENT) == {"job": "sweep"}
    assert target_input({"InputPath": "$.detail.orderId"}, EVENT) == "o-1"
    assert target_input({}, EVENT) == EVENT
