"""Names a module gives from other modules, each imported when first asked for (a module ``__getattr__``,
PEP 562). A context splits its models by side or by route group, so that a function's cold start defines only
the models it uses (issue 17), and its ``contracts`` module still answers ``from shop.<context>.contracts
import X`` and ``contracts.X`` in route annotations for every name."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from importlib import import_module
from typing import Any


def attributes_from(owner: str, where: Mapping[str, Iterable[str]]) -> Callable[[str], Any]:
    """The ``__getattr__`` of module ``owner``: each name listed in ``where`` (module path -> names) from that
    module, imported on first access; any other name raises the AttributeError a module raises."""
    module_of = {name: module for module, names in where.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {owner!r} has no attribute {name!r}")
        return getattr(import_module(module), name)

    return __getattr__
