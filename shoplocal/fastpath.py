"""Per-request work of the in-process path that is the same for every request, done once (speed only, same
answers; applied by shoplocal.patches.apply, documented in docs/local-runtime.md, compared with the originals by
tests/shoplocal/test_runtime_fastpath.py).

Every boto3 call of a handler or a test goes through botocore's client and moto's request handling in this
process; the test suite sends tens of thousands of them. Steps of each rebuilt the same thing every time:

12. moto lists the methods of the response class (``inspect.getmembers``, about a hundred attributes) on every
    request, to see whether the action is one of them: about 6% of a DynamoDB call. The list is kept per class
    and computed again if the class (or a base) gains or loses an attribute.
13. botocore builds the User-Agent header again for every request, sanitizing each of its components character
    by character: about 7% of a call. A component's text is kept per (prefix, name, value, size limit), the
    only inputs of UserAgentComponent.to_string (the header still changes with the features of each request).
14. moto finishes every response with a request id of 52 ``random.choice`` calls (~55 us) and a regex over the
    whole body to put it into an XML ``<RequestId>`` (~0.3 ms for a 12 kB DynamoDB answer, which has none). The
    id is drawn with one ``random.choices`` (same alphabet, length and seedable generator, ~12 us) and the regex
    runs only on a text body that holds ``<RequestId>`` (any other body: it found nothing, or raised and was
    ignored, so it is unchanged either way).
15. moto sizes a DynamoDB item (BatchGetItem twice for every item it returns, for its 16 MB limit) through a
    method call per type test and a new DynamoType for every map value it walks, at every level below: the cart
    tests reading 50-line carts (100 items a read) spent a sixth of their CPU there, most of it as system time.
    The size is counted over the tree as it is (same numbers, same rules per type, in moto's order of tests);
    a tree holding anything but DynamoType values in its lists and maps (which moto's copy would convert
    first) is still sized by moto's own code.
16. moto's generic response serializer (every service but DynamoDB, which patch 5 covers) looks each member of
    each structure up under the names its six alias providers offer, building the six providers and asking
    botocore's xform_name again for every member of every value: most of the time of a Step Functions
    GetExecutionHistory, which the workflow tests poll. For a value that is a plain dict the names depend only
    on the member's name and its shape (and that shape's parent structure): they are kept per (member, shape),
    in moto's order. Any other value (a model object may carry its own aliases or class-name prefix) still asks
    the providers.
17. moto's Cognito finds a user of a pool signing in by e-mail by building a dict of the attributes of every
    user of the pool in turn, several times per sign-up and sign-in: the tests' pool grows to thousands of users
    per worker, and each lookup cost milliseconds (quadratic over a run: ~10-20 s of a worker's CPU). The pool's
    users (moto's OrderedDict: same order, same contents) keep an index value -> first user holding it (moto's
    flatten_attrs, last value of a name wins), brought up to date before each lookup: a user added under a new
    name is indexed on its own (it comes last); any other change of the dict, any assignment of an indexed
    user's attributes (moto changes them only by assignment) or other UsernameAttributes rebuild it. Where moto's
    scan would raise or compare something other than strings (a malformed attribute, a value not a str), the
    scan still answers: the same user found, or none, or the same error.
18. moto parses an UpdateExpression twice per UpdateItem (the handler's check of the names and values it uses,
    then the backend), tokenizing it character by character; the shop sends the same few dozen expressions all
    day. The tree of an expression that parsed is kept per expression text and handed out again: moto only reads
    it (find_clauses) and its validator works on a deep copy. An expression that fails to parse is parsed (and
    fails) every time.
19. moto's Flask apps run in debug mode, where Flask gives every request's (empty) ``files`` a class of its own,
    built at each request, whose missing keys raise a DebugFilesKeyError when the key was sent as a form field:
    ~45 us a request, plus a type object and a reference cycle left for the garbage collector. One such class
    per original class is kept; each request's ``files`` keeps its request, and a missing key raises exactly as
    before.

Each checks that the function it replaces is the one it was written against and leaves it alone (logging why)
otherwise, as patches 5, 7, 8 and 10 do.
"""

from __future__ import annotations

import re
import string
import threading
from collections import OrderedDict
from typing import Any

from shoplocal.patches import MOTO_ORIGINALS, _same_source

CACHE_LIMIT = 4096  # distinct User-Agent components kept (a run sees a few dozen)


def _class_shape(cls: type) -> tuple[int, ...]:
    """Changes when the class or a base gains or loses an attribute (what method names can depend on)."""
    return tuple(len(vars(c)) for c in cls.__mro__)


def patch_method_names() -> None:
    from moto.core import responses, utils

    original = utils.method_names_from_class
    if responses.method_names_from_class is not original or \
            not _same_source(original, "9dbac89d082b655fee902c450e69de9dbadf9699ad06411298494984b55138c3"):
        return
    MOTO_ORIGINALS["method_names_from_class"] = original
    known: dict[type, tuple[tuple[int, ...], list[str]]] = {}
    lock = threading.Lock()

    def method_names_from_class(clazz: Any) -> list[str]:
        """moto's list of the class's function attributes, computed once per class shape."""
        shape = _class_shape(clazz)
        found = known.get(clazz)
        if found is None or found[0] != shape:
            names = original(clazz)
            with lock:
                known[clazz] = (shape, names)
            return list(names)
        return list(found[1])

    responses.method_names_from_class = method_names_from_class


def patch_user_agent() -> None:
    from botocore import useragent

    component = useragent.UserAgentComponent
    original = component.to_string
    if not _same_source(original, "e3bc0a84abf88f49af46b3b99c0bdc45505d77b0f3f00e3323ce8bec6bc937a5"):
        return
    MOTO_ORIGINALS["UserAgentComponent.to_string"] = original
    texts: dict[tuple[Any, ...], str] = {}

    def to_string(self: Any) -> str:
        """botocore's text of the component, kept per input."""
        size = self.size_config
        key = (self.prefix, self.name, self.value,
               None if size is None else (size.max_size_in_bytes, size.delimiter))
        try:
            text = texts.get(key)
        except TypeError:  # an unhashable value: not kept
            return str(original(self))
        if text is None:
            text = str(original(self))
            if len(texts) < CACHE_LIMIT:
                texts[key] = text
        return text

    component.to_string = to_string  # type: ignore[method-assign]


REQUEST_ID_ALPHABET = string.ascii_letters + string.digits  # moto's get_random_string(length=52)
REQUEST_ID_LENGTH = 52


def patch_enrich_response() -> None:
    from moto.core.responses import BaseResponse
    from moto.moto_api._internal import mock_random

    original = BaseResponse._enrich_response
    if not _same_source(original, "86cd4a4051dd20e836fcc671792a66d3715be4c4f963705b2ae5f400bf0259d7"):
        return
    MOTO_ORIGINALS["BaseResponse._enrich_response"] = original

    def _enrich_response(headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
        """moto's: the status as text, a new x-amzn-requestid, the same id in an XML body's <RequestId>."""
        if "status" in headers:
            headers["status"] = str(headers["status"])
        request_id = "".join(mock_random.choices(REQUEST_ID_ALPHABET, k=REQUEST_ID_LENGTH))
        if isinstance(headers, dict):
            headers["x-amzn-requestid"] = request_id
        if isinstance(body, str) and "<RequestId>" not in body:
            return headers, body
        try:
            body = re.sub(r"(?<=<RequestId>).*(?=<\/RequestId>)", request_id, body)
        except Exception:  # noqa: S110 - moto's: a body the regex cannot read is left as it is
            pass
        return headers, body

    BaseResponse._enrich_response = staticmethod(_enrich_response)


class _NotPlain(Exception):
    """A value moto's size would copy into another shape first: sized by moto's own code."""


_SET_TYPES = frozenset({"SS", "NS", "BS"})


def patch_dynamo_size() -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.utilities import bytesize

    original = DynamoType.size
    if not _same_source(original, "f7c111fca25b4c5ecea8b4d570d210aef1dcf5b9c52fa3250a27f1bfdd85966b"):
        return
    MOTO_ORIGINALS["DynamoType.size"] = original

    def counted(node: Any) -> int:
        """moto's size of ``node`` (a DynamoType whose lists and maps hold only DynamoType values)."""
        kind, value = node.type, node.value
        if kind == "N":
            return len(str(value))
        if kind in _SET_TYPES:
            if kind == "NS":
                return sum(len(str(v)) for v in value)
            return sum(1 if isinstance(v, bool) else bytesize(v) for v in value)
        if kind == "L":
            total = 0
            for v in value:
                if type(v) is not DynamoType:
                    raise _NotPlain
                total += counted(v)
            return total
        if kind == "M":
            total = 0
            for k, v in value.items():
                if type(v) is not DynamoType:
                    raise _NotPlain
                total += bytesize(k) + counted(v)
            return total
        return 1 if isinstance(value, bool) else bytesize(value)

    def size(self: Any) -> int:
        """moto's DynamoType.size without copying the maps it walks."""
        if type(self) is DynamoType:
            try:
                return counted(self)
            except _NotPlain:
                pass
        return int(original(self))

    DynamoType.size = size


def patch_attribute_picker() -> None:
    from moto.core import serialize

    pickers = ((serialize.AttributePicker, "cb284052c5ea7fe1b0534936022c95397d8ed8fb7630d51a445614127bc25c17"),
               (serialize.XFormedAttributePicker, "f0d20f55f37fd8a1f74e7fae117327a99c8e14b0f9459a0059d3c8d3c6e50a41"))
    if not all(_same_source(cls.get_possible_keys, digest) for cls, digest in pickers):
        return
    defaults = tuple(serialize.DEFAULT_ALIAS_PROVIDERS)
    kept: dict[tuple[Any, str, int], tuple[Any, Any, tuple[str, ...]]] = {}

    def keeping(original: Any) -> Any:
        def get_possible_keys(self: Any, context: Any) -> Any:
            """moto's names for the member, in its order; kept per (member, shape) for a plain dict value."""
            if type(context.obj) is not dict or tuple(self.alias_providers) != defaults:
                return original(self, context)
            shape = context.shape
            parent = getattr(shape, "parent", None)
            slot = (original, context.key, id(shape))
            found = kept.get(slot)
            if found is not None and found[0] is shape and found[1] is parent:
                return found[2]
            try:
                names = tuple(original(self, context))
            except Exception:  # moto asks its providers lazily: one that fails may never be reached
                return original(self, context)
            if len(kept) < CACHE_LIMIT * 4:
                kept[slot] = (shape, parent, names)  # (the shape and parent kept alive: ids stay theirs)
            return names

        return get_possible_keys

    for cls, _digest in pickers:
        MOTO_ORIGINALS[f"{cls.__name__}.get_possible_keys"] = cls.get_possible_keys
        cls.get_possible_keys = keeping(cls.get_possible_keys)


class _PoolUsers(OrderedDict[Any, Any]):
    """A pool's users (moto's OrderedDict, same order and contents) that tell the pool's e-mail index what
    changed: a user added under a new name is indexed on its own (it comes last, so it holds a value only if no
    earlier user does); anything else (a name removed or given another user, a reordering) rebuilds it."""

    def __init__(self, *args: Any) -> None:
        self.added: list[Any] = []
        self.dirty = True  # no index yet
        self.index: dict[Any, Any] | None = None
        self.index_types: tuple[Any, ...] = ()
        self.members: dict[int, Any] = {}  # id -> user of the users indexed (kept alive: ids stay theirs)
        super().__init__(*args)

    def __setitem__(self, key: Any, value: Any) -> None:
        new = key not in self
        super().__setitem__(key, value)
        if new:
            self.added.append(value)
        else:
            self.dirty = True

    def __delitem__(self, key: Any) -> None:
        self.dirty = True
        super().__delitem__(key)

    def _changing(name: str) -> Any:  # type: ignore[misc]
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            self.dirty = True
            return getattr(OrderedDict, name)(self, *args, **kwargs)

        method.__name__ = name
        return method

    pop = _changing("pop")
    popitem = _changing("popitem")
    clear = _changing("clear")
    setdefault = _changing("setdefault")
    update = _changing("update")
    move_to_end = _changing("move_to_end")
    __ior__ = _changing("__ior__")
    del _changing


_POOL_OF_USER: dict[int, _PoolUsers] = {}  # id(user) -> the indexed users it is one of
_INDEX_LOCK = threading.Lock()
_UNUSABLE = object()


def _index_user(index: dict[Any, Any], user: Any, types: tuple[Any, ...], flatten_attrs: Any) -> bool:
    """Add the user's values of the UsernameAttributes (moto's flatten_attrs: the last value of a name) to the
    index unless an earlier user holds them. False when moto's scan would not simply compare strings here (an
    attribute without Name or Value raises in its scan; a value that is not a str compares its own way)."""
    flat = flatten_attrs(user.attributes)
    for name in types:
        value = flat.get(name)
        if value is None:
            continue
        if type(value) is not str:
            return False
        index.setdefault(value, user)
    return True


def _indexed_user(users: _PoolUsers, types: tuple[Any, ...], username: Any, flatten_attrs: Any) -> Any:
    """The first user (pool order) whose UsernameAttributes hold ``username``, None if none does, or _UNUSABLE
    when this pool's users can't be indexed (then moto's scan answers, raising as it raises)."""
    if type(username) is not str:
        return _UNUSABLE
    with _INDEX_LOCK:
        if users.dirty or users.index is None or users.index_types != types:
            users.dirty, users.added = False, []
            for uid in users.members:
                _POOL_OF_USER.pop(uid, None)
            users.members, users.index, users.index_types = {}, None, types
            index: dict[Any, Any] = {}
            try:
                for user in list(users.values()):
                    users.members[id(user)] = user
                    _POOL_OF_USER[id(user)] = users
                    if not _index_user(index, user, types, flatten_attrs):
                        users.dirty = True  # try again after the next change
                        return _UNUSABLE
            except Exception:
                users.dirty = True
                return _UNUSABLE
            users.index = index
        elif users.added:
            added, users.added = users.added, []
            for user in added:
                users.members[id(user)] = user
                _POOL_OF_USER[id(user)] = users
                try:
                    ok = _index_user(users.index, user, types, flatten_attrs)
                except Exception:
                    ok = False
                if not ok:
                    users.dirty, users.index = True, None
                    return _UNUSABLE
        return users.index.get(username)


def patch_cognito_user_lookup() -> None:
    from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPool, flatten_attrs

    original = CognitoIdpUserPool._get_user
    if not _same_source(original, "4047a30d5a8b9845fbadbb17796acc52a097b91d38c2be0bd7d9b9d575a071d8") or \
            "__setattr__" in vars(CognitoIdpUser):
        return
    MOTO_ORIGINALS["CognitoIdpUserPool._get_user"] = original

    def __setattr__(self: Any, name: str, value: Any) -> None:
        """Every change of a user's attributes is an assignment (moto's update_attributes, delete_attributes and
        constructor): one of an indexed user's makes its pool's index be rebuilt."""
        object.__setattr__(self, name, value)
        if name == "attributes":
            users = _POOL_OF_USER.get(id(self))
            if users is not None and users.members.get(id(self)) is self:
                users.dirty = True

    def _get_user(self: Any, username: str) -> Any:
        """moto's: the first user (in the pool's order) whose UsernameAttributes hold ``username``, else the user
        of that name; found in an index of the pool's values, or by moto's scan when it can't be indexed."""
        if self.extended_config.get("UsernameAttributes"):
            attribute_types = self.extended_config["UsernameAttributes"]
            users = self.users
            if type(users) is not _PoolUsers:
                users = self.users = _PoolUsers(users)
            found = _indexed_user(users, tuple(attribute_types), username, flatten_attrs)
            if found is not _UNUSABLE:
                return found if found is not None else self.users.get(username)
            for user in self.users.values():
                for attribute in user.attributes:
                    name = attribute["Name"]  # (read first, as flatten_attrs reads it)
                    if attribute["Value"] == username and name in attribute_types and \
                            flatten_attrs(user.attributes).get(name) == username:
                        return user
        return self.users.get(username)

    CognitoIdpUser.__setattr__ = __setattr__
    CognitoIdpUserPool._get_user = _get_user


def patch_update_expression_parse() -> None:
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    original = UpdateExpressionParser.make
    if not _same_source(original, "2c00ed96d6e191f243b449166e75bfb38f307b2e19405bc0981847061e0dbee3"):
        return
    MOTO_ORIGINALS["UpdateExpressionParser.make"] = original
    trees: dict[str, Any] = {}

    def make(cls: Any, expression_str: str) -> Any:
        """moto's parse tree of the expression (kept per text: callers read it, validators copy it first)."""
        if cls is not UpdateExpressionParser or type(expression_str) is not str:
            return original.__func__(cls, expression_str)
        tree = trees.get(expression_str)
        if tree is None:
            tree = original(expression_str)  # (raises for an invalid expression: nothing kept)
            if len(trees) < CACHE_LIMIT:
                trees[expression_str] = tree
        return tree

    UpdateExpressionParser.make = classmethod(make)


FILES_REQUEST = "_shoplocal_debug_request"  # where a request's ``files`` keeps its request (patch 19)


def patch_flask_debug_files() -> None:
    from flask import debughelpers

    original = debughelpers.attach_enctype_error_multidict
    if not _same_source(original, "e60192255986464ba2bc70e4dd829696a1a013456457ba433a461e3a13ba2a3b"):
        return
    MOTO_ORIGINALS["attach_enctype_error_multidict"] = original
    debug_files_key_error = debughelpers.DebugFilesKeyError
    classes: dict[type, type] = {}
    lock = threading.Lock()

    def debug_class(oldcls: type) -> type:
        found = classes.get(oldcls)
        if found is not None:
            return found

        class newcls(oldcls):
            def __getitem__(self, key: str) -> Any:
                try:
                    return super().__getitem__(key)
                except KeyError as e:
                    request = self.__dict__.get(FILES_REQUEST)  # (a copy made of ``files`` has none)
                    if request is None or key not in request.form:
                        raise

                    raise debug_files_key_error(request, key).with_traceback(e.__traceback__) from None

        newcls.__name__ = oldcls.__name__
        newcls.__module__ = oldcls.__module__
        newcls.__qualname__ = "attach_enctype_error_multidict.<locals>.newcls"
        with lock:
            return classes.setdefault(oldcls, newcls)

    def attach_enctype_error_multidict(request: Any) -> None:
        """Flask's, with the class built once per original class (the request kept on ``files`` itself)."""
        files = request.files
        if not hasattr(files, "__dict__"):
            original(request)
            return
        files.__dict__[FILES_REQUEST] = request
        files.__class__ = debug_class(files.__class__)

    debughelpers.attach_enctype_error_multidict = attach_enctype_error_multidict


def apply() -> None:
    patch_method_names()
    patch_user_agent()
    patch_enrich_response()
    patch_dynamo_size()
    patch_attribute_picker()
    patch_cognito_user_lookup()
    patch_update_expression_parse()
    patch_flask_debug_files()
