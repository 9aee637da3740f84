// ContainerState: one Durable Object per container (idFromName(containerId)). It is the single writer of that
// container's KV keys, so versions are applied one at a time and in order, and it notices on its own (an alarm)
// when a desired version has not been applied in time. The same alarm re-verifies its KV keys about once a day
// (durable/kv-verify.ts), and a container that stays out of sync or failing is reported to the alerts
// (durable/health-report.ts).
import { DurableObject } from "cloudflare:workers";
import * as v from "valibot";
import type { ContainerHealth } from "../schemas/alerts";
import type { DeleteMessage, RepairMessage, UpsertMessage, VersionedMessage } from "../schemas/config-message";
import { type EdgeConfig, EdgeConfigSchema, type SubmittedEdgeConfig } from "../schemas/edge-config";
import type { ContainerStatus } from "../schemas/responses";
import { EdgeError } from "../workers/shared/errors";
import { purgeByApi, purgeUrls } from "./config-purge";
import type { ContainerStateReads } from "./container-stub";
import {
  CRON_MARKER_PREFIX,
  createHostnameTable,
  cronDue,
  deletionSummary,
  dropHostname,
  type HostnameDeletion,
  type HostnameRecord,
  hostnameSummary,
  isLive,
  readDeletions,
  readHostnames,
  withheldHosts,
  writeHostname,
} from "./custom-hostname-table";
import { reportHealth } from "./health-report";
import { type KvSyncResult, syncKv } from "./kv-sync";
import { nextVerifyAt, VERIFY_RETRY_MS } from "./kv-verify";
import { createPurgeTable, KV_SETTLE_MS, nextPurgeAt, queuePurges, runDuePurges } from "./purge-queue";
import { conflictMessage, type RoutingConflict, type RoutingNames, routingNames } from "./routing-keys";
import { registryStub } from "./routing-registry";

export type RecordResult =
  | { status: "accepted"; appliedVersion: number }
  | { status: "stale"; appliedVersion: number }
  | { status: "conflict"; conflict: RoutingConflict };

export interface AcceptedConfig {
  version: number;
  /** The EdgeConfig as submitted (without the derived cookieDomains); null once the newest change is a removal. */
  config: SubmittedEdgeConfig | null;
  appliedVersion: number;
  deleted: boolean;
}

export type ApplyResult =
  | { status: "applied"; version: number; writes: number; deletes: number; released: number }
  | { status: "stale"; appliedVersion: number }
  | { status: "failed"; error: string };

/**
 * accepted: newer than everything before; duplicate: the same version and content again; stale / conflict: 409;
 * key_conflict: 409, a host, mount or token of the change belongs to another container.
 */
export type ChangeOutcome = "accepted" | "duplicate" | "stale" | "conflict" | "key_conflict";

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
  /** When the drift re-send is due (0: none pending). */
  drift_due_at: number;
  /** When the next KV verification is due (0: nothing applied to verify). */
  verify_due_at: number;
  /** Since when desired > applied (0: in sync), and since when last_error is set (0: no error). */
  out_of_sync_since: number;
  error_since: number;
  /** 1 while the alerts know this container as unhealthy, so they are told when it recovers. */
  health_reported: number;
  /** 1 while the newest change asked for is a removal. */
  deleted: number;
}

/** Columns added after the first release; existing objects get them on their next start. */
const ADDED_COLUMNS = ["drift_due_at", "verify_due_at", "out_of_sync_since", "error_since", "health_reported", "deleted"] as const;

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
    createHostnameTable(ctx.storage.sql);
    createPurgeTable(ctx.storage.sql);
    const columns = new Set(
      ctx.storage.sql
        .exec<{ name: string }>("PRAGMA table_info(state)")
        .toArray()
        .map((c) => c.name),
    );
    for (const column of ADDED_COLUMNS) {
      if (!columns.has(column)) ctx.storage.sql.exec(`ALTER TABLE state ADD COLUMN ${column} INTEGER NOT NULL DEFAULT 0`);
    }
    // An object that applied a config before KV verification existed starts verifying the first time it wakes.
    const existing = this.stored();
    if (existing?.applied_config && existing.verify_due_at === 0) {
      void ctx.blockConcurrencyWhile(async () => {
        await this.schedule({ ...existing, verify_due_at: nextVerifyAt(env, Date.now(), true) });
      });
    }
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
   * The operator's rule for a change (PUT): its version must be newer than the last one accepted (desired or
   * applied). The same version again is accepted only with identical content (a retried request); with other
   * content it is a conflict, never a silent overwrite.
   */
  async acceptChange(
    message: UpsertMessage,
    names: RoutingNames,
  ): Promise<{ outcome: ChangeOutcome; lastAccepted: number; conflict?: RoutingConflict }> {
    const row = this.row(message.containerId);
    const lastAccepted = Math.max(row.desired_version, row.applied_version);
    if (message.version > lastAccepted) {
      const recorded = await this.recordDesired(message, names);
      if (recorded.status === "conflict") return { outcome: "key_conflict", lastAccepted, conflict: recorded.conflict };
      return { outcome: "accepted", lastAccepted: message.version };
    }
    if (message.version < lastAccepted) return { outcome: "stale", lastAccepted };
    return { outcome: acceptedContent(row) === JSON.stringify(message.config) ? "duplicate" : "conflict", lastAccepted };
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
      // Re-read: the claim's round trip let other requests in.
      const fresh = this.row(containerId);
      await this.schedule(
        this.withDrift(
          {
            ...fresh,
            desired_version: version,
            desired_message: JSON.stringify(message),
            drift_attempts: 0,
            out_of_sync_since: fresh.out_of_sync_since || Date.now(),
            deleted: message.type === "delete" ? 1 : 0,
          },
          0,
        ),
      );
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
        // the outbox sweeper, a replayed dead letter). Claiming what this container already holds changes nothing.
        if (config) {
          const claim = await registry.claim(containerId, version, routingNames(config));
          if (claim.status === "conflict") throw new EdgeError(409, "key_conflict", conflictMessage(claim.conflict));
        }
        const { writes, deletes, changed } = await syncKv(this.env, containerId, previous, config, withheldHosts(this.ctx.storage.sql));
        await this.purgeChanged(changed);
        // Only now, with the KV deletes done, may another container have the keys this version dropped.
        const { released } = await registry.release(containerId, version);
        await this.reconcileHostnames(containerId);
        const fresh = this.row(containerId);
        const desired = Math.max(fresh.desired_version, version);
        const now = Date.now();
        const next: Row = {
          ...fresh,
          desired_version: desired,
          // Kept after it is applied: a repeated PUT of this version is compared with what was submitted.
          desired_message: fresh.desired_message,
          applied_version: version,
          applied_config: config ? JSON.stringify(config) : null,
          last_error: null,
          error_since: 0,
          drift_attempts: 0,
          drift_due_at: desired > version ? fresh.drift_due_at : 0,
          out_of_sync_since: desired > version ? fresh.out_of_sync_since : 0,
          // Keys were just checked; a removed container has nothing left to verify.
          verify_due_at: config ? nextVerifyAt(this.env, now, fresh.verify_due_at === 0) : 0,
          deleted: desired > version ? fresh.deleted : config === null ? 1 : 0,
        };
        await this.schedule(await this.reportIfChanged(next));
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
    const now = Date.now();
    const desired = Math.max(row.desired_version, version);
    const next = this.withDrift(
      {
        ...row,
        desired_version: desired,
        last_error: error,
        error_since: row.error_since || now,
        out_of_sync_since: desired > row.applied_version ? row.out_of_sync_since || now : row.out_of_sync_since,
      },
      row.drift_attempts,
    );
    await this.schedule(await this.reportIfChanged(next));
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
      // Also settles custom hostnames recorded before every apply reconciled them with the registry.
      await this.reconcileHostnames(containerId);
      const { writes, deletes, changed } = await syncKv(this.env, containerId, applied, applied, withheldHosts(this.ctx.storage.sql));
      await this.purgeChanged(changed);
      const resent = row.desired_version > row.applied_version && row.desired_message !== null;
      if (resent) await this.env.CONFIG_QUEUE.send({ ...JSON.parse(row.desired_message!), source: "replay" });
      const now = Date.now();
      // A repair is a verification: the next scheduled one can wait its full interval.
      const fresh = this.row(containerId);
      await this.schedule({ ...fresh, last_repair_at: now, verify_due_at: applied ? nextVerifyAt(this.env, now) : fresh.verify_due_at });
      return { writes, deletes, resent };
    });
  }

  /**
   * The applied config, for the fallback origin (router KV miss, GET /_edge/config/:id). A miss on live traffic
   * means KV lost a key the object applied, so it also queues a repair, at most every REPAIR_INTERVAL_MS.
   */
  async appliedConfig(containerId: string, fromKvMiss = false): Promise<EdgeConfig | null> {
    if (fromKvMiss) await this.kvMiss(containerId);
    const row = this.row(containerId);
    return row.applied_config ? (JSON.parse(row.applied_config) as EdgeConfig) : null;
  }

  /**
   * Live traffic missed one of this container's KV keys (a host, the loader token, the config): queue a repair,
   * which rewrites only what is missing or wrong, at most every REPAIR_INTERVAL_MS. True when one was queued.
   */
  async kvMiss(containerId: string): Promise<boolean> {
    const row = this.row(containerId);
    if (!row.applied_config || Date.now() - row.last_repair_at <= REPAIR_INTERVAL_MS) return false;
    this.save({ ...row, last_repair_at: Date.now() });
    const repair: RepairMessage = { type: "repair", containerId, source: "drift" };
    await this.env.CONFIG_QUEUE.send(repair);
    return true;
  }

  /**
   * GET /_edge/admin/containers/:id: the newest config accepted for this container as it was submitted, and its
   * version. A change that arrived without its config (a Supabase row the consumer reads later) shows the applied
   * config until it is applied. Null when no config was ever accepted.
   */
  async acceptedConfig(): Promise<AcceptedConfig | null> {
    const row = this.stored();
    if (!row) return null;
    const desired = row.desired_message ? (JSON.parse(row.desired_message) as VersionedMessage) : null;
    const base = { appliedVersion: row.applied_version, deleted: row.deleted === 1 };
    if (base.deleted) return { ...base, version: row.desired_version, config: null };
    if (desired?.type === "upsert" && desired.config !== undefined) {
      return { ...base, version: desired.version, config: desired.config as SubmittedEdgeConfig };
    }
    if (row.applied_config === null) return null;
    const { cookieDomains: _derived, ...submitted } = JSON.parse(row.applied_config) as EdgeConfig;
    return { ...base, version: row.applied_version, config: submitted };
  }

  /** For the alert check: since when this container is out of sync or failing (null: it is not). */
  async health(): Promise<ContainerHealth | null> {
    const row = this.stored();
    return row ? healthOf(row) : null;
  }

  async status(containerId: string): Promise<ContainerStatus | null> {
    const row = this.stored();
    if (!row) return null;
    return {
      containerId,
      desiredVersion: row.desired_version,
      appliedVersion: row.applied_version,
      inSync: row.desired_version <= row.applied_version,
      deleted: row.deleted === 1,
      lastError: row.last_error,
      updatedAt: row.updated_at,
      hostnames: [...readHostnames(this.ctx.storage.sql).map(hostnameSummary), ...readDeletions(this.ctx.storage.sql).map(deletionSummary)],
    };
  }

  /** Custom hostnames (custom-hostname-table.ts), as Cloudflare last reported them. */
  async hostnames(): Promise<HostnameRecord[]> {
    return readHostnames(this.ctx.storage.sql);
  }

  /** Custom hostnames Cloudflare must still delete (the cron's work, retried until done). */
  async hostnameDeletions(): Promise<HostnameDeletion[]> {
    return readDeletions(this.ctx.storage.sql);
  }

  /**
   * Stores a custom hostname's record if `containerId` owns its host in the RoutingRegistry now, and brings
   * SITE_REGISTRY in line at once (a host goes live when its hostname turns active, and is withdrawn when it is
   * removed). Runs in this object's serial chain, like apply, which is the only place this container's claim on a
   * host can end: so the owner the registry answers here stays the owner until the record is written. When the
   * container does not own the host, nothing is recorded and the record's Cloudflare hostname is handed to the
   * deletions (it was made for a host this container no longer routes). True when recorded.
   */
  commitHostname(containerId: string, record: HostnameRecord): Promise<boolean> {
    return this.serially(async () => {
      const sql = this.ctx.storage.sql;
      const dueBefore = cronDue(sql);
      const previous = readHostnames(sql).find((r) => r.host === record.host);
      const owners = await registryStub(this.env).publicHostOwners([record.host]);
      const now = new Date().toISOString();
      if (owners[record.host] !== containerId) {
        dropHostname(sql, record, now);
        if (previous) dropHostname(sql, previous, now);
        await this.keepCronMarker(containerId, dueBefore);
        return false;
      }
      writeHostname(sql, record);
      await this.keepCronMarker(containerId, dueBefore);
      // A host without a record is live (operator-managed DNS); the sync runs only when that changes.
      const applied = this.row(containerId).applied_config;
      if (applied !== null && (previous ? isLive(previous) : true) !== isLive(record)) {
        const config = JSON.parse(applied) as EdgeConfig;
        await this.purgeChanged((await syncKv(this.env, containerId, config, config, withheldHosts(sql))).changed);
        await this.schedule(this.row(containerId));
      }
      return true;
    });
  }

  /** Cloudflare has deleted it (or never had it): the deletion is done. */
  async hostnameDeleted(containerId: string, cloudflareId: string): Promise<void> {
    const sql = this.ctx.storage.sql;
    const dueBefore = cronDue(sql);
    sql.exec("DELETE FROM custom_hostname_deletions WHERE cloudflare_id = ?", cloudflareId);
    await this.keepCronMarker(containerId, dueBefore);
  }

  /** A deletion failed; it stays, with the reason, for the next cron run. */
  async hostnameDeletionFailed(cloudflareId: string, error: string): Promise<void> {
    this.ctx.storage.sql.exec(
      "UPDATE custom_hostname_deletions SET attempts = attempts + 1, last_error = ? WHERE cloudflare_id = ?",
      error,
      cloudflareId,
    );
  }

  /**
   * A custom hostname outlives nothing: every record whose host this container no longer owns in the RoutingRegistry
   * (the host left its config, or the container was removed, and the apply released it) goes to the deletions, so
   * Cloudflare stops serving and certifying a name this container no longer routes, and the host's next owner starts
   * from a fresh, unverified hostname. Called after the registry release of every apply, and by repair.
   */
  private async reconcileHostnames(containerId: string): Promise<void> {
    const sql = this.ctx.storage.sql;
    const records = readHostnames(sql);
    if (records.length === 0) return;
    const dueBefore = cronDue(sql);
    const owners = await registryStub(this.env).publicHostOwners(records.map((r) => r.host));
    const now = new Date().toISOString();
    for (const record of records) if (owners[record.host] !== containerId) dropHostname(sql, record, now);
    await this.keepCronMarker(containerId, dueBefore);
  }

  /**
   * Durable Objects cannot be listed, so a container with cron work (a pending hostname or a deletion) has an empty
   * marker object in LOG_BUCKET, its metadata saying when the work is due; the cron lists the prefix and visits only
   * the containers due. Written when work appears or goes, or comes due earlier; a due time that moves later is
   * written once per cron visit (cronVisited), not once per hostname checked.
   */
  private async keepCronMarker(containerId: string, dueBefore: string | null): Promise<void> {
    const due = cronDue(this.ctx.storage.sql);
    if (due === dueBefore || (due !== null && dueBefore !== null && due > dueBefore)) return;
    await this.writeCronMarker(containerId, due);
  }

  /** After the cron's visit: the marker says when this container's work is due next. */
  async cronVisited(containerId: string): Promise<void> {
    await this.writeCronMarker(containerId, cronDue(this.ctx.storage.sql));
  }

  private async writeCronMarker(containerId: string, due: string | null): Promise<void> {
    if (due === null) await this.env.LOG_BUCKET.delete(`${CRON_MARKER_PREFIX}${containerId}`);
    else await this.env.LOG_BUCKET.put(`${CRON_MARKER_PREFIX}${containerId}`, "", { customMetadata: { due } });
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

  /**
   * One alarm, two jobs. Drift: the desired version is still not applied, so re-send it and look again later,
   * backing off. Verification: about once a day, re-read every KV key the applied config implies and rewrite only
   * what is missing or wrong (a key lost or overwritten in KV would otherwise wait for live traffic to notice).
   */
  override async alarm(): Promise<void> {
    const row = this.stored();
    if (!row) return;
    const now = Date.now();
    // The alarm was set for the earliest job, so that one runs even if the alarm fires a little early (as a
    // forced run in tests does); any other job runs once it is due.
    const purgeDue = nextPurgeAt(this.ctx.storage.sql);
    const cutoff = Math.max(now, Math.min(...[row.drift_due_at, row.verify_due_at, purgeDue].filter((t) => t > 0)));
    let next = row;
    if (row.drift_due_at !== 0 && row.drift_due_at <= cutoff) {
      next = await this.resendDrift(next);
      this.save(next);
    }
    if (next.verify_due_at !== 0 && next.verify_due_at <= cutoff) next = await this.verifyKv(next, now);
    await runDuePurges(this.ctx.storage.sql, this.env, cutoff, now);
    await this.schedule(next);
  }

  /**
   * Purges the location caches' entries of the keys a sync just wrote or deleted (durable/config-purge.ts), now and
   * once more when KV has settled; what fails stays due for the alarm (durable/purge-queue.ts). Never throws: the
   * KV writes are done and stand either way.
   */
  private async purgeChanged(changed: KvSyncResult["changed"]): Promise<void> {
    if (changed.length === 0) return;
    const now = Date.now();
    queuePurges(this.ctx.storage.sql, purgeUrls(this.env, changed), now, purgeByApi(this.env) ? KV_SETTLE_MS : 0);
    await runDuePurges(this.ctx.storage.sql, this.env, now, now);
  }

  private async resendDrift(row: Row): Promise<Row> {
    if (row.desired_version <= row.applied_version || row.desired_message === null) return { ...row, drift_due_at: 0 };
    await this.env.CONFIG_QUEUE.send({ ...JSON.parse(row.desired_message), source: "drift" });
    console.warn(
      JSON.stringify({
        event: "drift_resend",
        containerId: row.container_id,
        desired: row.desired_version,
        applied: row.applied_version,
        attempt: row.drift_attempts + 1,
      }),
    );
    // Still not applied after DRIFT_AFTER_MS: from here on the alerts know about it.
    return this.reportIfChanged(this.withDrift({ ...row, drift_attempts: row.drift_attempts + 1 }, row.drift_attempts + 1, true));
  }

  private verifyKv(row: Row, now: number): Promise<Row> {
    return this.serially(async () => {
      const fresh = this.stored() ?? row;
      if (!fresh.applied_config) return { ...fresh, verify_due_at: 0 };
      const applied = JSON.parse(fresh.applied_config) as EdgeConfig;
      try {
        const { writes, deletes, changed } = await syncKv(
          this.env,
          fresh.container_id,
          applied,
          applied,
          withheldHosts(this.ctx.storage.sql),
        );
        await this.purgeChanged(changed);
        console.log(
          JSON.stringify({ event: "kv_verify", containerId: fresh.container_id, version: fresh.applied_version, writes, deletes }),
        );
        return { ...this.stored()!, verify_due_at: nextVerifyAt(this.env, now) };
      } catch (error) {
        // A conflict (a key now names another container) or a KV failure: keep the error visible, look again soon.
        const message = `KV verification of v${fresh.applied_version} failed: ${error instanceof Error ? error.message : String(error)}`;
        console.error(JSON.stringify({ event: "kv_verify_failed", containerId: fresh.container_id, error: message }));
        const current = this.stored()!;
        return this.reportIfChanged({
          ...current,
          last_error: message,
          error_since: current.error_since || now,
          verify_due_at: now + VERIFY_RETRY_MS,
        });
      }
    });
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

  /** Arms (or, with `replace`, re-arms) the drift re-send `attempts` doublings of DRIFT_AFTER_MS from now. */
  private withDrift(row: Row, attempts: number, replace = false): Row {
    if (!replace && row.drift_due_at !== 0) return row;
    const base = Number(this.env.DRIFT_AFTER_MS) || 60_000;
    return { ...row, drift_due_at: Date.now() + base * 2 ** Math.min(attempts, MAX_DRIFT_BACKOFF_STEPS) };
  }

  /** Saves the row and points the one alarm at whichever job is due first (or clears it). */
  private async schedule(row: Row): Promise<void> {
    // The first row: the registry's container list is what status, DELETE and replay ask before they touch an object.
    if (!this.stored()) await registryStub(this.env).enroll(row.container_id);
    this.save(row);
    const due = [row.drift_due_at, row.verify_due_at, nextPurgeAt(this.ctx.storage.sql)].filter((t) => t > 0);
    if (due.length === 0) await this.ctx.storage.deleteAlarm();
    else {
      const at = Math.min(...due);
      if ((await this.ctx.storage.getAlarm()) !== at) await this.ctx.storage.setAlarm(at);
    }
  }

  /**
   * Tells the alerts when this container becomes unhealthy (a drift re-send, a failure) and when it recovers;
   * a healthy container's ordinary changes never call them. A failed report is retried by the next change.
   */
  private async reportIfChanged(row: Row): Promise<Row> {
    const unhealthy = row.out_of_sync_since !== 0 || row.error_since !== 0;
    if (!unhealthy && row.health_reported === 0) return row;
    return (await reportHealth(this.env, healthOf(row))) ? { ...row, health_reported: unhealthy ? 1 : 0 } : row;
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work, work);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private row(containerId: string): Row {
    const existing = this.stored();
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
        drift_due_at: 0,
        verify_due_at: 0,
        out_of_sync_since: 0,
        error_since: 0,
        health_reported: 0,
        deleted: 0,
      }
    );
  }

  private stored(): Row | undefined {
    return this.ctx.storage.sql.exec<Row>("SELECT * FROM state WHERE id = 1").toArray()[0];
  }

  private save(row: Row): void {
    this.ctx.storage.sql.exec(
      `INSERT OR REPLACE INTO state (id, container_id, desired_version, desired_message, applied_version, applied_config,
        last_error, updated_at, drift_attempts, last_repair_at, drift_due_at, verify_due_at, out_of_sync_since,
        error_since, health_reported, deleted) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      row.container_id,
      row.desired_version,
      row.desired_message,
      row.applied_version,
      row.applied_config,
      row.last_error,
      new Date().toISOString(),
      row.drift_attempts,
      row.last_repair_at,
      row.drift_due_at,
      row.verify_due_at,
      row.out_of_sync_since,
      row.error_since,
      row.health_reported,
      row.deleted,
    );
  }
}

function healthOf(row: Row): ContainerHealth {
  return {
    containerId: row.container_id,
    outOfSyncSince: row.out_of_sync_since || null,
    errorSince: row.error_since || null,
    lastError: row.last_error,
    desiredVersion: row.desired_version,
    appliedVersion: row.applied_version,
  };
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
