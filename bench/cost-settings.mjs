// The settings the cost model simulates, read from where the Workers read them: the edge's vars (wrangler.jsonc), the
// control Worker's vars and its log consumer's batching (wrangler.control.jsonc). The packing limits and the log
// window's record bound are schemas/log-record.ts's (test/integration/cost-model.node.test.ts checks that they match).
import { join } from "node:path";
import { unstable_readConfig } from "wrangler";
import { ROOT } from "../scripts/platform.mjs";

export const PACKING = { maxRecords: 125, maxBytes: 127_000, flushRecords: 50 };

const readConfig = (file, env) => unstable_readConfig({ config: join(ROOT, file), env });

/**
 * `vars` override both Workers' vars, as the platform's bindings do. `env`: the wrangler environment whose settings
 * apply ("production" prices the fleet); none for the top level, which the local run and the tests use.
 */
/** @param {Record<string, string>} [vars] @param {string} [env] */
export function modelSettings(vars = {}, env = undefined) {
  const edge = readConfig("wrangler.jsonc", env);
  const control = readConfig("wrangler.control.jsonc", env);
  const consumer = control.queues.consumers.find((c) => c.queue.endsWith("-logs"));
  const value = (name) => Number(vars[name] ?? edge.vars[name] ?? control.vars[name]);
  return {
    windowMs: value("LOG_WINDOW_MS"),
    holdMs: value("LOG_HOLD_MS"),
    configTtlMs: value("CONFIG_CACHE_TTL_MS"),
    // The per-location config cache (workers/shared/location-cache.ts); none before it existed.
    locationTtlMs: value("LOCATION_CACHE_TTL_MS") || undefined,
    consumerBatch: consumer.max_batch_size,
    consumerTimeoutMs: consumer.max_batch_timeout * 1000,
    analyticsWindowMs: value("ANALYTICS_WINDOW_MS"),
    edgeInvocationLogs: invocationLogEvents(edge.observability),
    ...PACKING,
  };
}

/** Workers Logs events per invocation: the head sampling rate, or none with invocation logs off. */
function invocationLogEvents(observability) {
  if (observability?.logs?.invocation_logs === false) return 0;
  return observability?.logs?.head_sampling_rate ?? observability?.head_sampling_rate ?? 1;
}

/** Production's vars the model depends on, to run the local platform with. */
export function productionVars() {
  const vars = { ...readConfig("wrangler.control.jsonc", "production").vars, ...readConfig("wrangler.jsonc", "production").vars };
  const names = ["LOG_WINDOW_MS", "LOG_HOLD_MS", "CONFIG_CACHE_TTL_MS", "LOCATION_CACHE_TTL_MS", "ANALYTICS_WINDOW_MS"];
  return Object.fromEntries(names.filter((name) => vars[name] !== undefined).map((name) => [name, vars[name]]));
}
