// The report from Analytics Engine's SQL API (production): ten aggregate queries over the whole
// window, sent at once, whose cost does not grow with traffic. Same answer shape as the R2 report.
// Both datasets hold aggregates (workers/log-consumer/analytics-points.ts): a point stands for `count` records (or
// sessions), and AE samples points per index (container), so every figure is SUM(_sample_interval * <column>). It counts
// proxied requests and errors of the edge's own answers only; latency percentiles are read off the duration
// histogram, to the upper edge of a bucket (the largest duration for the open last bucket).
// API: POST <CF_API_BASE>/accounts/<CF_ACCOUNT_ID>/analytics_engine/sql, `Authorization: Bearer
// <ANALYTICS_API_TOKEN>`, the SQL as the body; the answer (FORMAT JSON, the default) is { meta, data, rows }.
import { aeColumn, DURATION_BUCKETS_MS, HISTOGRAM_DOUBLES, sessionColumn } from "../../schemas/analytics";
import { VISIT_MODES, type VisitMode } from "../../schemas/log-record";
import type { Report } from "../../schemas/report";
import { EdgeError } from "../shared/errors";
import { bucketSeconds, bucketStarts, previousWindow, rate, type Window } from "./aggregate";

const TOP = 10;

/** The datasets are the ACCESS_ANALYTICS and SESSION_ANALYTICS bindings' (named per environment in the config). */
type SqlEnv = Pick<
  Env,
  "CF_ACCOUNT_ID" | "ANALYTICS_API_TOKEN" | "CF_API_BASE" | "AE_ACCESS_DATASET" | "AE_SESSION_DATASET" | "ANALYTICS_WINDOW_MS"
>;
type Row = Record<string, string | number | null>;

/** Reports come from Analytics Engine when both the account id and the token are configured. */
export function analyticsConfigured(env: Partial<SqlEnv>): boolean {
  return Boolean(env.CF_ACCOUNT_ID && env.ANALYTICS_API_TOKEN);
}

/** A string literal for SQL. Values here are already validated (container ids), but quoting never hurts. */
function literal(value: string): string {
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/** A dataset name as a table name: a plain identifier, or a refusal (it comes from config, not from a request). */
function identifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new EdgeError(500, "misconfigured", "an Analytics Engine dataset name is not a plain identifier", name);
  return name;
}

/** AE returns 64-bit integers as strings (ClickHouse's JSON format), doubles as numbers, NaN/no rows as null. */
function num(value: string | number | null | undefined): number {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
}

function maybe(value: string | number | null | undefined): number | null {
  if (value === null || value === undefined || value === "nan" || value === "NaN") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

async function query(env: SqlEnv, sql: string): Promise<Row[]> {
  const url = `${env.CF_API_BASE}/accounts/${env.CF_ACCOUNT_ID}/analytics_engine/sql`;
  let res: Response;
  try {
    res = await fetch(url, { method: "POST", headers: { Authorization: `Bearer ${env.ANALYTICS_API_TOKEN}` }, body: sql });
  } catch (error) {
    throw new EdgeError(502, "analytics_unavailable", "Analytics Engine's SQL API could not be reached", error);
  }
  if (!res.ok) {
    throw new EdgeError(502, "analytics_unavailable", `Analytics Engine's SQL API answered ${res.status}`, `${sql}\n→ ${await res.text()}`);
  }
  const body = (await res.json()) as { data?: Row[] };
  return body.data ?? [];
}

/**
 * The nearest-rank percentile `p` read off a period's histogram row (h0…h9, max): the upper edge of the bucket that
 * holds it, or the largest duration when that is smaller or the bucket is the open last one. Null without samples.
 */
function fromHistogram(row: Row, p: number): number | null {
  const counts = HISTOGRAM_DOUBLES.map((_, i) => num(row[`h${i}`]));
  const total = counts.reduce((a, b) => a + b, 0);
  const max = maybe(row.max);
  if (total === 0 || max === null) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const [i, n] of counts.entries()) {
    seen += n;
    if (seen >= rank) return Math.min(DURATION_BUCKETS_MS[i] ?? max, max);
  }
  return max;
}

export async function buildAnalyticsReport(env: SqlEnv, window: Window): Promise<Report> {
  const ACCESS_DATASET = identifier(env.AE_ACCESS_DATASET);
  const SESSION_DATASET = identifier(env.AE_SESSION_DATASET);
  const before = previousWindow(window);
  // AnalyticsWindow writes a window's points at its end, all stamped then: a series bucket narrower than the window
  // would show a spike per window and empty buckets between.
  const windowSeconds = Math.ceil((Number(env.ANALYTICS_WINDOW_MS) || 300_000) / 1000);
  const seconds = Math.max(bucketSeconds(window.to - window.from), windowSeconds);
  const sec = (ms: number) => Math.floor(ms / 1000);
  const scope = window.containerId === null ? "" : ` AND index1 = ${literal(window.containerId)}`;
  const both = `timestamp >= toDateTime(${sec(before.from)}) AND timestamp <= toDateTime(${sec(window.to)})${scope}`;
  const current = `timestamp >= toDateTime(${sec(window.from)}) AND timestamp <= toDateTime(${sec(window.to)})${scope}`;
  const period = `IF(timestamp >= toDateTime(${sec(window.from)}), 'current', 'previous')`;
  const status = aeColumn("status");
  const count = aeColumn("count");
  /** The records a point stands for, weighted by AE's sampling. */
  const requests = `SUM(_sample_interval * ${count})`;
  const countIf = (condition: string) => `SUM(IF(${condition}, _sample_interval * ${count}, 0))`;
  const errors = countIf(`${status} >= 500`);
  const proxied = `${aeColumn("pathClass")} IN ('proxy', 'passthrough')`;
  const histogram = HISTOGRAM_DOUBLES.map((name, i) => `SUM(_sample_interval * ${aeColumn(name)}) AS h${i}`).join(", ");
  // SESSION_ANALYTICS holds aggregates too: `count` sessions, of which the flag columns count those with the flag.
  const sessionSum = (field: Parameters<typeof sessionColumn>[0]) => `SUM(_sample_interval * ${sessionColumn(field)})`;
  const sessionsIf = (condition: string) => `SUM(IF(${condition}, _sample_interval * ${sessionColumn("count")}, 0))`;
  const ranked = (column: string) =>
    `SELECT ${column} AS key, ${requests} AS count FROM ${ACCESS_DATASET} WHERE ${current} GROUP BY key ORDER BY count DESC LIMIT ${TOP}`;

  const [series, totals, latency, classes, statuses, paths, hosts, countries, sessions, modes] = await Promise.all([
    query(
      env,
      `SELECT toUnixTimestamp(toStartOfInterval(timestamp, INTERVAL '${seconds}' SECOND)) AS t, ${requests} AS count, ${errors} AS errors FROM ${ACCESS_DATASET} WHERE ${both} GROUP BY t ORDER BY t`,
    ),
    query(
      env,
      `SELECT ${period} AS period, ${requests} AS requests, ${errors} AS errors, SUM(_sample_interval * ${aeColumn("cookieRewrites")}) AS rewrites, SUM(_sample_interval * ${aeColumn("withRewrites")}) AS with_rewrites, ${countIf(`${aeColumn("bot")} != ''`)} AS bot_checked, ${countIf(`${aeColumn("bot")} = 'true'`)} AS bot_flagged FROM ${ACCESS_DATASET} WHERE ${both} GROUP BY period`,
    ),
    query(
      env,
      `SELECT ${period} AS period, ${histogram}, MAX(${aeColumn("durationMax")}) AS max, ${requests} AS samples FROM ${ACCESS_DATASET} WHERE ${both} AND ${proxied} GROUP BY period`,
    ),
    query(env, ranked(aeColumn("statusClass"))),
    query(env, ranked(status)),
    query(env, ranked(aeColumn("path"))),
    query(env, ranked(aeColumn("host"))),
    query(env, ranked(aeColumn("country"))),
    query(
      env,
      `SELECT ${period} AS period, ${sessionSum("count")} AS sessions, ${sessionSum("adblock")} AS adblock, ${sessionSum("itp")} AS itp, ${sessionSum("etp")} AS etp, ${sessionSum("recovered")} AS recovered, ${sessionsIf(`${sessionColumn("bot")} != ''`)} AS bot_checked, ${sessionsIf(`${sessionColumn("bot")} = 'true'`)} AS bot_flagged FROM ${SESSION_DATASET} WHERE ${both} GROUP BY period`,
    ),
    query(
      env,
      `SELECT ${sessionColumn("mode")} AS key, ${sessionSum("count")} AS count FROM ${SESSION_DATASET} WHERE ${current} GROUP BY key ORDER BY count DESC LIMIT ${TOP}`,
    ),
  ]);

  const byPeriod = (rows: Row[], name: "current" | "previous") => rows.find((row) => row.period === name) ?? {};
  const counts = new Map(series.map((row) => [num(row.t) * 1000, row]));
  const span = window.to - window.from;
  const buckets = bucketStarts(window, seconds).map((t) => ({
    t: new Date(t).toISOString(),
    count: num(counts.get(t)?.count),
    errors: num(counts.get(t)?.errors),
    previous: num(counts.get(Math.floor((t - span) / (seconds * 1000)) * seconds * 1000)?.count),
  }));
  const periodFigures = (name: "current" | "previous") => {
    const t: Row = byPeriod(totals, name);
    const l: Row = byPeriod(latency, name);
    const s: Row = byPeriod(sessions, name);
    const n = num(s.sessions);
    return {
      requests: num(t.requests),
      errors: num(t.errors),
      rewrites: num(t.rewrites),
      withRewrites: num(t.with_rewrites),
      requestsChecked: num(t.bot_checked),
      requestsBot: num(t.bot_flagged),
      sessionsChecked: num(s.bot_checked),
      sessionsBot: num(s.bot_flagged),
      p50: fromHistogram(l, 0.5),
      p95: fromHistogram(l, 0.95),
      samples: num(l.samples),
      sessions: n,
      adblock: num(s.adblock),
      itp: num(s.itp),
      etp: num(s.etp),
      recoveredRate: rate(num(s.recovered), n),
    };
  };
  const now = periodFigures("current");
  const then = periodFigures("previous");
  const list = <K extends string>(rows: Row[], key: K, empty = "") =>
    rows.map((row) => ({ [key]: String(row.key ?? "") || empty, count: num(row.count) }) as { [P in K]: string } & { count: number });

  return {
    containerId: window.containerId,
    from: new Date(window.from).toISOString(),
    to: new Date(window.to).toISOString(),
    source: "analytics-engine",
    objectsRead: 0,
    truncated: false,
    requests: { total: now.requests, errors: now.errors, bucketSeconds: seconds, series: buckets },
    previous: {
      from: new Date(before.from).toISOString(),
      to: new Date(before.to).toISOString(),
      requests: then.requests,
      errors: then.errors,
      latencyP95: then.p95,
      sessions: then.sessions,
      adblockRate: rate(then.adblock, then.sessions),
      itpRate: rate(then.itp, then.sessions),
      recoveredRate: then.recoveredRate,
      botShare: rate(then.requestsBot, then.requestsChecked),
    },
    statusClasses: Object.fromEntries(classes.map((row) => [String(row.key), num(row.count)])),
    statuses: statuses.map((row) => ({ status: num(row.key), count: num(row.count) })),
    topPaths: list(paths, "path"),
    hosts: list(hosts, "host"),
    countries: list(countries, "country", "unknown"),
    latencyMs: { p50: now.samples ? now.p50 : null, p95: now.samples ? now.p95 : null, samples: now.samples },
    cookieKeeper: { rewrites: now.rewrites, requestsWithRewrites: now.withRewrites },
    bots: {
      requestsChecked: now.requestsChecked,
      requestsBot: now.requestsBot,
      requestShare: rate(now.requestsBot, now.requestsChecked),
      sessionsChecked: now.sessionsChecked,
      sessionsBot: now.sessionsBot,
      sessionShare: rate(now.sessionsBot, now.sessionsChecked),
    },
    detection: {
      sessions: now.sessions,
      adblock: now.adblock,
      itp: now.itp,
      adblockRate: rate(now.adblock, now.sessions),
      itpRate: rate(now.itp, now.sessions),
      etp: now.etp,
      etpRate: rate(now.etp, now.sessions),
      recoveredRate: now.recoveredRate,
      // Every mode is listed, zero when no session had it, as in the R2 report.
      modes: Object.fromEntries(VISIT_MODES.map((mode) => [mode, num(modes.find((row) => row.key === mode)?.count)])) as Record<
        VisitMode,
        number
      >,
    },
  };
}
