"""Cross-context order workflows above orders, payments and fulfillment: cancellation, the signed webhooks' dispatch
to payments and fulfillment, and the order-with-shipments views."""
