"""Per-request work of the in-process path that is the same for every request, done once (speed only, same
answers; applied by shoplocal.patches.apply, documented in docs/local-runtime.md, compared with the originals by
tests/shoplocal/test_runtime_fastpath.py).

Every boto3 call of a handler or a test goes through botocore's client and moto's request handling in this
process; the test suite sends tens of thousands of them. Two steps of each rebuilt the same thing every time:

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

Each checks that the function it replaces is the one it was written against and leaves it alone (logging why)
otherwise, as patches 5, 7, 8 and 10 do.
"""

from __future__ import annotations

import re
import string
import threading
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


def apply() -> None:
    patch_method_names()
    patch_user_agent()
    patch_enrich_response()
