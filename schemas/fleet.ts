// GET /_edge/admin/fleet: one row per container with its traffic, sync, custom domains and alerts, sorted and
// searched on the server (workers/reports/fleet.ts). The OpenAPI description is generated from these.
import * as v from "valibot";
import { limitParam } from "./admin";
import { sinceParam } from "./fields";

const FLEET_SORTS = ["health", "errors", "requests", "upstream", "lastSeen", "name"] as const;

const MAX_FLEET_PAGE = 100;

export const FleetQuerySchema = v.strictObject({
  since: v.optional(sinceParam("traffic window ending now: 15m, 1h, 24h, 7d (at most 7d; default 1h)"), "1h"),
  q: v.optional(
    v.pipe(
      v.string(),
      v.maxLength(100, "q must be at most 100 characters"),
      v.description("only containers whose id or one of whose hosts contains this text"),
      v.transform((text) => text.trim().toLowerCase()),
    ),
    "",
  ),
  sort: v.optional(
    v.pipe(
      v.picklist(FLEET_SORTS, `sort must be one of ${FLEET_SORTS.join(", ")}`),
      v.description("health (worst first, default), errors (5xx share), requests, upstream (upstream errors), lastSeen, name"),
    ),
    "health",
  ),
  limit: limitParam(MAX_FLEET_PAGE, 50),
  cursor: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,6}$/, "cursor must be the next value of the previous page"),
      v.description("the previous page's next"),
      v.transform(Number),
    ),
    "0",
  ),
});
export type FleetQuery = v.InferOutput<typeof FleetQuerySchema>;

const Count = v.pipe(v.number(), v.integer(), v.minValue(0));
const Share = v.nullable(v.number());

/** Worst first: gone (deleted) sorts last. */
export const HEALTH = ["fail", "warn", "ok", "idle", "gone"] as const;
export type Health = (typeof HEALTH)[number];

const FleetRowSchema = v.object({
  containerId: v.string(),
  hosts: v.pipe(v.array(v.string()), v.description("public hosts, then infra hosts")),
  health: v.pipe(
    v.picklist(HEALTH),
    v.description(
      "fail: 5xx share over its alert threshold, a failing sync or an error alert; warn: updating, another open alert or a domain not live; ok; idle: no traffic; gone: deleted",
    ),
  ),
  why: v.pipe(v.array(v.string()), v.description("what made the health what it is, in words (empty when ok)")),
  requests: Count,
  errors: v.pipe(Count, v.description("5xx answers")),
  errorShare: v.pipe(Share, v.description("errors / requests; null without requests")),
  upstreamErrors: v.pipe(Count, v.description("answers the edge gave because the upstream failed (unreachable, timeout, invalid status)")),
  reasons: v.pipe(
    v.array(v.object({ reason: v.string(), count: Count })),
    v.description("the access records' reason codes, most frequent first (at most 3)"),
  ),
  lastSeen: v.pipe(v.nullable(v.string()), v.description("the newest request in the window; null: none")),
  sync: v.pipe(
    v.nullable(v.picklist(["live", "updating", "failing", "deleted"])),
    v.description("config sync (null: not read for this row)"),
  ),
  appliedVersion: v.nullable(Count),
  desiredVersion: v.nullable(Count),
  lastError: v.nullable(v.string()),
  domains: v.pipe(v.object({ total: Count, live: Count }), v.description("custom hostnames, and how many route live traffic")),
  alerts: v.pipe(v.array(v.string()), v.description("the open alerts' messages")),
});
export type FleetRow = v.InferOutput<typeof FleetRowSchema>;

export const FleetSchema = v.object({
  from: v.string(),
  to: v.string(),
  total: v.pipe(Count, v.description("containers matching q (all pages)")),
  ids: v.pipe(v.array(v.string()), v.description("every container the caller may read, by name (for a picker)")),
  counts: v.pipe(
    v.record(v.picklist(HEALTH), Count),
    v.description("containers matching q by health, from traffic and open alerts (a sync failure counts once its alert is open)"),
  ),
  containers: v.array(FleetRowSchema),
  next: v.pipe(v.nullable(v.string()), v.description("pass as ?cursor= for the next page; null at the end")),
  platform: v.pipe(
    v.object({
      requests: Count,
      errors: Count,
      errorShare: Share,
      topErrors: v.array(v.object({ containerId: v.string(), errors: Count, errorShare: Share, shareOfErrors: v.number() })),
    }),
    v.description("every container the caller may read: the 5xx share and the containers behind it (at most 5)"),
  ),
  objectsRead: Count,
  truncated: v.pipe(v.boolean(), v.description("the window held more log batches than one read covers; figures are the newest part")),
});
export type Fleet = v.InferOutput<typeof FleetSchema>;
