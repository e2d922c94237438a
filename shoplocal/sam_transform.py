"""samtranslator's offline transform of the prepared template (shoplocal.template keeps its output on disk and
imports this module only when that can't be used: samtranslator's imports cost ~0.8 s of every stack start)."""

from __future__ import annotations

import copy
from typing import Any

import boto3
from samtranslator.open_api import open_api as _open_api
from samtranslator.parser.parser import Parser
from samtranslator.swagger import swagger as _swagger
from samtranslator.translator.translator import Translator
from samtranslator.utils.py27hash_fix import (
    Py27Dict,
    Py27Keys,
    Py27LongInt,
    Py27UniStr,
    to_py27_compatible_template,
    undo_mark_unicode_str_in_template,
)


class _ManagedPolicies(dict[str, str]):
    """samtranslator asks IAM for AWS managed policy ARNs; offline they are derived from the name."""

    def __missing__(self, name: str) -> str:
        return f"arn:aws:iam::aws:policy/{name}"

    def get(self, name: str, default: Any = None) -> str:
        return self[name]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str)



def _copy_doc(doc: Any, memo: dict[int, Any] | None = None) -> Any:
    """``copy.deepcopy`` of a Swagger/OpenAPI document as samtranslator builds it, ~4x faster, same result.

    samtranslator's editors deep-copy the whole API document twice per API event (twice 90 times for this
    template): ``copy.deepcopy``'s generic dispatch made that ~60% of a transform, ~3 s CPU at every stack start.
    Same semantics for what these documents hold: dicts, lists, atoms and samtranslator's Py27 types (a
    ``Py27Dict`` copies its Python 2.7 key order through ``Py27Keys.__deepcopy__``, which re-inserts the keys as
    py2's deepcopy did); shared objects stay shared; anything else goes to ``copy.deepcopy`` itself."""
    if memo is None:
        memo = {}
    kind = type(doc)
    if kind in _ATOMS:
        return doc
    found = memo.get(id(doc))
    if found is not None:
        return found
    if kind is list:
        out_list: list[Any] = []
        memo[id(doc)] = out_list
        out_list.extend(_copy_doc(v, memo) for v in doc)
        return out_list
    if kind is dict:
        out_dict: dict[Any, Any] = {}
        memo[id(doc)] = out_dict
        for k, v in doc.items():
            out_dict[_copy_doc(k, memo)] = _copy_doc(v, memo)
        return out_dict
    if kind is Py27Dict:  # as Py27Dict.__deepcopy__: attributes (its keylist) first, then the items
        result: Any = dict.__new__(Py27Dict)  # Py27Dict.__new__ is dict's
        for name, value in doc.__dict__.items():
            setattr(result, name, _copy_keys(value) if type(value) is Py27Keys else _copy_doc(value, memo))
        for k, v in dict.items(doc):
            dict.__setitem__(result, _copy_doc(k, memo), _copy_doc(v, memo))
        memo[id(doc)] = result
        return result
    return copy.deepcopy(doc, memo)  # (it keeps the originals alive under id(memo) in our memo)


def _copy_keys(keys: Py27Keys) -> Py27Keys:
    """``Py27Keys.__deepcopy__`` (a fresh table, the keys re-added in py2 order), with the table's layout remembered:
    it depends only on the keys and their order, and the same few hundred key lists are copied ~80,000 times."""
    order = keys.keys()
    signature = tuple((type(k), k) for k in order)
    layout = _KEY_LAYOUTS.get(signature)
    if layout is None:
        built = copy.deepcopy(keys)
        slot_of = {k: slot for slot, k in built.keyorder.items()}
        layout = _KEY_LAYOUTS[signature] = ([slot_of[k] for k in order], built.size, built.fill, built.mask)
    slots, size, fill, mask = layout
    copied = Py27Keys()
    copied.keyorder = dict(zip(slots, order, strict=True))
    copied.size, copied.fill, copied.mask = size, fill, mask
    return copied


_KEY_LAYOUTS: dict[tuple[tuple[type, Any], ...], tuple[list[int], int, int, int]] = {}
_ATOMS = frozenset({str, int, float, bool, type(None), Py27UniStr, Py27LongInt})
_swagger._deepcopy = _copy_doc  # samtranslator's hook: cw_timer(copy.deepcopy)
_open_api._deepcopy = _copy_doc


def transform(template: dict[str, Any], parameters: dict[str, str], region: str) -> dict[str, Any]:
    to_py27_compatible_template(template, parameters)
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    policies = _ManagedPolicies()
    out = translator.translate(template, parameter_values=parameters, get_managed_policy_map=lambda: policies)
    return dict(undo_mark_unicode_str_in_template(out))
