// Handlers for the operator's observability endpoints (registered in workers/admin/api.ts, behind authentication).
import { FleetQuerySchema } from "../../schemas/fleet";
import { LogSearchQuerySchema } from "../../schemas/log-search";
import { ReportQuerySchema } from "../../schemas/report";
import { authorize, type OperatorRequest, readScope } from "../admin/access";
import { parseQuery } from "../shared/body";
import { EdgeError, jsonResponse } from "../shared/errors";
import { analyticsConfigured, buildAnalyticsReport } from "./analytics-sql";
import { dashboardHeaders, dashboardPage } from "./dashboard-page";
import { buildFleet } from "./fleet";
import { searchLogs } from "./log-search";
import { buildReport } from "./report";

/** GET /_edge/admin/report?since=24h&container=<id> */
export async function reportHandler(request: OperatorRequest, env: Env): Promise<Response> {
  const query = parseQuery(ReportQuerySchema, request.url);
  authorize(request, "read", query.container ? [query.container] : "*");
  const to = Date.now();
  const window = { from: to - query.since, to, containerId: query.container ?? null };
  const source = query.source ?? (analyticsConfigured(env) ? "analytics-engine" : "r2");
  if (source === "analytics-engine" && !analyticsConfigured(env)) {
    throw new EdgeError(
      400,
      "invalid_query",
      "invalid query: source analytics-engine needs CF_ACCOUNT_ID and the ANALYTICS_API_TOKEN secret",
    );
  }
  return jsonResponse(source === "r2" ? await buildReport(env.LOG_BUCKET, window) : await buildAnalyticsReport(env, window));
}

/** GET /_edge/admin/fleet?since=1h&q=&sort=health&limit=50&cursor= : the caller's containers, worst first. */
export async function fleetHandler(request: OperatorRequest, env: Env): Promise<Response> {
  const query = parseQuery(FleetQuerySchema, request.url);
  return jsonResponse(await buildFleet(env, readScope(request), query));
}

/** GET /_edge/admin/logs?container=&since=|from=&to=&status=&path=&host=&kind=&limit=&cursor=&format=json|ndjson */
export async function logsHandler(request: OperatorRequest, env: Env): Promise<Response> {
  const query = parseQuery(LogSearchQuerySchema, request.url);
  authorize(request, "read", query.container ? [query.container] : "*");
  const page = await searchLogs(env.LOG_BUCKET, query);
  if (page.skipped > 0) console.warn(JSON.stringify({ event: "log_search_lines_skipped", skipped: page.skipped }));
  const window = { from: new Date(query.from).toISOString(), to: new Date(query.to).toISOString() };
  const next = page.cursor ? nextPageUrl(request.url, page.cursor, query.from, query.to) : null;
  if (query.format === "json")
    return jsonResponse({ window, records: page.records, cursor: page.cursor, next, objectsRead: page.objectsRead });

  const headers = new Headers({
    "Content-Type": "application/x-ndjson; charset=utf-8",
    "Cache-Control": "no-store",
    "Content-Disposition": `attachment; filename="qaxal-logs-${window.from.replace(/[:.]/g, "-")}.ndjson"`,
    "X-Objects-Read": String(page.objectsRead),
  });
  if (page.cursor) {
    headers.set("X-Next-Cursor", page.cursor);
    headers.set("Link", `<${next}>; rel="next"`);
  }
  return new Response(page.records.map((record) => JSON.stringify(record)).join("\n") + (page.records.length ? "\n" : ""), { headers });
}

/** The same search's next page. The window is pinned (from/to), so "since" no longer slides with the clock. */
function nextPageUrl(url: string, cursor: string, from: number, to: number): string {
  const next = new URL(url);
  next.searchParams.delete("since");
  next.searchParams.set("from", String(from));
  next.searchParams.set("to", String(to));
  next.searchParams.set("cursor", cursor);
  return `${next.pathname}${next.search}`;
}

/** GET /_edge/admin/dashboard: the page only; its data comes from the API with the operator's token. */
export function dashboardHandler(): Response {
  const nonce = crypto.randomUUID().replaceAll("-", "");
  return new Response(dashboardPage(nonce), { headers: dashboardHeaders(nonce) });
}
