// ContainerState: one Durable Object per container (idFromName(containerId)). It is the single writer of that
// container's KV keys, so versions are applied one at a time and in order, and it notices on its own (an alarm)
// when a desired version has not been applied in time.
import { DurableObject } from "cloudflare:workers";
import type { DeleteMessage, RepairMessage, UpsertMessage, VersionedMessage } from "../schemas/config-message";
import type { EdgeConfig } from "../schemas/edge-config";
import { syncKv } from "../workers/sync-consumer/kv-sync";
import type { ContainerStateReads } from "./container-stub";

export interface ContainerStatus {
  containerId: string;
  desiredVersion: number;
  appliedVersion: number;
  inSync: boolean;
  lastError: string | null;
  updatedAt: string;
}

export type ApplyResult =
  | { status: "applied"; version: number; writes: number; deletes: number }
  | { status: "stale"; appliedVersion: number }
  | { status: "failed"; error: string };

/** accepted: newer than everything before; duplicate: the same version and content again; stale / conflict: 409. */
export type ChangeOutcome = "accepted" | "duplicate" | "stale" | "conflict";

interface Row extends Record<string, SqlStorageValue> {
  container_id: string;
  desired_version: number;
  desired_message: string | null;
  applied_version: number;
  applied_config: string | null;
  last_error: string | null;
  updated_at: string;
  drift_attempts: number;
  last_repair_at: number;
}

/** A KV miss on live traffic asks for a repair at most this often. */
const REPAIR_INTERVAL_MS = 30_000;
/** Drift re-sends back off exponentially up to this many doublings of DRIFT_AFTER_MS. */
const MAX_DRIFT_BACKOFF_STEPS = 6;

export class ContainerState extends DurableObject<Env> implements ContainerStateReads {
  /** KV I/O opens the input gate, so applies are chained explicitly to keep them strictly one at a time. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS state (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      container_id TEXT NOT NULL,
      desired_version INTEGER NOT NULL DEFAULT 0,
      desired_message TEXT,
      applied_version INTEGER NOT NULL DEFAULT 0,
      applied_config TEXT,
      last_error TEXT,
      updated_at TEXT NOT NULL,
      drift_attempts INTEGER NOT NULL DEFAULT 0,
      last_repair_at INTEGER NOT NULL DEFAULT 0
    )`);
  }

  /** Records a version the control plane wants; refuses one that is not newer than the applied version. */
  async recordDesired(message: VersionedMessage): Promise<{ accepted: boolean; appliedVersion: number }> {
    const row = this.row(message.containerId);
    if (message.version <= row.applied_version) return { accepted: false, appliedVersion: row.applied_version };
    if (message.version >= row.desired_version) {
      this.save({ ...row, desired_version: message.version, desired_message: JSON.stringify(message), drift_attempts: 0 });
      await this.armDriftAlarm(0);
    }
    return { accepted: true, appliedVersion: row.applied_version };
  }

  /**
   * The operator's rule for a change (PUT): its version must be newer than the last one accepted (desired or
   * applied). The same version again is accepted only with identical content (a retried request); with other
   * content it is a conflict, never a silent overwrite.
   */
  async acceptChange(message: UpsertMessage): Promise<{ outcome: ChangeOutcome; lastAccepted: number }> {
    const row = this.row(message.containerId);
    const lastAccepted = Math.max(row.desired_version, row.applied_version);
    if (message.version > lastAccepted) {
      await this.recordDesired(message);
      return { outcome: "accepted", lastAccepted: message.version };
    }
    if (message.version < lastAccepted) return { outcome: "stale", lastAccepted };
    return { outcome: acceptedContent(row) === JSON.stringify(message.config) ? "duplicate" : "conflict", lastAccepted };
  }

  /**
   * A removal gets the next version after everything seen so far, so it orders after every pending change.
   * Null for a container this object has never seen.
   */
  async requestDelete(containerId: string): Promise<DeleteMessage | null> {
    const row = this.row(containerId);
    if (row.applied_version === 0 && row.desired_version === 0) return null;
    const message: DeleteMessage = {
      type: "delete",
      containerId,
      version: Math.max(row.desired_version, row.applied_version) + 1,
      source: "admin",
    };
    await this.recordDesired(message);
    return message;
  }

  /** Applies a version (config, or null for removal) to KV. Stale versions are refused; failures move nothing. */
  apply(containerId: string, version: number, config: EdgeConfig | null): Promise<ApplyResult> {
    return this.serially(async () => {
      const row = this.row(containerId);
      if (version <= row.applied_version) return { status: "stale", appliedVersion: row.applied_version };
      const previous = row.applied_config ? (JSON.parse(row.applied_config) as EdgeConfig) : null;
      try {
        const { writes, deletes } = await syncKv(this.env, containerId, previous, config);
        // Re-read: recordDesired may have run while KV I/O had the input gate open.
        const fresh = this.row(containerId);
        const desired = Math.max(fresh.desired_version, version);
        this.save({
          ...fresh,
          desired_version: desired,
          // Kept after it is applied: a repeated PUT of this version is compared with what was submitted.
          desired_message: fresh.desired_message,
          applied_version: version,
          applied_config: config ? JSON.stringify(config) : null,
          last_error: null,
          drift_attempts: 0,
        });
        if (desired === version) await this.ctx.storage.deleteAlarm();
        return { status: "applied", version, writes, deletes };
      } catch (error) {
        const message = `apply v${version} failed: ${error instanceof Error ? error.message : String(error)}`;
        await this.recordFailure(containerId, version, message);
        return { status: "failed", error: message };
      }
    });
  }

  /** Records a failure that happened before KV was touched (e.g. the config could not be fetched). */
  async recordFailure(containerId: string, version: number, error: string): Promise<void> {
    const row = this.row(containerId);
    this.save({ ...row, desired_version: Math.max(row.desired_version, version), last_error: error });
    await this.armDriftAlarm(row.drift_attempts);
  }

  /**
   * Re-checks KV against the applied config (writing only what is missing or wrong) and re-sends a pending
   * version. Used by replay and by live traffic's KV-miss fallback.
   */
  repair(containerId: string): Promise<{ writes: number; deletes: number; resent: boolean }> {
    return this.serially(async () => {
      const row = this.row(containerId);
      if (row.applied_version === 0 && row.desired_version === 0) return { writes: 0, deletes: 0, resent: false };
      const applied = row.applied_config ? (JSON.parse(row.applied_config) as EdgeConfig) : null;
      const { writes, deletes } = await syncKv(this.env, containerId, applied, applied);
      const resent = row.desired_version > row.applied_version && row.desired_message !== null;
      if (resent) await this.env.CONFIG_QUEUE.send({ ...JSON.parse(row.desired_message!), source: "replay" });
      this.save({ ...this.row(containerId), last_repair_at: Date.now() });
      return { writes, deletes, resent };
    });
  }

  /**
   * The applied config, for the fallback origin (router KV miss, GET /_edge/config/:id). A miss on live traffic
   * means KV lost a key the object applied, so it also queues a repair, at most every REPAIR_INTERVAL_MS.
   */
  async appliedConfig(containerId: string, fromKvMiss = false): Promise<EdgeConfig | null> {
    const row = this.row(containerId);
    if (fromKvMiss && row.applied_config && Date.now() - row.last_repair_at > REPAIR_INTERVAL_MS) {
      this.save({ ...row, last_repair_at: Date.now() });
      const repair: RepairMessage = { type: "repair", containerId, source: "drift" };
      await this.env.CONFIG_QUEUE.send(repair);
    }
    return row.applied_config ? (JSON.parse(row.applied_config) as EdgeConfig) : null;
  }

  async status(containerId: string): Promise<ContainerStatus | null> {
    const row = this.ctx.storage.sql.exec<Row>("SELECT * FROM state WHERE id = 1").toArray()[0];
    if (!row) return null;
    return {
      containerId,
      desiredVersion: row.desired_version,
      appliedVersion: row.applied_version,
      inSync: row.desired_version <= row.applied_version,
      lastError: row.last_error,
      updatedAt: row.updated_at,
    };
  }

  /** Drift: the desired version is still not applied. Re-send it and look again later, backing off. */
  override async alarm(): Promise<void> {
    const row = this.ctx.storage.sql.exec<Row>("SELECT * FROM state WHERE id = 1").toArray()[0];
    if (!row || row.desired_version <= row.applied_version || row.desired_message === null) return;
    await this.env.CONFIG_QUEUE.send({ ...JSON.parse(row.desired_message), source: "drift" });
    console.warn(JSON.stringify({ event: "drift_resend", containerId: row.container_id, desired: row.desired_version, applied: row.applied_version, attempt: row.drift_attempts + 1 }));
    this.save({ ...row, drift_attempts: row.drift_attempts + 1 });
    await this.armDriftAlarm(row.drift_attempts + 1, true);
  }

  private async armDriftAlarm(attempts: number, replace = false): Promise<void> {
    if (!replace && (await this.ctx.storage.getAlarm()) !== null) return;
    const base = Number(this.env.DRIFT_AFTER_MS) || 60_000;
    await this.ctx.storage.setAlarm(Date.now() + base * 2 ** Math.min(attempts, MAX_DRIFT_BACKOFF_STEPS));
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work, work);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private row(containerId: string): Row {
    const existing = this.ctx.storage.sql.exec<Row>("SELECT * FROM state WHERE id = 1").toArray()[0];
    return (
      existing ?? {
        container_id: containerId,
        desired_version: 0,
        desired_message: null,
        applied_version: 0,
        applied_config: null,
        last_error: null,
        updated_at: new Date().toISOString(),
        drift_attempts: 0,
        last_repair_at: 0,
      }
    );
  }

  private save(row: Row): void {
    this.ctx.storage.sql.exec(
      `INSERT OR REPLACE INTO state (id, container_id, desired_version, desired_message, applied_version, applied_config,
        last_error, updated_at, drift_attempts, last_repair_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      row.container_id,
      row.desired_version,
      row.desired_message,
      row.applied_version,
      row.applied_config,
      row.last_error,
      new Date().toISOString(),
      row.drift_attempts,
      row.last_repair_at,
    );
  }
}

/**
 * The config (JSON) of the last accepted version as it was submitted: the stored message's, else the applied config
 * without the fields the consumer derives (cookieDomains, always the last key).
 */
function acceptedContent(row: Row): string | undefined {
  if (row.desired_message !== null) return JSON.stringify((JSON.parse(row.desired_message) as { config?: unknown }).config);
  if (row.applied_version === row.desired_version && row.applied_config !== null) {
    const { cookieDomains: _derived, ...submitted } = JSON.parse(row.applied_config) as Record<string, unknown>;
    return JSON.stringify(submitted);
  }
  return undefined;
}

export function containerStub(env: Pick<Env, "CONTAINER_STATE">, containerId: string): DurableObjectStub<ContainerState> {
  return env.CONTAINER_STATE.get(env.CONTAINER_STATE.idFromName(containerId));
}
