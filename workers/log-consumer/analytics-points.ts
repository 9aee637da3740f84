// The Analytics Engine aggregates of a batch's records (its partial for AnalyticsWindow, which folds the partials of a
// window together with the same rule, durable/analytics-merge.ts), laid out by the column map in schemas/analytics.ts:
// - ACCESS_ANALYTICS: one point per distinct dimension set among the counted access records, with the count, the
//   duration sum and histogram and the Cookie Keeper figures as doubles. Counted are the proxied requests and every
//   error (status ≥ 400) of the edge's own answers; a successful loader script, bait, /boot or beacon is not (R2
//   keeps every record).
// - SESSION_ANALYTICS: one point per distinct (container, host, country, mode, bot) among the detection records,
//   with the count of sessions and of each flag.
import { type Aggregate, mergeAggregates } from "../../durable/analytics-merge";
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

const PROXIED = new Set<AccessRecord["pathClass"]>(["proxy", "passthrough"]);

/** Whether an access record is counted in Analytics Engine: a proxied request, or any answer with status ≥ 400. */
export function countedInAnalytics(record: AccessRecord): boolean {
  return PROXIED.has(record.pathClass) || record.status >= 400;
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);

/**
 * A refusal a client can repeat for free with a new path or method each time: a 4xx the edge answered itself
 * (nothing fetched: bad proxy target, unknown loader token, method not allowed) or the upstream's 404. Its point keeps
 * neither path nor an unknown method (R2 keeps both), so a flood of junk folds into a few points instead of one per
 * request. 5xx answers keep theirs: which path fails matters, and a client cannot make the upstream fail at will.
 */
function junkProne(record: AccessRecord): boolean {
  const fetched = record.upstreamStatus ?? 0;
  return record.status >= 400 && record.status < 500 && (fetched === 0 || fetched === 404);
}

/** The point of one counted access record (count 1); null for a record not counted. */
function accessPoint(record: AccessRecord): Aggregate | null {
  if (!countedInAnalytics(record)) return null;
  const junk = junkProne(record);
  const blobs: Record<AeBlob, string> = {
    host: record.host,
    method: junk && !METHODS.has(record.method) ? "OTHER" : record.method,
    pathClass: record.pathClass,
    path: junk ? "" : record.path,
    statusClass: statusClass(record.status),
    country: record.country ?? "",
    bot: record.bot === null ? "" : String(record.bot),
    reason: record.reason ?? "",
  };
  const doubles = Object.fromEntries(AE_DOUBLES.map((name) => [name, 0])) as Record<AeDouble, number>;
  doubles.status = record.status;
  doubles.upstreamStatus = record.upstreamStatus ?? 0;
  doubles.ts = record.ts;
  doubles.count = 1;
  doubles.durationSum = record.durationMs;
  doubles.durationMax = record.durationMs;
  doubles.cookieRewrites = record.cookieRewrites;
  doubles.withRewrites = record.cookieRewrites > 0 ? 1 : 0;
  doubles[HISTOGRAM_DOUBLES[durationBucket(record.durationMs)]!] = 1;
  return {
    dataset: "access",
    indexes: [record[AE_INDEX]],
    blobs: AE_BLOBS.map((name) => blobs[name]),
    doubles: AE_DOUBLES.map((name) => doubles[name]),
  };
}

/** The point of one detection record (count 1). */
function sessionPoint(record: DetectionRecord): Aggregate {
  const blobs = { host: record.host, country: record.country ?? "", mode: record.mode, bot: record.bot === null ? "" : String(record.bot) };
  const flag = (on: boolean) => (on ? 1 : 0);
  const doubles = {
    adblock: flag(record.adblock),
    itp: flag(record.itp),
    ts: record.ts,
    etp: flag(record.etp),
    count: 1,
    recovered: flag(record.adblock || record.itp || record.etp),
  };
  return {
    dataset: "session",
    indexes: [record.containerId],
    blobs: AE_SESSION_BLOBS.map((name) => blobs[name]),
    doubles: AE_SESSION_DOUBLES.map((name) => doubles[name]),
  };
}

/** The access aggregates of `records` (the counted ones). */
export function accessAggregates(records: readonly AccessRecord[]): Aggregate[] {
  return mergeAggregates(records.map(accessPoint).filter((point) => point !== null));
}

/** The session aggregates of `records`. */
export function sessionAggregates(records: readonly DetectionRecord[]): Aggregate[] {
  return mergeAggregates(records.map(sessionPoint));
}
