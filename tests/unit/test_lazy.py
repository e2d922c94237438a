"""shop.lazy: a module's names given from other modules, each imported on first access."""

from __future__ import annotations

import sys

import pytest
from shop import lazy

pytestmark = pytest.mark.unit


def test_a_listed_name_comes_from_its_module_imported_on_first_access() -> None:
    get = lazy.attributes_from("shop.somewhere", {"json": ("dumps", "loads"), "textwrap": ("dedent",)})
    import json
    import textwrap

    assert get("dumps") is json.dumps and get("loads") is json.loads and get("dedent") is textwrap.dedent


def test_a_name_not_listed_is_the_attribute_error_of_the_module() -> None:
    get = lazy.attributes_from("shop.somewhere", {"json": ("dumps",)})
    with pytest.raises(AttributeError, match=r"module 'shop\.somewhere' has no attribute 'nope'"):
        get("nope")


def test_a_split_contracts_module_imports_a_group_when_one_of_its_names_is_asked_for() -> None:
    from shop.inventory import contracts

    assert contracts.WarehouseList.__module__ == "shop.inventory.warehouse_contracts"
    assert "shop.inventory.warehouse_contracts" in sys.modules
