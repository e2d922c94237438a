"""The Jinja2 environments that render the shop's e-mails and the daily report from template files.

One environment per template folder (``<module dir>/templates``), built on first use and cached by its module
for the life of the Lambda execution environment: importing a module that renders costs nothing, and jinja2
itself is imported only then (mailer, and with it every function that sends mail, imports the templates
module). Templates are found on the file system next to the module, which is where both the SharedLayer build
(/opt/python/shop/...) and the local runtime (layers/shop on sys.path) put them.

- ``*.html.j2`` are autoescaped (select_autoescape); ``*.txt.j2`` are not: plain text shows what was written.
  HTML escaping is :func:`html.escape` (``&quot;``, ``&#x27;``), the escaping these e-mails always had, applied
  through ``finalize`` so every ``{{ value }}`` of an HTML template goes through it; markup a macro produced
  (``Markup``) is left as it is. Escaping is decided by the name of the template a macro is *defined* in, so
  a file of HTML macros must end in ``.html.j2`` too (``_blocks.html.j2``), or its macros print raw text.
- StrictUndefined: a misspelt or missing variable is an error in tests, not a blank in a customer's mail.
- Filter ``money``: a Money (or its dict form ``{"amount": int, "currency": "EUR"}``) as text through
  :func:`shop.money.format_money`, the one formatter; ``default`` for absent or malformed values.
- trim_blocks/lstrip_blocks: a ``{% tag %}`` line leaves no blank line behind, so text templates read like the
  text they produce; keep_trailing_newline: the output ends the way the template does.
- the ``do`` extension: a template collects table rows with ``{% do rows.append(...) %}``.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shop.money import Money, format_money

if TYPE_CHECKING:
    from jinja2 import Environment
    from jinja2.nodes import EvalContext


def money_text(value: Any) -> str | None:
    """A Money or its dict form as text, or None if absent or malformed (a float amount, no currency...)."""
    if isinstance(value, Money):
        return format_money(value.amount, value.currency)
    if not isinstance(value, Mapping):
        return None
    amount, currency = value.get("amount"), value.get("currency")
    if isinstance(amount, bool) or not isinstance(amount, int) or not isinstance(currency, str) or not currency:
        return None
    return format_money(amount, currency)


def _money_filter(value: Any, default: str = "") -> str:
    text = money_text(value)
    return default if text is None else text


def new_environment(module_file: str, filters: Mapping[str, Callable[..., Any]] | None = None) -> Environment:
    """An environment for the ``templates`` folder beside ``module_file`` (pass ``__file__``), with the ``money``
    filter and ``filters``. Callers cache it (``functools.cache``): built on first render, once per process."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_eval_context, select_autoescape
    from markupsafe import Markup

    @pass_eval_context
    def finalize(eval_ctx: EvalContext, value: Any) -> Any:
        if eval_ctx.autoescape and not hasattr(value, "__html__"):
            return Markup(html.escape(str(value)))  # noqa: S704 - escaped on this very line
        return value

    env = Environment(
        loader=FileSystemLoader(Path(module_file).resolve().parent / "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True, default=False),
        undefined=StrictUndefined,
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
        extensions=["jinja2.ext.do"],
    )
    env.filters["money"] = _money_filter
    env.filters.update(filters or {})
    return env
