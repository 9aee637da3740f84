// OperatorAccess: one Durable Object (SQLite) for the control plane's API keys and its audit log. A single instance
// (idFromName("operator-access")): operator traffic is small, and one object makes revocation take effect at once
// and keeps the audit log in one ordered sequence.
import { DurableObject } from "cloudflare:workers";
import type { ApiKeyAccess, ApiKeyScope } from "../schemas/admin";

export interface ApiKeyInfo {
  id: string;
  name: string;
  containers: ApiKeyScope;
  access: ApiKeyAccess;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface AuditEntry {
  id: number;
  at: string;
  /** "admin" (the admin token), "key:<id>" (an API key) or "webhook" (the Supabase webhook secret). */
  actor: string;
  keyName: string | null;
  method: string;
  path: string;
  containerId: string | null;
  status: number;
  /** "ok" for a 2xx answer, else the answer's error code (stale_version, forbidden, …). */
  result: string;
  detail: string | null;
}

export type NewAuditEntry = Omit<AuditEntry, "id" | "at">;

interface KeyRow extends Record<string, SqlStorageValue> {
  id: string;
  name: string;
  hash: string;
  containers: string;
  access: string;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

interface AuditRow extends Record<string, SqlStorageValue> {
  id: number;
  at: string;
  actor: string;
  key_name: string | null;
  method: string;
  path: string;
  container_id: string | null;
  status: number;
  result: string;
  detail: string | null;
}

/** Entries older than this are pruned as new ones arrive. */
const AUDIT_RETENTION_DAYS = 400;
/**
 * Pruning deletes at most this many expired entries at once (through the index on `at`), and runs again on the next
 * write only while a batch came back full; otherwise once an hour. A write never scans the table.
 */
const PRUNE_BATCH = 500;
const PRUNE_INTERVAL_MS = 3_600_000;
/** last_used_at is a hint for finding stale keys, so it is written at most this often per key. */
const LAST_USED_RESOLUTION_MS = 60_000;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    hash TEXT NOT NULL,
    containers TEXT NOT NULL,
    access TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    last_used_at TEXT
  );
  CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    key_name TEXT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    container_id TEXT,
    status INTEGER NOT NULL,
    result TEXT NOT NULL,
    detail TEXT
  );
  CREATE INDEX IF NOT EXISTS audit_container ON audit (container_id, id);
  CREATE INDEX IF NOT EXISTS audit_at ON audit (at)`;

export class OperatorAccess extends DurableObject<Env> {
  /** When the next write prunes (in memory: a restarted object prunes on its first write). */
  private nextPruneAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(SCHEMA);
  }

  /** Stores a new key by its SHA-256 only; the caller shows the key itself once and never again. */
  async createKey(id: string, hash: string, name: string, containers: ApiKeyScope, access: ApiKeyAccess): Promise<ApiKeyInfo> {
    const createdAt = new Date().toISOString();
    this.ctx.storage.sql.exec(
      "INSERT INTO api_keys (id, name, hash, containers, access, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      id,
      name,
      hash,
      JSON.stringify(containers),
      access,
      createdAt,
    );
    return { id, name, containers, access, createdAt, revokedAt: null, lastUsedAt: null };
  }

  /** The key's scope when `hash` matches an unrevoked key with this id; null otherwise. */
  async verifyKey(id: string, hash: string): Promise<ApiKeyInfo | null> {
    const row = this.ctx.storage.sql.exec<KeyRow>("SELECT * FROM api_keys WHERE id = ?", id).toArray()[0];
    if (!row || row.revoked_at !== null) return null;
    const encoder = new TextEncoder();
    // Both are hex SHA-256 digests (64 characters); compared in constant time all the same.
    if (hash.length !== row.hash.length || !crypto.subtle.timingSafeEqual(encoder.encode(row.hash), encoder.encode(hash))) return null;
    const now = Date.now();
    if (!row.last_used_at || now - Date.parse(row.last_used_at) > LAST_USED_RESOLUTION_MS) {
      row.last_used_at = new Date(now).toISOString();
      this.ctx.storage.sql.exec("UPDATE api_keys SET last_used_at = ? WHERE id = ?", row.last_used_at, id);
    }
    return keyInfo(row);
  }

  async listKeys(): Promise<ApiKeyInfo[]> {
    return this.ctx.storage.sql.exec<KeyRow>("SELECT * FROM api_keys ORDER BY created_at, id").toArray().map(keyInfo);
  }

  /** Revokes a key (idempotent: a revoked key keeps its first revocation time). Null for an unknown id. */
  async revokeKey(id: string): Promise<ApiKeyInfo | null> {
    this.ctx.storage.sql.exec("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", new Date().toISOString(), id);
    const row = this.ctx.storage.sql.exec<KeyRow>("SELECT * FROM api_keys WHERE id = ?", id).toArray()[0];
    return row ? keyInfo(row) : null;
  }

  async record(entry: NewAuditEntry): Promise<void> {
    const at = new Date();
    this.ctx.storage.sql.exec(
      `INSERT INTO audit (at, actor, key_name, method, path, container_id, status, result, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      at.toISOString(),
      entry.actor,
      entry.keyName,
      entry.method,
      entry.path,
      entry.containerId,
      entry.status,
      entry.result,
      entry.detail,
    );
    if (at.getTime() >= this.nextPruneAt) this.prune(at.getTime());
  }

  /** Deletes one batch of expired entries, oldest first. */
  private prune(now: number): void {
    const cutoff = new Date(now - AUDIT_RETENTION_DAYS * 86_400_000).toISOString();
    const expired = this.ctx.storage.sql
      .exec<{ id: number }>("SELECT id FROM audit WHERE at < ? ORDER BY at LIMIT ?", cutoff, PRUNE_BATCH)
      .toArray()
      .map((row) => row.id);
    if (expired.length > 0) {
      this.ctx.storage.sql.exec("DELETE FROM audit WHERE id IN (SELECT value FROM json_each(?))", JSON.stringify(expired));
    }
    this.nextPruneAt = expired.length === PRUNE_BATCH ? now : now + PRUNE_INTERVAL_MS;
  }

  /** Newest first; `before` is the cursor (an entry id) from the previous page. */
  async listAudit(options: {
    limit: number;
    before?: number;
    containerId?: string;
  }): Promise<{ entries: AuditEntry[]; cursor: string | null }> {
    const conditions = ["id < ?"];
    const params: SqlStorageValue[] = [options.before ?? Number.MAX_SAFE_INTEGER];
    if (options.containerId) {
      conditions.push("container_id = ?");
      params.push(options.containerId);
    }
    const rows = this.ctx.storage.sql
      .exec<AuditRow>(`SELECT * FROM audit WHERE ${conditions.join(" AND ")} ORDER BY id DESC LIMIT ?`, ...params, options.limit + 1)
      .toArray();
    const page = rows.slice(0, options.limit);
    return {
      entries: page.map((row) => ({
        id: row.id,
        at: row.at,
        actor: row.actor,
        keyName: row.key_name,
        method: row.method,
        path: row.path,
        containerId: row.container_id,
        status: row.status,
        result: row.result,
        detail: row.detail,
      })),
      cursor: rows.length > options.limit ? String(page.at(-1)!.id) : null,
    };
  }
}

function keyInfo(row: KeyRow): ApiKeyInfo {
  return {
    id: row.id,
    name: row.name,
    containers: JSON.parse(row.containers) as ApiKeyScope,
    access: row.access as ApiKeyAccess,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

export function operatorAccess(env: Pick<Env, "OPERATOR_ACCESS">): DurableObjectStub<OperatorAccess> {
  return env.OPERATOR_ACCESS.get(env.OPERATOR_ACCESS.idFromName("operator-access"));
}
