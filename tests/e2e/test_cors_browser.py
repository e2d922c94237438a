"""CORS as a real browser enforces it: headless Chromium (Debian's, driven by Playwright) loads a storefront page
from an allowed origin and from one that is not allowed, and calls the local API with fetch() the way a browser
storefront on another origin does: preflight for a JSON PUT with a bearer token, a handler's 2xx and 4xx, the
authorizer's 401. The page itself is served by Playwright (page.route), so no port is needed for it; the API
calls go over real HTTP to the stack's gateway, whose CORS is the HTTP API's CorsConfiguration (docs/local-gateway.md):
the gateway answers the preflight and adds the allowed origin to every function answer, 2xx or 4xx; its own answers
(the authorizer's 401) carry no CORS header, so the page cannot read them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_product

# one worker runs the whole module (--dist loadgroup): its fixture (browser) is built once;
# the invariant audit runs around each test
pytestmark = [pytest.mark.e2e, pytest.mark.audited, pytest.mark.xdist_group("cors_browser")]

PAGE = "<!doctype html><title>storefront</title><p id=ready>storefront</p>"
# fetch() in the page: what a storefront script can read of the answer, or the error when CORS blocks it
CALL = """async ([url, method, token, body]) => {
  const headers = {};
  if (token) headers["Authorization"] = "Bearer " + token;
  if (body !== null) headers["Content-Type"] = "application/json";
  try {
    const r = await fetch(url, {method, headers, body: body === null ? undefined : JSON.stringify(body)});
    return {status: r.status, body: await r.text()};
  } catch (e) {
    return {blocked: String(e)};
  }
}"""


def _page_at(browser: Any, origin: str) -> Any:
    """A page on ``origin``. The browser's Local Network Access check (a page asking for a loopback address
    prompts the user) is granted, as a user would: on AWS the API is public and that check never applies, so
    what remains is CORS alone."""
    page = browser.new_context(permissions=["local-network-access"]).new_page()
    page.console = []  # type: ignore[attr-defined]
    page.on("console", lambda message: page.console.append(message.text))
    page.route(f"{origin}/", lambda route: route.fulfill(status=200, content_type="text/html", body=PAGE))
    page.goto(f"{origin}/")
    return page


def _allowed_origin(stack: Any) -> str:
    return str(stack.deployment.parameters["AllowedOrigins"].split(",")[0])


def _blocked_by_cors(page: Any, result: dict[str, Any]) -> bool:
    """fetch() failed and the browser says why: the answer named no allowed origin."""
    return "blocked" in result and any("has been blocked by CORS policy" in m and "Access-Control-Allow-Origin" in m
                                       for m in page.console)


def test_a_storefront_on_an_allowed_origin_reads_answers_and_errors(stack, admin, browser):
    product = make_product(stack, admin.id_token, stock={"a": 5})
    shopper = stack.user()
    page = _page_at(browser, _allowed_origin(stack))
    try:
        listed = page.evaluate(CALL, [f"{stack.base_url}/products/{product.product_id}", "GET", None, None])
        assert listed.get("status") == 200, listed
        # a JSON PUT with a bearer token: the browser sends a preflight first, then the request
        added = page.evaluate(CALL, [f"{stack.base_url}/cart/items/{product.skus[0]}", "PUT", shopper.id_token,
                                     {"quantity": 2}])
        assert added.get("status") == 200, added
        # a handler's 4xx is readable too (the storefront can show the field that was wrong)
        wrong = page.evaluate(CALL, [f"{stack.base_url}/cart/items/{product.skus[0]}", "PUT", shopper.id_token,
                                     {"quantity": -1}])
        assert wrong.get("status") == 422 and "quantity" in wrong["body"], wrong
        # the authorizer's 401 is the HTTP API's own answer, without CORS header: the page sees a failed fetch
        # (a storefront drops an expired token before sending it, as the staff console does)
        assert not any("CORS" in m for m in page.console), page.console
        anonymous = page.evaluate(CALL, [f"{stack.base_url}/cart", "GET", None, None])
        assert _blocked_by_cors(page, anonymous), (anonymous, page.console)
    finally:
        page.context.close()


def test_a_page_on_an_origin_that_is_not_allowed_cannot_read_the_api(stack, browser):
    page = _page_at(browser, "http://127.0.0.1:5999")  # local like the API, but not in AllowedOrigins
    try:
        listed = page.evaluate(CALL, [f"{stack.base_url}/products", "GET", None, None])
        # blocked by CORS (the answer names no allowed origin), not by anything else
        assert _blocked_by_cors(page, listed), (listed, page.console)
        # a JSON PUT with a token never leaves the browser: the preflight names no allowed origin
        shopper = stack.user()
        page.console.clear()
        put = page.evaluate(CALL, [f"{stack.base_url}/cart/items/ANY-SKU", "PUT", shopper.id_token, {"quantity": 1}])
        assert _blocked_by_cors(page, put), (put, page.console)
    finally:
        page.context.close()
