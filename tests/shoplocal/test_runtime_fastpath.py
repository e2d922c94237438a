"""shoplocal/fastpath.py (patches 12 to 19) keeps what moto and botocore rebuilt per request, with the same
answers: moto's method list of a response class, botocore's text of a User-Agent component, moto's finishing of a
response, moto's size of a DynamoDB item, the names moto's serializer looks a member up under, moto's Cognito user
lookup by e-mail, moto's parse of an UpdateExpression, Flask's debug-mode class for a request's files (compared
with the functions they replace, which patches.MOTO_ORIGINALS keeps)."""

from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Any

import pytest
from botocore.useragent import UserAgentComponent, UserAgentComponentSizeConfig
from moto.core import responses
from moto.dynamodb.responses import DynamoHandler
from moto.s3.responses import S3Response
from moto.sqs.responses import SQSResponse

from shoplocal import patches

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module", autouse=True)
def applied() -> None:
    patches.apply()
    assert {"method_names_from_class", "UserAgentComponent.to_string"} <= set(patches.MOTO_ORIGINALS), \
        "moto or botocore changed: the fast path is not applied (see the warning logged)"


def test_a_response_class_has_the_method_names_moto_computes() -> None:
    original = patches.MOTO_ORIGINALS["method_names_from_class"]
    for cls in (DynamoHandler, S3Response, SQSResponse):
        assert responses.method_names_from_class(cls) == original(cls)
        assert responses.method_names_from_class(cls) == original(cls)  # once kept


def test_a_method_added_or_removed_later_is_seen() -> None:
    class Handler(DynamoHandler):
        pass

    assert "brand_new_action" not in responses.method_names_from_class(Handler)
    Handler.brand_new_action = lambda self: "{}"
    assert "brand_new_action" in responses.method_names_from_class(Handler)
    del Handler.brand_new_action
    assert "brand_new_action" not in responses.method_names_from_class(Handler)
    DynamoHandler.another_new_action = lambda self: "{}"  # on a base class
    try:
        assert "another_new_action" in responses.method_names_from_class(Handler)
    finally:
        del DynamoHandler.another_new_action
    assert responses.method_names_from_class(Handler) == patches.MOTO_ORIGINALS["method_names_from_class"](Handler)


def test_the_caller_may_not_change_the_kept_list() -> None:
    names = responses.method_names_from_class(SQSResponse)
    names.append("not_an_action")
    assert "not_an_action" not in responses.method_names_from_class(SQSResponse)


@pytest.mark.parametrize("component", [
    UserAgentComponent("Boto3", "1.0"),
    UserAgentComponent("md", "Botocore", "1.43.0"),
    UserAgentComponent("os", "linux", ""),
    UserAgentComponent("m", "E,b,Z", None),
    UserAgentComponent("lang", "python", "3.13.0 (main, tags/x)"),
    UserAgentComponent("pre fix", "na/me", "va#l ue é"),
    UserAgentComponent("m", "a,b,c,d,e,f", size_config=UserAgentComponentSizeConfig(5, ",")),
    UserAgentComponent("m", "a,b,c,d,e,f", size_config=UserAgentComponentSizeConfig(9, ",")),
], ids=lambda c: f"{c.prefix}/{c.name}/{c.value}/{c.size_config.max_size_in_bytes if c.size_config else '-'}")
def test_a_user_agent_component_reads_as_botocore_writes_it(component: UserAgentComponent) -> None:
    original = patches.MOTO_ORIGINALS["UserAgentComponent.to_string"]
    assert component.to_string() == original(component)
    assert component.to_string() == original(component)  # once kept


def test_the_same_text_under_another_size_limit_is_truncated_by_that_limit() -> None:
    long = UserAgentComponent("m", "a,b,c,d,e,f")
    assert long.to_string() == "m/a,b,c,d,e,f"
    short = UserAgentComponent("m", "a,b,c,d,e,f", size_config=UserAgentComponentSizeConfig(7, ","))
    assert short.to_string() == patches.MOTO_ORIGINALS["UserAgentComponent.to_string"](short) == "m/a,b,c"


XML_BODY = "<Resp><ResponseMetadata><RequestId>moto-id</RequestId></ResponseMetadata></Resp>"
JSON_BODY = '{"Items": [{"pk": {"S": "a"}}], "note": "RequestId"}'


@pytest.mark.parametrize("body", [XML_BODY, JSON_BODY, XML_BODY.encode(), "", None, {"a": 1}],
                         ids=["xml", "json", "bytes", "empty", "none", "dict"])
def test_a_response_is_finished_as_moto_finishes_it_with_its_own_request_id(body: object) -> None:
    """Patch 14: the same headers and body as moto's _enrich_response, but for the random id in both."""
    assert "BaseResponse._enrich_response" in patches.MOTO_ORIGINALS
    original = patches.MOTO_ORIGINALS["BaseResponse._enrich_response"]
    theirs_headers, theirs = original({"status": 200}, body)
    ours_headers, ours = responses.BaseResponse._enrich_response({"status": 200}, body)
    request_id = ours_headers["x-amzn-requestid"]
    assert ours_headers == {**theirs_headers, "x-amzn-requestid": request_id} and ours_headers["status"] == "200"
    assert len(request_id) == 52 and request_id.isascii() and request_id.isalnum()
    if body is XML_BODY:
        assert ours == theirs.replace(theirs_headers["x-amzn-requestid"], request_id)
        assert f"<RequestId>{request_id}</RequestId>" in ours
    else:
        assert ours == theirs == body


def test_request_ids_differ_and_follow_moto_s_seed() -> None:
    from moto.moto_api._internal import mock_random

    ids = {responses.BaseResponse._enrich_response({}, "")[0]["x-amzn-requestid"] for _ in range(100)}
    assert len(ids) == 100
    state = mock_random.getstate()
    try:
        mock_random.seed(7)
        first = responses.BaseResponse._enrich_response({}, "")[0]["x-amzn-requestid"]
        mock_random.seed(7)
        assert responses.BaseResponse._enrich_response({}, "")[0]["x-amzn-requestid"] == first
    finally:
        mock_random.setstate(state)


SIZED = {
    "string": {"S": "héllo"}, "empty string": {"S": ""}, "number": {"N": "-12.5"}, "bool": {"BOOL": False},
    "null": {"NULL": True}, "binary": {"B": b"\x00\x01\x02"}, "binary as text": {"B": "AAEC"},
    "string set": {"SS": ["a", "bé", ""]}, "number set": {"NS": ["1", "22.5"]}, "binary set": {"BS": [b"ab", "Y2Q="]},
    "list": {"L": [{"S": "a"}, {"N": "10"}, {"BOOL": True}, {"L": [{"S": "deep"}]}]},
    "map": {"M": {"k": {"S": "v"}, "nümber": {"N": "3"}, "nested": {"M": {"list": {"L": [{"M": {"x": {"S": "y"}}}]},
                                                                         "set": {"SS": ["p", "q"]}}}}},
    "empty map": {"M": {}}, "empty list": {"L": []},
}


@pytest.mark.parametrize("value", list(SIZED.values()), ids=list(SIZED))
def test_an_attribute_is_sized_as_moto_sizes_it(value: dict[str, object]) -> None:
    """Patch 15: the same size as moto's DynamoType.size, which copies every map it walks."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    original = patches.MOTO_ORIGINALS["DynamoType.size"]
    assert DynamoType(value).size() == original(DynamoType(value))


def test_an_item_is_sized_as_moto_sizes_it() -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    attrs = {name.replace(" ", "_"): value for name, value in SIZED.items()}
    item = Item(DynamoType({"S": "pk-1"}), None, attrs)
    original = patches.MOTO_ORIGINALS["DynamoType.size"]
    expected = sum(len(key.encode()) + original(value) for key, value in item.attrs.items())
    assert item.size() == expected > 0


def test_a_tree_moto_would_convert_first_is_sized_by_moto() -> None:
    """A list holding a plain dict (not a DynamoType): moto's copy of the map above it converts it; its own code
    sizes it, with the same answer or the same error."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    original = patches.MOTO_ORIGINALS["DynamoType.size"]
    inner = DynamoType({"L": [{"S": "a"}]})
    inner.value.append({"S": "raw"})
    outer = DynamoType({"M": {"list": inner}})
    assert outer.size() == original(outer) == len(b"list") + 1 + 3
    with pytest.raises(AttributeError):
        inner.size()
    with pytest.raises(AttributeError):
        original(inner)


def test_a_subclass_is_sized_by_moto() -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    class Typed(DynamoType):
        def size(self) -> int:
            return 1000

    value = DynamoType({"L": [{"S": "yz"}]})
    value.value.append(Typed({"S": "x"}))
    assert value.size() == patches.MOTO_ORIGINALS["DynamoType.size"](value) == 1002


def _serialize(service: str, operation: str, result: dict[str, object]) -> object:
    from moto.core.serialize import XFormedAttributePicker, get_serializer_class
    from moto.core.utils import get_service_model

    model = get_service_model(service)
    op = model.operation_model(operation)
    serializer = get_serializer_class(service, model.protocol)(operation_model=op, pretty_print=False,
                                                                value_picker=XFormedAttributePicker())
    return serializer.serialize(result)["body"]


HISTORY = {"events": [
    {"timestamp": 1767225600.5, "type": "ExecutionStarted", "id": 1, "previousEventId": 0,
     "executionStartedEventDetails": {"input": '{"order_id": "o-1"}', "inputDetails": {"truncated": False},
                                      "roleArn": "arn:aws:iam::123456789012:role/r"}},
    {"timestamp": 1767225601.25, "type": "TaskStateEntered", "id": 2, "previousEventId": 1,
     "stateEnteredEventDetails": {"name": "TakePayment", "input": "{}"}},
    {"timestamp": 1767225602.0, "type": "LambdaFunctionFailed", "id": 3, "previousEventId": 2,
     "lambdaFunctionFailedEventDetails": {"error": "OutOfBeans", "cause": "{}"}, "unknownMember": "dropped"},
], "nextToken": "token-2"}
ATTRIBUTES = {"Attributes": [{"Name": "email", "Value": "a@example.com"}], "UserStatus": "CONFIRMED",
              "Username": "a@example.com", "Enabled": True, "UserCreateDate": 1767225600}


@pytest.mark.parametrize(("service", "operation", "result"), [
    ("stepfunctions", "GetExecutionHistory", HISTORY),
    ("cognito-idp", "AdminGetUser", ATTRIBUTES),
    ("sns", "Publish", {"MessageId": "m-1"}),
    ("ssm", "GetParameter", {"Parameter": {"Name": "/shop/url", "Type": "String", "Value": "http://x", "Version": 2}}),
], ids=["sfn-history", "cognito-user", "sns-xml", "ssm"])
def test_a_response_is_serialized_as_moto_serializes_it(service: str, operation: str, result: dict[str, object],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Patch 16: the same body as moto's serializer asking its alias providers for every member of every value
    (served from what was kept the second time)."""
    from moto.core.serialize import AttributePicker, XFormedAttributePicker

    ours = [_serialize(service, operation, result) for _ in range(2)]
    monkeypatch.setattr(AttributePicker, "get_possible_keys",
                        patches.MOTO_ORIGINALS["AttributePicker.get_possible_keys"])
    monkeypatch.setattr(XFormedAttributePicker, "get_possible_keys",
                        patches.MOTO_ORIGINALS["XFormedAttributePicker.get_possible_keys"])
    theirs = _serialize(service, operation, result)
    assert ours == [theirs, theirs]
    assert theirs  # (a body: the members were found)


def test_a_model_object_still_asks_moto_s_alias_providers() -> None:
    """A value that is not a plain dict (its class name and Meta aliases count) is not kept: a member found
    under its class-name prefix or an explicit alias, as moto finds it."""
    from moto.core.serialize import AttributePickerContext, XFormedAttributePicker
    from moto.core.utils import get_service_model

    shape = get_service_model("stepfunctions").shape_for("DescribeExecutionOutput")
    member = shape.members["executionArn"]
    member.parent = shape  # as moto's serializer sets it

    class Execution:
        arn = "arn:short"

        class Meta:
            serialization_aliases = {"status": "state"}

    picker = XFormedAttributePicker()
    assert picker(AttributePickerContext(obj=Execution(), key="executionArn", shape=member)) == "arn:short"
    status = shape.members["status"]
    status.parent = shape
    Execution.state = "RUNNING"  # type: ignore[attr-defined]
    assert picker(AttributePickerContext(obj=Execution(), key="status", shape=status)) == "RUNNING"
    assert picker(AttributePickerContext(obj={"executionArn": "arn:dict"}, key="executionArn", shape=member)) == \
        "arn:dict"


@functools.cache
def _pool(username_attributes: tuple[str, ...] | None, *, fresh: int = 0) -> Any:
    """A pool of five users (a pool costs an RSA key: one per case, not per test)."""
    from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPool

    config = {"UsernameAttributes": list(username_attributes)} if username_attributes else {}
    pool = CognitoIdpUserPool("123456789012", "us-east-1", "fastpath", config)
    people = [
        ("ada", [{"Name": "email", "Value": "ada@example.com"}, {"Name": "phone_number", "Value": "+4915100"}]),
        ("bob", [{"Name": "email", "Value": "old@example.com"}, {"Name": "email", "Value": "bob@example.com"}]),
        ("cy", [{"Name": "email", "Value": "ada@example.com"}]),  # the same address again: the first user wins
        ("dee", [{"Name": "nickname", "Value": "eve@example.com"}, {"Name": "email", "Value": "dee@example.com"}]),
        ("eve", [{"Name": "email", "Value": "eve@example.com"}]),
    ]
    for name, attributes in people:
        pool.users[name] = CognitoIdpUser(pool.id, name, "Pw-1", "CONFIRMED", attributes)
    return pool


@pytest.mark.parametrize("username_attributes", [("email",), ("email", "phone_number"), None],
                         ids=["email", "email-or-phone", "usernames"])
@pytest.mark.parametrize("wanted", ["ada@example.com", "bob@example.com", "old@example.com", "eve@example.com",
                                    "+4915100", "dee", "cy", "nobody@example.com", ""])
def test_a_user_is_found_as_moto_finds_it(username_attributes: tuple[str, ...] | None, wanted: str) -> None:
    """Patch 17: the same user (or none) as moto's scan flattening every user's attributes: the first holder of
    the value, the last value of a repeated attribute, only the pool's UsernameAttributes, then the user name."""
    from moto.cognitoidp.models import CognitoIdpUserPool

    pool = _pool(username_attributes)
    original = patches.MOTO_ORIGINALS["CognitoIdpUserPool._get_user"]
    assert CognitoIdpUserPool._get_user is not original
    assert pool._get_user(wanted) is original(pool, wanted)


def test_malformed_attributes_fail_as_in_moto() -> None:
    from moto.cognitoidp.models import CognitoIdpUser

    pool = _pool(("email",), fresh=1)
    zed = pool.users["zed"] = CognitoIdpUser(pool.id, "zed", "Pw-1", "CONFIRMED", [])
    zed.attributes = [{"Name": "email"}]  # no value (CognitoIdpUser would refuse it)
    original = patches.MOTO_ORIGINALS["CognitoIdpUserPool._get_user"]
    assert pool._get_user("ada@example.com") is original(pool, "ada@example.com")
    for lookup in (pool._get_user, lambda name: original(pool, name)):
        with pytest.raises(KeyError):
            lookup("zed@example.com")


def test_the_user_index_follows_every_change_of_the_pool_as_moto_scans_it() -> None:
    """Patch 17's index of a pool's e-mails, after each kind of change (a user signing up, attributes updated
    and deleted, assigned directly, a user deleted or replaced under its name, the pool's UsernameAttributes
    changed): every lookup finds the user moto's scan finds (the first holder in the pool's order), or none."""
    from moto.cognitoidp.models import CognitoIdpUser

    pool = _pool(("email",), fresh=2)
    original = patches.MOTO_ORIGINALS["CognitoIdpUserPool._get_user"]
    values = ["ada@example.com", "bob@example.com", "old@example.com", "eve@example.com", "dee@example.com",
              "new@example.com", "fay@example.com", "+4915100", "+4915199", "ada", "fay", "nobody@example.com"]

    def same() -> None:
        for value in values:
            assert pool._get_user(value) is original(pool, value), value

    same()
    fay = pool.users["fay"] = CognitoIdpUser(pool.id, "fay", "Pw-1", "CONFIRMED",
                                             [{"Name": "email", "Value": "fay@example.com"}])
    pool.users["gus"] = CognitoIdpUser(pool.id, "gus", "Pw-1", "CONFIRMED",
                                       [{"Name": "email", "Value": "eve@example.com"}])  # eve holds it first
    same()
    pool.users["ada"].update_attributes([{"Name": "email", "Value": "new@example.com"}])  # cy now first
    same()
    pool.users["eve"].delete_attributes(["email"])  # gus now holds eve@
    same()
    fay.attributes = [{"Name": "email", "Value": "bob@example.com"}]  # bob still first
    pool.users["bob"].attributes = [{"Name": "email", "Value": "fay@example.com"}]  # and fay's old address
    same()
    del pool.users["cy"]
    same()
    pool.users["gus"] = CognitoIdpUser(pool.id, "gus", "Pw-1", "CONFIRMED",
                                       [{"Name": "email", "Value": "ada@example.com"}])  # replaced, same place
    same()
    pool.users.move_to_end("ada", last=False)
    pool.users.pop("dee")
    same()
    pool.extended_config["UsernameAttributes"] = ["email", "phone_number"]
    pool.users["hal"] = CognitoIdpUser(pool.id, "hal", "Pw-1", "CONFIRMED",
                                       [{"Name": "phone_number", "Value": "+4915199"}])
    same()
    pool.users = OrderedDict(reversed(list(pool.users.items())))  # a new dict: indexed again
    same()
    pool.extended_config.pop("UsernameAttributes")
    same()


def _tree(node: Any) -> Any:
    """A parse tree as nested (class, value) tuples, to compare two trees."""
    children = getattr(node, "children", None)
    if isinstance(children, list | tuple):
        return type(node).__name__, tuple(_tree(child) for child in children)
    return type(node).__name__, repr(node) if not hasattr(node, "__dict__") else _tree(children)


@pytest.mark.parametrize("expression", [
    "SET #a = :v, b = if_not_exists(b, :zero) + :one REMOVE c",
    "SET lines = list_append(lines, :new), #s = :status ADD used :one DELETE tags :t",
    "REMOVE holders.#order, shards[2]",
])
def test_an_update_expression_parses_to_moto_s_tree_and_is_kept(expression: str) -> None:
    """Patch 18: the same tree as moto's parse, the same object the next time (moto only reads it)."""
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    original = patches.MOTO_ORIGINALS["UpdateExpressionParser.make"]
    ours = UpdateExpressionParser.make(expression)
    assert _tree(ours) == _tree(original(expression))
    assert UpdateExpressionParser.make(expression) is ours


def test_an_invalid_update_expression_fails_every_time() -> None:
    from moto.dynamodb.exceptions import InvalidUpdateExpression
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    original = patches.MOTO_ORIGINALS["UpdateExpressionParser.make"]
    for _ in range(2):
        with pytest.raises(InvalidUpdateExpression) as ours:
            UpdateExpressionParser.make("SET a = = :v")
        with pytest.raises(InvalidUpdateExpression) as theirs:
            original("SET a = = :v")
        assert str(ours.value) == str(theirs.value)


def test_an_update_through_moto_changes_the_item_as_before() -> None:
    """The kept tree is not changed by an update that used it: the same update on two items gives the same
    result twice."""
    from moto.dynamodb.models import DynamoDBBackend

    backend = DynamoDBBackend("us-east-1", "123456789012")
    backend.create_table("t", schema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         attr=[{"AttributeName": "pk", "AttributeType": "S"}], throughput=None,
                         billing_mode="PAY_PER_REQUEST", indexes=None, global_indexes=None, streams=None,
                         sse_specification=None, tags=[], deletion_protection_enabled=False, warm_throughput=None)
    expression = "SET n = if_not_exists(n, :zero) + :one, #l = list_append(if_not_exists(#l, :empty), :l)"
    values = {":zero": {"N": "0"}, ":one": {"N": "1"}, ":empty": {"L": []}, ":l": {"L": [{"S": "x"}]}}
    for key in ("a", "b"):
        for _ in range(2):
            backend.update_item("t", {"pk": {"S": key}}, expression, {"#l": "lines"}, values)
    for key in ("a", "b"):
        item = backend.get_item("t", {"pk": {"S": key}}).to_json()["Attributes"]
        assert item == {"pk": {"S": key}, "n": {"N": "2"}, "lines": {"L": [{"S": "x"}, {"S": "x"}]}}


def _files_of(body: dict[str, str]) -> tuple[Any, Any]:
    """A debug-mode Flask request's files (as moto's apps load them) and the request."""
    from flask import Flask

    app = Flask("fastpath")
    app.debug = True
    with app.test_request_context("/", method="POST", data=body):
        from flask import request

        _ = request.form  # loads the form and, in debug mode, wraps the files
        return request.files, request._get_current_object()  # type: ignore[attr-defined]


def test_a_debug_request_s_files_raise_as_flask_s_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Patch 19: a missing key sent as a form field raises Flask's DebugFilesKeyError naming it, any other missing
    key a KeyError; each request keeps its own form, while the class is built once."""
    from flask import debughelpers

    assert debughelpers.attach_enctype_error_multidict is not patches.MOTO_ORIGINALS["attach_enctype_error_multidict"]
    first, _ = _files_of({"upload": "text"})
    second, _ = _files_of({"other": "text"})
    assert type(first) is type(second)
    monkeypatch.setattr(debughelpers, "attach_enctype_error_multidict",
                        patches.MOTO_ORIGINALS["attach_enctype_error_multidict"])
    theirs, _ = _files_of({"upload": "text"})
    assert type(first) is not type(theirs)
    for key in ("upload", "other", "absent"):
        outcomes = []
        for files in (first, second, theirs):
            with pytest.raises(KeyError) as raised:
                files[key]
            outcomes.append((type(raised.value).__name__, str(raised.value)))
        assert outcomes[0] == outcomes[2], key  # the same request body: the same error as Flask's
    assert (type(first).__name__, type(first).__module__, type(first).__qualname__) == \
        (type(theirs).__name__, type(theirs).__module__, type(theirs).__qualname__)
    with pytest.raises(debughelpers.DebugFilesKeyError):
        first["upload"]
    with pytest.raises(KeyError) as plain:
        second["upload"]
    assert not isinstance(plain.value, debughelpers.DebugFilesKeyError)  # (werkzeug's BadRequestKeyError)
