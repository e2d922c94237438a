// The admin pages (Cognito group admin): orders and the needs-attention queue, one order with its actions,
// returns, customers, purchase orders, stock, the daily report and sales trend, support tickets.

import {request} from "./api.js";
import {action, badge, clear, dl, errorBox, field, h, input, link, loading, money, section, select, table, toMajor,
  toMinor, when} from "./ui.js";
import {salesChart} from "./chart.js";

const ORDER_STATUSES = ["", "PENDING_PAYMENT", "PAYMENT_PROCESSING", "PAID", "FULFILLING", "DISPATCHING", "SHIPPED",
  "DELIVERED", "PAYMENT_FAILED", "EXPIRED", "CANCELLED", "NEEDS_ATTENTION"];
const RETURN_STATUSES = ["REQUESTED", "APPROVED", "AWAITING_GOODS", "INSPECTED", "REFUNDED", "REJECTED"];
const PO_STATUSES = ["", "DRAFT", "SUBMITTED", "PARTIALLY_RECEIVED", "RECEIVED", "CLOSED", "CANCELLED"];
const TICKET_STATUSES = ["open", "pending", "closed"];
const ADJUST_REASONS = ["count_correction", "damaged", "lost", "found", "other"];

function go(path, query) {
  const qs = new URLSearchParams(Object.entries(query || {}).filter(([, v]) => v)).toString();
  const target = "#/" + path + (qs ? "?" + qs : "");
  if (window.location.hash === target) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else window.location.hash = target;
}

function formQuery(form) {
  return Object.fromEntries([...new FormData(form).entries()].filter(([, v]) => v !== ""));
}

function flash(message) {
  return message ? h("div.ok", {role: "status"}, message) : null;
}

/** A list with "Load more" over the shared cursor. */
async function pagedTable(container, fetchPage, columns, empty) {
  let cursor = null;
  const rows = [];
  const more = h("button.secondary", {type: "button", id: "load-more"}, "Load more");
  const holder = h("div");
  const load = async () => {
    const page = await fetchPage(cursor);
    rows.push(...page.items);
    cursor = page.next_cursor;
    clear(holder, table(columns, rows, empty));
    more.hidden = !cursor;
  };
  action(more, load);
  clear(container, holder, more);
  await load();
}

// ------------------------------------------------------------------ orders
const orderColumns = [
  {label: "Order", cell: (o) => link(`orders/${o.order_id}`, o.order_id, {"data-order-id": o.order_id})},
  {label: "Placed", cell: (o) => when(o.created_at)},
  {label: "Customer", cell: (o) => o.email || o.customer_id},
  {label: "Status", cell: (o) => [badge(o.status), o.needs_attention ? badge("needs attention", "attention") : null]},
  {label: "Payment", cell: (o) => o.payment_status},
  {label: "Units", cell: (o) => String(o.item_count)},
  {label: "SKUs", cell: (o) => o.skus.join(", ")},
  {label: "Total", cell: (o) => money(o.totals.total)},
];

export async function ordersView(el, parts, q) {
  if (parts.length) return orderDetail(el, parts[0]);
  const attention = q.status === "NEEDS_ATTENTION";
  const form = h("form.filters", {id: "order-filters"},
    field("Status", select("status", ORDER_STATUSES, q.status || "")),
    field("Customer e-mail", input("email", {type: "search", value: q.email || "", id: "filter-email"})),
    field("From", input("from", {type: "date", value: q.from || ""})),
    field("To", input("to", {type: "date", value: q.to || ""})),
    field("SKU", input("sku", {value: q.sku || "", pattern: "[A-Z0-9][A-Z0-9-]{1,39}"})),
    h("button", {type: "submit", id: "filter-submit"}, "Filter"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const query = formQuery(form);
    go(query.status === "NEEDS_ATTENTION" ? "attention" : "orders", query);
  });
  const results = h("div", {id: "orders-list"});
  clear(el, h("h1", attention ? "Needs attention" : "Orders"),
    attention ? h("p.hint", "Orders whose workflow failed: open one to see the cause and retry it.") : null,
    form, results);
  loading(results);
  await pagedTable(results, (cursor) => request("GET", "/admin/orders", {query: {...q, limit: 20, cursor}}),
    orderColumns, attention ? "no order needs attention" : "no order matches");
}

export async function orderDetail(el, orderId, message) {
  loading(el, "loading order " + orderId);
  const o = await request("GET", `/admin/orders/${encodeURIComponent(orderId)}`);
  const cur = o.totals.total.currency;
  const reload = (text) => orderDetail(el, orderId, text);

  const refundForm = h("form.inline", {id: "refund-form"},
    field("Amount (" + cur + ")", input("amount", {required: true, inputmode: "decimal", id: "refund-amount",
      placeholder: "e.g. 5.00"}), "at most " + money(o.payment.refundable)),
    field("Reason", input("reason", {required: true, maxlength: 500, id: "refund-reason"})),
    h("button", {type: "submit", id: "refund-submit", disabled: o.payment.refundable.amount <= 0}, "Refund"));
  action(refundForm, async (key, data) => {
    const amount = toMinor(data.get("amount"), cur);
    if (Number.isNaN(amount)) throw new Error("amount: write it like 12.50");
    const done = await request("POST", `/admin/orders/${encodeURIComponent(orderId)}/refunds`, {key,
      body: {amount: {amount, currency: cur}, reason: String(data.get("reason"))}});
    await reload(`refunded ${money(done.amount)} (${done.status}); left to refund ${money(done.refundable)}`);
  });

  const noteForm = h("form.inline", {id: "note-form"},
    field("Note", h("textarea", {name: "text", required: true, maxlength: 2000, rows: 2, id: "note-text"})),
    h("button", {type: "submit", id: "note-submit"}, "Add note"));
  action(noteForm, async (key, data) => {
    await request("POST", `/admin/orders/${encodeURIComponent(orderId)}/notes`, {key,
      body: {text: String(data.get("text"))}});
    await reload("note added");
  });

  const cancelButton = h("button.danger", {type: "button", id: "cancel-order"}, "Cancel order");
  action(cancelButton, async () => {
    await request("POST", `/admin/orders/${encodeURIComponent(orderId)}/cancel`);
    await reload("order cancelled: stock released, payment refunded");
  }, {confirmText: `Cancel order ${orderId}? Its stock is released and the payment refunded in full.`});

  let attention = null;
  if (o.needs_attention) {
    const retry = h("button", {type: "button", id: "retry-order"}, "Retry");
    action(retry, async (key) => {
      const done = await request("POST", `/admin/orders/${encodeURIComponent(orderId)}/retry`, {key});
      await reload(`retry: ${done.action}, order ${done.status}`);
    });
    // what a retry cannot settle (a packed parcel, a delivery without signature) is settled by hand, then cleared
    const resolveForm = h("form.inline", {id: "resolve-form"},
      field("How it was settled", h("input", {name: "note", required: true, maxlength: 2000, id: "resolve-note"})),
      h("button", {type: "submit", id: "resolve-attention"}, "Mark resolved"));
    action(resolveForm, async (key, data) => {
      await request("POST", `/admin/orders/${encodeURIComponent(orderId)}/attention/resolve`, {key,
        body: {note: String(data.get("note"))}});
      await reload("needs-attention mark cleared");
    });
    attention = h("div.attention", {role: "alert"},
      h("strong", "Needs attention: " + o.needs_attention.error),
      h("p", o.needs_attention.cause || "no cause recorded"),
      dl([["Workflow", o.needs_attention.workflow_status], ["Since", when(o.needs_attention.at)],
        ["Retries", String(o.workflow.retries)]]),
      retry, resolveForm);
  }

  const a = o.shipping_address;
  clear(el,
    h("p.crumbs", link("orders", "← Orders")),
    h("h1", "Order ", h("span.mono", o.order_id), " ", badge(o.status)),
    flash(message),
    attention,
    h("div.grid",
      section("Order", dl([
        ["Customer", o.email ? link(`customers/${o.customer_id}`, o.email) : o.customer_id],
        ["Placed", when(o.created_at)], ["Updated", when(o.updated_at)],
        o.coupon_code && ["Coupon", o.coupon_code], o.cancel_reason && ["Cancelled because", o.cancel_reason],
        ["Ship to", [a.name, a.line1, a.line2, `${a.postal_code} ${a.city}`, a.region, a.country]
          .filter(Boolean).join(", ")],
      ])),
      section("Payment", dl([
        ["Status", badge(o.payment.status)], ["Payment intent", h("span.mono", o.payment.payment_intent_id || "—")],
        ["Captured", h("span", {id: "payment-captured"}, money(o.payment.captured))], ["Refunded", h("span", {id: "payment-refunded"},
          money(o.payment.refunded))],
        ["Refundable", h("span", {id: "payment-refundable"}, money(o.payment.refundable))],
        o.payment.decline_code && ["Declined", o.payment.decline_code],
      ]))),
    section("Lines", table([
      {label: "SKU", cell: (l) => h("span.mono", l.sku)}, {label: "Name", cell: (l) => l.name},
      {label: "Qty", cell: (l) => String(l.quantity)}, {label: "Unit price", cell: (l) => money(l.unit_price)},
      {label: "Discount", cell: (l) => money(l.discount)}, {label: "Line total", cell: (l) => money(l.line_total)},
      {label: "Warehouses", cell: (l) => l.allocations.map((x) => `${x.warehouse_id}×${x.quantity}`).join(", ")},
    ], o.lines),
    dl([["Subtotal", money(o.totals.subtotal)], ["Discount", money(o.totals.discount)],
      ["Shipping", money(o.totals.shipping)], ["Tax", money(o.totals.tax)], ["Total", money(o.totals.total)]])),
    section("Shipments", table([
      {label: "Parcel", cell: (s) => h("span.mono", s.shipment_id)}, {label: "Warehouse", cell: (s) => s.warehouse_id},
      {label: "Status", cell: (s) => badge(s.status)},
      {label: "Items", cell: (s) => s.items.map((i) => `${i.sku}×${i.quantity}`).join(", ")},
      {label: "Carrier", cell: (s) => s.carrier || "—"},
      {label: "Tracking", cell: (s) => s.tracking_number ? h("span.mono", s.tracking_number) : "—"},
      {label: "Weight", cell: (s) => (s.package_weight_grams ? `${s.package_weight_grams} g` : "—")},
      {label: "Events", cell: (s) => (s.tracking || []).map((t) => `${t.status} ${when(t.occurred_at)}`).join("; ")},
    ], o.shipments, "no parcel yet")),
    section("Refunds", table([
      {label: "Refund", cell: (r) => h("span.mono", r.refund_id)}, {label: "Amount", cell: (r) => money(r.amount)},
      {label: "Source", cell: (r) => r.source}, {label: "Reason", cell: (r) => r.reason || "—"},
      {label: "When", cell: (r) => when(r.at)}, {label: "By", cell: (r) => r.by || "—"},
    ], o.refunds, "no refund"), refundForm),
    section("Returns", table([
      {label: "Return", cell: (r) => link(`returns/${r.return_id}`, r.return_id)},
      {label: "Status", cell: (r) => badge(r.status)},
      {label: "Lines", cell: (r) => r.lines.map((l) => `${l.sku}×${l.quantity} (${l.reason})`).join(", ")},
      {label: "Refund", cell: (r) => money(r.refund_total)}, {label: "Refunded", cell: (r) => money(r.refunded)},
    ], o.returns, "no return")),
    h("div.grid",
      section("Timeline", h("ol.timeline", {id: "timeline"}, o.timeline.map((t) =>
        h("li", {dataset: {kind: t.kind}}, h("time", when(t.at)), " ", badge(t.kind), " ",
          t.status ? h("strong", t.status) : null, t.note ? " " + t.note : "", t.by ? ` (${t.by})` : "")))),
      section("Staff notes", o.notes.length ? h("ul.notes", o.notes.map((n) =>
        h("li", h("p", n.text), h("small", `${n.author_email || n.author_id}, ${when(n.at)}`)))) :
        h("p.empty", "no note yet"), noteForm)),
    section("Actions", h("p.hint", "Cancel before any parcel is packed: stock is released, the payment refunded."),
      cancelButton));
}

// ------------------------------------------------------------------ returns
export async function returnsView(el, parts, q) {
  if (parts.length) return returnDetail(el, parts[0]);
  const status = q.status || "AWAITING_GOODS";
  const form = h("form.filters", field("Status", select("status", RETURN_STATUSES, status)),
    h("button", {type: "submit"}, "Show"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    go("returns", formQuery(form));
  });
  const results = h("div");
  clear(el, h("h1", "Returns"), form, results);
  await pagedTable(results, (cursor) => request("GET", "/admin/returns", {query: {status, limit: 20, cursor}}), [
    {label: "Return", cell: (r) => link(`returns/${r.return_id}`, r.return_id)},
    {label: "Order", cell: (r) => link(`orders/${r.order_id}`, r.order_id)},
    {label: "Customer", cell: (r) => r.email || r.customer_id}, {label: "Status", cell: (r) => badge(r.status)},
    {label: "Units", cell: (r) => String(r.units)}, {label: "Refund", cell: (r) => money(r.refund_total)},
    {label: "Refunded", cell: (r) => money(r.refunded)}, {label: "Opened", cell: (r) => when(r.created_at)},
  ], "no return in " + status);
}

async function returnDetail(el, returnId) {
  loading(el);
  const r = await request("GET", `/admin/returns/${encodeURIComponent(returnId)}`);
  clear(el, h("p.crumbs", link("returns", "← Returns")),
    h("h1", "Return ", h("span.mono", r.return_id), " ", badge(r.status)),
    section("Return", dl([["Order", link(`orders/${r.order_id}`, r.order_id)], ["Customer", r.email || r.customer_id],
      ["Inspecting warehouse", r.inspecting_warehouse_id], ["Refund", money(r.refund_total)],
      ["Due", money(r.refund_due)], ["Refunded", money(r.refunded)], r.note && ["Note", r.note],
      r.label && ["Label", `${r.label.carrier} ${r.label.tracking_number}`]])),
    section("Lines", table([
      {label: "SKU", cell: (l) => l.sku}, {label: "Name", cell: (l) => l.name},
      {label: "Qty", cell: (l) => String(l.quantity)}, {label: "Reason", cell: (l) => l.reason},
      {label: "Sellable", cell: (l) => (l.sellable ?? "—").toString()},
      {label: "Damaged", cell: (l) => (l.damaged ?? "—").toString()},
      {label: "Refund", cell: (l) => money(l.refund)}, {label: "Due", cell: (l) => money(l.refund_due)},
    ], r.lines)),
    section("Timeline", h("ol.timeline", r.timeline.map((t) => h("li", h("time", when(t.at)), " ",
      h("strong", t.status), t.note ? " " + t.note : "")))));
}

// ------------------------------------------------------------------ customers
export async function customersView(el, parts, q) {
  if (parts.length) return customerDetail(el, parts[0]);
  const form = h("form.filters", field("E-mail starts with", input("email", {type: "search", required: true,
    value: q.email || ""})), h("button", {type: "submit"}, "Search"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    go("customers", formQuery(form));
  });
  const results = h("div");
  clear(el, h("h1", "Customers"), form, results);
  if (!q.email) return;
  loading(results);
  const page = await request("GET", "/admin/customers", {query: {email: q.email}});
  clear(results, table([
    {label: "E-mail", cell: (c) => link(`customers/${c.customer_id}`, c.email || c.customer_id)},
    {label: "Name", cell: (c) => c.name || "—"}, {label: "Status", cell: (c) => c.status},
    {label: "Verified", cell: (c) => (c.email_verified ? "yes" : "no")},
    {label: "Enabled", cell: (c) => (c.enabled ? "yes" : "no")}, {label: "Since", cell: (c) => when(c.created_at)},
  ], page.items, "no customer"));
}

async function customerDetail(el, customerId) {
  loading(el);
  const c = await request("GET", `/admin/customers/${encodeURIComponent(customerId)}`);
  const p = c.profile;
  clear(el, h("p.crumbs", link("customers", "← Customers")), h("h1", p.email || p.customer_id),
    section("Profile", dl([["Name", p.name || "—"], ["Status", p.status], ["Verified", p.email_verified ? "yes" : "no"],
      ["Enabled", p.enabled ? "yes" : "no"], ["Since", when(p.created_at)], ["Id", h("span.mono", p.customer_id)]])),
    section("Orders", table(orderColumns, c.orders, "no order"),
      c.orders_next_cursor ? link(`orders?email=${encodeURIComponent(p.email || "")}`, "all orders →") : null),
    section("Support tickets", table([
      {label: "Ticket", cell: (t) => link(`support/${t.ticket_id}`, t.subject)},
      {label: "Status", cell: (t) => badge(t.status)}, {label: "Updated", cell: (t) => when(t.updated_at)},
    ], c.tickets, "no ticket")),
    section("Returns", table([
      {label: "Return", cell: (r) => link(`returns/${r.return_id}`, r.return_id)},
      {label: "Status", cell: (r) => badge(r.status)}, {label: "Refund", cell: (r) => money(r.refund_total)},
    ], c.returns, "no return")));
}

// ------------------------------------------------------------------ purchase orders
export async function purchaseOrdersView(el, parts, q) {
  if (parts.length) return purchaseOrderDetail(el, parts[0]);
  const [suppliers, warehouses] = await Promise.all([request("GET", "/admin/suppliers"),
    request("GET", "/admin/warehouses")]);
  const filter = h("form.filters", field("Status", select("status", PO_STATUSES, q.status || "")),
    h("button", {type: "submit"}, "Show"));
  filter.addEventListener("submit", (e) => {
    e.preventDefault();
    go("purchase-orders", formQuery(filter));
  });
  const lines = h("div.lines");
  const addLine = () => lines.append(h("div.line", input("sku", {placeholder: "SKU", required: true}),
    input("quantity", {type: "number", min: 1, placeholder: "qty", required: true}),
    input("unit_cost", {inputmode: "decimal", placeholder: "unit cost (contract price if empty)"})));
  addLine();
  const create = h("form.card", {id: "po-create"}, h("h2", "New purchase order"),
    field("Supplier", select("supplier_id", suppliers.items.map((s) => [s.supplier_id, `${s.name} (${s.currency})`]))),
    field("Warehouse", select("warehouse_id", warehouses.items.map((w) => [w.warehouse_id, w.name]))),
    lines, h("button.secondary", {type: "button", onclick: addLine}, "+ line"),
    h("button", {type: "submit"}, "Create draft"));
  action(create, async (key, data) => {
    const supplier = suppliers.items.find((s) => s.supplier_id === data.get("supplier_id"));
    const body = {supplier_id: data.get("supplier_id"), warehouse_id: data.get("warehouse_id"),
      lines: [...lines.querySelectorAll(".line")].map((row) => {
        const get = (n) => row.querySelector(`[name=${n}]`).value.trim();
        const line = {sku: get("sku"), quantity: Number(get("quantity"))};
        if (get("unit_cost")) line.unit_cost = {amount: toMinor(get("unit_cost"), supplier.currency),
          currency: supplier.currency};
        return line;
      })};
    const po = await request("POST", "/admin/purchase-orders", {key, body});
    go(`purchase-orders/${po.po_id}`);
  });
  const results = h("div");
  clear(el, h("h1", "Purchase orders"), filter, results, create);
  await pagedTable(results, (cursor) => request("GET", "/admin/purchase-orders",
    {query: {status: q.status, limit: 20, cursor}}), [
    {label: "PO", cell: (p) => link(`purchase-orders/${p.po_id}`, p.po_id)},
    {label: "Supplier", cell: (p) => p.supplier_id}, {label: "Warehouse", cell: (p) => p.warehouse_id},
    {label: "Status", cell: (p) => badge(p.status)}, {label: "Total", cell: (p) => money(p.total)},
    {label: "Invoiced", cell: (p) => money(p.invoiced_amount)}, {label: "Settled", cell: (p) => money(p.settled_amount)},
    {label: "Auto", cell: (p) => (p.auto ? "yes" : "")}, {label: "Created", cell: (p) => when(p.created_at)},
  ], "no purchase order");
}

async function purchaseOrderDetail(el, poId, message) {
  loading(el);
  const path = `/admin/purchase-orders/${encodeURIComponent(poId)}`;
  const po = await request("GET", path);
  const reload = (text) => purchaseOrderDetail(el, poId, text);
  const simple = (label, verb, id, extra) => {
    const b = h("button" + (extra || ""), {type: "button", id}, label);
    return action(b, async () => {
      await request("POST", `${path}/${verb}`);
      await reload(`${verb}: done`);
    });
  };
  const receive = h("form.card", {id: "po-receive"}, h("h2", "Receive goods"),
    po.lines.filter((l) => l.outstanding > 0).map((l) => field(`${l.sku} (outstanding ${l.outstanding})`,
      input(`qty:${l.sku}`, {type: "number", min: 0, max: l.outstanding, value: l.outstanding}))),
    field("Note", input("note", {maxlength: 300})), h("button", {type: "submit"}, "Record receipt"));
  action(receive, async (key, data) => {
    const lines = po.lines.map((l) => ({sku: l.sku, quantity: Number(data.get(`qty:${l.sku}`) || 0)}))
      .filter((l) => l.quantity > 0);
    await request("POST", `${path}/receipts`, {body: {receipt_id: "rcpt-" + key, lines,
      note: data.get("note") || null}});
    await reload("goods received");
  });
  const invoice = h("form.card", {id: "po-invoice"}, h("h2", "Record supplier invoice"),
    field("Invoice number", input("invoice_id", {required: true, maxlength: 64})),
    po.lines.filter((l) => l.invoiceable > 0).map((l) => h("div.line",
      field(`${l.sku} quantity`, input(`qty:${l.sku}`, {type: "number", min: 0, value: l.invoiceable})),
      field(`unit price (${l.unit_cost.currency})`, input(`price:${l.sku}`, {inputmode: "decimal",
        value: toMajor(l.unit_cost)})))),
    h("button", {type: "submit"}, "Record invoice"));
  action(invoice, async (key, data) => {
    const lines = po.lines.filter((l) => Number(data.get(`qty:${l.sku}`) || 0) > 0).map((l) => ({sku: l.sku,
      quantity: Number(data.get(`qty:${l.sku}`)), unit_price: {amount: toMinor(data.get(`price:${l.sku}`),
        l.unit_cost.currency), currency: l.unit_cost.currency}}));
    const done = await request("POST", `${path}/invoices`, {body: {invoice_id: data.get("invoice_id"), lines}});
    await reload(`invoice ${done.invoice_id}: ${done.status}` +
      (done.differences.length ? " (" + done.differences.map((d) => d.message).join("; ") + ")" : ""));
  });
  const settleButton = (inv) => {
    if (inv.settled_at) return "settled " + when(inv.settled_at);
    const b = h("button.secondary", {type: "button"}, "Settle");
    return action(b, async () => {
      await request("POST", `${path}/invoices/${encodeURIComponent(inv.invoice_id)}/settle`);
      await reload(`invoice ${inv.invoice_id} settled`);
    });
  };
  clear(el, h("p.crumbs", link("purchase-orders", "← Purchase orders")),
    h("h1", "Purchase order ", h("span.mono", po.po_id), " ", badge(po.status)), flash(message),
    section("Order", dl([["Supplier", po.supplier_id], ["Warehouse", po.warehouse_id], ["Total", money(po.total)],
      ["Invoiced", money(po.invoiced_amount)], ["Settled", money(po.settled_amount)],
      ["Expected", when(po.expected_at)], ["Created", when(po.created_at)]]),
    h("div.actions",
      po.status === "DRAFT" ? simple("Submit to supplier", "submit", "po-submit") : null,
      ["DRAFT", "SUBMITTED"].includes(po.status) ? simple("Cancel", "cancel", "po-cancel", ".danger") : null,
      ["PARTIALLY_RECEIVED", "RECEIVED"].includes(po.status) ? simple("Close", "close", "po-close") : null)),
    section("Lines", table([
      {label: "SKU", cell: (l) => l.sku}, {label: "Qty", cell: (l) => String(l.quantity)},
      {label: "Unit cost", cell: (l) => money(l.unit_cost)}, {label: "Received", cell: (l) => String(l.received)},
      {label: "Returned", cell: (l) => String(l.returned)}, {label: "Outstanding", cell: (l) => String(l.outstanding)},
      {label: "Invoiced", cell: (l) => String(l.invoiced)},
    ], po.lines)),
    ["SUBMITTED", "PARTIALLY_RECEIVED"].includes(po.status) ? receive : null,
    po.lines.some((l) => l.invoiceable > 0) ? invoice : null,
    section("Invoices", table([
      {label: "Invoice", cell: (i) => i.invoice_id}, {label: "Status", cell: (i) => badge(i.status)},
      {label: "Total", cell: (i) => money(i.invoice_total)}, {label: "Expected", cell: (i) => money(i.expected_total)},
      {label: "Differences", cell: (i) => i.differences.map((d) => d.message).join("; ") || "—"},
      {label: "Settle", cell: settleButton},
    ], po.invoices || [], "no invoice")),
    section("Receipts", table([
      {label: "Receipt", cell: (r) => r.receipt_id}, {label: "When", cell: (r) => when(r.received_at)},
      {label: "Lines", cell: (r) => r.lines.map((l) => `${l.sku}×${l.quantity}`).join(", ")},
    ], po.receipts || [], "nothing received yet")),
    section("Timeline", h("ol.timeline", po.timeline.map((t) => h("li", h("time", when(t.at)), " ",
      h("strong", t.status), t.note ? " " + t.note : "")))));
}

// ------------------------------------------------------------------ stock
export async function stockView(el, parts, q) {
  const sku = (parts[0] || q.sku || "").toUpperCase();
  const form = h("form.filters", field("SKU", input("sku", {value: sku, required: true, id: "stock-sku",
    pattern: "[A-Za-z0-9][A-Za-z0-9-]{1,39}"})), h("button", {type: "submit"}, "Show stock"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    go("stock", {sku: String(new FormData(form).get("sku")).toUpperCase()});
  });
  const results = h("div", {id: "stock-levels"});
  clear(el, h("h1", "Stock"), form, results);
  if (!sku) return;
  const show = async (message) => {
    const s = await request("GET", `/admin/inventory/${encodeURIComponent(sku)}`);
    const adjust = (level) => {
      const f = h("form.inline.adjust", {dataset: {warehouse: level.warehouse_id}},
        input("delta", {type: "number", required: true, placeholder: "±units", size: 6}),
        select("reason", ADJUST_REASONS, "count_correction"), input("note", {placeholder: "note", maxlength: 300}),
        h("button", {type: "submit"}, "Adjust"));
      return action(f, async (key, data) => {
        const path = `/admin/inventory/${encodeURIComponent(sku)}/${encodeURIComponent(level.warehouse_id)}`;
        const done = await request("POST", `${path}/adjustments`, {key, body: {delta: Number(data.get("delta")),
          reason: data.get("reason"), note: data.get("note") || null}});
        await show(`${level.warehouse_id}: on hand now ${done.on_hand}`);
      });
    };
    clear(results, flash(message),
      dl([["On hand", String(s.totals.on_hand)], ["Reserved", String(s.totals.reserved)],
        ["Available", String(s.totals.available)]]),
      table([
        {label: "Warehouse", cell: (l) => l.warehouse_id}, {label: "Bin", cell: (l) => l.bin || "—"},
        {label: "On hand", cell: (l) => String(l.on_hand)}, {label: "Reserved", cell: (l) => String(l.reserved)},
        {label: "Available", cell: (l) => String(l.available)}, {label: "Incoming", cell: (l) => String(l.incoming)},
        {label: "Reorder at", cell: (l) => `${l.reorder_point} (+${l.reorder_quantity})`},
        {label: "Adjust", cell: adjust},
      ], s.levels, "no stock recorded for " + sku));
  };
  loading(results);
  try {
    await show();
  } catch (error) {
    clear(results, errorBox(error));
  }
}

// ------------------------------------------------------------------ reports
function isoDay(d) {
  return d.toISOString().slice(0, 10);
}

/** The stored report of ``day`` (its summary and HTML); computed (and stored, e-mailed once) when there is none
 * yet, as the morning schedule would have. */
async function dailyReport(day) {
  const stored = (format) => request("GET", `/admin/reports/daily/${day}`, {query: {format}, raw: format === "html"});
  let summary;
  try {
    summary = await stored("json");
  } catch (error) {
    if (error.status !== 404) throw error;
    summary = await request("GET", "/admin/reports/daily", {query: {date: day}});
  }
  return [summary, await stored("html")];
}

export async function reportsView(el, parts, q) {
  const yesterday = isoDay(new Date(Date.now() - 86400000));
  const day = q.date || yesterday;
  const to = q.to || yesterday;
  const from = q.from || isoDay(new Date(Date.parse(to) - 29 * 86400000));
  const form = h("form.filters", {id: "report-form"}, field("Daily report of", input("date", {type: "date", value: day})),
    field("Sales from", input("from", {type: "date", value: from})), field("to", input("to", {type: "date", value: to})),
    h("button", {type: "submit"}, "Show"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    go("reports", formQuery(form));
  });
  const trend = h("div", {id: "sales-trend"});
  const report = h("div", {id: "daily-report"});
  clear(el, h("h1", "Reports"), form, section("Sales trend", trend), section("Daily report " + day, report));
  loading(trend);
  loading(report);
  const [sales, daily] = await Promise.allSettled([
    request("GET", "/admin/analytics/sales", {query: {from, to}}),
    dailyReport(day),
  ]);
  if (sales.status === "fulfilled") {
    const t = sales.value;
    const m = (amount) => money({amount, currency: t.currency});
    clear(trend, salesChart(t), dl([["Revenue", m(t.totals.revenue)], ["Refunds", m(t.totals.refunds)],
      ["Net", m(t.totals.net)], ["Orders placed", String(t.totals.orders_placed)],
      ["Paid", String(t.totals.orders_paid)], ["Units", String(t.totals.units)]]));
  } else {
    clear(trend, errorBox(sales.reason));
  }
  if (daily.status === "fulfilled") {
    const [summary, html] = daily.value;
    // the report's own HTML, as e-mailed: in a frame with no scripts and an origin of its own
    const frame = h("iframe.report", {sandbox: "", title: "daily report " + day, id: "report-frame"});
    frame.srcdoc = html;
    clear(report, dl([["Revenue", money(summary.revenue)], ["Net", money(summary.net)],
      ["Orders placed", String(summary.orders.placed)], ["Shipped", String(summary.orders.shipped)],
      "emailed" in summary && ["Emailed", summary.emailed ? "yes" : "no"]]), frame);
  } else {
    clear(report, errorBox(daily.reason));
  }
}

// ------------------------------------------------------------------ support
export async function supportView(el, parts, q) {
  if (parts.length) return ticketDetail(el, parts[0]);
  const status = q.status || "open";
  const form = h("form.filters", field("Status", select("status", TICKET_STATUSES, status)),
    h("button", {type: "submit"}, "Show"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    go("support", formQuery(form));
  });
  const results = h("div");
  clear(el, h("h1", "Support tickets"), form, results);
  await pagedTable(results, (cursor) => request("GET", "/admin/support/tickets", {query: {status, limit: 20, cursor}}),
    [{label: "Subject", cell: (t) => link(`support/${t.ticket_id}`, t.subject)},
      {label: "Customer", cell: (t) => t.email || t.customer_id},
      {label: "Order", cell: (t) => (t.order_id ? link(`orders/${t.order_id}`, t.order_id) : "—")},
      {label: "Messages", cell: (t) => String(t.message_count)}, {label: "Last by", cell: (t) => t.last_message_by},
      {label: "Updated", cell: (t) => when(t.updated_at)}], "no " + status + " ticket");
}

async function ticketDetail(el, ticketId, message) {
  loading(el);
  const path = `/admin/support/tickets/${encodeURIComponent(ticketId)}`;
  const t = await request("GET", path);
  const reload = (text) => ticketDetail(el, ticketId, text);
  const answer = h("form", {id: "ticket-answer"},
    field("Answer", h("textarea", {name: "message", required: true, rows: 4, maxlength: 4000})),
    h("button", {type: "submit"}, "Send answer"));
  action(answer, async (key, data) => {
    await request("POST", `${path}/messages`, {key, body: {message: String(data.get("message"))}});
    await reload("answer sent to the customer");
  });
  const close = action(h("button.secondary", {type: "button"}, "Close ticket"), async () => {
    await request("POST", `${path}/close`);
    await reload("ticket closed");
  });
  clear(el, h("p.crumbs", link("support", "← Support")), h("h1", t.subject, " ", badge(t.status)), flash(message),
    section("Ticket", dl([["Customer", link(`customers/${t.customer_id}`, t.email || t.customer_id)],
      t.order_id && ["Order", link(`orders/${t.order_id}`, t.order_id)], ["Opened", when(t.created_at)]])),
    section("Messages", h("ol.messages", t.messages.map((m) => h("li", {dataset: {author: m.author}},
      h("small", `${m.author}, ${when(m.created_at)}`), h("p", m.text))))),
    t.status !== "closed" ? section("Reply", answer, close) : null);
}
