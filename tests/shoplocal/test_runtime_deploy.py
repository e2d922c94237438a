"""The local deployer's pure parts: intrinsic functions, conditions, dependency order (no moto needed)."""

from __future__ import annotations

import base64

import pytest

from shoplocal.deploy import DeployError, Deployment, Resolver, order_resources

pytestmark = pytest.mark.unit

TEMPLATE = {
    "Parameters": {"Stage": {"Type": "String"}},
    "Mappings": {"Sizes": {"local": {"Memory": 256}, "prod": {"Memory": 1024}}},
    "Conditions": {
        "IsLocal": {"Fn::Equals": [{"Ref": "Stage"}, "local"]},
        "IsProd": {"Fn::Not": [{"Condition": "IsLocal"}]},
        "LocalAndEu": {"Fn::And": [{"Condition": "IsLocal"}, {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]}]},
        "LocalOrProd": {"Fn::Or": [{"Condition": "IsLocal"}, {"Condition": "IsProd"}]},
    },
    "Resources": {},
}


@pytest.fixture
def resolver() -> Resolver:
    d = Deployment(stack_name="shop-local", region="us-east-1", parameters={"Stage": "local"})
    d.physical["Orders"] = "shop-orders-abc"
    d.attributes["Orders"] = {"Arn": "arn:aws:dynamodb:us-east-1:123456789012:table/shop-orders-abc",
                              "StreamArn": "arn:stream"}
    return Resolver(TEMPLATE, d)


def test_ref_parameters_resources_and_pseudo_parameters(resolver):
    assert resolver.resolve({"Ref": "Stage"}) == "local"
    assert resolver.resolve({"Ref": "Orders"}) == "shop-orders-abc"
    assert resolver.resolve([{"Ref": "AWS::Region"}, {"Ref": "AWS::AccountId"}, {"Ref": "AWS::StackName"},
                             {"Ref": "AWS::Partition"}, {"Ref": "AWS::URLSuffix"}]) == [
        "us-east-1", "123456789012", "shop-local", "aws", "amazonaws.com"]


def test_ref_to_unknown_name_fails_naming_it(resolver):
    with pytest.raises(DeployError, match="Nope"):
        resolver.resolve({"Ref": "Nope"})
    with pytest.raises(DeployError, match=r"Orders\.Missing"):
        resolver.resolve({"Fn::GetAtt": ["Orders", "Missing"]})


def test_getatt_both_forms(resolver):
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/shop-orders-abc"
    assert resolver.resolve({"Fn::GetAtt": ["Orders", "Arn"]}) == arn
    assert resolver.resolve({"Fn::GetAtt": "Orders.StreamArn"}) == "arn:stream"


def test_sub_string_and_variable_forms_and_escapes(resolver):
    assert resolver.resolve({"Fn::Sub": "${Orders}-${Stage}-${AWS::Region}-${Orders.Arn}"}) == (
        "shop-orders-abc-local-us-east-1-arn:aws:dynamodb:us-east-1:123456789012:table/shop-orders-abc")
    assert resolver.resolve({"Fn::Sub": ["${Name}/${Stage}", {"Name": {"Ref": "Orders"}}]}) == "shop-orders-abc/local"
    assert resolver.resolve({"Fn::Sub": "literal ${!NotResolved}"}) == "literal ${NotResolved}"


def test_join_select_split(resolver):
    assert resolver.resolve({"Fn::Join": [":", ["a", {"Ref": "Stage"}, "c"]]}) == "a:local:c"
    assert resolver.resolve({"Fn::Select": [1, {"Fn::Split": ["/", "x/y/z"]}]}) == "y"
    assert resolver.resolve({"Fn::Select": ["0", ["first", "second"]]}) == "first"


def test_conditions_and_if_with_novalue(resolver):
    assert resolver.conditions == {"IsLocal": True, "IsProd": False, "LocalAndEu": False, "LocalOrProd": True}
    assert resolver.resolve({"Fn::If": ["IsLocal", "yes", "no"]}) == "yes"
    assert resolver.resolve({"Fn::If": ["IsProd", "yes", "no"]}) == "no"
    props = {"A": {"Fn::If": ["IsProd", "x", {"Ref": "AWS::NoValue"}]}, "B": 1,
             "L": ["keep", {"Fn::If": ["IsProd", "drop", {"Ref": "AWS::NoValue"}]}]}
    assert resolver.resolve(props) == {"B": 1, "L": ["keep"]}


def test_find_in_map_and_base64(resolver):
    assert resolver.resolve({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]}) == 256
    with pytest.raises(DeployError, match="Sizes/test/Memory"):
        resolver.resolve({"Fn::FindInMap": ["Sizes", "test", "Memory"]})
    assert base64.b64decode(resolver.resolve({"Fn::Base64": {"Ref": "Stage"}})) == b"local"


def test_unsupported_intrinsic_fails_loudly(resolver):
    with pytest.raises(DeployError, match="Fn::ImportValue"):
        resolver.resolve({"Fn::ImportValue": "other-stack-export"})


def test_resources_are_ordered_by_ref_getatt_sub_and_depends_on():
    resources = {
        "Function": {"Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]},
                                    "Environment": {"Variables": {"T": {"Ref": "Table"}}}}},
        "Machine": {"Properties": {"DefinitionString": {"Fn::Sub": ["${Fn}", {"Fn": {"Ref": "Function"}}]},
                                   "Name": {"Fn::Sub": "${Bus.Name}-machine"}}},
        "Bus": {"Properties": {}},
        "Role": {"Properties": {}},
        "Table": {"Properties": {}, "DependsOn": "Role"},
        "Rule": {"Properties": {}, "DependsOn": ["Machine"]},
    }
    order = order_resources(resources)
    assert sorted(order) == sorted(resources)

    def before(a: str, b: str) -> bool:
        return order.index(a) < order.index(b)

    assert before("Role", "Function") and before("Table", "Function") and before("Role", "Table")
    assert before("Function", "Machine") and before("Bus", "Machine") and before("Machine", "Rule")


def test_circular_dependencies_are_refused():
    resources = {"A": {"Properties": {"X": {"Ref": "B"}}}, "B": {"Properties": {"Y": {"Fn::GetAtt": "A.Arn"}}}}
    with pytest.raises(DeployError, match="circular"):
        order_resources(resources)
