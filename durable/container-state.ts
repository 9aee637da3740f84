// ContainerState: one Durable Object per container (idFromName(containerId)). It is the single writer of that
// container's KV keys, so versions are applied one at a time and in order, and it notices on its own (an alarm)
// when a desired version has not been applied in time.
import { DurableObject } from "cloudflare:workers";
import type { DeleteMessage, RepairMessage, VersionedMessage } from "../schemas/config-message";
import * as v from "valibot";
import { EdgeConfigSchema, type EdgeConfig } from "../schemas/edge-config";
import { EdgeError } from "../workers/shared/errors";
import { syncKv } from "../workers/sync-consumer/kv-sync";
import type { ContainerStateReads } from "./container-stub";
import {
  createHostnameTable,
  hostnameSummary,
  readHostnames,
  withheldHosts,
  writeHostname,
  type HostnameRecord,
} from "./custom-hostname-table";
import { registryStub } from "./routing-registry";
import { conflictMessage, routingNames, type RoutingConflict, type RoutingNames } from "./routing-keys";

export interface ContainerStatus {
  containerId: string;
  desiredVersion: number;
  appliedVersion: number;
  inSync: boolean;
  /** The newest change asked for is a removal (DELETE, or a delete from the control plane). */
  deleted: boolean;
  lastError: string | null;
  updatedAt: string;
  hostnames: ReturnType<typeof hostnameSummary>[];
}

export type RecordResult =
  | { status: "accepted"; appliedVersion: number }
  | { status: "stale"; appliedVersion: number }
  | { status: "conflict"; conflict: RoutingConflict };

export type ApplyResult =
  | { status: "applied"; version: number; writes: number; deletes: number; released: number }
  | { status: "stale"; appliedVersion: number }
  | { status: "failed"; error: string };

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
  deleted: number;
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
      last_repair_at INTEGER NOT NULL DEFAULT 0,
      deleted INTEGER NOT NULL DEFAULT 0
    )`);
    // Objects created before the column existed.
    const columns = ctx.storage.sql.exec<{ name: string }>("PRAGMA table_info(state)").toArray();
    if (!columns.some((column) => column.name === "deleted")) {
      ctx.storage.sql.exec("ALTER TABLE state ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0");
    }
    createHostnameTable(ctx.storage.sql);
  }

  /**
   * Records a version the control plane wants. Refuses one that is not newer than the applied version and, when
   * the caller knows the version's routing names (`names`), one that would route a key another container owns:
   * the keys are claimed in the RoutingRegistry before anything is recorded.
   */
  recordDesired(message: VersionedMessage, names?: RoutingNames): Promise<RecordResult> {
    return this.serially(() => this.recordDesiredNow(message, names));
  }

  /**
   * A removal gets the next version after everything seen so far, so it orders after every pending change.
   * Null for a container this object has never seen or whose newest change is already a removal.
   */
  requestDelete(containerId: string): Promise<DeleteMessage | null> {
    return this.serially(async () => {
      const row = this.row(containerId);
      if ((row.applied_version === 0 && row.desired_version === 0) || row.deleted) return null;
      const message: DeleteMessage = {
        type: "delete",
        containerId,
        version: Math.max(row.desired_version, row.applied_version) + 1,
        source: "admin",
      };
      await this.recordDesiredNow(message);
      return message;
    });
  }

  private async recordDesiredNow(message: VersionedMessage, names?: RoutingNames): Promise<RecordResult> {
    const { containerId, version } = message;
    const row = this.row(containerId);
    if (version <= row.applied_version) return { status: "stale", appliedVersion: row.applied_version };
    if (names) {
      const claim = await registryStub(this.env).claim(containerId, version, names);
      if (claim.status === "conflict") return claim;
    }
    if (version >= row.desired_version) {
      const fresh = this.row(containerId);
      this.save({
        ...fresh,
        desired_version: version,
        desired_message: JSON.stringify(message),
        drift_attempts: 0,
        deleted: message.type === "delete" ? 1 : 0,
      });
      await this.armDriftAlarm(0);
    }
    return { status: "accepted", appliedVersion: row.applied_version };
  }

  /** Applies a version (config, or null for removal) to KV. Stale versions are refused; failures move nothing. */
  apply(containerId: string, version: number, config: EdgeConfig | null): Promise<ApplyResult> {
    return this.serially(async () => {
      const row = this.row(containerId);
      if (version <= row.applied_version) return { status: "stale", appliedVersion: row.applied_version };
      const previous = row.applied_config ? (JSON.parse(row.applied_config) as EdgeConfig) : null;
      const registry = registryStub(this.env);
      try {
        // Claimed again here: a message may arrive without having been claimed (webhook without Supabase at hand,
        // replayed dead letter). Claiming what this container already holds changes nothing.
        if (config) {
          const claim = await registry.claim(containerId, version, routingNames(config));
          if (claim.status === "conflict") throw new EdgeError(409, "key_conflict", conflictMessage(claim.conflict));
        }
        const { writes, deletes } = await syncKv(this.env, containerId, previous, config, withheldHosts(this.ctx.storage.sql));
        // Only now, with the KV deletes done, may another container have the keys this version dropped.
        const { released } = await registry.release(containerId, version);
        const fresh = this.row(containerId);
        const desired = Math.max(fresh.desired_version, version);
        this.save({
          ...fresh,
          desired_version: desired,
          desired_message: desired > version ? fresh.desired_message : null,
          applied_version: version,
          applied_config: config ? JSON.stringify(config) : null,
          last_error: null,
          drift_attempts: 0,
          deleted: desired > version ? fresh.deleted : config === null ? 1 : 0,
        });
        if (desired === version) await this.ctx.storage.deleteAlarm();
        return { status: "applied", version, writes, deletes, released };
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
      if (applied) await this.backfillClaim(containerId, row.applied_version, applied);
      const { writes, deletes } = await syncKv(this.env, containerId, applied, applied, withheldHosts(this.ctx.storage.sql));
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
      deleted: row.deleted === 1,
      lastError: row.last_error,
      updatedAt: row.updated_at,
      hostnames: readHostnames(this.ctx.storage.sql).map(hostnameSummary),
    };
  }

  /** Custom hostnames (custom-hostname-table.ts), as Cloudflare last reported them. */
  async hostnames(): Promise<HostnameRecord[]> {
    return readHostnames(this.ctx.storage.sql);
  }

  /**
   * Stores a custom hostname's record and brings SITE_REGISTRY in line with the applied config at once, so a host
   * goes live when its hostname turns active and is withdrawn when it is removed. The sync writes only what differs.
   */
  saveHostname(containerId: string, record: HostnameRecord): Promise<void> {
    writeHostname(this.ctx.storage.sql, record);
    return this.serially(async () => {
      const applied = this.row(containerId).applied_config;
      if (applied === null) return;
      const config = JSON.parse(applied) as EdgeConfig;
      await syncKv(this.env, containerId, config, config, withheldHosts(this.ctx.storage.sql));
    });
  }

  /** The public hosts of the newest config this object knows (pending or applied); null when there is none. */
  async latestPublicHosts(containerId: string): Promise<string[] | null> {
    const row = this.row(containerId);
    const desired = row.desired_message ? (JSON.parse(row.desired_message) as VersionedMessage) : null;
    if (desired?.type === "delete") return null;
    // A webhook message may carry no config (it is read from Supabase at apply time): then the applied one counts.
    const pending = desired?.type === "upsert" ? v.safeParse(EdgeConfigSchema, desired.config) : null;
    if (pending?.success) return pending.output.publicHosts;
    return row.applied_config ? (JSON.parse(row.applied_config) as EdgeConfig).publicHosts : null;
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

  /**
   * Containers applied before the registry existed own their keys in KV only; a repair (POST /_edge/admin/replay
   * {"all": true}) records them. A conflict found here is logged, not fixed: KV keeps whoever holds the key now.
   */
  private async backfillClaim(containerId: string, version: number, applied: EdgeConfig): Promise<void> {
    const claim = await registryStub(this.env).claim(containerId, version, routingNames(applied));
    if (claim.status === "conflict") {
      console.error(JSON.stringify({ event: "registry_backfill_conflict", containerId, reason: conflictMessage(claim.conflict) }));
    }
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
        deleted: 0,
      }
    );
  }

  private save(row: Row): void {
    this.ctx.storage.sql.exec(
      `INSERT OR REPLACE INTO state (id, container_id, desired_version, desired_message, applied_version, applied_config,
        last_error, updated_at, drift_attempts, last_repair_at, deleted) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      row.container_id,
      row.desired_version,
      row.desired_message,
      row.applied_version,
      row.applied_config,
      row.last_error,
      new Date().toISOString(),
      row.drift_attempts,
      row.last_repair_at,
      row.deleted,
    );
  }
}

export function containerStub(env: Pick<Env, "CONTAINER_STATE">, containerId: string): DurableObjectStub<ContainerState> {
  return env.CONTAINER_STATE.get(env.CONTAINER_STATE.idFromName(containerId));
}
