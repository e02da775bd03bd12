// The same-origin REST API: bearer token in sessionStorage, JSON in and out, errors as ApiError.

const BASE = "/api/v1";
const TOKEN_KEY = "rampart.token";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

function headers(hasBody) {
  const out = { Accept: "application/json" };
  if (hasBody) out["Content-Type"] = "application/json";
  const bearer = token();
  if (bearer) out.Authorization = "Bearer " + bearer;
  return out;
}

// FastAPI answers {"detail": "..."} or, for its own validation, {"detail": [{"msg": ...}, ...]}.
function errorMessage(status, body) {
  const detail = body && body.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail) && detail.length && typeof detail[0].msg === "string") return detail[0].msg;
  return "request failed (HTTP " + status + ")";
}

async function readJson(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export async function call(method, path, body) {
  const response = await fetch(BASE + path, {
    method,
    headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
  const data = await readJson(response);
  if (!response.ok) throw new ApiError(response.status, errorMessage(response.status, data));
  return data;
}

export function attachUrl(sessionId) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return scheme + "//" + location.host + BASE + "/sessions/" + encodeURIComponent(sessionId) + "/attach";
}
