// Brings the four KV maps in line with one container's config, writing only what differs.
// KV allows one write per second per key and charges per write, so every key is read first and written
// only when its value changes; keys the new version no longer names are deleted.
import type { EdgeConfig } from "../schemas/edge-config";
import { EdgeError } from "../workers/shared/errors";

export const KV_MAPS = ["EDGE_CONFIG", "ROUTING_MAP", "SITE_REGISTRY", "LOADER_TOKEN_MAP"] as const;
export type KvMap = (typeof KV_MAPS)[number];

export type KvSyncEnv = Pick<Env, KvMap>;

export interface KvEntry {
  map: KvMap;
  key: string;
  value: string;
}

export interface KvSyncResult {
  writes: number;
  deletes: number;
  /** Every key written or deleted: the location caches purge exactly these (config-purge.ts). */
  changed: Pick<KvEntry, "map" | "key">[];
}

/** Every KV entry a config implies. */
export function entriesFor(config: EdgeConfig): KvEntry[] {
  const id = config.containerId;
  return [
    { map: "EDGE_CONFIG", key: id, value: JSON.stringify(config) },
    ...config.infraHosts.map((host) => ({ map: "ROUTING_MAP" as const, key: host, value: id })),
    ...config.publicHosts.map((host) => ({ map: "SITE_REGISTRY" as const, key: host, value: id })),
    { map: "LOADER_TOKEN_MAP", key: config.loaderToken, value: id },
  ];
}

const slot = (entry: Pick<KvEntry, "map" | "key">) => `${entry.map}\u0000${entry.key}`;

/**
 * Makes KV hold `next` (or nothing, for a removal) where it held `previous`.
 * Throws on any failed read or write: the caller keeps the applied version unchanged and retries.
 * A host or token that KV maps to another container is a conflict and is never overwritten or deleted.
 * `withheld` public hosts (a custom hostname not yet verified, see durable/custom-hostname-table.ts) stay out of
 * SITE_REGISTRY; `previous` is taken whole, so a host that was live and is now withheld is deleted.
 */
export async function syncKv(
  env: KvSyncEnv,
  containerId: string,
  previous: EdgeConfig | null,
  next: EdgeConfig | null,
  withheld: ReadonlySet<string> = new Set(),
): Promise<KvSyncResult> {
  const wanted = (next ? entriesFor(next) : []).filter((entry) => entry.map !== "SITE_REGISTRY" || !withheld.has(entry.key));
  const wantedSlots = new Set(wanted.map(slot));
  const stale = (previous ? entriesFor(previous) : []).filter((entry) => !wantedSlots.has(slot(entry)));

  const current = await Promise.all(wanted.map((entry) => env[entry.map].get(entry.key)));
  const conflicts = wanted.filter((entry, i) => entry.map !== "EDGE_CONFIG" && current[i] !== null && current[i] !== containerId);
  if (conflicts.length > 0) {
    const names = conflicts.map((entry) => `${entry.map}[${entry.key}]`).join(", ");
    throw new EdgeError(409, "key_conflict", `${names} already belong to another container`);
  }

  const staleCurrent = await Promise.all(stale.map((entry) => env[entry.map].get(entry.key)));
  const toDelete = stale.filter((entry, i) => staleCurrent[i] !== null && (entry.map === "EDGE_CONFIG" || staleCurrent[i] === containerId));
  const toWrite = wanted.filter((entry, i) => current[i] !== entry.value);

  // Writes before deletes: a host moving between two names of the same container never has a gap.
  await Promise.all(toWrite.map((entry) => env[entry.map].put(entry.key, entry.value)));
  await Promise.all(toDelete.map((entry) => env[entry.map].delete(entry.key)));
  const changed = [...toWrite, ...toDelete].map(({ map, key }) => ({ map, key }));
  return { writes: toWrite.length, deletes: toDelete.length, changed };
}
