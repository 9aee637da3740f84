// Handlers for the operator's observability endpoints (registered in workers/admin/api.ts).
import type { IRequest } from "itty-router";
import { ReportQuerySchema } from "../../schemas/analytics";
import { parseQuery } from "../shared/body";
import { jsonResponse } from "../shared/errors";
import { dashboardHeaders, dashboardPage } from "./dashboard-page";
import { buildReport } from "./report";

/** GET /_edge/admin/report?since=24h&container=<id> (bearer auth: behind the /_edge/admin/* guard). */
export async function reportHandler(request: IRequest, env: Env): Promise<Response> {
  const query = parseQuery(ReportQuerySchema, request.url);
  const to = Date.now();
  const report = await buildReport(env.LOG_BUCKET, { from: to - query.since, to, containerId: query.container ?? null });
  return jsonResponse(report);
}

/** GET /_edge/admin/dashboard: the page only; its data comes from the report endpoint with the operator's token. */
export function dashboardHandler(): Response {
  const nonce = crypto.randomUUID().replaceAll("-", "");
  return new Response(dashboardPage(nonce), { headers: dashboardHeaders(nonce) });
}
