// The log consumer's Analytics Engine data points: one per access record (ACCESS_ANALYTICS) and one per detection
// record (SESSION_ANALYTICS), laid out by the column map in schemas/analytics.ts.
import {
  AE_BLOBS,
  AE_DOUBLES,
  AE_INDEX,
  AE_SESSION_BLOBS,
  AE_SESSION_DOUBLES,
  type AeBlob,
  type AeDouble,
  statusClass,
} from "../../schemas/analytics";
import type { AccessRecord, DetectionRecord } from "../../schemas/log-record";

/** Shaped for `AnalyticsEngineDataset.writeDataPoint`. */
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

/** Shaped for `AnalyticsEngineDataset.writeDataPoint`, like accessDataPoint. */
export function detectionDataPoint(record: DetectionRecord): { indexes: string[]; blobs: string[]; doubles: number[] } {
  const blobs = { host: record.host, country: record.country ?? "", mode: record.mode, bot: record.bot === null ? "" : String(record.bot) };
  const doubles = { adblock: record.adblock ? 1 : 0, itp: record.itp ? 1 : 0, ts: record.ts, etp: record.etp ? 1 : 0 };
  return {
    indexes: [record.containerId],
    blobs: AE_SESSION_BLOBS.map((name) => blobs[name]),
    doubles: AE_SESSION_DOUBLES.map((name) => doubles[name]),
  };
}
