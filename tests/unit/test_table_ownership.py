"""Who owns a table (docs/conventions.md): each table's keys, its name and its item codecs are built only by the
repository of the context that owns them. Each repository declares what it owns and what it offers:

- ``TABLE``: the settings field of its table (None: it has none);
- ``KEY_PREFIXES``: the key prefixes it owns in that table ("ORDER#", "WH#"; a word such as "WAREHOUSE" is a
  whole key value);
- ``PUBLIC``: the names another context may use (reads, and named actions for its own transactions);
- ``KEY_MODULES`` (optional): modules of its own context that build keys of its table with it.

This test reads those declarations (so the lists cannot drift from the code) and scans every module of the
layer (ast): a module of context A may use from context B's repository only names in B's PUBLIC, never an
underscore name; and no module but the owner (or its KEY_MODULES) writes an owner's key prefix in a string.
"""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

SHOP = Path(__file__).resolve().parents[2] / "layers" / "shop" / "shop"


@dataclass(frozen=True)
class Owner:
    context: str
    table: str | None
    key_prefixes: tuple[str, ...]
    public: frozenset[str]
    key_modules: tuple[str, ...]


def _contexts() -> list[str]:
    return sorted(p.parent.name for p in SHOP.glob("*/repository.py"))


@cache
def owners() -> dict[str, Owner]:
    out = {}
    for context in _contexts():
        module = importlib.import_module(f"shop.{context}.repository")
        out[context] = Owner(context, module.TABLE, tuple(module.KEY_PREFIXES), frozenset(module.PUBLIC),
                             tuple(getattr(module, "KEY_MODULES", ())))
    return out


def _modules() -> list[tuple[str, str | None, str]]:
    """(module name, context or None for the root modules, source) of every module of the layer."""
    out = []
    for path in sorted(SHOP.rglob("*.py")):
        parts = path.relative_to(SHOP).with_suffix("").parts
        context = parts[0] if len(parts) > 1 else None
        name = ".".join(("shop", *(p for p in parts if p != "__init__")))
        out.append((name, context, path.read_text()))
    return out


# ------------------------------------------------------------------ the two rules, on one module's source
def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _repository_of(module: str) -> str | None:
    """The context whose repository ``module`` is ("shop.orders.repository" -> "orders")."""
    match = re.fullmatch(r"shop\.(\w+)\.repository", module)
    return match.group(1) if match else None


def import_violations(module: str, context: str | None, source: str, owned: dict[str, Owner]) -> list[str]:
    """Names of another context's repository that this module uses without them being in its PUBLIC."""
    tree = ast.parse(source)
    found: list[tuple[str, str]] = []  # (owner context, name used)
    aliases: dict[str, str] = {}  # local name or dotted path of a foreign repository module -> its context
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            owner = _repository_of(node.module)
            if owner is not None:
                found += [(owner, alias.name) for alias in node.names]
            elif node.module.startswith("shop."):
                for alias in node.names:
                    owner = _repository_of(f"{node.module}.{alias.name}")
                    if owner is not None:
                        aliases[alias.asname or alias.name] = owner
        elif isinstance(node, ast.Import):
            for alias in node.names:
                owner = _repository_of(alias.name)
                if owner is not None:
                    aliases[alias.asname or alias.name] = owner
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            base = _dotted(node.value)
            if base in aliases:
                found.append((aliases[base], node.attr))
    out = []
    for owner, name in found:
        if owner == context or owner not in owned:
            continue
        if name.startswith("_") or name == "*" or name not in owned[owner].public:
            out.append(f"{module} uses shop.{owner}.repository.{name}, which is not in its PUBLIC")
    return sorted(set(out))


def _strings(tree: ast.AST) -> list[ast.Constant]:
    """Every string constant but docstrings (an f-string's literal parts are constants too)."""
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docs.add(id(first.value))
    return [n for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


def _formats(text: str, prefix: str) -> bool:
    if prefix.endswith("#"):
        return re.search(rf"(?<![A-Za-z0-9_]){re.escape(prefix)}", text) is not None
    return text == prefix  # a whole key value ("WAREHOUSE"): only the value itself


def prefix_violations(module: str, source: str, owned: dict[str, Owner]) -> list[str]:
    """Key prefixes of a repository written in this module, which is neither that repository, nor one that owns
    the same prefix in its own table, nor one of the owner's KEY_MODULES."""
    mine = set(owned[own].key_prefixes) if (own := _repository_of(module)) in owned else set()
    out = []
    for node in _strings(ast.parse(source)):
        for owner in owned.values():
            if module == f"shop.{owner.context}.repository" or module in owner.key_modules:
                continue
            for prefix in owner.key_prefixes:
                if prefix not in mine and _formats(node.value, prefix):
                    out.append(f"{module}:{node.lineno} writes {prefix!r}, a key prefix of shop.{owner.context}"
                               ".repository")
    return sorted(set(out))


# ------------------------------------------------------------------ the declarations
def test_every_repository_declares_what_it_owns_and_offers() -> None:
    assert len(owners()) >= 10
    for context in _contexts():
        module = importlib.import_module(f"shop.{context}.repository")
        owner = owners()[context]
        where = f"shop.{context}.repository"
        assert owner.table is None or isinstance(owner.table, str), where
        assert owner.table is not None or not owner.key_prefixes, f"{where}: key prefixes without a table"
        missing = sorted(name for name in owner.public if not hasattr(module, name))
        assert not missing, f"{where}.PUBLIC names what it does not define: {missing}"
        private = sorted(name for name in owner.public if name.startswith("_"))
        assert not private, f"{where}.PUBLIC offers underscore names: {private}"
        for key_module in owner.key_modules:
            assert key_module.startswith(f"shop.{context}."), f"{where}: {key_module} is not of its context"


def test_a_key_prefix_has_one_owner_per_table() -> None:
    """Two contexts may use the same prefix only in different tables (SKU# in the catalog and in the stock);
    this is what keeps a context from claiming another's prefix in a shared table (the OrdersTable)."""
    seen: dict[tuple[str, str], str] = {}
    for owner in owners().values():
        for prefix in owner.key_prefixes:
            key = (str(owner.table), prefix)
            assert key not in seen, f"{prefix} in {owner.table} is claimed by {seen[key]} and {owner.context}"
            seen[key] = owner.context


# ------------------------------------------------------------------ the layer
def test_contexts_use_only_the_public_surface_of_another_repository() -> None:
    violations = [v for name, context, source in _modules()
                  for v in import_violations(name, context, source, owners())]
    assert not violations, "\n".join(violations)


def test_no_module_writes_another_owner_key_prefix() -> None:
    violations = [v for name, _, source in _modules() for v in prefix_violations(name, source, owners())]
    assert not violations, "\n".join(violations)


def test_the_scan_sees_the_repositories_in_use() -> None:
    """The scan is not vacuous: contexts do compose through other repositories (and those uses are public)."""
    used = {m.group(1) for _, _, source in _modules()
            for m in re.finditer(r"from shop\.(\w+)(?:\.repository import| import repository)", source)}
    assert {"inventory", "orders", "cart", "catalog", "promotions", "fulfillment"} <= used


# ------------------------------------------------------------------ the rules catch violations
SYNTHETIC: dict[str, Owner] = {
    "orders": Owner("orders", "orders_table", ("ORDER#",), frozenset({"get_order", "put_new_order_action"}), ()),
    "inventory": Owner("inventory", "inventory_table", ("SKU#", "WH#", "WAREHOUSE"),
                       frozenset({"reserve_action"}), ()),
    "catalog": Owner("catalog", "catalog_table", ("CAT#",), frozenset(), ("shop.catalog.listing",)),
}


@pytest.mark.parametrize(("source", "expected"), [
    ("from shop.orders.repository import order_key\n", ["shop.orders.repository.order_key"]),
    ("from shop.orders.repository import to_record, get_order\n", ["shop.orders.repository.to_record"]),
    ("from shop.orders.repository import *\n", ["shop.orders.repository.*"]),
    ("from shop.inventory import repository as inv\nx = inv._stock_key('a', 'b')\n",
     ["shop.inventory.repository._stock_key"]),
    ("import shop.inventory.repository\nshop.inventory.repository.stock_key('a', 'b')\n",
     ["shop.inventory.repository.stock_key"]),
    ("def f():\n    from shop.orders import repository\n    return repository.orders_table()\n",
     ["shop.orders.repository.orders_table"]),
    ("from shop.orders.repository import get_order, put_new_order_action\n", []),
    ("from shop.inventory import repository as inv\nx = inv.reserve_action('a', 'b', 1, None, 'now')\n", []),
    ("from shop.checkout.repository import Outcome\n", []),  # its own repository: anything goes
])
def test_an_import_outside_the_public_surface_is_caught(source: str, expected: list[str]) -> None:
    found = import_violations("shop.checkout.service", "checkout", source, {
        **SYNTHETIC, "checkout": Owner("checkout", None, (), frozenset(), ())})
    assert [v.split(" uses ")[1].split(",")[0] for v in found] == expected


@pytest.mark.parametrize(("module", "source", "expected"), [
    ("shop.fulfillment.repository", 'KEY = f"ORDER#{order_id}"\n', ["'ORDER#'"]),
    ("shop.cart.basket", 'key = {"pk": {"S": "SKU#" + sku}, "sk": {"S": f"WH#{wid}"}}\n', ["'SKU#'", "'WH#'"]),
    ("shop.procurement.service", 'pk = "WAREHOUSE"\n', ["'WAREHOUSE'"]),
    ("shop.fulfillment.repository", '"""Items next to the order (pk ORDER#<order>)."""\n', []),  # a docstring
    ("shop.support.service", 'msg = "the WAREHOUSE is closed"\nx = "REORDER#1"\n', []),  # not a key value
    ("shop.orders.repository", 'pk = f"ORDER#{order_id}"\n', []),  # the owner
    ("shop.catalog.listing", 'pk = f"CAT#{category}"\n', []),  # one of the owner's KEY_MODULES
    ("shop.catalog.service", 'pk = f"CAT#{category}"\n', ["'CAT#'"]),  # the owner's context, not its repository
])
def test_a_key_prefix_written_outside_its_owner_is_caught(module: str, source: str, expected: list[str]) -> None:
    found = prefix_violations(module, source, SYNTHETIC)
    assert [v.split(" writes ")[1].split(",")[0] for v in found] == expected
