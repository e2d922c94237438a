"""Cross-context shopper views: the product page (catalog + inventory + analytics)."""
