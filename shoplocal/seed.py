"""Demo data for `make run`, seeded through the admin HTTP API only (so it exercises the real routes).

Idempotent: warehouses, categories and stock are PUTs; a 409 on product creation means it is already there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

Request = Callable[..., Any]

WAREHOUSES: list[dict[str, Any]] = [
    {"warehouse_id": "berlin", "name": "Berlin Fulfillment Centre", "country": "DE", "zone": "domestic",
     "priority": 10},
    {"warehouse_id": "paris", "name": "Paris Nord Depot", "country": "FR", "zone": "eu", "priority": 20},
    {"warehouse_id": "newark", "name": "Newark East Coast Hub", "country": "US", "zone": "world", "priority": 30},
]

CATEGORIES: list[dict[str, Any]] = [
    {"category_id": "coffee", "name": "Coffee", "description": "Single-origin beans and espresso blends",
     "sort_order": 10},
    {"category_id": "brewing", "name": "Brewing Gear", "description": "Grinders, kettles and pour-over kits",
     "sort_order": 20},
    {"category_id": "cups", "name": "Cups & Mugs", "description": "Ceramic, glass and travel mugs", "sort_order": 30},
    {"category_id": "tea", "name": "Tea", "description": "Loose-leaf teas from small gardens", "sort_order": 40},
    {"category_id": "accessories", "name": "Accessories", "description": "Scales, filters and cleaning",
     "sort_order": 50},
]


def _sku(code: str, name: str, amount: int, grams: int, **options: str) -> dict[str, Any]:
    return {"sku": code, "name": name, "options": options, "price": {"amount": amount, "currency": "EUR"},
            "weight_grams": grams}


PRODUCTS: list[dict[str, Any]] = [
    {"product_id": "ethiopia-yirgacheffe", "name": "Ethiopia Yirgacheffe", "category": "coffee",
     "brand": "Nordlicht Roasters", "description": "Washed heirloom coffee with jasmine and bergamot notes.",
     "attributes": {"roast": "light", "origin": "Ethiopia"}, "images": ["/img/yirgacheffe.jpg"],
     "skus": [_sku("ETH-YIR-250", "250 g whole bean", 1290, 280, size="250g"),
              _sku("ETH-YIR-1000", "1 kg whole bean", 4290, 1060, size="1kg")]},
    {"product_id": "colombia-huila", "name": "Colombia Huila", "category": "coffee", "brand": "Nordlicht Roasters",
     "description": "Chocolate, red apple and caramel; a forgiving everyday filter coffee.",
     "attributes": {"roast": "medium", "origin": "Colombia"}, "images": ["/img/huila.jpg"],
     "skus": [_sku("COL-HUI-250", "250 g whole bean", 1090, 280, size="250g"),
              _sku("COL-HUI-250-G", "250 g ground (filter)", 1090, 280, size="250g", grind="filter"),
              _sku("COL-HUI-1000", "1 kg whole bean", 3690, 1060, size="1kg")]},
    {"product_id": "espresso-no-5", "name": "Espresso No. 5", "category": "coffee", "brand": "Kaffeewerk",
     "description": "Brazil and India blend with low acidity and a thick crema.",
     "attributes": {"roast": "dark"}, "images": ["/img/espresso5.jpg"],
     "skus": [_sku("ESP-NO5-500", "500 g whole bean", 1590, 540, size="500g"),
              _sku("ESP-NO5-1000", "1 kg whole bean", 2890, 1060, size="1kg")]},
    {"product_id": "burr-grinder-c40", "name": "Hand Burr Grinder C40", "category": "brewing", "brand": "Comandante",
     "description": "Stainless steel conical burrs, from espresso to cold brew.",
     "attributes": {"burr": "conical steel"}, "images": ["/img/c40.jpg"],
     "skus": [_sku("C40-BLACK", "Onyx black", 24900, 750, colour="black"),
              _sku("C40-WALNUT", "American walnut", 27900, 760, colour="walnut")]},
    {"product_id": "gooseneck-kettle", "name": "Gooseneck Kettle 0.9 l", "category": "brewing", "brand": "Fellow",
     "description": "Electric pour-over kettle with temperature hold.", "images": ["/img/kettle.jpg"],
     "skus": [_sku("KETTLE-EKG-BLK", "Matte black, EU plug", 16500, 1400, colour="black", plug="EU"),
              _sku("KETTLE-EKG-WHT", "Matte white, EU plug", 16500, 1400, colour="white", plug="EU"),
              _sku("KETTLE-EKG-BLK-US", "Matte black, US plug", 16500, 1400, colour="black", plug="US")]},
    {"product_id": "pour-over-v60", "name": "V60 Pour-Over Dripper", "category": "brewing", "brand": "Hario",
     "description": "Ceramic cone dripper with spiral ribs, size 02.", "images": ["/img/v60.jpg"],
     "skus": [_sku("V60-02-WHITE", "Ceramic white, size 02", 2490, 420, colour="white"),
              _sku("V60-02-RED", "Ceramic red, size 02", 2490, 420, colour="red"),
              _sku("V60-01-CLEAR", "Plastic clear, size 01", 790, 120, colour="clear"),
              _sku("V60-02-COPPER", "Copper, size 02", 5990, 380, colour="copper")]},
    {"product_id": "french-press", "name": "French Press 1 l", "category": "brewing", "brand": "Bodum",
     "description": "Borosilicate glass and stainless steel, 8 cups.", "images": ["/img/press.jpg"],
     "skus": [_sku("PRESS-1L", "1 litre", 3490, 900)]},
    {"product_id": "stoneware-mug", "name": "Stoneware Mug 350 ml", "category": "cups", "brand": "Kaffeewerk",
     "description": "Hand-glazed stoneware, dishwasher safe.", "images": ["/img/mug.jpg"],
     "skus": [_sku("MUG-350-SAND", "Sand glaze", 1890, 420, colour="sand"),
              _sku("MUG-350-NAVY", "Navy glaze", 1890, 420, colour="navy")]},
    {"product_id": "double-wall-glass", "name": "Double-Wall Glass Set", "category": "cups", "brand": "Bodum",
     "description": "Two 250 ml insulated glasses.", "images": ["/img/glass.jpg"],
     "skus": [_sku("GLASS-DW-250X2", "2 x 250 ml", 2290, 380)]},
    {"product_id": "sencha-uji", "name": "Sencha Uji", "category": "tea", "brand": "Teehaus Kyoto",
     "description": "Steamed green tea from Uji with a sweet, grassy finish.",
     "attributes": {"type": "green"}, "images": ["/img/sencha.jpg"],
     "skus": [_sku("TEA-SENCHA-50", "50 g tin", 1450, 120, size="50g"),
              _sku("TEA-SENCHA-100", "100 g refill pouch", 2490, 130, size="100g")]},
    {"product_id": "assam-breakfast", "name": "Assam Breakfast", "category": "tea", "brand": "Teehaus Kyoto",
     "description": "Malty second-flush Assam, strong enough for milk.", "images": ["/img/assam.jpg"],
     "skus": [_sku("TEA-ASSAM-100", "100 g pouch", 990, 130, size="100g")]},
    {"product_id": "brew-scale", "name": "Brew Scale with Timer", "category": "accessories", "brand": "Acaia",
     "description": "0.1 g resolution, built-in flow-rate timer.", "images": ["/img/scale.jpg"],
     "skus": [_sku("SCALE-PEARL-BLK", "Black", 14900, 500, colour="black"),
              _sku("SCALE-PEARL-WHT", "White", 14900, 500, colour="white")]},
    {"product_id": "paper-filters-02", "name": "Paper Filters Size 02", "category": "accessories",
     "brand": "Hario", "description": "100 bleached paper filters for V60 02.", "images": ["/img/filters.jpg"],
     "skus": [_sku("FILTER-02-100", "Pack of 100", 590, 150)]},
]

# on-hand stock per SKU per warehouse; several SKUs sit in two or three warehouses, C40-WALNUT is nearly gone
STOCK: dict[str, dict[str, int]] = {
    "ETH-YIR-250": {"berlin": 40, "paris": 15}, "ETH-YIR-1000": {"berlin": 12},
    "COL-HUI-250": {"berlin": 60, "paris": 20, "newark": 10}, "COL-HUI-250-G": {"berlin": 25},
    "COL-HUI-1000": {"berlin": 8, "paris": 4},
    "ESP-NO5-500": {"berlin": 50, "newark": 30}, "ESP-NO5-1000": {"berlin": 20},
    "C40-BLACK": {"berlin": 6, "paris": 3}, "C40-WALNUT": {"paris": 1},
    "KETTLE-EKG-BLK": {"berlin": 10, "paris": 5}, "KETTLE-EKG-WHT": {"berlin": 4},
    "KETTLE-EKG-BLK-US": {"newark": 12},
    "V60-02-WHITE": {"berlin": 30, "paris": 10}, "V60-02-RED": {"berlin": 15}, "V60-01-CLEAR": {"berlin": 40},
    "V60-02-COPPER": {"paris": 2},
    "PRESS-1L": {"berlin": 18, "newark": 9},
    "MUG-350-SAND": {"berlin": 24}, "MUG-350-NAVY": {"berlin": 20, "paris": 6},
    "GLASS-DW-250X2": {"paris": 14},
    "TEA-SENCHA-50": {"berlin": 30}, "TEA-SENCHA-100": {"berlin": 12, "paris": 6},
    "TEA-ASSAM-100": {"berlin": 35, "newark": 15},
    "SCALE-PEARL-BLK": {"berlin": 7, "newark": 5}, "SCALE-PEARL-WHT": {"berlin": 3},
    "FILTER-02-100": {"berlin": 200, "paris": 80, "newark": 60},
}


class SeedError(RuntimeError):
    pass


SUPPLIERS: list[dict[str, Any]] = [
    {"supplier_id": "nordlicht", "name": "Nordlicht Roasters GmbH", "email": "orders@nordlicht.example",
     "currency": "EUR", "lead_time_days": 3, "brands": ["Nordlicht Roasters"]},
    {"supplier_id": "brewgear", "name": "BrewGear Wholesale B.V.", "email": "sales@brewgear.example",
     "currency": "EUR", "lead_time_days": 7, "brands": []},  # everything else
]


def _check(resp: Any, what: str, ok: tuple[int, ...] = (200, 201)) -> Any:
    if resp.status not in ok:
        raise SeedError(f"seeding {what} failed: HTTP {resp.status} {resp.body[:500]}")
    return resp


def seed_demo(request: Request, admin_token: str) -> dict[str, Any]:
    """Seed warehouses, categories, products and stock through the admin API; safe to run again."""
    for wh in WAREHOUSES:
        body = {k: v for k, v in wh.items() if k != "warehouse_id"}
        _check(request("PUT", f"/admin/warehouses/{wh['warehouse_id']}", json=body, token=admin_token),
               f"warehouse {wh['warehouse_id']}")
    for cat in CATEGORIES:
        body = {k: v for k, v in cat.items() if k != "category_id"}
        _check(request("PUT", f"/admin/categories/{cat['category_id']}", json=body, token=admin_token),
               f"category {cat['category_id']}")
    created = 0
    for product in PRODUCTS:
        resp = _check(request("POST", "/admin/products", json=product, token=admin_token),
                      f"product {product['product_id']}", ok=(201, 409))
        if resp.status == 201:
            created += 1
    stock: dict[str, dict[str, int]] = {}
    for n, (sku, per_warehouse) in enumerate(STOCK.items()):
        for warehouse_id, on_hand in per_warehouse.items():
            # a storage bin per SKU (aisle-shelf), shown on the warehouse's pick lists
            body = {"on_hand": on_hand, "bin": f"{chr(65 + n // 6)}-{n % 6 + 1:02d}"}
            if warehouse_id == "berlin":  # the main warehouse restocks itself: a quarter of the stock, twice that
                body.update(reorder_point=max(2, on_hand // 4), reorder_quantity=max(5, on_hand // 2))
            _check(request("PUT", f"/admin/inventory/{sku}/{warehouse_id}", json=body,
                           token=admin_token), f"stock {sku}@{warehouse_id}")
            stock.setdefault(sku, {})[warehouse_id] = on_hand
    # suppliers with a contract per SKU, valid this year, at 55 % of the shelf price
    year = datetime.now(UTC).year
    for supplier in SUPPLIERS:
        body = {k: v for k, v in supplier.items() if k not in ("supplier_id", "brands", "lead_time_days")}
        _check(request("PUT", f"/admin/suppliers/{supplier['supplier_id']}", json=body, token=admin_token),
               f"supplier {supplier['supplier_id']}")
    for product in PRODUCTS:
        supplier = next(s for s in SUPPLIERS if product.get("brand") in s["brands"] or not s["brands"])
        for sku in product["skus"]:
            contract = {"sku": sku["sku"], "unit_cost": {"amount": sku["price"]["amount"] * 55 // 100,
                                                         "currency": "EUR"},
                        "lead_time_days": supplier["lead_time_days"], "min_order_quantity": 5,
                        "valid_from": f"{year}-01-01", "valid_to": f"{year + 1}-12-31"}
            _check(request("PUT", f"/admin/suppliers/{supplier['supplier_id']}/contracts/{sku['sku'].lower()}",
                           json=contract, token=admin_token), f"contract {sku['sku']}")
    return {
        "suppliers": [s["supplier_id"] for s in SUPPLIERS],
        "warehouses": [w["warehouse_id"] for w in WAREHOUSES],
        "categories": [c["category_id"] for c in CATEGORIES],
        "products": [p["product_id"] for p in PRODUCTS],
        "products_created": created,
        "skus": [s["sku"] for p in PRODUCTS for s in p["skus"]],
        "stock": stock,
    }
