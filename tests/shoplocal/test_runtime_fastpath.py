"""shoplocal/fastpath.py (patches 12 to 14) keeps what moto and botocore rebuilt per request, with the same
answers: moto's method list of a response class, botocore's text of a User-Agent component, moto's finishing of a
response (compared with the functions they replace, which patches.MOTO_ORIGINALS keeps)."""

from __future__ import annotations

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
