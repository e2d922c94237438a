// DOM helpers of the console. Everything the API returns goes into the page as text (textContent), never as
// HTML: a product name or a support message cannot inject markup. The one HTML document shown, the daily
// report, goes into a sandboxed frame without scripts.

import {ApiError} from "./api.js";

/** h("tag.class", {attr: value, onclick: fn}, child, ...): an element; strings become text nodes. */
export function h(spec, attrs, ...children) {
  const [tag, ...classes] = spec.split(".");
  const el = document.createElement(tag || "div");
  if (classes.length) el.className = classes.join(" ");
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "value") el.value = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const fractionDigits = {};

function digits(currency) {
  if (!(currency in fractionDigits)) {
    fractionDigits[currency] = new Intl.NumberFormat("en", {style: "currency", currency})
      .resolvedOptions().maximumFractionDigits;
  }
  return fractionDigits[currency];
}

/** Money {amount (minor units), currency} for people: "€25.90". */
export function money(m) {
  if (!m || m.amount === undefined || m.amount === null) return "—";
  const d = digits(m.currency);
  return new Intl.NumberFormat(undefined, {style: "currency", currency: m.currency})
    .format(m.amount / 10 ** d);
}

/** What a person typed ("12.5", "12,50") in ``currency`` as minor units; NaN when it is no amount. */
export function toMinor(text, currency) {
  const clean = String(text).trim().replace(",", ".");
  if (!/^\d+(\.\d+)?$/.test(clean)) return NaN;
  const d = digits(currency);
  const [whole, frac = ""] = clean.split(".");
  if (frac.length > d) return NaN;
  return Number(whole) * 10 ** d + Number((frac + "0".repeat(d)).slice(0, d) || 0);
}

/** Money as a person types it ("12.50"): the value of an input. */
export function toMajor(m) {
  const d = digits(m.currency);
  return (m.amount / 10 ** d).toFixed(d);
}

export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, {dateStyle: "medium", timeStyle: "short"});
}

export function badge(text, kind) {
  return h("span.badge", {"data-kind": kind || String(text).toLowerCase()}, text);
}

/** A table: columns [{label, cell: (row) => node|text}], rows; an empty list says so. */
export function table(columns, rows, empty = "nothing here") {
  if (!rows.length) return h("p.empty", empty);
  return h("div.table-wrap",
    h("table",
      h("thead", h("tr", columns.map((c) => h("th", c.label)))),
      h("tbody", rows.map((r) => h("tr", columns.map((c) => h("td", {"data-label": c.label}, c.cell(r))))))));
}

export function section(title, ...children) {
  return h("section.card", h("h2", title), ...children);
}

export function dl(pairs) {
  return h("dl.facts", pairs.filter(Boolean).map(([k, v]) => [h("dt", k), h("dd", v)]));
}

/** The API's error as it states it: the message, then each field it names with its own message. */
export function errorBox(error) {
  const box = h("div.error", {role: "alert"});
  if (error instanceof ApiError) {
    box.append(h("strong", error.message));
    if (error.status) box.append(h("span.status", ` (${error.status} ${error.code})`));
    if (error.fields.length) {
      box.append(h("ul", error.fields.map((f) => h("li", h("code", f.field), ": ", f.message))));
    }
  } else {
    box.append(h("strong", String(error && error.message ? error.message : error)));
  }
  return box;
}

/** Runs a user action from ``form`` (or a button): its buttons are disabled while the request runs, so a double
 * click sends one request; the action gets one Idempotency-Key per user action, kept for a retry of the same
 * input (a network error, a timeout) and replaced once the action succeeded or the input changed. Errors are
 * shown in the form's .feedback element. */
export function action(form, work, {confirmText} = {}) {
  const isForm = form.tagName === "FORM";
  const feedback = isForm ? form.querySelector(".feedback") || form.appendChild(h("div.feedback")) : null;
  if (isForm) form.addEventListener("input", () => delete form.dataset.key);
  const run = async (event) => {
    if (event) event.preventDefault();
    if (form.dataset.busy === "1") return;
    if (confirmText && !window.confirm(confirmText)) return;
    const buttons = isForm ? [...form.querySelectorAll("button, input[type=submit]")] : [form];
    form.dataset.busy = "1";
    buttons.forEach((b) => (b.disabled = true));
    if (feedback) clear(feedback);
    if (!form.dataset.key) form.dataset.key = crypto.randomUUID();
    try {
      const done = await work(form.dataset.key, isForm ? new FormData(form) : null);
      delete form.dataset.key;
      if (feedback && typeof done === "string") clear(feedback, h("div.ok", {role: "status"}, done));
    } catch (error) {
      const box = errorBox(error);
      if (feedback) clear(feedback, box);
      else form.after(box);
      console.warn("console action failed", error);
    } finally {
      form.dataset.busy = "0";
      buttons.forEach((b) => (b.disabled = false));
    }
  };
  form.addEventListener(isForm ? "submit" : "click", run);
  return form;
}

export function field(label, input, hint) {
  return h("label.field", h("span", label), input, hint ? h("small", hint) : null);
}

export function input(name, attrs = {}) {
  return h("input", {name, id: attrs.id || undefined, ...attrs});
}

export function select(name, options, value, attrs = {}) {
  return h("select", {name, ...attrs},
    options.map((o) => {
      const [v, label] = Array.isArray(o) ? o : [o, o || "any"];
      return h("option", {value: v, selected: v === value}, label);
    }));
}

/** A link inside the console (hash route). */
export function link(href, text, attrs = {}) {
  return h("a", {href: "#" + href, ...attrs}, text);
}

export function loading(el, what = "loading") {
  clear(el, h("p.loading", {"aria-busy": "true"}, what + "…"));
}
