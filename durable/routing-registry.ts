// RoutingRegistry: who owns each routing key (host, mount, loader token), platform-wide. A container's object
// (ContainerState) claims its config's keys here before the config is accepted, and releases the keys a new
// version no longer names only after its KV deletes are done, so no key is ever routed by two containers.
//
// One instance for the whole platform (idFromName("registry")). Ownership rules cross keys (a whole host against
// every mount below it, a public host against the registrable domain of every infra host), so they need one
// place that sees all keys; sharding by host would turn one claim into a multi-object transaction. The cost is
// fine at our scale: the registry is never on the live-traffic path, only on config changes (operator PUTs,
// webhooks, applies), a few per second at most, and one claim is a handful of indexed SQLite reads and writes
// inside one synchronous transaction (well under a millisecond of the object's time). Per PUT it adds one Durable
// Object round trip (ContainerState -> registry); per apply two (claim, release). See docs/tenant-isolation.md.
import { DurableObject } from "cloudflare:workers";
import { MAX_CONTAINERS_PAGE } from "../schemas/admin";
import { type RoutingConflict, type RoutingKey, type RoutingNames, routingKeys, storageKey } from "./routing-keys";

export type ClaimResult = { status: "claimed" } | { status: "conflict"; conflict: RoutingConflict };

export interface RegisteredContainer {
  containerId: string;
  infraHosts: string[];
  publicHosts: string[];
  loaderTokens: string[];
}

interface ClaimRow extends Record<string, SqlStorageValue> {
  key: string;
  kind: string;
  name: string;
  host: string | null;
  domain: string | null;
  role: string;
  owner: string;
  version: number;
}

// One row per key and role: a host that one pending version names as an infra host and a newer one as a public host
// is held in both roles until the older version is released (either may still reach KV until then).
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS claims (
    key TEXT NOT NULL,
    role TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    host TEXT,
    domain TEXT,
    owner TEXT NOT NULL,
    -- the newest version of the owner naming the key in this role: a release after applying version v frees rows below v
    version INTEGER NOT NULL,
    PRIMARY KEY (key, role)
  );
  CREATE INDEX IF NOT EXISTS claims_owner ON claims (owner, version);
  CREATE INDEX IF NOT EXISTS claims_host ON claims (host, kind);
  CREATE INDEX IF NOT EXISTS claims_domain ON claims (domain, role);
  CREATE TABLE IF NOT EXISTS containers (id TEXT PRIMARY KEY)`;

export class RoutingRegistry extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(SCHEMA);
  }

  /**
   * Claims every key `names` implies for `containerId` at `version`, or none of them. Synchronous SQLite inside
   * one transaction: no other request runs in between, so two containers claiming one key at the same moment get
   * one winner.
   */
  claim(containerId: string, version: number, names: RoutingNames): ClaimResult {
    const keys = routingKeys(names);
    return this.ctx.storage.transactionSync((): ClaimResult => {
      const conflict = this.findConflict(containerId, keys);
      if (conflict) return { status: "conflict", conflict };
      for (const key of keys) {
        this.ctx.storage.sql.exec(
          `INSERT INTO claims (key, kind, name, host, domain, role, owner, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (key, role) DO UPDATE SET version = max(claims.version, excluded.version)`,
          storageKey(key),
          key.kind,
          key.name,
          key.host,
          key.domain,
          key.role,
          containerId,
          version,
        );
      }
      this.ctx.storage.sql.exec("INSERT OR IGNORE INTO containers (id) VALUES (?)", containerId);
      return { status: "claimed" };
    });
  }

  /**
   * Frees the keys of `containerId` that no version from `version` on names: call it once `version` is applied and
   * its KV deletes are done (for a removal, every key it held). Keys a newer pending version claimed stay held.
   */
  release(containerId: string, version: number): { released: number } {
    const cursor = this.ctx.storage.sql.exec("DELETE FROM claims WHERE owner = ? AND version < ?", containerId, version);
    return { released: cursor.rowsWritten };
  }

  /**
   * Which of `ids` the control plane has ever accepted (claimed keys for, or recorded a version of): the cheap answer
   * to "is there anything to show, delete or repair", so a junk id creates no ContainerState object.
   */
  known(ids: readonly string[]): string[] {
    // One bound parameter for every id (a Durable Object's SQLite takes at most 100 per statement).
    return this.ctx.storage.sql
      .exec<{ id: string }>("SELECT id FROM containers WHERE id IN (SELECT value FROM json_each(?))", JSON.stringify(ids))
      .toArray()
      .map((row) => row.id);
  }

  /** Records a container whose object has state, whether or not it ever claimed a key (a failed first apply). */
  enroll(containerId: string): void {
    this.ctx.storage.sql.exec("INSERT OR IGNORE INTO containers (id) VALUES (?)", containerId);
  }

  /**
   * For each host, the container whose claim routes it as a whole public host now (null: nobody's). Custom hostname
   * operations ask this first, and again when they commit: only the owner's own apply can release its claim, and it
   * runs in the same ContainerState as the commit, so the owner seen there stays the owner until the commit is done.
   */
  publicHostOwners(hosts: string[]): Record<string, string | null> {
    const owners: Record<string, string | null> = {};
    for (const host of hosts) {
      const row = this.ctx.storage.sql
        .exec<{ owner: string }>("SELECT owner FROM claims WHERE key = ? AND role = 'public'", storageKey({ kind: "host", name: host }))
        .toArray()[0];
      owners[host] = row?.owner ?? null;
    }
    return owners;
  }

  /**
   * Containers in id order after `after`, with the keys each holds; `next` is the cursor of the following page.
   * `only`: just these ids (an API key's scope).
   */
  list(after: string, limit: number, only?: readonly string[]): { containers: RegisteredContainer[]; next: string | null } {
    const take = Math.min(Math.max(limit, 1), MAX_CONTAINERS_PAGE);
    // One bound parameter for the whole scope (a key may name 1,000 containers).
    const within = only ? " AND id IN (SELECT value FROM json_each(?))" : "";
    const ids = this.ctx.storage.sql
      .exec<{ id: string }>(
        `SELECT id FROM containers WHERE id > ?${within} ORDER BY id LIMIT ?`,
        after,
        ...(only ? [JSON.stringify(only)] : []),
        take + 1,
      )
      .toArray()
      .map((row) => row.id);
    const page = ids.slice(0, take);
    const byId = new Map<string, RegisteredContainer>(
      page.map((id) => [id, { containerId: id, infraHosts: [], publicHosts: [], loaderTokens: [] }]),
    );
    if (page.length > 0) {
      const rows = this.ctx.storage.sql
        .exec<ClaimRow>(`SELECT * FROM claims WHERE owner IN (${page.map(() => "?").join(", ")}) ORDER BY name`, ...page)
        .toArray();
      for (const row of rows) {
        const entry = byId.get(row.owner)!;
        (row.role === "infra" ? entry.infraHosts : row.role === "public" ? entry.publicHosts : entry.loaderTokens).push(row.name);
      }
    }
    return { containers: [...byId.values()], next: ids.length > take ? page.at(-1)! : null };
  }

  /** The first rule a claim of `keys` by `containerId` breaks, or null. */
  private findConflict(containerId: string, keys: RoutingKey[]): RoutingConflict | null {
    const sql = this.ctx.storage.sql;
    const wanted = new Set(keys.map(storageKey));
    const other = (query: string, ...params: SqlStorageValue[]) =>
      sql
        .exec<ClaimRow>(query, ...params)
        .toArray()
        .find((row) => row.owner !== containerId) ?? null;
    for (const key of keys) {
      const same = other("SELECT * FROM claims WHERE key = ?", storageKey(key));
      if (same) return { key: key.name, reason: "taken", ownedKey: same.name, owner: same.owner };
      if (key.kind === "host") {
        const mount = other("SELECT * FROM claims WHERE host = ? AND kind = 'mount'", key.host);
        if (mount) return { key: key.name, reason: "host_over_mount", ownedKey: mount.name, owner: mount.owner };
      }
      if (key.kind === "mount") {
        const whole = other("SELECT * FROM claims WHERE key = ?", storageKey({ kind: "host", name: key.host! }));
        if (whole) return { key: key.name, reason: "mount_under_host", ownedKey: whole.name, owner: whole.owner };
      }
      if (key.role === "infra" || key.role === "public") {
        // Any owner, this container included: a public host on the platform's domain is refused whoever asks.
        // Keys this claim re-states are skipped, so a host may move between infraHosts and publicHosts.
        const opposite = key.role === "infra" ? "public" : "infra";
        const clash = sql
          .exec<ClaimRow>("SELECT * FROM claims WHERE domain = ? AND role = ?", key.domain, opposite)
          .toArray()
          .find((row) => !wanted.has(row.key));
        if (clash) return { key: key.name, reason: "platform_domain", ownedKey: clash.name, owner: clash.owner };
      }
    }
    return null;
  }
}

export function registryStub(env: Pick<Env, "ROUTING_REGISTRY">): DurableObjectStub<RoutingRegistry> {
  return env.ROUTING_REGISTRY.get(env.ROUTING_REGISTRY.idFromName("registry"));
}
