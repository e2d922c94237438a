import pytest
from shop.dynamo import chunks, decode_cursor, encode_cursor, from_item, money_attrs, money_from, to_item
from shop.errors import InvalidInput
from shop.money import Money

pytestmark = pytest.mark.unit


def test_item_round_trip_gives_ints_not_decimals():
    data = {"pk": "P#1", "n": 5, "nested": {"a": [1, 2]}, "none": None, "flag": True}
    back = from_item(to_item(data))
    assert back == {"pk": "P#1", "n": 5, "nested": {"a": [1, 2]}, "flag": True}
    assert type(back["n"]) is int


def test_money_attributes_round_trip():
    m = Money(amount=1299, currency="EUR")
    assert money_from(from_item(to_item(money_attrs("price", m))), "price") == m


def test_cursor_round_trip_and_garbage_is_422_naming_the_field():
    key = {"pk": {"S": "PRODUCT#x"}, "sk": {"S": "PRODUCT"}, "price_sk": {"S": "000000001299#x"}}
    assert decode_cursor(encode_cursor(key)) == key
    assert encode_cursor(None) is None and decode_cursor(None) is None
    for garbage in ["%%%", "bm90IGpzb24", encode_cursor({"a": {"S": "x"}})[:-3] + "zz"]:
        with pytest.raises(InvalidInput) as err:
            decode_cursor(garbage, field="query.cursor")
        assert err.value.field == "query.cursor"


def test_chunks():
    assert chunks(range(5), 2) == [[0, 1], [2, 3], [4]]
