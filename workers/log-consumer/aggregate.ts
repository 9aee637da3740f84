// Turns log records into the report's aggregates. Pure: the same records always give the same report.
import type { Report } from "../../schemas/analytics";
import { statusClass } from "../../schemas/analytics";
import { VISIT_MODES, type AccessRecord, type DetectionRecord, type VisitMode } from "../../schemas/log-record";

const TOP_PATHS = 10;
/** Bucket sizes the time series may use; the smallest one that keeps the series at most MAX_BUCKETS long wins. */
const BUCKET_MINUTES = [1, 5, 15, 60, 180, 360, 720, 1440];
const MAX_BUCKETS = 48;
const PROXIED = new Set<AccessRecord["pathClass"]>(["proxy", "passthrough"]);

export interface Window {
  from: number;
  to: number;
  containerId: string | null;
}

export function bucketMinutes(spanMs: number): number {
  return BUCKET_MINUTES.find((m) => spanMs / (m * 60_000) <= MAX_BUCKETS) ?? BUCKET_MINUTES.at(-1)!;
}

/** Nearest-rank percentile of ascending `sorted`; null for no samples. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function rate(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

/**
 * Records outside the window or for another container are ignored. A record delivered twice (a retried batch
 * that was re-batched under another id) counts once: access records by requestId, detections by sessionId.
 */
export function aggregate(
  window: Window,
  access: Iterable<AccessRecord>,
  detections: Iterable<DetectionRecord>,
): Omit<Report, "objectsRead" | "truncated"> {
  const inWindow = (r: { ts: number; containerId: string }) =>
    r.ts >= window.from && r.ts <= window.to && (window.containerId === null || r.containerId === window.containerId);

  const requests = new Map<string, AccessRecord>();
  for (const r of access) if (inWindow(r)) requests.set(r.requestId, r);
  const sessions = new Map<string, DetectionRecord>();
  for (const r of detections) {
    if (!inWindow(r)) continue;
    const seen = sessions.get(r.sessionId);
    if (!seen || r.ts >= seen.ts) sessions.set(r.sessionId, r);
  }

  const minutes = bucketMinutes(window.to - window.from);
  const bucketMs = minutes * 60_000;
  const firstBucket = Math.floor(window.from / bucketMs) * bucketMs;
  const series = [];
  for (let t = firstBucket; t <= window.to; t += bucketMs) series.push({ t: new Date(t).toISOString(), count: 0, errors: 0 });

  const statusClasses: Record<string, number> = {};
  const paths = new Map<string, number>();
  const latencies: number[] = [];
  let rewrites = 0;
  let requestsWithRewrites = 0;
  let requestsChecked = 0;
  let requestsBot = 0;
  for (const r of requests.values()) {
    const bucket = series[Math.floor((r.ts - firstBucket) / bucketMs)]!;
    bucket.count += 1;
    if (r.status >= 500) bucket.errors += 1;
    const cls = statusClass(r.status);
    statusClasses[cls] = (statusClasses[cls] ?? 0) + 1;
    paths.set(r.path, (paths.get(r.path) ?? 0) + 1);
    if (PROXIED.has(r.pathClass)) latencies.push(r.durationMs);
    rewrites += r.cookieRewrites;
    if (r.cookieRewrites > 0) requestsWithRewrites += 1;
    if (r.bot !== null) {
      requestsChecked += 1;
      if (r.bot) requestsBot += 1;
    }
  }
  latencies.sort((a, b) => a - b);

  const all = [...sessions.values()];
  const adblock = all.filter((s) => s.adblock).length;
  const itp = all.filter((s) => s.itp).length;
  const etp = all.filter((s) => s.etp).length;
  const recovered = all.filter((s) => s.adblock || s.itp || s.etp).length;
  const modes = Object.fromEntries(VISIT_MODES.map((mode) => [mode, 0])) as Record<VisitMode, number>;
  for (const s of all) modes[s.mode] += 1;
  const sessionsChecked = all.filter((s) => s.bot !== null).length;
  const sessionsBot = all.filter((s) => s.bot === true).length;

  return {
    containerId: window.containerId,
    from: new Date(window.from).toISOString(),
    to: new Date(window.to).toISOString(),
    requests: { total: requests.size, bucketMinutes: minutes, series },
    statusClasses,
    topPaths: [...paths.entries()]
      .map(([path, count]) => ({ path, count }))
      .sort((a, b) => b.count - a.count || a.path.localeCompare(b.path))
      .slice(0, TOP_PATHS),
    latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), samples: latencies.length },
    cookieKeeper: { rewrites, requestsWithRewrites },
    detection: {
      sessions: all.length,
      adblock,
      itp,
      etp,
      adblockRate: rate(adblock, all.length),
      itpRate: rate(itp, all.length),
      etpRate: rate(etp, all.length),
      recoveredRate: rate(recovered, all.length),
      modes,
    },
    bots: {
      requestsChecked,
      requestsBot,
      requestShare: rate(requestsBot, requestsChecked),
      sessionsChecked,
      sessionsBot,
      sessionShare: rate(sessionsBot, sessionsChecked),
    },
  };
}
