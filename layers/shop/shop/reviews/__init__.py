"""Product reviews: one per verified buyer per product, with the product's rating summary kept on the catalog item."""
