// The Analytics Engine column map: which field is which column of the two datasets. The consumer's data points
// (workers/log-consumer/analytics-points.ts) are built from it and the report's SQL (workers/reports/analytics-sql.ts)
// reads it, so a column is never renumbered: new fields go at the end.

/** index1: the container, so AE samples per container and `WHERE index1 = 'shop1'` is cheap. */
export const AE_INDEX = "containerId" as const;

/**
 * ACCESS_ANALYTICS holds aggregates: one point per distinct set of these blobs (and status, upstream status) among the
 * counted access records of a window (durable/analytics-window.ts). blob1..blob8, in this order. `country` is "" when unknown; `bot` is
 * "true", "false" or "" (no verdict made); `reason` is the edge's error code, "" when the upstream answered. No
 * identifier of a visitor is ever a column.
 */
export const AE_BLOBS = ["host", "method", "pathClass", "path", "statusClass", "country", "bot", "reason"] as const;

/**
 * Upper edges (ms, inclusive) of the duration histogram's buckets; the last bucket is open (above 5,000 ms).
 * Percentiles from Analytics Engine are read off it, so they are exact to a bucket.
 */
export const DURATION_BUCKETS_MS = [10, 25, 50, 100, 250, 500, 1000, 2500, 5000] as const;
const HISTOGRAM = ["le10", "le25", "le50", "le100", "le250", "le500", "le1000", "le2500", "le5000", "over5000"] as const;

/**
 * double1..double18, in this order. `status` and `upstreamStatus` (0 when nothing was fetched) are dimensions;
 * the rest are sums over the point's records: `durationSum` (ms), `cookieRewrites`, `count` (records),
 * `withRewrites` (records with a rewrite), the histogram's bucket counts; `durationMax` is their maximum and `ts`
 * the earliest record's time (epoch ms; AE's `timestamp` is the write time).
 */
export const AE_DOUBLES = [
  "status",
  "upstreamStatus",
  "durationSum",
  "cookieRewrites",
  "ts",
  "count",
  "withRewrites",
  "durationMax",
  ...HISTOGRAM,
] as const;

export type AeBlob = (typeof AE_BLOBS)[number];
export type AeDouble = (typeof AE_DOUBLES)[number];

/** The histogram's columns, in bucket order. */
export const HISTOGRAM_DOUBLES: readonly AeDouble[] = HISTOGRAM;

/** Index of the histogram bucket a duration falls in. */
export function durationBucket(ms: number): number {
  const i = DURATION_BUCKETS_MS.findIndex((edge) => ms <= edge);
  return i === -1 ? DURATION_BUCKETS_MS.length : i;
}

/** "2xx", "4xx", …; anything outside 100–599 is "other". */
export function statusClass(status: number): string {
  return status >= 100 && status <= 599 ? `${Math.floor(status / 100)}xx` : "other";
}

/** The SQL column of a field: `blob4` for "path", `double6` for "count". */
export function aeColumn(field: AeBlob | AeDouble): string {
  const blob = (AE_BLOBS as readonly string[]).indexOf(field);
  return blob >= 0 ? `blob${blob + 1}` : `double${(AE_DOUBLES as readonly string[]).indexOf(field) + 1}`;
}

// Detection records (one per browser session) go to a second dataset, `qaxal_edge_sessions`, so that counting
// requests never has to exclude them. It holds aggregates too: one point per distinct set of AE_SESSION_BLOBS (with
// the container in index1) and window, `count` sessions, of which `adblock`, `itp` and `etp` had that flag and
// `recovered` had any of the three; `ts` is the earliest session's time. Points written before aggregates carry one
// session with 0/1 flags and no `count` (double5 = 0), so SUM(_sample_interval * count) does not count them.
export const AE_SESSION_BLOBS = ["host", "country", "mode", "bot"] as const;
export const AE_SESSION_DOUBLES = ["adblock", "itp", "ts", "etp", "count", "recovered"] as const;

export function sessionColumn(field: (typeof AE_SESSION_BLOBS)[number] | (typeof AE_SESSION_DOUBLES)[number]): string {
  const blob = (AE_SESSION_BLOBS as readonly string[]).indexOf(field);
  return blob >= 0 ? `blob${blob + 1}` : `double${(AE_SESSION_DOUBLES as readonly string[]).indexOf(field) + 1}`;
}
