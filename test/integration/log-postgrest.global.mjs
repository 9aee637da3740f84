// vitest globalSetup: a small HTTP stand-in for Supabase's PostgREST, only for the `loader_sessions` upsert the
// log consumer makes. PostgREST itself cannot run here (no Docker), so this server checks the request shape the
// PostgREST / supabase-js docs describe for an upsert and refuses anything else the way PostgREST would:
//   POST /rest/v1/loader_sessions?on_conflict=session_id
//   headers: apikey: <key>, Authorization: Bearer <key>, Content-Type: application/json,
//            Prefer: resolution=merge-duplicates
//   body: a JSON array of rows
// Each test uses its own base path (`/t/<name>/rest/v1/...`) so state never leaks between tests; a name ending
// in `-down` answers 503 to every call (Supabase unavailable). `GET /t/<name>/__calls` lists what arrived.
import { createServer } from "node:http";

// The service-role key the tests configure (log-sessions.test.ts).
const SERVICE_ROLE_KEY = "service-role-test";
const COLUMNS = ["session_id", "container_id", "host", "adblock", "itp", "country", "detected_at"];

/** tenant -> { rows: Map<session_id, row>, calls: [{ method, url, headers, body }] } */
const tenants = new Map();

function tenant(name) {
  if (!tenants.has(name)) tenants.set(name, { rows: new Map(), calls: [] });
  return tenants.get(name);
}

function pgError(res, status, code, message) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify({ code, message, details: null, hint: null }));
}

function shapeProblem(req, url, rows) {
  const key = SERVICE_ROLE_KEY;
  if (req.headers.apikey !== key) return "apikey header missing or wrong";
  if (req.headers.authorization !== `Bearer ${key}`) return "Authorization: Bearer <key> missing or wrong";
  if (!String(req.headers["content-type"]).startsWith("application/json")) return "Content-Type must be application/json";
  if (!String(req.headers.prefer).split(/,\s*/).includes("resolution=merge-duplicates")) return "Prefer: resolution=merge-duplicates missing";
  if (url.searchParams.get("on_conflict") !== "session_id") return "on_conflict=session_id missing";
  if (!Array.isArray(rows) || rows.length === 0) return "body must be a non-empty JSON array";
  for (const row of rows) {
    const unknown = Object.keys(row).find((k) => !COLUMNS.includes(k));
    if (unknown) return `unknown column ${unknown}`;
    const missing = COLUMNS.find((k) => !(k in row));
    if (missing) return `missing column ${missing}`;
  }
  return null;
}

async function handle(req, res) {
  const url = new URL(req.url, "http://standin");
  const match = /^\/t\/([\w-]+)(\/.*)$/.exec(url.pathname);
  if (!match) return pgError(res, 404, "PGRST000", "no tenant in path");
  const [, name, path] = match;
  const state = tenant(name);
  if (path === "/__calls") {
    res.writeHead(200, { "Content-Type": "application/json" });
    return res.end(JSON.stringify({ calls: state.calls, rows: [...state.rows.values()] }));
  }
  let text = "";
  for await (const chunk of req) text += chunk;
  state.calls.push({ method: req.method, url: path + url.search, headers: req.headers, body: text });
  if (name.endsWith("-down")) return pgError(res, 503, "PGRST002", "Could not query the database for the schema cache");
  if (req.method !== "POST" || path !== "/rest/v1/loader_sessions") return pgError(res, 404, "PGRST125", `no route ${req.method} ${path}`);
  let rows;
  try {
    rows = JSON.parse(text);
  } catch {
    return pgError(res, 400, "PGRST102", "Empty or invalid json");
  }
  const problem = shapeProblem(req, url, rows);
  if (problem) return pgError(res, 400, "PGRST100", problem);
  // Postgres refuses an upsert that touches one row twice in the same statement.
  if (new Set(rows.map((r) => r.session_id)).size !== rows.length) {
    return pgError(res, 500, "21000", "ON CONFLICT DO UPDATE command cannot affect row a second time");
  }
  for (const row of rows) state.rows.set(row.session_id, row);
  res.writeHead(201);
  res.end();
}

export default async function setup(project) {
  const server = createServer((req, res) => {
    handle(req, res).catch((error) => pgError(res, 500, "XX000", String(error)));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  project.provide("logPostgrestUrl", `http://127.0.0.1:${server.address().port}`);
  return () => new Promise((resolve) => server.close(resolve));
}
