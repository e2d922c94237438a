// The staff console's shell: sign-in, the navigation the user's Cognito groups allow, and the hash router
// (#/orders, #/orders/<id>, #/warehouse ...): a static page needs no server-side routes, on S3 as locally.

import {loadConfig, login, logout, session} from "./api.js";
import {clear, errorBox, h} from "./ui.js";
import * as admin from "./admin.js";
import * as warehouse from "./warehouse.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");

const ADMIN_NAV = [
  ["orders", "Orders"], ["attention", "Needs attention"], ["returns", "Returns"], ["customers", "Customers"],
  ["purchase-orders", "Purchase orders"], ["stock", "Stock"], ["reports", "Reports"], ["support", "Support"],
];
const WAREHOUSE_NAV = [["warehouse", "Warehouse tasks"]];

const ROUTES = {
  "orders": [admin.ordersView, "admin"],
  "attention": [(el, p, q) => admin.ordersView(el, p, {...q, status: "NEEDS_ATTENTION"}), "admin"],
  "returns": [admin.returnsView, "admin"],
  "customers": [admin.customersView, "admin"],
  "purchase-orders": [admin.purchaseOrdersView, "admin"],
  "stock": [admin.stockView, "admin"],
  "reports": [admin.reportsView, "admin"],
  "support": [admin.supportView, "admin"],
  "warehouse": [warehouse.tasksView, "warehouse"],
};

function parseHash() {
  const [path, query = ""] = window.location.hash.replace(/^#\/?/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return {parts, query: Object.fromEntries(new URLSearchParams(query))};
}

function renderLogin(message) {
  clear(nav);
  clear(who);
  const form = h("form.card.login", {id: "login-form"},
    h("h2", "Staff sign-in"),
    message ? h("p.notice", message) : null,
    h("label.field", h("span", "E-mail"), h("input", {name: "email", type: "email", required: true,
      autocomplete: "username", id: "login-email"})),
    h("label.field", h("span", "Password"), h("input", {name: "password", type: "password", required: true,
      autocomplete: "current-password", id: "login-password"})),
    h("button", {type: "submit", id: "login-submit"}, "Sign in"),
    h("div.feedback"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    const data = new FormData(form);
    try {
      const me = await login(String(data.get("email")), String(data.get("password")));
      if (!allowed(me).length) {
        logout();
        clear(form.querySelector(".feedback"), h("div.error", {role: "alert"},
          "this account is in no staff group (admin or warehouse): the console has nothing for it"));
        return;
      }
      // a link followed while signed out (the daily report e-mail's #/reports?date=...) opens after sign-in
      const wanted = ROUTES[parseHash().parts[0]];
      if (!wanted || !me.groups.includes(wanted[1])) window.location.hash = "#/" + allowed(me)[0][0];
      route();
    } catch (error) {
      clear(form.querySelector(".feedback"), errorBox(error));
    } finally {
      button.disabled = false;
    }
  });
  clear(main, form);
}

function allowed(me) {
  const out = [];
  if (me.groups.includes("admin")) out.push(...ADMIN_NAV);
  if (me.groups.includes("warehouse")) out.push(...WAREHOUSE_NAV);
  return out;
}

function renderChrome(me, current) {
  clear(nav, allowed(me).map(([id, label]) =>
    h("a", {href: "#/" + id, "aria-current": id === current ? "page" : undefined, id: "nav-" + id}, label)));
  clear(who, h("span.email", me.email), " ", h("span.groups", me.groups.join(", ")), " ",
    h("button.link", {type: "button", id: "logout", onclick: () => {
      logout();
      window.location.hash = "";
      renderLogin("signed out");
    }}, "Sign out"));
}

async function route() {
  const me = session();
  if (!me) return renderLogin();
  const items = allowed(me);
  if (!items.length) {
    logout();
    return renderLogin("this account is in no staff group");
  }
  const {parts, query} = parseHash();
  const [name = items[0][0], ...rest] = parts;
  const found = ROUTES[name];
  renderChrome(me, name);
  if (!found || !me.groups.includes(found[1])) {
    clear(main, h("p.error", `no page ${name} for your groups (${me.groups.join(", ") || "none"})`));
    return;
  }
  try {
    await found[0](main, rest, query);
  } catch (error) {
    clear(main, errorBox(error));
  }
}

window.addEventListener("hashchange", route);
window.addEventListener("console:signed-out", (e) => renderLogin("please sign in again: " + e.detail));

await loadConfig();
route();
