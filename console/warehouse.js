// The warehouse page (Cognito group warehouse): the open tasks of one warehouse, made for a phone held in the
// aisle: pick lists with bins and quantities, pack with the parcel's weight, parcels waiting for the carrier's
// pickup scan (with their label to print), and return inspections. Completing a task resumes the order's workflow.

import {request} from "./api.js";
import {action, badge, clear, field, h, input, loading, when} from "./ui.js";

const WAREHOUSE_KEY = "shop.console.warehouse";
const KIND_ORDER = {pick: 0, pack: 1, return: 2, pickup: 3};

function complete(task, body, done) {
  return request("POST", `/warehouse/tasks/${encodeURIComponent(task.task_id)}/complete`, {body}).then(done);
}

function checklist(task, withBoxes) {
  return h("ul.checklist", task.checklist.map((item) => h("li",
    withBoxes ? h("input", {type: "checkbox", required: true, name: "got:" + item.sku,
      "aria-label": `picked ${item.quantity} × ${item.sku}`}) : null,
    h("span.bin", item.bin), h("span.qty", `${item.quantity} ×`), h("span.sku", item.sku),
    h("span.name", item.name))));
}

function pickForm(task, reload) {
  const form = h("form.task-form", checklist(task, true), field("Note", input("note", {maxlength: 500})),
    h("button", {type: "submit", class: "wide"}, "Pick done"));
  return action(form, (key, data) => complete(task, {
    picked: task.checklist.map((i) => ({sku: i.sku, quantity: i.quantity})), note: data.get("note") || null,
  }, () => reload(`picked order ${task.order_id}: it goes to packing`)));
}

function packForm(task, reload) {
  const goods = task.checklist.reduce((sum, i) => sum + i.weight_grams * i.quantity, 0);
  const form = h("form.task-form", checklist(task, false),
    field("Parcel weight (g)", input("weight", {type: "number", min: 1, max: 70000, required: true,
      inputmode: "numeric", class: "weight"}), `the goods weigh ${goods} g without the box`),
    field("Note", input("note", {maxlength: 500})), h("button", {type: "submit", class: "wide"}, "Packed: print label"));
  return action(form, (key, data) => complete(task, {package_weight_grams: Number(data.get("weight")),
    note: data.get("note") || null}, () => reload(`packed order ${task.order_id}: the label is made, ` +
    "the parcel waits for the carrier")));
}

function returnForm(task, reload) {
  const rows = task.checklist.map((item) => h("fieldset.inspect", {dataset: {sku: item.sku}},
    h("legend", `${item.quantity} × ${item.sku} ${item.name}`),
    field("Sellable", input("sellable", {type: "number", min: 0, max: item.quantity, value: item.quantity})),
    field("Damaged", input("damaged", {type: "number", min: 0, max: item.quantity, value: 0})),
    field("Damaged units refund", h("select", {name: "decision"}, ["full", "partial", "none"].map((d) =>
      h("option", {value: d}, d)))),
    field("Partial refund per unit (minor units)", input("amount_per_unit", {type: "number", min: 0})),
    field("Reason (damaged)", input("reason", {maxlength: 300}))));
  const form = h("form.task-form", rows, h("button", {type: "submit", class: "wide"}, "Inspection done"));
  return action(form, (key) => {
    const inspected = rows.map((row) => {
      const get = (n) => row.querySelector(`[name=${n}]`).value;
      const line = {sku: row.dataset.sku, sellable: Number(get("sellable")), damaged: Number(get("damaged"))};
      if (line.damaged > 0 && get("reason")) {
        line.damaged_refund = {decision: get("decision"), reason: get("reason")};
        if (get("decision") === "partial") {
          line.damaged_refund.amount_per_unit = {amount: Number(get("amount_per_unit")), currency: "EUR"};
        }
      }
      return line;
    });
    return complete(task, {inspected}, () => reload(`return of order ${task.order_id} inspected`));
  });
}

// the parcel's label (PDF, bought when it was packed): a presigned link valid for a few minutes, opened in a new tab
// to print. The tab is opened at the click (a popup opened after the request would be blocked), then pointed at it.
function printLabel(task) {
  const button = h("button.secondary", {type: "button", dataset: {label: task.shipment_id}}, "Print label");
  return action(button, async () => {
    const tab = window.open("", "_blank");
    try {
      const answer = await request("GET", `/warehouse/shipments/${encodeURIComponent(task.shipment_id)}/label`);
      if (tab) tab.location.href = answer.url;
      else window.location.assign(answer.url);
    } catch (error) {
      if (tab) tab.close();
      throw error;
    }
  });
}

function taskCard(task, reload) {
  let body;
  if (task.kind === "pick") body = pickForm(task, reload);
  else if (task.kind === "pack") body = packForm(task, reload);
  else if (task.kind === "return") body = returnForm(task, reload);
  else body = h("div", checklist(task, false), h("p.waiting", "Waiting for the carrier's pickup scan."),
    printLabel(task));
  return h("article.task", {dataset: {taskId: task.task_id, kind: task.kind, orderId: task.order_id}},
    h("header", badge(task.kind), " ", h("strong.mono", task.order_id)),
    h("p.instructions", task.instructions), h("small", `parcel ${task.shipment_id}, opened ${when(task.created_at)}`),
    body);
}

export async function tasksView(el, parts, q) {
  const wh = q.wh || localStorage.getItem(WAREHOUSE_KEY) || "";
  const pickWarehouse = h("form.filters", {id: "warehouse-form"},
    field("Warehouse", input("wh", {value: wh, required: true, id: "warehouse-id", pattern: "[a-z0-9][a-z0-9-]{0,63}",
      placeholder: "e.g. berlin"})), h("button", {type: "submit"}, "Show tasks"));
  pickWarehouse.addEventListener("submit", (e) => {
    e.preventDefault();
    const chosen = String(new FormData(pickWarehouse).get("wh")).trim();
    localStorage.setItem(WAREHOUSE_KEY, chosen);
    window.location.hash = "#/warehouse?wh=" + encodeURIComponent(chosen);
  });
  const list = h("div.tasks", {id: "tasks"});
  const flashEl = h("div", {id: "warehouse-flash"});
  const refresh = h("button.secondary", {type: "button", id: "refresh-tasks"}, "Refresh");
  clear(el, h("h1", "Warehouse tasks"), pickWarehouse, flashEl, refresh, list);
  if (!wh) return;
  localStorage.setItem(WAREHOUSE_KEY, wh);
  const reload = async (message) => {
    clear(flashEl, message ? h("div.ok", {role: "status"}, message) : null);
    const tasks = [];
    let cursor = null;
    do {
      const page = await request("GET", `/warehouse/${encodeURIComponent(wh)}/tasks`, {query: {limit: 100, cursor}});
      tasks.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    tasks.sort((a, b) => (KIND_ORDER[a.kind] ?? 9) - (KIND_ORDER[b.kind] ?? 9) || a.created_at.localeCompare(b.created_at));
    clear(list, tasks.length ? tasks.map((t) => taskCard(t, reload)) : h("p.empty", `no open task in ${wh}`));
  };
  action(refresh, () => reload());
  loading(list);
  await reload();
}
