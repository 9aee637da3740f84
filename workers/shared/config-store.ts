// Read path for live traffic: containerId -> EdgeConfig. In-isolate cache (TTL from CONFIG_CACHE_TTL_MS) in front
// of KV, and on a KV miss the ContainerState object's applied config as the fallback origin.
import * as v from "valibot";
import { containerReads } from "../../durable/container-stub";
import { type EdgeConfig, StoredEdgeConfigSchema } from "../../schemas/edge-config";
import { describeIssues } from "../../schemas/issues";
import { TtlCache } from "./ttl-cache";

const configs = new TtlCache<EdgeConfig | null>();

export function cacheTtlMs(env: Pick<Env, "CONFIG_CACHE_TTL_MS">): number {
  const ttl = Number(env.CONFIG_CACHE_TTL_MS);
  return Number.isFinite(ttl) && ttl >= 0 ? ttl : 30_000;
}

export async function getEdgeConfig(
  env: Pick<Env, "EDGE_CONFIG" | "CONTAINER_STATE" | "CONFIG_CACHE_TTL_MS">,
  containerId: string,
): Promise<EdgeConfig | null> {
  const cached = configs.get(containerId);
  if (cached !== undefined) return cached;

  const ttl = cacheTtlMs(env);
  const fromKv = await readKvConfig(env, containerId);
  const config = fromKv ?? (await containerReads(env, containerId).appliedConfig(containerId, true));
  // KV is eventually consistent: a read that returns an older version than this isolate already saw keeps the newer.
  const previous = configs.peek(containerId);
  const winner = previous && config && previous.version > config.version ? previous : config;
  configs.set(containerId, winner, ttl);
  return winner;
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
