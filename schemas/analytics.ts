// Analytics Engine column map for access records, and the report endpoint's query and answer.
// The column map is declared once here: the consumer builds data points from it and SQL queries against the
// dataset (`qaxal_edge_access`) read it, so a column is never renumbered — new fields go at the end.
import * as v from "valibot";
import { type AccessRecord, type DetectionRecord, VISIT_MODES } from "./log-record";

/** index1: the container, so AE samples per container and `WHERE index1 = 'shop1'` is cheap. */
const AE_INDEX = "containerId" as const;

/**
 * blob1..blob7, in this order. `country` is "" when unknown; `bot` is "true", "false" or "" (no verdict made).
 * No identifier of a visitor is ever a column.
 */
export const AE_BLOBS = ["host", "method", "pathClass", "path", "statusClass", "country", "bot"] as const;

/** double1..double5, in this order. `upstreamStatus` is 0 when nothing was fetched; `ts` is epoch ms. */
export const AE_DOUBLES = ["status", "upstreamStatus", "durationMs", "cookieRewrites", "ts"] as const;

export type AeBlob = (typeof AE_BLOBS)[number];
export type AeDouble = (typeof AE_DOUBLES)[number];

/** "2xx", "4xx", …; anything outside 100–599 is "other". */
export function statusClass(status: number): string {
  return status >= 100 && status <= 599 ? `${Math.floor(status / 100)}xx` : "other";
}

/** Shaped for `AnalyticsEngineDataset.writeDataPoint`; the type is spelled out because Node-side tests import this file. */
export function accessDataPoint(record: AccessRecord): { indexes: string[]; blobs: string[]; doubles: number[] } {
  const blobs: Record<AeBlob, string> = {
    host: record.host,
    method: record.method,
    pathClass: record.pathClass,
    path: record.path,
    statusClass: statusClass(record.status),
    country: record.country ?? "",
    bot: record.bot === null ? "" : String(record.bot),
  };
  const doubles: Record<AeDouble, number> = {
    status: record.status,
    upstreamStatus: record.upstreamStatus ?? 0,
    durationMs: record.durationMs,
    cookieRewrites: record.cookieRewrites,
    ts: record.ts,
  };
  return {
    indexes: [record[AE_INDEX]],
    blobs: AE_BLOBS.map((name) => blobs[name]),
    doubles: AE_DOUBLES.map((name) => doubles[name]),
  };
}

/** The SQL column of a field: `blob4` for "path", `double3` for "durationMs". */
export function aeColumn(field: AeBlob | AeDouble): string {
  const blob = (AE_BLOBS as readonly string[]).indexOf(field);
  return blob >= 0 ? `blob${blob + 1}` : `double${(AE_DOUBLES as readonly string[]).indexOf(field) + 1}`;
}

// Detection records (one per browser session) go to a second dataset, `qaxal_edge_sessions`, so that counting
// requests never has to exclude them. index1 is the container; flags are 0/1 so SUM(_sample_interval * flag)
// counts them.
export const AE_SESSION_BLOBS = ["host", "country", "mode", "bot"] as const;
export const AE_SESSION_DOUBLES = ["adblock", "itp", "ts", "etp"] as const;

export function sessionColumn(field: (typeof AE_SESSION_BLOBS)[number] | (typeof AE_SESSION_DOUBLES)[number]): string {
  const blob = (AE_SESSION_BLOBS as readonly string[]).indexOf(field);
  return blob >= 0 ? `blob${blob + 1}` : `double${(AE_SESSION_DOUBLES as readonly string[]).indexOf(field) + 1}`;
}

/** Shaped for `AnalyticsEngineDataset.writeDataPoint`, spelled out like accessDataPoint. */
export function detectionDataPoint(record: DetectionRecord): { indexes: string[]; blobs: string[]; doubles: number[] } {
  const blobs = { host: record.host, country: record.country ?? "", mode: record.mode, bot: record.bot === null ? "" : String(record.bot) };
  const doubles = { adblock: record.adblock ? 1 : 0, itp: record.itp ? 1 : 0, ts: record.ts, etp: record.etp ? 1 : 0 };
  return {
    indexes: [record.containerId],
    blobs: AE_SESSION_BLOBS.map((name) => blobs[name]),
    doubles: AE_SESSION_DOUBLES.map((name) => doubles[name]),
  };
}

// ---- GET /_edge/admin/report ----

/** Longest window a report reads: every hour partition in it is listed and read from R2. */
export const MAX_SINCE_MS = 7 * 24 * 3600_000;

const UNIT_MS = { m: 60_000, h: 3600_000, d: 86_400_000 } as const;

/** A window length ending now: `30m`, `24h`, `7d` (at most 7 days), in milliseconds. */
export function sinceParam(description: string) {
  return v.pipe(
    v.string(),
    // Before the transform: the OpenAPI description is generated from the input side of the pipe.
    v.description(description),
    v.regex(/^[1-9]\d{0,3}[mhd]$/, "since must look like 30m, 24h or 7d"),
    v.transform((text) => Number(text.slice(0, -1)) * UNIT_MS[text.slice(-1) as keyof typeof UNIT_MS]),
    v.maxValue(MAX_SINCE_MS, "since must be at most 7d"),
  );
}

export const ReportQuerySchema = v.strictObject({
  since: v.optional(sinceParam("window ending now: 15m, 1h, 24h, 7d (at most 7d; default 24h)"), "24h"),
  container: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[a-z0-9][a-z0-9_-]{2,63}$/, "container must match ^[a-z0-9][a-z0-9_-]{2,63}$"),
      v.description("one container (default: all the caller may read)"),
    ),
  ),
  source: v.optional(
    v.pipe(
      v.picklist(["r2", "analytics-engine"], 'source must be "r2" or "analytics-engine"'),
      v.description("default: analytics-engine when CF_ACCOUNT_ID and ANALYTICS_API_TOKEN are set, else r2"),
    ),
  ),
});

const Rate = v.nullable(v.number());
const Count = v.pipe(v.number(), v.integer(), v.minValue(0));
const ranked = <K extends string>(key: K, value: v.GenericSchema<unknown, string | number>) =>
  v.array(v.object({ [key]: value, count: Count } as Record<K, typeof value> & { count: typeof Count }));

/** The figures of one period, for the comparison with the period before the window. */
const PeriodSummarySchema = v.object({
  from: v.string(),
  to: v.string(),
  requests: Count,
  errors: v.pipe(Count, v.description("5xx answers")),
  latencyP95: Rate,
  sessions: Count,
  adblockRate: Rate,
  itpRate: Rate,
  recoveredRate: Rate,
  botShare: Rate,
});

/** GET /_edge/admin/report: the same shape whether it was read from R2 or from Analytics Engine. */
export const ReportSchema = v.object({
  containerId: v.nullable(v.string()),
  from: v.string(),
  to: v.string(),
  source: v.pipe(
    v.picklist(["r2", "analytics-engine"]),
    v.description("r2: the raw batches (local runs); analytics-engine: the SQL API (production)"),
  ),
  objectsRead: v.pipe(Count, v.description("R2 batch objects read (0 for analytics-engine)")),
  truncated: v.pipe(v.boolean(), v.description("the window held more R2 batches than one report reads; figures cover the newest part")),
  requests: v.object({
    total: Count,
    errors: v.pipe(Count, v.description("5xx answers")),
    bucketSeconds: v.pipe(Count, v.description("length of one series bucket")),
    series: v.pipe(
      v.array(v.object({ t: v.string(), count: Count, errors: Count, previous: v.nullable(Count) })),
      v.description("zero-filled, oldest first; t is the bucket start; previous is the same bucket one period earlier"),
    ),
  }),
  previous: v.pipe(
    v.nullable(PeriodSummarySchema),
    v.description("the period of equal length just before the window; null when it could not be read whole"),
  ),
  statusClasses: v.record(v.string(), Count),
  statuses: ranked("status", v.number()),
  topPaths: ranked("path", v.string()),
  hosts: ranked("host", v.string()),
  countries: v.pipe(ranked("country", v.string()), v.description('two-letter country codes; "unknown" when the edge had none')),
  latencyMs: v.pipe(
    v.object({ p50: Rate, p95: Rate, samples: Count }),
    v.description("time to the upstream's answer headers, proxied requests only"),
  ),
  cookieKeeper: v.object({ rewrites: Count, requestsWithRewrites: Count }),
  bots: v.pipe(
    v.object({
      requestsChecked: Count,
      requestsBot: Count,
      requestShare: Rate,
      sessionsChecked: Count,
      sessionsBot: Count,
      sessionShare: Rate,
    }),
    v.description("botDetection verdicts: only records that carry one count, so shares are of checked traffic (null: nothing checked)"),
  ),
  detection: v.object({
    sessions: Count,
    adblock: Count,
    itp: Count,
    adblockRate: Rate,
    itpRate: Rate,
    etp: v.pipe(Count, v.description("Firefox sessions (Enhanced Tracking Protection is on by default there)")),
    etpRate: Rate,
    recoveredRate: v.pipe(Rate, v.description("sessions with ad-block, ITP or ETP: measured only because tracking was first-party")),
    modes: v.pipe(
      v.record(v.picklist(VISIT_MODES), Count),
      v.description("sessions per deployment mode the edge measured (same-origin, subdomain, cross-site, unknown)"),
    ),
  }),
});

export type Report = v.InferOutput<typeof ReportSchema>;
export type PeriodSummary = v.InferOutput<typeof PeriodSummarySchema>;
