// Read path for live traffic: containerId -> EdgeConfig, through the isolate and location caches
// (location-cache.ts), then KV, and on a KV miss the ContainerState object's applied config as the fallback origin.
import * as v from "valibot";
import { containerReads } from "../../durable/container-stub";
import { type EdgeConfig, StoredEdgeConfigSchema } from "../../schemas/edge-config";
import { describeIssues } from "../../schemas/issues";
import { LocationCache, type LocationEnv } from "./location-cache";

type ConfigEnv = LocationEnv & Pick<Env, "EDGE_CONFIG" | "CONTAINER_STATE">;

const configs = new LocationCache<EdgeConfig | null, ConfigEnv>({
  kind: "config",
  // The location's copy is parsed like a KV value: an entry a different deploy wrote may not fit this one's schema.
  parse: (raw) => {
    if (raw === null) return null;
    const parsed = v.safeParse(StoredEdgeConfigSchema, raw);
    return parsed.success ? parsed.output : undefined;
  },
  load: async (env, containerId) =>
    (await readKvConfig(env, containerId)) ?? (await containerReads(env, containerId).appliedConfig(containerId, true)),
  // KV is eventually consistent: a newer version is never replaced by an older read; a removal (null) always applies.
  keep: (kept, loaded) => kept !== null && loaded !== null && kept.version > loaded.version,
});

export function getEdgeConfig(env: ConfigEnv, containerId: string): EdgeConfig | null | Promise<EdgeConfig | null> {
  return configs.get(env, containerId);
}

async function readKvConfig(env: Pick<Env, "EDGE_CONFIG">, containerId: string): Promise<EdgeConfig | null> {
  const raw = await env.EDGE_CONFIG.get(containerId, "json");
  if (raw === null) return null;
  const parsed = v.safeParse(StoredEdgeConfigSchema, raw);
  if (parsed.success) return parsed.output;
  // A corrupt KV value is treated as a miss, so the Durable Object's copy serves and a repair is queued.
  console.error(JSON.stringify({ event: "edge_config_invalid", containerId, reason: describeIssues(parsed.issues) }));
  return null;
}
