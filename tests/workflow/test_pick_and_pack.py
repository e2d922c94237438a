"""PickAndPack (issue 17: one waiting state for pick and pack, a state transition fewer per parcel). The state opens
the pick task with its token and ``then: pack``; staff completing the pick open the pack task with the same token,
in one transaction with the pick's DONE, the order's check and the shipment PICKING -> PACKING
(shop.fulfillment.service._pick_then_pack), and resume nothing; the pack's completion resumes the workflow with the
pack's output, as the Pack state's did.

Safe twice: the same pick completion sequentially and at once opens one pack task and answers the same; a retried
step (a new token) gives the token to the chain's current task. A cancellation racing the pick completion leaves no
pack task open on a cancelled order. An execution started on the definition with separate Pick and Pack states
(its pick opened without ``then``) goes on as before: its pick's completion resumes it.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.factories import (
    Prepared,
    entered_states,
    execution_arn,
    history,
    hooked,
    ok,
    open_task,
    order_view,
    prepare_checkout,
    state_output,
    uid,
    wait_paid,
)
from tests.race import assert_stock_conserved
from tests.workflow.test_faults import Recorder, assert_invariants, delivered, place, wait_execution_state

pytestmark = [pytest.mark.workflow, pytest.mark.audited]  # the invariant audit runs around each test

N = 4  # the same completion sent at once


# ------------------------------------------------------------------ helpers
def _task_key(task_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"TASK#{task_id}"}, "sk": {"S": "TASK"}}


def _task_item(stack: Any, task_id: str) -> dict[str, Any] | None:
    got = stack.client("dynamodb").get_item(TableName=stack.physical_id("OrdersTable"), Key=_task_key(task_id),
                                            ConsistentRead=True)
    return got.get("Item")


def _token(stack: Any, task_id: str) -> str | None:
    item = _task_item(stack, task_id)
    return item["task_token"]["S"] if item and "task_token" in item else None


def _set_token(stack: Any, task_id: str, token: str) -> None:
    stack.client("dynamodb").update_item(TableName=stack.physical_id("OrdersTable"), Key=_task_key(task_id),
                                         UpdateExpression="SET task_token = :t",
                                         ExpressionAttributeValues={":t": {"S": token}})


def _pack_id(pick_id: str) -> str:
    return pick_id.removesuffix("_pick") + "_pack"


def _complete_pick(stack: Any, staff: Any, pick: dict[str, Any]) -> Any:
    return stack.request("POST", f"/warehouse/tasks/{pick['task_id']}/complete", token=staff.id_token,
                         json={"picked": [{"sku": i["sku"], "quantity": i["quantity"]} for i in pick["checklist"]]})


def _complete_pack(stack: Any, staff: Any, pack: dict[str, Any], extra_grams: int = 120) -> dict[str, Any]:
    weight = sum(i["weight_grams"] * i["quantity"] for i in pack["checklist"]) + extra_grams
    done = ok(stack.request("POST", f"/warehouse/tasks/{pack['task_id']}/complete", token=staff.id_token,
                            json={"package_weight_grams": weight}))
    assert done["status"] == "DONE" and done["result"] == {"package_weight_grams": weight}, done
    return dict(done)


def _published(monkeypatch: pytest.MonkeyPatch, order_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The warehouse task events published for the order, in order (the functions run in this process)."""
    from shop import events

    seen: list[tuple[str, dict[str, Any]]] = []
    real = events.publish

    def publish(*entries: dict[str, Any]) -> None:
        for e in entries:
            detail = json.loads(e["Detail"])
            if detail.get("order_id") == order_id and e["DetailType"].startswith("WarehouseTask"):
                seen.append((e["DetailType"], detail))
        real(*entries)

    monkeypatch.setattr(events, "publish", publish)
    return seen


def _resumed(stack: Any, order_id: str) -> bool:
    """Whether the order's PickAndPack (its last run) was resumed or left (its token used)."""
    events = history(stack, order_id)
    entered = max(i for i, e in enumerate(events)
                  if e.get("stateEnteredEventDetails", {}).get("name") == "PickAndPack")
    return any(e["type"] in ("TaskSucceeded", "TaskFailed", "TaskStateExited") for e in events[entered:])


def _open_tasks_of(stack: Any, staff: Any, warehouse_id: str, order_id: str) -> list[dict[str, Any]]:
    listed = ok(stack.request("GET", f"/warehouse/{warehouse_id}/tasks", token=staff.id_token,
                              query={"limit": "100"}))
    return [t for t in listed["items"] if t["order_id"] == order_id]


def _ready(stack: Any, admin: Any, staff: Any, label: str) -> tuple[Prepared, str, dict[str, Any]]:
    """A paid order of one parcel waiting in PickAndPack with its pick task open."""
    prep = prepare_checkout(stack, admin, label, quantity=2, stock={"a": 5})
    return (prep, *_picking(stack, staff, prep))


def _picking(stack: Any, staff: Any, prep: Prepared) -> tuple[str, dict[str, Any]]:
    """The prepared order placed, paid and waiting in PickAndPack: its warehouse and its open pick task."""
    wh = prep.product.warehouses[0]
    place(stack, prep)
    wait_paid(stack, prep.order_id)
    return wh, open_task(stack, staff.id_token, wh, prep.order_id, "pick")


# ------------------------------------------------------------------ the chain
def test_the_pick_completion_opens_the_pack_task_with_the_same_token_and_resumes_nothing(stack, admin, staff,
                                                                                         monkeypatch):
    prep = prepare_checkout(stack, admin, "pickpack-chain", quantity=2, stock={"a": 5})
    published = _published(monkeypatch, prep.order_id)
    wh, pick = _picking(stack, staff, prep)
    stored = _task_item(stack, pick["task_id"])
    assert stored is not None and stored["then"] == {"S": "pack"} and stored["allocations"], stored
    token = stored["task_token"]["S"]

    done = ok(_complete_pick(stack, staff, pick))
    assert done["status"] == "DONE" and done["kind"] == "pick" and done["workflow_resumed"] is False, done
    # the pack task, as the Pack step opened it from the carried split entry, holding the pick's token
    pack_item = _task_item(stack, _pack_id(pick["task_id"]))
    assert pack_item is not None and pack_item["status"]["S"] == "OPEN", pack_item
    assert pack_item["task_token"]["S"] == token
    assert pack_item["checklist"] == stored["checklist"] and pack_item["allocations"] == stored["allocations"]
    assert pack_item["open_warehouse_id"] == {"S": wh} and "then" not in pack_item
    assert [t["kind"] for t in _open_tasks_of(stack, staff, wh, prep.order_id)] == ["pack"]
    assert order_view(stack, prep.shopper.id_token, prep.order_id)["shipments"][0]["status"] == "PACKING"
    # what the two steps published: the pick's completion, then the pack task's opening
    assert [(kind, d["kind"], d["status"]) for kind, d in published][-2:] == [
        ("WarehouseTaskCompleted", "pick", "DONE"), ("WarehouseTaskOpened", "pack", "OPEN")], published
    # the execution still waits in PickAndPack: the pick's completion resumed nothing
    time.sleep(0.5)
    assert entered_states(history(stack, prep.order_id))[-1] == "PickAndPack" and not _resumed(stack, prep.order_id)
    assert stack.client("stepfunctions").describe_execution(
        executionArn=execution_arn(stack, prep.order_id))["status"] == "RUNNING"

    pack = open_task(stack, staff.id_token, wh, prep.order_id, "pack")
    packed = _complete_pack(stack, staff, pack)
    assert packed["workflow_resumed"] is True
    wait_execution_state(stack, prep.order_id, "AwaitPickup")
    assert _resumed(stack, prep.order_id)
    # the state's output is the pack's completion, at $.pack (AwaitPickup reads its weight)
    output = state_output(stack, prep.order_id, "PickAndPack")
    assert output["pack"] == {"task_id": pack["task_id"], "kind": "pack", "completed_at": packed["completed_at"],
                              "completed_by": packed["completed_by"], **packed["result"]}
    assert "pick" not in output
    delivered(stack, prep)
    assert_invariants(stack, prep, status="DELIVERED", execution="SUCCEEDED")
    assert entered_states(history(stack, prep.order_id)).count("PickAndPack") == 1


def test_the_same_pick_completion_at_once_opens_one_pack_task_and_answers_the_same(stack, admin, staff,
                                                                                  monkeypatch):
    prep = prepare_checkout(stack, admin, "pickpack-twice", quantity=2, stock={"a": 5})
    published = _published(monkeypatch, prep.order_id)
    wh, pick = _picking(stack, staff, prep)
    token = _token(stack, pick["task_id"])
    barrier = threading.Barrier(N)

    def one(_: int) -> Any:
        barrier.wait(timeout=30)
        return _complete_pick(stack, staff, pick)

    with ThreadPoolExecutor(max_workers=N) as pool:
        answers = list(pool.map(one, range(N)))
    assert [a.status for a in answers] == [200] * N, [(a.status, a.body) for a in answers]
    first = answers[0].json()
    assert all(a.json() == first for a in answers), [a.json() for a in answers]
    assert first["status"] == "DONE" and first["workflow_resumed"] is False
    # and once more, later (a retry of the request): the same answer, nothing else opened
    assert ok(_complete_pick(stack, staff, pick)) == first
    opened = [d for kind, d in published if kind == "WarehouseTaskOpened" and d["kind"] == "pack"]
    completed = [d for kind, d in published if kind == "WarehouseTaskCompleted" and d["kind"] == "pick"]
    assert len(opened) == 1 and len(completed) == 1, published
    [pack] = _open_tasks_of(stack, staff, wh, prep.order_id)
    assert pack["kind"] == "pack" and _token(stack, pack["task_id"]) == token

    assert _complete_pack(stack, staff, pack)["workflow_resumed"] is True
    delivered(stack, prep)
    assert_invariants(stack, prep, status="DELIVERED", execution="SUCCEEDED")
    assert entered_states(history(stack, prep.order_id)).count("PickAndPack") == 1


def test_a_retried_step_gives_its_token_to_the_current_task_of_the_chain(stack, admin, staff):
    prep = prepare_checkout(stack, admin, "pickpack-retry", quantity=1)
    wh = prep.product.warehouses[0]
    recorder = Recorder(prep.order_id, "FulfillmentFunction")
    with hooked(stack, recorder):
        place(stack, prep)
        wait_paid(stack, prep.order_id)
        pick = open_task(stack, staff.id_token, wh, prep.order_id, "pick")
    step = recorder.first("open_task")  # PickAndPack's invocation, as Step Functions sent it
    assert (step["kind"], step["then"]) == ("pick", "pack")
    live, pack_id = step["task_token"], _pack_id(pick["task_id"])

    # retried while the pick is open: the pick takes the new token (and the live one back)
    assert stack.invoke("FulfillmentFunction", {**step, "task_token": "retried-token-1"}) == {
        "task_id": pick["task_id"], "waiting": True}
    assert _token(stack, pick["task_id"]) == "retried-token-1" and _task_item(stack, pack_id) is None
    stack.invoke("FulfillmentFunction", step)
    assert _token(stack, pick["task_id"]) == live

    assert ok(_complete_pick(stack, staff, pick))["workflow_resumed"] is False
    # retried once the pick is done: the pack task takes it
    assert stack.invoke("FulfillmentFunction", {**step, "task_token": "retried-token-2"}) == {
        "task_id": pack_id, "waiting": True}
    assert _token(stack, pack_id) == "retried-token-2"
    assert stack.invoke("FulfillmentFunction", step) == {"task_id": pack_id, "waiting": True}
    assert _token(stack, pack_id) == live
    assert [t["kind"] for t in _open_tasks_of(stack, staff, wh, prep.order_id)] == ["pack"]

    pack = open_task(stack, staff.id_token, wh, prep.order_id, "pack")
    assert _complete_pack(stack, staff, pack)["workflow_resumed"] is True
    delivered(stack, prep)
    assert_invariants(stack, prep, status="DELIVERED", execution="SUCCEEDED")


def test_a_pick_completion_whose_token_a_retried_step_replaced_opens_the_pack_task_with_the_new_one(
        stack, admin, staff, monkeypatch):
    """The completion reads the pick's token, then writes the pack task with it in a transaction conditional
    on that token: a retried step that stored a new one in between fails it, and the completion reads again and
    carries the new one (the first attempt's token is dead)."""
    from shop.fulfillment import repository as fulfillment_repo

    prep, wh, pick = _ready(stack, admin, staff, "pickpack-stale")
    live = _token(stack, pick["task_id"])
    assert live is not None
    _set_token(stack, pick["task_id"], "a-dead-token-of-the-first-attempt")  # what the completion reads first
    real = fulfillment_repo.finish_task_then_open
    tried: list[str | None] = []

    def retried_step_meanwhile(task_id: str, token: str | None, *args: Any, **kwargs: Any) -> Any:
        if not tried:
            _set_token(stack, pick["task_id"], live)  # the retried step's token, between the read and the write
        tried.append(token)
        return real(task_id, token, *args, **kwargs)

    monkeypatch.setattr(fulfillment_repo, "finish_task_then_open", retried_step_meanwhile)
    done = ok(_complete_pick(stack, staff, pick))
    assert done["status"] == "DONE" and done["workflow_resumed"] is False
    assert tried == ["a-dead-token-of-the-first-attempt", live]
    pack = open_task(stack, staff.id_token, wh, prep.order_id, "pack")
    assert _token(stack, pack["task_id"]) == live
    assert _complete_pack(stack, staff, pack)["workflow_resumed"] is True
    delivered(stack, prep)
    assert_invariants(stack, prep, status="DELIVERED", execution="SUCCEEDED")


# ------------------------------------------------------------------ executions started before PickAndPack
def _legacy_definition(function_arn: str) -> dict[str, Any]:
    """The Map item processor's Pick and Pack states as the definition before PickAndPack had them."""
    def step(kind: str, result: str, then: dict[str, Any]) -> dict[str, Any]:
        return {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": function_arn, "Payload": {
                    "action": "open_task", "kind": kind, "order_id.$": "$.order_id",
                    "shipment_id.$": "$.shipment_id", "shipment.$": "$.shipment", "task_token.$": "$$.Task.Token"}},
                "ResultPath": result, "TimeoutSeconds": 1209600, **then}

    return {"StartAt": "Pick", "States": {"Pick": step("pick", "$.pick", {"Next": "Pack"}),
                                          "Pack": step("pack", "$.pack", {"End": True})}}


def test_an_execution_with_separate_pick_and_pack_states_goes_on_as_before(stack, admin, staff):
    """Its pick task (no ``then``) resumes it when completed, and its Pack step opens the pack task. Here the
    order's own PickAndPack step is held while the old steps run, then finds the pick and the pack done: it
    resumes at once with the pack's output (a retried step's path)."""
    prep = prepare_checkout(stack, admin, "pickpack-legacy", quantity=2, stock={"a": 5})
    wh = prep.product.warehouses[0]
    sfn = stack.client("stepfunctions")
    arrived, release = threading.Event(), threading.Event()
    held: list[dict[str, Any]] = []

    def hold_pick_and_pack(logical_id: str, event: dict[str, Any]) -> None:
        if logical_id == "FulfillmentFunction" and event.get("order_id") == prep.order_id and \
                event.get("action") == "open_task" and event.get("then") == "pack":
            held.append(json.loads(json.dumps(event)))
            arrived.set()
            release.wait(timeout=120)

    role = sfn.describe_state_machine(stateMachineArn=stack.physical_id("OrderStateMachine"))["roleArn"]
    legacy_sm = sfn.create_state_machine(
        name=f"legacy-pick-pack-{uid()}", roleArn=role,
        definition=json.dumps(_legacy_definition(stack.deployment.functions["FulfillmentFunction"].arn)),
    )["stateMachineArn"]
    try:
        with hooked(stack, hold_pick_and_pack):
            place(stack, prep)
            wait_paid(stack, prep.order_id)
            assert arrived.wait(timeout=30), "the workflow never came to PickAndPack"
            item = {k: held[0][k] for k in ("order_id", "shipment_id", "shipment")}
            legacy = sfn.start_execution(stateMachineArn=legacy_sm, input=json.dumps(item))["executionArn"]
            pick = open_task(stack, staff.id_token, wh, prep.order_id, "pick")
            stored = _task_item(stack, pick["task_id"])
            assert stored is not None and "then" not in stored
            done = ok(_complete_pick(stack, staff, pick))
            assert done["status"] == "DONE" and done["workflow_resumed"] is True  # as before PickAndPack
            pack = open_task(stack, staff.id_token, wh, prep.order_id, "pack")  # opened by the old Pack step
            assert order_view(stack, prep.shopper.id_token, prep.order_id)["shipments"][0]["status"] == "PACKING"
            packed = _complete_pack(stack, staff, pack)
            assert packed["workflow_resumed"] is True
            finished = stack.wait_execution(legacy, timeout=30)
            assert finished["status"] == "SUCCEEDED", finished
            out = json.loads(finished["output"])
            assert out["pick"]["picked"] == done["result"]["picked"]
            assert out["pack"]["package_weight_grams"] == packed["result"]["package_weight_grams"]
            release.set()
            wait_execution_state(stack, prep.order_id, "AwaitPickup")
    finally:
        release.set()
        sfn.delete_state_machine(stateMachineArn=legacy_sm)
    assert state_output(stack, prep.order_id, "PickAndPack")["pack"]["package_weight_grams"] == \
        packed["result"]["package_weight_grams"]
    delivered(stack, prep)
    assert_invariants(stack, prep, status="DELIVERED", execution="SUCCEEDED")


# ------------------------------------------------------------------ a cancellation racing the pick completion
def _no_open_task_left(stack: Any, staff: Any, wh: str, prep: Prepared, pick_id: str) -> None:
    assert _open_tasks_of(stack, staff, wh, prep.order_id) == []
    for task_id in (pick_id, _pack_id(pick_id)):
        item = _task_item(stack, task_id)
        assert item is None or item["status"]["S"] != "OPEN", item


def test_a_cancellation_between_the_pick_read_and_its_write_opens_no_pack_task(stack, admin, staff, monkeypatch):
    """The order's check is in the pick completion's transaction: a cancellation landing after the task was read
    refuses it (409 order_cancelled), and no pack task is created for the cancelled order."""
    from shop.fulfillment import repository as fulfillment_repo

    prep, wh, pick = _ready(stack, admin, staff, "pickpack-cancel-first")
    real = fulfillment_repo.finish_task_then_open
    cancelled: list[Any] = []

    def cancelled_meanwhile(*args: Any, **kwargs: Any) -> Any:
        if not cancelled:
            cancelled.append(ok(stack.request("POST", f"/orders/{prep.order_id}/cancel",
                                              token=prep.shopper.id_token)))
        return real(*args, **kwargs)

    monkeypatch.setattr(fulfillment_repo, "finish_task_then_open", cancelled_meanwhile)
    refused = _complete_pick(stack, staff, pick)
    assert refused.status == 409 and refused.json()["error"]["code"] == "order_cancelled", refused.body
    assert cancelled[0]["status"] == "CANCELLED"
    assert _task_item(stack, _pack_id(pick["task_id"])) is None
    assert _task_item(stack, pick["task_id"])["status"]["S"] == "CANCELLED"
    _no_open_task_left(stack, staff, wh, prep, pick["task_id"])
    assert order_view(stack, prep.shopper.id_token, prep.order_id)["shipments"][0]["status"] == "CANCELLED"
    assert_invariants(stack, prep, status="CANCELLED", execution="SUCCEEDED")  # CancelledMeanwhile


def test_a_cancellation_after_the_pick_completion_cancels_the_pack_task_it_opened(stack, admin, staff):
    prep, wh, pick = _ready(stack, admin, staff, "pickpack-cancel-after")
    assert ok(_complete_pick(stack, staff, pick))["workflow_resumed"] is False
    assert _task_item(stack, _pack_id(pick["task_id"]))["status"]["S"] == "OPEN"
    answer = ok(stack.request("POST", f"/orders/{prep.order_id}/cancel", token=prep.shopper.id_token))
    assert answer["status"] == "CANCELLED"
    # the pack task held the workflow's token: cancelled, its token failed (the execution ends CancelledMeanwhile)
    assert _task_item(stack, _pack_id(pick["task_id"]))["status"]["S"] == "CANCELLED"
    _no_open_task_left(stack, staff, wh, prep, pick["task_id"])
    assert_invariants(stack, prep, status="CANCELLED", execution="SUCCEEDED")


def test_a_pick_completion_and_a_cancellation_at_once_leave_no_open_task(stack, admin, staff):
    """Whichever lands first, the order ends cancelled with its stock released and its payment refunded, and no
    pick or pack task stays open: the pick is refused (409 order_cancelled), or it opened the pack task, which
    the cancellation then cancels."""
    outcomes: list[int] = []
    for n in range(3):
        prep, wh, pick = _ready(stack, admin, staff, f"pickpack-race-{n}")
        barrier = threading.Barrier(2, timeout=30)
        answers: dict[str, Any] = {}

        def do_pick(p: dict[str, Any] = pick) -> None:
            barrier.wait()
            answers["pick"] = _complete_pick(stack, staff, p)

        def do_cancel(oid: str = prep.order_id, token: str = prep.shopper.id_token) -> None:
            barrier.wait()
            answers["cancel"] = stack.request("POST", f"/orders/{oid}/cancel", token=token)

        threads = [threading.Thread(target=do_pick), threading.Thread(target=do_cancel)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        picked, cancelled = answers["pick"], answers["cancel"]
        assert cancelled.status == 200 and cancelled.json()["status"] == "CANCELLED", cancelled.body
        assert picked.status in (200, 409), picked.body
        if picked.status == 409:
            assert picked.json()["error"]["code"] == "order_cancelled", picked.body
            assert _task_item(stack, _pack_id(pick["task_id"])) is None
        outcomes.append(picked.status)
        _no_open_task_left(stack, staff, wh, prep, pick["task_id"])
        assert_invariants(stack, prep, status="CANCELLED", execution="SUCCEEDED")
        assert_stock_conserved(stack, prep.sku, [prep.order_id])
    print("pick answers:", outcomes)
