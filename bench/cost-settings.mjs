// The settings the cost model simulates, read from where the Workers read them: the edge's vars (wrangler.jsonc)
// and the log consumer's batching (wrangler.control.jsonc). The packing limits and the log window's record bound are
// schemas/log-record.ts's (test/integration/cost-model.node.test.ts checks that they match).
import { join } from "node:path";
import { unstable_readConfig } from "wrangler";
import { ROOT } from "../scripts/platform.mjs";

export const PACKING = { maxRecords: 125, maxBytes: 127_000, flushRecords: 50 };

/** `vars` override the edge's vars, as the platform's bindings do. */
export function modelSettings(vars = {}) {
  const edge = unstable_readConfig({ config: join(ROOT, "wrangler.jsonc") });
  const control = unstable_readConfig({ config: join(ROOT, "wrangler.control.jsonc") });
  const consumer = control.queues.consumers.find((c) => c.queue === "qaxal-logs");
  const value = (name) => Number(vars[name] ?? edge.vars[name]);
  return {
    windowMs: value("LOG_WINDOW_MS"),
    configTtlMs: value("CONFIG_CACHE_TTL_MS"),
    // The per-location config cache (workers/shared/location-cache.ts); none before it existed.
    locationTtlMs: value("LOCATION_CACHE_TTL_MS") || undefined,
    consumerBatch: consumer.max_batch_size,
    consumerTimeoutMs: consumer.max_batch_timeout * 1000,
    ...PACKING,
  };
}

/** The edge's production vars the model depends on, to run the local platform with. */
export function productionVars() {
  const { vars } = unstable_readConfig({ config: join(ROOT, "wrangler.jsonc") });
  const names = ["LOG_WINDOW_MS", "CONFIG_CACHE_TTL_MS", "LOCATION_CACHE_TTL_MS"];
  return Object.fromEntries(names.filter((name) => vars[name] !== undefined).map((name) => [name, vars[name]]));
}
