"""Cross-context order workflows above orders, payments and fulfilment: cancellation, the signed webhooks' dispatch
to payments and fulfilment, and the order-with-shipments views."""
