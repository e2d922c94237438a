"""Support tickets through the gateway: opening (with and without an order, only the shopper's own), the
status rules (open -> pending on a staff answer -> open on the shopper's reply; closed by staff; reopened by
a shopper message; a closed ticket cannot be answered), the answer email (exactly one per answer), who sees
what (own tickets only, staff routes for admins), validation, pagination, concurrent writers, and the sample
events in events/support/."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from shop.support.models import CUSTOMER, STAFF, TicketStatus, can_close, status_after_message

from shoplocal.stack import ROOT
from tests.factories import checkout, emails_to, make_product, put_in_cart, uid, wait_for

pytestmark = pytest.mark.integration

FUNCTION = "SupportFunction"
MISSING = "tkt_00000000000000000000"


class Caller:
    """Requests as one user; asserts the status and returns the JSON body."""

    def __init__(self, stack: Any, user: Any):
        self.stack, self.user = stack, user

    def __call__(self, method: str, path: str, expect: int | tuple[int, ...] = 200, **kw: Any) -> Any:
        resp = self.stack.request(method, path, token=self.user.id_token, **kw)
        wanted = expect if isinstance(expect, tuple) else (expect,)
        assert resp.status in wanted, (method, path, resp.status, resp.body)
        return resp.json()


@pytest.fixture
def shopper(stack: Any) -> Caller:
    return Caller(stack, stack.user())


@pytest.fixture
def agent(stack: Any, admin: Any) -> Caller:
    """Support staff: a member of the admin group."""
    return Caller(stack, admin)


def open_ticket(api: Caller, **body: Any) -> dict[str, Any]:
    payload = {"subject": f"Question {uid()}", "message": "Hello, I have a question.", **body}
    return dict(api("POST", "/support/tickets", 201, json=payload))


def fields(body: dict[str, Any]) -> list[str]:
    return [f["field"] for f in body["error"]["details"]["fields"]]


def all_pages(api: Caller, path: str, limit: int, **query: str) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    for _ in range(200):
        params = {**query, "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        page = api("GET", path, query=params)
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError(f"{path} never ended")


def staff_queue(agent: Caller, status: str) -> list[dict[str, Any]]:
    return [t for page in all_pages(agent, "/admin/support/tickets", 100, status=status) for t in page]


def ticket_mails(stack: Any, address: str, ticket_id: str) -> list[dict[str, Any]]:
    return [m for m in emails_to(stack, address) if ticket_id in (m["subject"] or "")]


def wait_for_mail(stack: Any, address: str, ticket_id: str, count: int) -> list[dict[str, Any]]:
    """Wait until ``address`` got ``count`` mails about the ticket, let every pending delivery finish (so a
    duplicate would be there too), and return them."""
    wait_for(lambda: len(ticket_mails(stack, address, ticket_id)) >= count, 30,
             f"{count} email(s) about {ticket_id} to {address}")
    stack.drain_async()
    return ticket_mails(stack, address, ticket_id)


def own_order(stack: Any, admin: Any, user: Any) -> str:
    product = make_product(stack, admin.id_token, stock={"a": 5})
    put_in_cart(stack, user.id_token, product.skus[0], 1)
    resp = checkout(stack, user.id_token)
    assert resp.status == 201, resp.body
    return str(resp.json()["order_id"])


# ------------------------------------------------------------------ the rules (pure)
@pytest.mark.parametrize(("current", "author", "expected"), [
    (TicketStatus.OPEN, CUSTOMER, TicketStatus.OPEN), (TicketStatus.PENDING, CUSTOMER, TicketStatus.OPEN),
    (TicketStatus.CLOSED, CUSTOMER, TicketStatus.OPEN), (TicketStatus.OPEN, STAFF, TicketStatus.PENDING),
    (TicketStatus.PENDING, STAFF, TicketStatus.PENDING), (TicketStatus.CLOSED, STAFF, None),
])
def test_status_after_a_message(current, author, expected):
    assert status_after_message(current, author) == expected


def test_only_open_and_pending_tickets_can_be_closed():
    assert [s for s in TicketStatus if can_close(s)] == [TicketStatus.OPEN, TicketStatus.PENDING]


# ------------------------------------------------------------------ opening
def test_a_shopper_opens_a_ticket_without_an_order(stack, shopper):
    resp = stack.request("POST", "/support/tickets", token=shopper.user.id_token,
                         json={"subject": "  Burrs for the C40  ", "message": "Can I replace them?"})
    assert resp.status == 201, resp.body
    ticket = resp.json()
    assert ticket["ticket_id"].startswith("tkt_") and len(ticket["ticket_id"]) == 24
    assert resp.headers["Location"] == f"/support/tickets/{ticket['ticket_id']}"
    assert ticket["status"] == "open"
    assert ticket["subject"] == "Burrs for the C40"
    assert ticket["order_id"] is None
    assert ticket["email"] == shopper.user.email
    assert ticket["customer_id"] == shopper.user.user_id
    assert ticket["message_count"] == 1
    assert [(m["author"], m["text"]) for m in ticket["messages"]] == [("customer", "Can I replace them?")]
    assert "author_id" not in ticket["messages"][0]
    assert "version" not in ticket
    again = shopper("GET", f"/support/tickets/{ticket['ticket_id']}")
    assert again == ticket


def test_a_ticket_about_an_order_must_be_about_the_shoppers_own_order(stack, admin, shopper):
    order_id = own_order(stack, admin, shopper.user)
    ticket = open_ticket(shopper, order_id=order_id, subject="Where is my parcel?")
    assert ticket["order_id"] == order_id
    assert shopper("GET", f"/support/tickets/{ticket['ticket_id']}")["order_id"] == order_id

    other = Caller(stack, stack.user())
    refused = other("POST", "/support/tickets", 404, json={"subject": "x", "message": "y", "order_id": order_id})
    assert refused["error"]["code"] == "not_found"
    assert order_id in refused["error"]["message"]
    missing_id = "ord_" + "a" * 26
    missing = other("POST", "/support/tickets", 404, json={"subject": "x", "message": "y", "order_id": missing_id})
    # another shopper's order looks exactly like a missing one
    assert refused["error"] == {**missing["error"],
                                "message": missing["error"]["message"].replace(missing_id, order_id)}
    assert other("GET", "/support/tickets")["items"] == []  # nothing was opened


def test_bad_input_is_422_naming_the_field(shopper, agent):
    ticket = open_ticket(shopper)
    cases = [
        ({"subject": "", "message": "m"}, "body.subject"),
        ({"subject": "   ", "message": "m"}, "body.subject"),
        ({"subject": "s" * 151, "message": "m"}, "body.subject"),
        ({"subject": "s", "message": "m" * 5001}, "body.message"),
        ({"subject": "s"}, "body.message"),
        ({"subject": "s", "message": "m", "order_id": "not-an-order"}, "body.order_id"),
        ({"subject": "s", "message": "m", "priority": "high"}, "body.priority"),
    ]
    for body, field in cases:
        assert field in fields(shopper("POST", "/support/tickets", 422, json=body)), body
    assert open_ticket(shopper, subject="s" * 150, message="m" * 5000)["subject"] == "s" * 150
    tid = ticket["ticket_id"]
    assert "body.message" in fields(shopper("POST", f"/support/tickets/{tid}/messages", 422, json={"message": ""}))
    assert "body.message" in fields(agent("POST", f"/admin/support/tickets/{tid}/messages", 422,
                                          json={"message": "x" * 5001}))
    assert "path.ticketId" in fields(shopper("GET", "/support/tickets/tkt_nope", 422))
    assert "query.status" in fields(agent("GET", "/admin/support/tickets", 422, query={"status": "waiting"}))
    assert "query.limit" in fields(shopper("GET", "/support/tickets", 422, query={"limit": "0"}))
    assert "query.cursor" in fields(shopper("GET", "/support/tickets", 422, query={"cursor": "garbage!"}))
    assert shopper("GET", f"/support/tickets/{tid}")["message_count"] == 1  # nothing was added


# ------------------------------------------------------------------ who sees what
def test_shoppers_see_and_write_only_their_own_tickets(stack, shopper):
    mine = open_ticket(shopper)
    other = Caller(stack, stack.user())
    theirs = open_ticket(other)
    assert [t["ticket_id"] for t in shopper("GET", "/support/tickets")["items"]] == [mine["ticket_id"]]
    assert [t["ticket_id"] for t in other("GET", "/support/tickets")["items"]] == [theirs["ticket_id"]]
    tid = mine["ticket_id"]
    not_found = other("GET", f"/support/tickets/{tid}", 404)
    assert not_found["error"]["code"] == "not_found"
    missing = other("GET", f"/support/tickets/{MISSING}", 404)["error"]
    assert not_found["error"] == {**missing, "message": missing["message"].replace(MISSING, tid)}
    other("POST", f"/support/tickets/{tid}/messages", 404, json={"message": "let me in"})
    assert shopper("GET", f"/support/tickets/{tid}")["message_count"] == 1


def test_staff_routes_need_the_admin_group_and_every_route_a_token(stack, shopper):
    tid = open_ticket(shopper)["ticket_id"]
    staff_routes = [("GET", "/admin/support/tickets", None), ("GET", f"/admin/support/tickets/{tid}", None),
                    ("POST", f"/admin/support/tickets/{tid}/messages", {"message": "hi"}),
                    ("POST", f"/admin/support/tickets/{tid}/close", None)]
    for method, path, body in staff_routes:
        resp = stack.request(method, path, token=shopper.user.id_token, json=body)
        assert resp.status == 403, (path, resp.body)
        assert resp.json()["error"]["code"] == "forbidden"
        # a shopper learns nothing about the request rules of staff routes either
        assert stack.request(method, path, token=shopper.user.id_token, json={"junk": 1}).status == 403
    shopper_routes = [("POST", "/support/tickets", {"subject": "s", "message": "m"}), ("GET", "/support/tickets", None),
                      ("GET", f"/support/tickets/{tid}", None),
                      ("POST", f"/support/tickets/{tid}/messages", {"message": "m"})]
    for method, path, body in [*staff_routes, *shopper_routes]:
        assert stack.request(method, path, json=body).status == 401, path
    # and the function itself refuses an event that reached it without claims
    event = json.loads((ROOT / "events" / "support" / "list_my_tickets.json").read_text())
    event["requestContext"]["authorizer"] = None
    result = stack.invoke(FUNCTION, event)
    assert result["statusCode"] == 401
    assert shopper("GET", f"/support/tickets/{tid}")["status"] == "open"  # nothing changed


# ------------------------------------------------------------------ the life of a ticket
def test_answer_reply_close_and_reopen(stack, shopper, agent):
    ticket = open_ticket(shopper, subject="Grinder <b>noise</b>", message="It squeaks.")
    tid, address = ticket["ticket_id"], shopper.user.email
    assert tid in {t["ticket_id"] for t in staff_queue(agent, "open")}

    answer_text = "Hello,\n\nplease clean the burrs <carefully> & try again.\n\nRegards"
    answered = agent("POST", f"/admin/support/tickets/{tid}/messages", 201, json={"message": answer_text})
    assert answered["status"] == "pending"
    assert answered["message"]["author"] == "staff" and answered["message"]["author_id"] == agent.user.user_id
    assert answered["updated_at"] > ticket["updated_at"]
    mails = wait_for_mail(stack, address, tid, 1)
    assert len(mails) == 1
    assert mails[0]["destinations"] == [address]
    assert tid in mails[0]["subject"] and "Grinder <b>noise</b>" in mails[0]["subject"]
    assert "please clean the burrs &lt;carefully&gt; &amp; try again." in mails[0]["body"]  # the HTML part
    assert "<carefully>" not in mails[0]["body"]
    queue_ids = {t["ticket_id"] for t in staff_queue(agent, "pending")}
    assert tid in queue_ids and tid not in {t["ticket_id"] for t in staff_queue(agent, "open")}

    replied = shopper("POST", f"/support/tickets/{tid}/messages", 201, json={"message": "Still squeaks."})
    assert replied["status"] == "open"
    assert "author_id" not in replied["message"]

    closed = agent("POST", f"/admin/support/tickets/{tid}/close")
    assert closed["status"] == "closed"
    assert closed["closed_by"] == agent.user.user_id and closed["closed_at"]
    assert agent("POST", f"/admin/support/tickets/{tid}/close") == closed  # closing again changes nothing

    refused = agent("POST", f"/admin/support/tickets/{tid}/messages", 409, json={"message": "one more thing"})
    assert refused["error"]["code"] == "ticket_closed"
    assert refused["error"]["details"]["status"] == "closed"

    reopened = shopper("POST", f"/support/tickets/{tid}/messages", 201, json={"message": "It is back!"})
    assert reopened["status"] == "open"
    assert reopened["closed_at"] is None and reopened["closed_by"] is None

    seen = shopper("GET", f"/support/tickets/{tid}")
    assert [(m["author"], m["text"]) for m in seen["messages"]] == [
        ("customer", "It squeaks."), ("staff", answer_text), ("customer", "Still squeaks."),
        ("customer", "It is back!")]
    assert seen["message_count"] == 4 and seen["last_message_by"] == "customer"
    assert all("author_id" not in m for m in seen["messages"])
    as_staff = agent("GET", f"/admin/support/tickets/{tid}")
    assert [m["author_id"] for m in as_staff["messages"]] == [shopper.user.user_id, agent.user.user_id,
                                                              shopper.user.user_id, shopper.user.user_id]
    assert [m["created_at"] for m in as_staff["messages"]] == sorted(m["created_at"] for m in as_staff["messages"])
    stack.drain_async()
    assert len(ticket_mails(stack, address, tid)) == 1  # the refused answer and the replies sent nothing


def test_each_answer_is_mailed_once_and_the_event_names_the_order(stack, admin, shopper, agent):
    order_id = own_order(stack, admin, shopper.user)
    tid = open_ticket(shopper, order_id=order_id, subject="Late parcel")["ticket_id"]
    agent("POST", f"/admin/support/tickets/{tid}/messages", 201, json={"message": "First answer"})
    agent("POST", f"/admin/support/tickets/{tid}/messages", 201, json={"message": "Second answer"})
    mails = wait_for_mail(stack, shopper.user.email, tid, 2)
    assert len(mails) == 2
    assert sorted(m["body"].count("First answer") + 2 * m["body"].count("Second answer") for m in mails) == [1, 2]
    assert all(tid in m["subject"] and order_id in m["subject"] for m in mails)
    assert agent("GET", f"/admin/support/tickets/{tid}")["status"] == "pending"


def test_a_ticket_without_an_email_address_is_answered_without_mail(stack, agent):
    from shop.config import function_environment
    from shop.support import service
    from shop.support.models import TicketIn

    customer = f"no-mail-{uid()}"
    with function_environment(stack.function_env(FUNCTION)):
        view = service.open_ticket(customer, None, TicketIn(subject="No address", message="hi"))
    sent_before = len(stack.sent_emails())
    answered = agent("POST", f"/admin/support/tickets/{view['ticket_id']}/messages", 201, json={"message": "ok"})
    assert answered["status"] == "pending" and answered["email"] is None
    stack.drain_async()
    assert [m for m in stack.sent_emails()[sent_before:] if view["ticket_id"] in (m["subject"] or "")] == []


def test_unknown_tickets_are_404_for_staff_too(agent):
    for method, path, body in [("GET", f"/admin/support/tickets/{MISSING}", None),
                               ("POST", f"/admin/support/tickets/{MISSING}/messages", {"message": "hi"}),
                               ("POST", f"/admin/support/tickets/{MISSING}/close", None)]:
        assert agent(method, path, 404, json=body)["error"]["code"] == "not_found"


def in_function(stack: Any, fn: Any, *args: Any) -> Any:
    """Call the support service as the function would (its environment), in the calling thread."""
    from shop.config import function_environment

    with function_environment(stack.function_env(FUNCTION)):
        return fn(*args)


def race(stack: Any, *calls: tuple[Any, ...]) -> list[Any]:
    """Run service calls at the same moment, each in its own thread; returns results or the exceptions.

    The race goes to the service layer, not through the gateway: the local runtime runs concurrent
    invocations in one process, where Powertools keeps the current event in a class attribute shared by all
    resolvers, so concurrent HTTP requests to one function could read each other's principal and body."""
    barrier = threading.Barrier(len(calls))

    def run(call: tuple[Any, ...]) -> Any:
        barrier.wait(10)
        try:
            return in_function(stack, *call)
        except Exception as exc:  # the caller asserts on it
            return exc

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_concurrent_writers_lose_no_message(stack, shopper, agent):
    from shop.support import service
    from shop.support.models import MessageIn

    tid = open_ticket(shopper, message="first")["ticket_id"]
    customer, staff_id = shopper.user.user_id, agent.user.user_id
    texts = [f"shopper {i}" for i in range(4)] + [f"staff {i}" for i in range(4)]
    results = race(stack, *[(service.add_customer_message, tid, customer, MessageIn(message=t)) for t in texts[:4]],
                   *[(service.answer, tid, staff_id, MessageIn(message=t)) for t in texts[4:]])
    views = [r[0] if isinstance(r, tuple) else r for r in results]
    assert all(isinstance(v, dict) for v in views), results
    assert sorted(v["message"]["text"] for v in views) == sorted(texts)
    final = agent("GET", f"/admin/support/tickets/{tid}")
    assert final["message_count"] == len(final["messages"]) == 1 + len(texts)
    assert sorted(m["text"] for m in final["messages"]) == sorted(["first", *texts])
    assert sorted(v["message_count"] for v in views) == list(range(2, 2 + len(texts)))  # one write at a time
    last = max(views, key=lambda v: v["message_count"])
    assert final["updated_at"] == last["updated_at"]
    assert final["last_message_by"] == last["message"]["author"]
    assert final["status"] == ("open" if last["message"]["author"] == "customer" else "pending")
    mails = wait_for_mail(stack, shopper.user.email, tid, 4)
    assert sorted(t for t in texts[4:] if any(t in m["body"] for m in mails)) == texts[4:]


def test_answer_racing_a_close_is_either_refused_or_before_it(stack, shopper, agent):
    from shop.support import service
    from shop.support.models import MessageIn

    staff_id = agent.user.user_id
    for _ in range(4):
        tid = open_ticket(shopper)["ticket_id"]
        answered, closed = race(stack, (service.answer, tid, staff_id, MessageIn(message="racing")),
                                (service.close, tid, staff_id))
        assert isinstance(closed, tuple) and closed[1] is True, closed
        final = agent("GET", f"/admin/support/tickets/{tid}")
        assert final["status"] == "closed"
        if isinstance(answered, dict):  # the answer came first: it is stored and the close saw it
            assert final["message_count"] == len(final["messages"]) == 2
            assert final["messages"][-1]["created_at"] <= final["closed_at"]
        else:
            assert isinstance(answered, service.TicketClosed), answered
            assert final["message_count"] == len(final["messages"]) == 1


# ------------------------------------------------------------------ lists
def test_a_shoppers_list_is_paginated_newest_first(stack, shopper):
    opened = [open_ticket(shopper)["ticket_id"] for _ in range(5)]
    pages = all_pages(shopper, "/support/tickets", 2)
    assert [len(p) for p in pages] == [2, 2, 1]
    listed = [t for p in pages for t in p]
    assert [t["ticket_id"] for t in listed] == list(reversed(opened))
    assert [t["updated_at"] for t in listed] == sorted((t["updated_at"] for t in listed), reverse=True)
    # a reply moves a ticket to the top
    shopper("POST", f"/support/tickets/{opened[0]}/messages", 201, json={"message": "any news?"})
    assert shopper("GET", "/support/tickets", query={"limit": "1"})["items"][0]["ticket_id"] == opened[0]
    # a cursor belongs to the list it came from
    cursor = shopper("GET", "/support/tickets", query={"limit": "2"})["next_cursor"]
    other = Caller(stack, stack.user())
    assert "query.cursor" in fields(other("GET", "/support/tickets", 422, query={"cursor": cursor}))


def test_staff_list_by_status_longest_waiting_first(stack, shopper, agent):
    opened = [open_ticket(shopper)["ticket_id"] for _ in range(3)]
    pages = all_pages(agent, "/admin/support/tickets", 2, status="open")
    assert all(len(p) <= 2 for p in pages)
    queue = [t for p in pages for t in p]
    ids = [t["ticket_id"] for t in queue]
    assert len(ids) == len(set(ids))
    assert all(t["status"] == "open" for t in queue)
    assert [t["updated_at"] for t in queue] == sorted(t["updated_at"] for t in queue)
    assert [i for i in ids if i in opened] == opened
    # answering the oldest moves it from the open queue to the pending one
    agent("POST", f"/admin/support/tickets/{opened[0]}/messages", 201, json={"message": "on it"})
    assert opened[0] not in {t["ticket_id"] for t in staff_queue(agent, "open")}
    assert opened[0] in {t["ticket_id"] for t in staff_queue(agent, "pending")}
    default = agent("GET", "/admin/support/tickets", query={"limit": "100"})  # the open queue by default
    assert all(t["status"] == "open" for t in default["items"])
    cursor = agent("GET", "/admin/support/tickets", query={"status": "open", "limit": "1"})["next_cursor"]
    assert cursor is not None
    wrong = agent("GET", "/admin/support/tickets", 422, query={"status": "closed", "cursor": cursor})
    assert "query.cursor" in fields(wrong)
    assert len(wait_for_mail(stack, shopper.user.email, opened[0], 1)) == 1


# ------------------------------------------------------------------ sample events
def test_support_sample_events_take_a_ticket_from_open_to_closed(stack):
    """events/support/*.json are valid `make invoke` inputs: run in order (the sample ticket id replaced by
    the one opened), they open, read, follow up, answer and close a ticket; none is answered with a 5xx."""
    folder = ROOT / "events" / "support"
    chain = ["open_ticket", "list_my_tickets", "get_ticket", "add_message", "list_tickets", "get_ticket_as_staff",
             "answer_ticket", "close_ticket"]
    assert sorted(chain) == sorted(p.stem for p in folder.glob("*.json"))
    sample_id = "tkt_0123456789abcdef0123"
    for name in chain:  # as they are: the sample ticket does not exist
        result = stack.invoke(FUNCTION, json.loads((folder / f"{name}.json").read_text()))
        assert result["statusCode"] < 500, (name, result)
        assert result["statusCode"] in ((200, 201) if name.startswith(("open", "list")) else (404,)), (name, result)
        json.loads(result["body"])
    ticket_id = None
    statuses = []
    for name in chain:
        raw = (folder / f"{name}.json").read_text()
        if ticket_id:
            raw = raw.replace(sample_id, ticket_id)
        result = stack.invoke(FUNCTION, json.loads(raw))
        assert result["statusCode"] in (200, 201), (name, result)
        body = json.loads(result["body"])
        if name == "open_ticket":
            ticket_id = body["ticket_id"]
        if "status" in body:
            statuses.append(body["status"])
    assert statuses == ["open", "open", "open", "open", "pending", "closed"]
