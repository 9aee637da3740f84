// AlertState: one Durable Object (SQLite) for the whole platform, idFromName("alerts"). The scheduled check
// (workers/alerts/check.ts) hands it raw figures; it applies each container's thresholds, raises and resolves
// alerts (at most one open alert per condition), and tells the webhook once per raise and once per resolution.
// A failed webhook call is retried by the next check; nothing is sent twice.
import { DurableObject } from "cloudflare:workers";
import {
  type Alert,
  type AlertKind,
  type ContainerHealth,
  DEFAULT_THRESHOLDS,
  type Thresholds,
  type ThresholdsOverride,
} from "../schemas/alerts";

export interface TrafficCounts {
  requests: number;
  /** Responses with status 500–599. */
  errors: number;
}

export interface HostnameObservation {
  containerId: string;
  hostname: string;
  /** The source's status word; anything but "active" is a problem once it lasts. */
  status: string;
  /** Epoch ms the hostname entered this status, when the source knows it. */
  since?: number;
}

/** What one scheduled check observed. An absent part was not checked this time and resolves nothing. */
export interface Observations {
  now: number;
  errorWindow?: { minutes: number; perContainer: Record<string, TrafficCounts>; truncated: boolean };
  /** The last full hour against the mean of the same hour on the previous days. */
  trafficHour?: {
    hourStart: number;
    days: number;
    perContainer: Record<string, { current: number; baseline: number }>;
    /** The figures were incomplete (a source cut off): the hour counts as done, but nothing is judged on it. */
    skipped?: boolean;
  };
  deadLetters?: { count: number; more: boolean };
  /** Current health of every container plan() asked about. */
  containers?: ContainerHealth[];
  hostnames?: HostnameObservation[];
}

export interface CheckPlan {
  /** Containers that reported trouble and have not reported recovery: their health is to be read. */
  watched: string[];
  /** Start of the hour whose traffic is to be compared with its baseline, or null when already done. */
  trafficHour: number | null;
  /** Containers with a hostname alert open or pending: their hostnames must be looked at to resolve it. */
  hostnameContainers: string[];
}

export interface EvaluationResult {
  raised: string[];
  resolved: string[];
  open: number;
  notified: number;
  notifyFailed: boolean;
}

interface Condition {
  key: string;
  kind: AlertKind;
  containerId: string | null;
  subject: string | null;
  message: string;
  /** When it started, if known; otherwise the first check that saw it. */
  since: number | null;
  /** How long it must last before it is raised. */
  holdMs: number;
}

interface AlertRow extends Record<string, SqlStorageValue> {
  id: number;
  key: string;
  kind: string;
  container_id: string | null;
  subject: string | null;
  message: string;
  raised_at: number;
  resolved_at: number | null;
  raise_notified: number;
  resolve_notified: number;
}

/** raise_notified / resolve_notified: not yet, sent, or nothing to send to (no webhook configured). */
const NOTIFY = { pending: 0, sent: 1, skipped: 2 } as const;
const HOUR_MS = 3600_000;
const MINUTE_MS = 60_000;
const KEEP_RESOLVED = 100;
const KEEP_RESOLVED_MS = 7 * 24 * HOUR_MS;
const WEBHOOK_TIMEOUT_MS = 5_000;

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    container_id TEXT,
    subject TEXT,
    message TEXT NOT NULL,
    raised_at INTEGER NOT NULL,
    resolved_at INTEGER,
    raise_notified INTEGER NOT NULL DEFAULT 0,
    resolve_notified INTEGER NOT NULL DEFAULT 0
  );
  CREATE UNIQUE INDEX IF NOT EXISTS alerts_open ON alerts (key) WHERE resolved_at IS NULL;
  CREATE TABLE IF NOT EXISTS conditions (key TEXT PRIMARY KEY, first_seen INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS watched (container_id TEXT PRIMARY KEY, reported_at INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS thresholds (container_id TEXT PRIMARY KEY, settings TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);`;

export class AlertState extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(SCHEMA);
  }

  /** A ContainerState's change of health: an unhealthy container is watched until it reports recovery. */
  reportContainerHealth(health: ContainerHealth): void {
    if (health.outOfSyncSince === null && health.errorSince === null) {
      this.ctx.storage.sql.exec("DELETE FROM watched WHERE container_id = ?", health.containerId);
    } else {
      this.ctx.storage.sql.exec("INSERT OR REPLACE INTO watched (container_id, reported_at) VALUES (?, ?)", health.containerId, Date.now());
    }
  }

  plan(now: number): CheckPlan {
    const watched = this.ctx.storage.sql.exec<{ container_id: string }>("SELECT container_id FROM watched ORDER BY container_id").toArray();
    const lastHour =
      this.ctx.storage.sql.exec<{ value: number }>("SELECT value FROM meta WHERE name = 'traffic_hour'").toArray()[0]?.value ?? 0;
    const hourStart = Math.floor(now / HOUR_MS) * HOUR_MS - HOUR_MS;
    const hostnameKeys = this.ctx.storage.sql
      .exec<{ key: string }>(
        "SELECT key FROM alerts WHERE kind = 'hostname_inactive' AND resolved_at IS NULL UNION SELECT key FROM conditions WHERE key LIKE 'hostname_inactive:%'",
      )
      .toArray();
    return {
      watched: watched.map((w) => w.container_id),
      trafficHour: hourStart > lastHour ? hourStart : null,
      hostnameContainers: [...new Set(hostnameKeys.map((row) => row.key.split(":")[1]!))],
    };
  }

  /** Raises what is true and has lasted long enough, resolves what no longer is, and notifies the webhook. */
  async evaluate(observations: Observations, webhookUrl: string | null): Promise<EvaluationResult> {
    const { now } = observations;
    const { conditions, evaluated } = this.conditions(observations);
    const sql = this.ctx.storage.sql;
    const result: EvaluationResult = { raised: [], resolved: [], open: 0, notified: 0, notifyFailed: false };

    const trueKeys = new Set(conditions.map((c) => c.key));
    for (const condition of conditions) {
      const seen = sql.exec<{ first_seen: number }>("SELECT first_seen FROM conditions WHERE key = ?", condition.key).toArray()[0];
      if (!seen) sql.exec("INSERT INTO conditions (key, first_seen) VALUES (?, ?)", condition.key, now);
      const since = condition.since ?? seen?.first_seen ?? now;
      if (now - since < condition.holdMs) continue;
      const open = sql.exec<AlertRow>("SELECT * FROM alerts WHERE key = ? AND resolved_at IS NULL", condition.key).toArray()[0];
      if (open) continue;
      sql.exec(
        `INSERT INTO alerts (key, kind, container_id, subject, message, raised_at, raise_notified) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        condition.key,
        condition.kind,
        condition.containerId,
        condition.subject,
        condition.message,
        now,
        webhookUrl ? NOTIFY.pending : NOTIFY.skipped,
      );
      result.raised.push(condition.key);
    }

    // A kind that was checked this time and no longer holds is resolved; unchecked kinds keep their state.
    for (const row of sql.exec<AlertRow>("SELECT * FROM alerts WHERE resolved_at IS NULL").toArray()) {
      if (!evaluated.has(row.kind as AlertKind) || trueKeys.has(row.key)) continue;
      // The resolution is worth telling only to a webhook that was told about the raise.
      const tell = row.raise_notified === NOTIFY.sent && webhookUrl ? NOTIFY.pending : NOTIFY.skipped;
      sql.exec(
        "UPDATE alerts SET resolved_at = ?, resolve_notified = ?, raise_notified = CASE WHEN raise_notified = 0 THEN 2 ELSE raise_notified END WHERE id = ?",
        now,
        tell,
        row.id,
      );
      result.resolved.push(row.key);
    }
    for (const row of sql.exec<{ key: string }>("SELECT key FROM conditions").toArray()) {
      const kind = row.key.slice(0, row.key.indexOf(":")) as AlertKind;
      if (evaluated.has(kind) && !trueKeys.has(row.key)) sql.exec("DELETE FROM conditions WHERE key = ?", row.key);
    }
    if (observations.trafficHour) {
      sql.exec("INSERT OR REPLACE INTO meta (name, value) VALUES ('traffic_hour', ?)", observations.trafficHour.hourStart);
    }
    sql.exec(
      `DELETE FROM alerts WHERE resolved_at IS NOT NULL AND (resolved_at < ? OR id NOT IN
         (SELECT id FROM alerts WHERE resolved_at IS NOT NULL ORDER BY resolved_at DESC LIMIT ?))`,
      now - KEEP_RESOLVED_MS,
      KEEP_RESOLVED,
    );

    if (webhookUrl) await this.notify(webhookUrl, result);
    result.open = sql.exec<{ n: number }>("SELECT count(*) AS n FROM alerts WHERE resolved_at IS NULL").one().n;
    return result;
  }

  /** Open alerts (newest first), the recently resolved ones, and the thresholds in force. */
  list(): { open: Alert[]; resolved: Alert[]; defaults: Thresholds; overrides: Record<string, ThresholdsOverride> } {
    const rows = this.ctx.storage.sql.exec<AlertRow>("SELECT * FROM alerts ORDER BY raised_at DESC, id DESC").toArray();
    const overrides: Record<string, ThresholdsOverride> = {};
    for (const row of this.ctx.storage.sql.exec<{ container_id: string; settings: string }>(
      "SELECT * FROM thresholds ORDER BY container_id",
    )) {
      overrides[row.container_id] = JSON.parse(row.settings) as ThresholdsOverride;
    }
    return {
      open: rows.filter((r) => r.resolved_at === null).map(toAlert),
      resolved: rows.filter((r) => r.resolved_at !== null).map(toAlert),
      defaults: { ...DEFAULT_THRESHOLDS },
      overrides,
    };
  }

  /** Stores a container's overrides (merged with earlier ones); answers the thresholds now in force for it. */
  setThresholds(containerId: string, override: ThresholdsOverride): Thresholds {
    const merged = { ...this.overrideOf(containerId), ...override };
    this.ctx.storage.sql.exec(
      "INSERT OR REPLACE INTO thresholds (container_id, settings) VALUES (?, ?)",
      containerId,
      JSON.stringify(merged),
    );
    return this.thresholdsFor(containerId);
  }

  /** Back to the defaults; false when the container had no overrides. */
  clearThresholds(containerId: string): boolean {
    return this.ctx.storage.sql.exec("DELETE FROM thresholds WHERE container_id = ?", containerId).rowsWritten > 0;
  }

  thresholdsFor(containerId: string | null): Thresholds {
    return containerId === null ? { ...DEFAULT_THRESHOLDS } : { ...DEFAULT_THRESHOLDS, ...this.overrideOf(containerId) };
  }

  private overrideOf(containerId: string): ThresholdsOverride {
    const row = this.ctx.storage.sql
      .exec<{ settings: string }>("SELECT settings FROM thresholds WHERE container_id = ?", containerId)
      .toArray()[0];
    return row ? (JSON.parse(row.settings) as ThresholdsOverride) : {};
  }

  /** Every condition that holds now, and the kinds this check looked at. */
  private conditions(o: Observations): { conditions: Condition[]; evaluated: Set<AlertKind> } {
    const evaluated = new Set<AlertKind>();
    const conditions: Condition[] = [];
    const cache = new Map<string, Thresholds>();
    const limits = (id: string) => cache.get(id) ?? cache.set(id, this.thresholdsFor(id)).get(id)!;
    const add = (
      kind: AlertKind,
      containerId: string | null,
      message: string,
      since: number | null = null,
      holdMs = 0,
      subject: string | null = null,
    ) => {
      if (containerId !== null && limits(containerId).muted) return;
      const key = [kind, containerId ?? "*", ...(subject === null ? [] : [subject])].join(":");
      conditions.push({ key, kind, containerId, subject, message, since, holdMs });
    };

    if (o.errorWindow) {
      evaluated.add("error_rate");
      for (const [id, counts] of Object.entries(o.errorWindow.perContainer)) {
        const t = limits(id);
        const share = counts.requests === 0 ? 0 : counts.errors / counts.requests;
        if (counts.requests >= t.errorMinRequests && share > t.errorShare) {
          add(
            "error_rate",
            id,
            `${id}: 5xx share ${pct(share)} (${counts.errors} of ${counts.requests} requests) in the last ${o.errorWindow.minutes} min, threshold ${pct(t.errorShare)}`,
          );
        }
      }
    }
    if (o.trafficHour && !o.trafficHour.skipped) {
      evaluated.add("traffic_drop");
      const hour = new Date(o.trafficHour.hourStart).toISOString().slice(11, 16);
      for (const [id, { current, baseline }] of Object.entries(o.trafficHour.perContainer)) {
        const t = limits(id);
        if (baseline >= t.trafficMinBaseline && current < baseline * t.trafficDropRatio) {
          add(
            "traffic_drop",
            id,
            `${id}: ${current} requests in the hour from ${hour} UTC, against ${Math.round(baseline)} on average at that hour over the previous ${o.trafficHour.days} days (alert below ${pct(t.trafficDropRatio)})`,
          );
        }
      }
    }
    if (o.deadLetters) {
      evaluated.add("dead_letters");
      if (o.deadLetters.count > 0) {
        add(
          "dead_letters",
          null,
          `${o.deadLetters.count}${o.deadLetters.more ? "+" : ""} dead letter(s) kept in R2 (dead-letters/): inspect them, then POST /_edge/admin/replay {"deadLetters": true}`,
        );
      }
    }
    if (o.containers) {
      evaluated.add("out_of_sync");
      evaluated.add("last_error");
      for (const h of o.containers) {
        const t = limits(h.containerId);
        if (h.outOfSyncSince !== null) {
          add(
            "out_of_sync",
            h.containerId,
            `${h.containerId}: version ${h.desiredVersion} not applied for more than ${t.outOfSyncMinutes} min (applied: ${h.appliedVersion})`,
            h.outOfSyncSince,
            t.outOfSyncMinutes * MINUTE_MS,
          );
        }
        if (h.errorSince !== null) {
          add(
            "last_error",
            h.containerId,
            `${h.containerId}: failing for more than ${t.lastErrorMinutes} min: ${h.lastError ?? "unknown error"}`,
            h.errorSince,
            t.lastErrorMinutes * MINUTE_MS,
          );
        }
      }
      // Watched containers that turned out healthy need no more reading.
      for (const h of o.containers) {
        if (h.outOfSyncSince === null && h.errorSince === null)
          this.ctx.storage.sql.exec("DELETE FROM watched WHERE container_id = ?", h.containerId);
      }
    }
    if (o.hostnames) {
      evaluated.add("hostname_inactive");
      for (const h of o.hostnames) {
        if (h.status === "active") continue;
        const t = limits(h.containerId);
        add(
          "hostname_inactive",
          h.containerId,
          `${h.containerId}: custom hostname ${h.hostname} is ${h.status}, not active, for more than ${t.hostnameInactiveMinutes} min`,
          h.since ?? null,
          t.hostnameInactiveMinutes * MINUTE_MS,
          h.hostname,
        );
      }
    }
    return { conditions, evaluated };
  }

  /** One Slack-compatible message per raise and per resolution, oldest first; stops at the first failure. */
  private async notify(url: string, result: EvaluationResult): Promise<void> {
    const sql = this.ctx.storage.sql;
    const due = sql
      .exec<AlertRow>(`SELECT * FROM alerts WHERE raise_notified = 0 OR (resolved_at IS NOT NULL AND resolve_notified = 0) ORDER BY id`)
      .toArray();
    for (const row of due) {
      const resolving = row.raise_notified !== NOTIFY.pending;
      const text = resolving
        ? `[Qaxal Edge] RESOLVED ${row.message} (raised ${new Date(row.raised_at).toISOString()}, lasted ${Math.max(1, Math.round((row.resolved_at! - row.raised_at) / MINUTE_MS))} min)`
        : `[Qaxal Edge] ALERT ${row.message}`;
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ text }),
          signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
        });
        await response.body?.cancel();
        if (!response.ok) throw new Error(`webhook answered ${response.status}`);
      } catch (error) {
        console.error(JSON.stringify({ event: "alert_webhook_failed", key: row.key, error: String(error) }));
        result.notifyFailed = true;
        return;
      }
      sql.exec(`UPDATE alerts SET ${resolving ? "resolve_notified" : "raise_notified"} = 1 WHERE id = ?`, row.id);
      result.notified += 1;
    }
  }
}

function toAlert(row: AlertRow): Alert {
  return {
    key: row.key,
    kind: row.kind as AlertKind,
    containerId: row.container_id,
    subject: row.subject,
    message: row.message,
    raisedAt: new Date(row.raised_at).toISOString(),
    resolvedAt: row.resolved_at === null ? null : new Date(row.resolved_at).toISOString(),
    notified: row.resolved_at === null ? row.raise_notified === NOTIFY.sent : row.resolve_notified === NOTIFY.sent,
  };
}

/** The one alerts object of the platform. */
export function alertStub(env: Pick<Env, "ALERT_STATE">): DurableObjectStub<AlertState> {
  return env.ALERT_STATE.get(env.ALERT_STATE.idFromName("alerts"));
}
