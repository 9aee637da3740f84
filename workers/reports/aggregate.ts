// Turns log records into the report's aggregates. Pure: the same records always give the same report.
import { statusClass } from "../../schemas/analytics";
import { type AccessRecord, type DetectionRecord, VISIT_MODES, type VisitMode } from "../../schemas/log-record";
import type { PeriodSummary, Report } from "../../schemas/report";

const TOP = 10;
/** Bucket sizes (seconds) the series may use; the smallest that keeps it at most MAX_BUCKETS long wins. */
const BUCKET_SECONDS = [10, 30, 60, 300, 600, 900, 1800, 3600, 10_800, 21_600, 43_200, 86_400];
/** About an hour of minutes, a day of half hours, a week of 3-hour blocks: enough bars to see a shape. */
const MAX_BUCKETS = 72;
const PROXIED = new Set<AccessRecord["pathClass"]>(["proxy", "passthrough"]);

export interface Window {
  from: number;
  to: number;
  containerId: string | null;
}

/** The part of the report that one period's records decide. */
export type PeriodFigures = Omit<Report, "source" | "objectsRead" | "truncated" | "previous">;

export function bucketSeconds(spanMs: number): number {
  return BUCKET_SECONDS.find((s) => spanMs / (s * 1000) <= MAX_BUCKETS) ?? BUCKET_SECONDS.at(-1)!;
}

/** Bucket starts covering the window, oldest first (aligned to the bucket size, so the first may start early). */
export function bucketStarts(window: Window, seconds: number): number[] {
  const ms = seconds * 1000;
  const starts: number[] = [];
  for (let t = Math.floor(window.from / ms) * ms; t <= window.to; t += ms) starts.push(t);
  return starts;
}

/** The window of equal length just before `window`. */
export function previousWindow(window: Window): Window {
  const span = window.to - window.from;
  return { ...window, from: window.from - span - 1, to: window.from - 1 };
}

/** Nearest-rank percentile of ascending `sorted`; null for no samples. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function rate(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

function top<K extends string>(counts: Map<string, number>, key: K): ({ [P in K]: string } & { count: number })[] {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, TOP)
    .map(([value, count]) => ({ [key]: value, count }) as { [P in K]: string } & { count: number });
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/**
 * Records outside the window or for another container are ignored. A record delivered twice (a retried batch
 * that was re-batched under another id) counts once: access records by requestId, detections by sessionId.
 */
export function aggregate(window: Window, access: Iterable<AccessRecord>, detections: Iterable<DetectionRecord>): PeriodFigures {
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

  const seconds = bucketSeconds(window.to - window.from);
  const starts = bucketStarts(window, seconds);
  const series = starts.map((t) => ({ t: new Date(t).toISOString(), count: 0, errors: 0, previous: null as number | null }));

  const statusClasses: Record<string, number> = {};
  const statuses = new Map<string, number>();
  const paths = new Map<string, number>();
  const hosts = new Map<string, number>();
  const countries = new Map<string, number>();
  const latencies: number[] = [];
  let errors = 0;
  let rewrites = 0;
  let requestsWithRewrites = 0;
  let requestsChecked = 0;
  let requestsBot = 0;
  for (const r of requests.values()) {
    const bucket = series[Math.floor((r.ts - starts[0]!) / (seconds * 1000))]!;
    bucket.count += 1;
    if (r.status >= 500) {
      bucket.errors += 1;
      errors += 1;
    }
    const cls = statusClass(r.status);
    statusClasses[cls] = (statusClasses[cls] ?? 0) + 1;
    bump(statuses, String(r.status));
    bump(paths, r.path);
    bump(hosts, r.host);
    bump(countries, r.country ?? "unknown");
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
    requests: { total: requests.size, errors, bucketSeconds: seconds, series },
    statusClasses,
    statuses: top(statuses, "status").map((s) => ({ status: Number(s.status), count: s.count })),
    topPaths: top(paths, "path"),
    hosts: top(hosts, "host"),
    countries: top(countries, "country"),
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

/** The few figures of a period that the dashboard compares against. */
export function summarize(figures: PeriodFigures): PeriodSummary {
  return {
    from: figures.from,
    to: figures.to,
    requests: figures.requests.total,
    errors: figures.requests.errors,
    latencyP95: figures.latencyMs.p95,
    sessions: figures.detection.sessions,
    adblockRate: figures.detection.adblockRate,
    itpRate: figures.detection.itpRate,
    recoveredRate: figures.detection.recoveredRate,
    botShare: figures.bots.requestShare,
  };
}

/** Puts the previous period's bucket counts beside the current ones (bucket i against bucket i). */
export function withPrevious(current: PeriodFigures, previous: PeriodFigures | null): PeriodFigures {
  if (!previous) return current;
  const series = current.requests.series.map((bucket, i) => ({ ...bucket, previous: previous.requests.series[i]?.count ?? 0 }));
  return { ...current, requests: { ...current.requests, series } };
}
