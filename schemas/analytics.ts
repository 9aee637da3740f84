// Analytics Engine column map for access records, and the report endpoint's query and answer.
// The column map is declared once here: the consumer builds data points from it and SQL queries against the
// dataset (`qaxal_edge_access`) read it, so a column is never renumbered — new fields go at the end.
import * as v from "valibot";
import type { AccessRecord, VisitMode } from "./log-record";

/** index1: the container, so AE samples per container and `WHERE index1 = 'shop1'` is cheap. */
export const AE_INDEX = "containerId" as const;

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

export function accessDataPoint(record: AccessRecord): AnalyticsEngineDataPoint {
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

// ---- GET /_edge/admin/report ----

/** Longest window a report reads: every hour partition in it is listed and read from R2. */
export const MAX_SINCE_MS = 7 * 24 * 3600_000;

const UNIT_MS = { m: 60_000, h: 3600_000, d: 86_400_000 } as const;

export const ReportQuerySchema = v.object({
  since: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[1-9]\d{0,3}[mhd]$/, "since must look like 30m, 24h or 7d"),
      v.transform((text) => Number(text.slice(0, -1)) * UNIT_MS[text.slice(-1) as keyof typeof UNIT_MS]),
      v.maxValue(MAX_SINCE_MS, "since must be at most 7d"),
    ),
    "24h",
  ),
  container: v.optional(
    v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9_-]{2,63}$/, "container must match ^[a-z0-9][a-z0-9_-]{2,63}$")),
  ),
});

export interface Report {
  containerId: string | null;
  from: string;
  to: string;
  /** R2 batch objects read; `truncated` when the window held more than the report reads. */
  objectsRead: number;
  truncated: boolean;
  requests: {
    total: number;
    bucketMinutes: number;
    /** Zero-filled, oldest first; `t` is the bucket start (ISO). */
    series: { t: string; count: number; errors: number }[];
  };
  statusClasses: Record<string, number>;
  topPaths: { path: string; count: number }[];
  /** Proxied requests only (pathClass proxy or passthrough); null when there were none. */
  latencyMs: { p50: number | null; p95: number | null; samples: number };
  cookieKeeper: { rewrites: number; requestsWithRewrites: number };
  detection: {
    sessions: number;
    adblock: number;
    itp: number;
    /** Firefox sessions (Enhanced Tracking Protection). */
    etp: number;
    adblockRate: number | null;
    itpRate: number | null;
    etpRate: number | null;
    /** Sessions with ad-block, ITP or ETP: measured only because tracking was first-party. */
    recoveredRate: number | null;
    /** Sessions per deployment mode the edge measured (workers/loader/visit-mode.ts). */
    modes: Record<VisitMode, number>;
  };
  /**
   * The botDetection verdicts: only records that carry one count (containers with the module active), so the
   * shares are of checked traffic. Null shares: nothing was checked.
   */
  bots: {
    requestsChecked: number;
    requestsBot: number;
    requestShare: number | null;
    sessionsChecked: number;
    sessionsBot: number;
    sessionShare: number | null;
  };
}
