// Handlers for the operator's observability endpoints (registered in workers/admin/api.ts).
import type { IRequest } from "itty-router";
import * as v from "valibot";
import { ReportQuerySchema } from "../../schemas/analytics";
import { describeIssues } from "../../schemas/issues";
import { EdgeError, jsonResponse } from "../shared/errors";
import { dashboardHeaders, dashboardPage } from "./dashboard-page";
import { buildReport } from "./report";

/** GET /_edge/admin/report?since=24h&container=<id> (bearer auth: behind the /_edge/admin/* guard). */
export async function reportHandler(request: IRequest, env: Env): Promise<Response> {
  const parsed = v.safeParse(ReportQuerySchema, Object.fromEntries(new URL(request.url).searchParams));
  if (!parsed.success) throw new EdgeError(400, "invalid_query", `invalid query: ${describeIssues(parsed.issues)}`);
  const query = parsed.output;
  const to = Date.now();
  const report = await buildReport(env.LOG_BUCKET, { from: to - query.since, to, containerId: query.container ?? null });
  return jsonResponse(report);
}

/** GET /_edge/admin/dashboard: the page only; its data comes from the report endpoint with the operator's token. */
export function dashboardHandler(): Response {
  const nonce = crypto.randomUUID().replaceAll("-", "");
  return new Response(dashboardPage(nonce), { headers: dashboardHeaders(nonce) });
}
