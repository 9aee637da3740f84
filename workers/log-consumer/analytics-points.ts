// The log consumer's Analytics Engine data points, laid out by the column map in schemas/analytics.ts:
// - ACCESS_ANALYTICS: aggregates. One point per distinct dimension set among a batch's counted access records, with
//   the count, the duration sum and histogram and the Cookie Keeper figures as doubles. Counted are the proxied
//   requests and every error (status ≥ 400) of the edge's own answers; a successful loader script, bait, /boot or
//   beacon is not (R2 keeps every record).
// - SESSION_ANALYTICS: one point per detection record (browser session).
import {
  AE_BLOBS,
  AE_DOUBLES,
  AE_INDEX,
  AE_SESSION_BLOBS,
  AE_SESSION_DOUBLES,
  type AeBlob,
  type AeDouble,
  durationBucket,
  HISTOGRAM_DOUBLES,
  statusClass,
} from "../../schemas/analytics";
import type { AccessRecord, DetectionRecord } from "../../schemas/log-record";

/** Shaped for `AnalyticsEngineDataset.writeDataPoint`. */
export interface DataPoint {
  indexes: string[];
  blobs: string[];
  doubles: number[];
}

const PROXIED = new Set<AccessRecord["pathClass"]>(["proxy", "passthrough"]);

/** Whether an access record is counted in Analytics Engine: a proxied request, or any answer with status ≥ 400. */
export function countedInAnalytics(record: AccessRecord): boolean {
  return PROXIED.has(record.pathClass) || record.status >= 400;
}

function dimensions(record: AccessRecord): { index: string; blobs: string[]; status: number; upstreamStatus: number } {
  const blobs: Record<AeBlob, string> = {
    host: record.host,
    method: record.method,
    pathClass: record.pathClass,
    path: record.path,
    statusClass: statusClass(record.status),
    country: record.country ?? "",
    bot: record.bot === null ? "" : String(record.bot),
    reason: record.reason ?? "",
  };
  return {
    index: record[AE_INDEX],
    blobs: AE_BLOBS.map((name) => blobs[name]),
    status: record.status,
    upstreamStatus: record.upstreamStatus ?? 0,
  };
}

/** The aggregate a counted record belongs to; null for a record not counted. */
export function aggregateKey(record: AccessRecord): string | null {
  if (!countedInAnalytics(record)) return null;
  const dims = dimensions(record);
  return JSON.stringify([dims.index, dims.blobs, dims.status, dims.upstreamStatus]);
}

/** The aggregate points of `records` (the counted ones), in the order each dimension set first appears. */
export function accessAggregates(records: readonly AccessRecord[]): DataPoint[] {
  const groups = new Map<string, { dims: ReturnType<typeof dimensions>; sums: Record<AeDouble, number> }>();
  for (const record of records) {
    const key = aggregateKey(record);
    if (key === null) continue;
    const dims = dimensions(record);
    let group = groups.get(key);
    if (!group) {
      const sums = Object.fromEntries(AE_DOUBLES.map((name) => [name, 0])) as Record<AeDouble, number>;
      sums.status = dims.status;
      sums.upstreamStatus = dims.upstreamStatus;
      sums.ts = record.ts;
      group = { dims, sums };
      groups.set(key, group);
    }
    const s = group.sums;
    s.count += 1;
    s.durationSum += record.durationMs;
    s.durationMax = Math.max(s.durationMax, record.durationMs);
    s.cookieRewrites += record.cookieRewrites;
    if (record.cookieRewrites > 0) s.withRewrites += 1;
    s.ts = Math.min(s.ts, record.ts);
    s[HISTOGRAM_DOUBLES[durationBucket(record.durationMs)]!] += 1;
  }
  return [...groups.values()].map(({ dims, sums }) => ({
    indexes: [dims.index],
    blobs: dims.blobs,
    doubles: AE_DOUBLES.map((name) => sums[name]),
  }));
}

/** One point per detection record. */
export function detectionDataPoint(record: DetectionRecord): DataPoint {
  const blobs = { host: record.host, country: record.country ?? "", mode: record.mode, bot: record.bot === null ? "" : String(record.bot) };
  const doubles = { adblock: record.adblock ? 1 : 0, itp: record.itp ? 1 : 0, ts: record.ts, etp: record.etp ? 1 : 0 };
  return {
    indexes: [record.containerId],
    blobs: AE_SESSION_BLOBS.map((name) => blobs[name]),
    doubles: AE_SESSION_DOUBLES.map((name) => doubles[name]),
  };
}
