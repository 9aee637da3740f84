// AnalyticsWindow: one Durable Object (SQLite) for the platform, getByName("analytics"). It folds the log consumer's
// Analytics Engine aggregates across batches: each consumer batch hands it its partial (add), and at the end of a
// window (ANALYTICS_WINDOW_MS by arrival time here, 5 minutes in production) an alarm merges the window's partials into
// one point per distinct dimension set and writes them, at most AE_POINTS_PER_INVOCATION per alarm invocation.
//
// Why one object and 5 minutes: at 100 containers over 50 locations a consumer batch holds ~1.5 records per
// dimension set, a 5-minute window ~30 (AE points per million hits fall ~15-fold); the object sees one call per
// consumer batch, a few per minute. The cost is freshness: AE figures arrive up to a window (plus the log buffer
// and consumer batching) late. Alerts read R2, not AE.
//
// Storage, so that nothing lives only in memory (the object may be evicted between calls, and is billed no duration
// while idle): `partials`, one row per batch (rows written are billed per row, so never one per point), keyed by the
// batch id: a batch delivered again under the same id replaces its partial instead of counting twice. A partial
// larger than PART_CHARS is split over several rows (SQLite's row limit is 2 MB). `pending`, the merged points of
// closed windows not yet written, in chunks of at most AE_POINTS_PER_INVOCATION.
//
// At least once: the alarm writes a chunk's points, then deletes the chunk, so a crash between the two (the alarm is
// retried) writes that chunk again; a point is never lost once its partial is stored.
import { DurableObject } from "cloudflare:workers";
import * as v from "valibot";
import { describeIssues } from "../schemas/issues";
import { AE_POINTS_PER_INVOCATION } from "../schemas/log-record";
import { type Aggregate, AggregateSchema, mergeAggregates } from "./analytics-merge";

const DEFAULT_WINDOW_MS = 300_000;
/** JSON characters per partial row: at most 3 bytes each in UTF-8, so a row stays well under 2 MB. */
const PART_CHARS = 500_000;

const AddSchema = v.object({
  batchId: v.pipe(v.string(), v.regex(/^[0-9a-f]{32}$/)),
  points: v.array(AggregateSchema),
});

// WITHOUT ROWID: the primary key is the table, so a row is one row written (a rowid table would add its index).
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS partials (
    batch_id TEXT NOT NULL,
    part INTEGER NOT NULL,
    -- the end of the partial's window (epoch ms), not its number: a changed ANALYTICS_WINDOW_MS strands no row
    closes_at INTEGER NOT NULL,
    points TEXT NOT NULL,
    PRIMARY KEY (batch_id, part)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS pending (seq INTEGER PRIMARY KEY, points TEXT NOT NULL)`;

/** What add() did: the partial's storage rows, or why it was refused. */
export type AddResult = { stored: true; rows: number } | { stored: false; reason: string };

interface PartialRow extends Record<string, SqlStorageValue> {
  batch_id: string;
  part: number;
  closes_at: number;
  points: string;
}

/** Splits `points` into JSON arrays of at most PART_CHARS characters (a single larger point keeps a row of its own). */
function parts(points: readonly Aggregate[]): string[] {
  const out: string[] = [];
  let current: string[] = [];
  let chars = 0;
  for (const point of points) {
    const json = JSON.stringify(point);
    if (current.length > 0 && chars + json.length + 1 > PART_CHARS) {
      out.push(`[${current.join(",")}]`);
      current = [];
      chars = 0;
    }
    current.push(json);
    chars += json.length + 1;
  }
  if (current.length > 0) out.push(`[${current.join(",")}]`);
  return out;
}

export class AnalyticsWindow extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(SCHEMA);
  }

  private windowMs(): number {
    return Number(this.env.ANALYTICS_WINDOW_MS) || DEFAULT_WINDOW_MS;
  }

  /**
   * Stores one consumer batch's partial aggregates in the current window, replacing an earlier add of the same batch.
   * A malformed partial is refused whole (the answer says why) and stores nothing.
   */
  async add(batchId: string, points: Aggregate[]): Promise<AddResult> {
    const parsed = v.safeParse(AddSchema, { batchId, points });
    if (!parsed.success) return { stored: false, reason: describeIssues(parsed.issues) };
    const windowMs = this.windowMs();
    const closesAt = (Math.floor(Date.now() / windowMs) + 1) * windowMs;
    const sql = this.ctx.storage.sql;
    const rows = parts(parsed.output.points);
    this.ctx.storage.transactionSync(() => {
      sql.exec("DELETE FROM partials WHERE batch_id = ?", batchId);
      for (const [i, json] of rows.entries())
        sql.exec("INSERT INTO partials (batch_id, part, closes_at, points) VALUES (?, ?, ?, ?)", batchId, i, closesAt, json);
    });
    // An alarm already set (this window's end, or a chained write) will reach this partial too.
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(closesAt);
    return { stored: true, rows: rows.length };
  }

  /** Writes the next chunk of merged points; merges the closed windows' partials first when no chunk is waiting. */
  async alarm(): Promise<void> {
    const now = Date.now();
    const sql = this.ctx.storage.sql;
    if (sql.exec("SELECT 1 FROM pending LIMIT 1").toArray().length === 0) this.closeWindows(now);

    const chunk = sql.exec<{ seq: number; points: string }>("SELECT seq, points FROM pending ORDER BY seq LIMIT 1").toArray()[0];
    if (chunk) {
      const points = JSON.parse(chunk.points) as Aggregate[];
      let refused = 0;
      for (const { dataset, ...point } of points) {
        try {
          (dataset === "access" ? this.env.ACCESS_ANALYTICS : this.env.SESSION_ANALYTICS).writeDataPoint(point);
        } catch (error) {
          // A point AE refuses (it throws only on malformed input) must not hold back the rest of the window.
          refused += 1;
          console.error(JSON.stringify({ event: "analytics_point_refused", dataset, error: String(error) }));
        }
      }
      sql.exec("DELETE FROM pending WHERE seq = ?", chunk.seq);
      console.log(JSON.stringify({ event: "analytics_written", points: points.length - refused, refused }));
    }

    // More chunks: the next invocation at once (AE's limit is per invocation). Otherwise the end of the oldest open
    // window that holds partials.
    if (sql.exec("SELECT 1 FROM pending LIMIT 1").toArray().length > 0) await this.ctx.storage.setAlarm(now);
    else {
      const next = sql.exec<{ at: number | null }>("SELECT MIN(closes_at) AS at FROM partials").one().at;
      if (next !== null) await this.ctx.storage.setAlarm(next);
    }
  }

  /** Folds every partial of the windows closed by `now` into chunks of merged points and drops those partials, at once. */
  private closeWindows(now: number): void {
    const sql = this.ctx.storage.sql;
    const rows = sql.exec<PartialRow>("SELECT * FROM partials WHERE closes_at <= ?", now).toArray();
    if (rows.length === 0) return;
    const byWindow = new Map<number, Aggregate[]>();
    for (const row of rows) {
      const points = byWindow.get(row.closes_at) ?? [];
      for (const point of JSON.parse(row.points) as Aggregate[]) points.push(point);
      byWindow.set(row.closes_at, points);
    }
    const merged = [...byWindow.values()].flatMap((points) => mergeAggregates(points));
    this.ctx.storage.transactionSync(() => {
      for (let i = 0; i < merged.length; i += AE_POINTS_PER_INVOCATION)
        sql.exec("INSERT INTO pending (points) VALUES (?)", JSON.stringify(merged.slice(i, i + AE_POINTS_PER_INVOCATION)));
      sql.exec("DELETE FROM partials WHERE closes_at <= ?", now);
    });
  }
}

export function analyticsWindowStub(env: Pick<Env, "ANALYTICS_WINDOW">): DurableObjectStub<AnalyticsWindow> {
  return env.ANALYTICS_WINDOW.getByName("analytics");
}
