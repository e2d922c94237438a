"""A shopper over real HTTP: register, log in, browse categories, search products, open details."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.audited]

TIMEOUT = 10


def test_register_login_browse(stack: Any) -> None:
    base = stack.base_url
    admin = stack.user(groups=("admin",))
    auth = {"Authorization": f"Bearer {admin.id_token}"}
    tag = uuid.uuid4().hex[:8]
    cat = f"e2e-{tag}"
    r = requests.put(f"{base}/admin/categories/{cat}", json={"name": f"E2E {tag}", "sort_order": 5}, headers=auth,
                     timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    wh = f"wh-{tag}"
    assert requests.put(f"{base}/admin/warehouses/{wh}", json={"name": "E2E", "country": "DE", "zone": "domestic"},
                        headers=auth, timeout=TIMEOUT).status_code == 200
    for i, (name, price) in enumerate([(f"Walnut {tag} board", 4500), (f"Oak {tag} board", 2500)]):
        pid = f"{cat}-p{i}"
        code = f"E2E-{tag.upper()}-{i}"
        r = requests.post(f"{base}/admin/products", headers=auth, timeout=TIMEOUT, json={
            "product_id": pid, "name": name, "category": cat, "description": "Cutting board",
            "skus": [{"sku": code, "name": "Large", "price": {"amount": price, "currency": "EUR"},
                      "weight_grams": 1200}]})
        assert r.status_code == 201, r.text
        assert requests.put(f"{base}/admin/inventory/{code}/{wh}", json={"on_hand": 3 + i}, headers=auth,
                            timeout=TIMEOUT).status_code == 200

    email = f"e2e-{tag}@example.com"
    r = requests.post(f"{base}/auth/register", json={"email": email, "password": "E2e-Passw0rd"}, timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    assert r.json()["confirmed"] is True
    r = requests.post(f"{base}/auth/login", json={"email": email, "password": "E2e-Passw0rd"}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert tokens["token_type"] == "Bearer"
    shopper = {"Authorization": f"Bearer {tokens['id_token']}"}
    # the shopper's token is valid but not an admin's
    assert requests.get(f"{base}/admin/warehouses", headers=shopper, timeout=TIMEOUT).status_code == 403

    r = requests.get(f"{base}/categories", timeout=TIMEOUT)
    assert r.status_code == 200
    assert {"category_id": cat, "name": f"E2E {tag}", "description": "", "sort_order": 5} in r.json()["items"]

    r = requests.get(f"{base}/products", params={"category": cat, "sort": "price_asc"}, timeout=TIMEOUT)
    assert r.status_code == 200
    listed = r.json()
    assert [p["product_id"] for p in listed["items"]] == [f"{cat}-p1", f"{cat}-p0"]
    assert listed["items"][0]["price_from"] == {"amount": 2500, "currency": "EUR"}
    assert listed["next_cursor"] is None

    r = requests.get(f"{base}/products", params={"q": f"walnut {tag}"}, timeout=TIMEOUT)
    assert [p["product_id"] for p in r.json()["items"]] == [f"{cat}-p0"]

    r = requests.get(f"{base}/products/{cat}-p1", headers=shopper, timeout=TIMEOUT)
    assert r.status_code == 200
    details = r.json()
    assert details["name"] == f"Oak {tag} board"
    assert details["skus"] == [{"sku": f"E2E-{tag.upper()}-1", "name": "Large", "options": {},
                                "price": {"amount": 2500, "currency": "EUR"}, "weight_grams": 1200,
                                "active": True, "available": 4, "in_stock": True}]

    r = requests.get(f"{base}/products", params={"limit": "500"}, timeout=TIMEOUT)
    assert r.status_code == 422 and "query.limit" in r.text
    assert requests.get(f"{base}/products/missing-{tag}", timeout=TIMEOUT).status_code == 404
