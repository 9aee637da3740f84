// The Analytics Engine column map: which record field is which column of the two datasets. The consumer's data
// points (workers/log-consumer/analytics-points.ts) are built from it and the report's SQL
// (workers/reports/analytics-sql.ts) reads it, so a column is never renumbered: new fields go at the end.

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
