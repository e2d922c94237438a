// The API client of the staff console: where the API is (config.json), the signed-in staff member (the Cognito
// ID token from POST /auth/login, kept in sessionStorage: gone when the tab closes), and fetch() with the
// token, the Idempotency-Key and the API's errors turned into ApiError (its message and the offending fields).

const TOKEN_KEY = "shop.console.idToken";
let apiBase = "";

/** Reads config.json beside index.html: {"api_base": "https://<api id>.execute-api.<region>.amazonaws.com"} on AWS (written by
 * `make deploy-console`), "" (this origin) locally. */
export async function loadConfig() {
  try {
    const r = await fetch("config.json", {cache: "no-store"});
    if (r.ok) apiBase = String((await r.json()).api_base || "").replace(/\/+$/, "");
  } catch (e) {
    apiBase = "";
  }
  return apiBase;
}

/** An error as the API states it: HTTP status, code, message and the fields it names. */
export class ApiError extends Error {
  constructor(status, code, message, fields) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields || [];
  }
}

function decodeJwt(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = part + "=".repeat((4 - (part.length % 4)) % 4);
    const text = new TextDecoder().decode(Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)));
    return JSON.parse(text);
  } catch (e) {
    return null;
  }
}

/** The signed-in staff member from the stored token ({email, groups, exp}), or null (none, or expired). */
export function session() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return null;
  const claims = decodeJwt(token);
  if (!claims || (claims.exp && claims.exp * 1000 < Date.now())) {
    sessionStorage.removeItem(TOKEN_KEY);
    return null;
  }
  let groups = claims["cognito:groups"] || [];
  if (typeof groups === "string") groups = groups.split(",");
  return {token, email: claims.email || claims["cognito:username"] || "", groups: groups.map((g) => g.trim())};
}

export function logout() {
  sessionStorage.removeItem(TOKEN_KEY);
}

export async function login(email, password) {
  const answer = await request("POST", "/auth/login", {body: {email, password}, anonymous: true});
  sessionStorage.setItem(TOKEN_KEY, answer.id_token);
  return session();
}

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch (e) {
    body = null;
  }
  const err = body && body.error;
  if (err) {
    const fields = ((err.details && err.details.fields) || []).map((f) => ({field: f.field, message: f.message}));
    return new ApiError(response.status, err.code || "error", err.message || response.statusText, fields);
  }
  // the HTTP API's own answers (authorizer 401, unknown route 404, 413, 500): {"message": "..."}. They carry no
  // CORS header, so from another origin (the console on CloudFront) fetch() fails instead: session() drops an
  // expired token before it is sent (docs/local-gateway.md, CORS)
  const message = (body && body.message) || response.statusText || "request failed";
  return new ApiError(response.status, "gateway", message, []);
}

/** One API call. ``key``: the Idempotency-Key of the user action (state-changing routes that take one).
 * ``raw``: answer the text (the daily report's HTML) instead of parsed JSON. */
export async function request(method, path, {body, query, key, raw, anonymous} = {}) {
  const url = new URL(apiBase + path, window.location.href);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  }
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (key) headers["Idempotency-Key"] = key;
  if (!anonymous) {
    const who = session();
    if (!who) throw new ApiError(401, "signed_out", "your session ended: sign in again", []);
    headers["Authorization"] = "Bearer " + who.token;
  }
  let response;
  try {
    response = await fetch(url, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  } catch (e) {
    throw new ApiError(0, "network", "the API cannot be reached (" + e.message + ")", []);
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (response.status === 401 && !anonymous) {
      logout();
      window.dispatchEvent(new CustomEvent("console:signed-out", {detail: error.message}));
    }
    throw error;
  }
  if (raw) return response.text();
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}
