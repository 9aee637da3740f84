// Control-Worker-only helpers: spies inside ContainerState and direct delivery to the control Worker's queue
// handler.

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { containerStub } from "../../durable/container-state";
import { KV_MAPS } from "../../durable/kv-sync";

/**
 * Counts the KV writes and deletes the container's Durable Object makes (it is the only writer). The spies sit on
 * the object's own env, so they see exactly what reaches KV. Objects in one isolate share that env, so the
 * counters start from zero at each call and tests deliver one container's messages at a time.
 */
export async function spyOnKvWrites(containerId: string) {
  return runInDurableObject(containerStub(env, containerId), (instance) => {
    const objectEnv = (instance as unknown as { env: Env }).env;
    return KV_MAPS.map((map) => ({
      map,
      put: vi.spyOn(objectEnv[map], "put").mockClear(),
      delete: vi.spyOn(objectEnv[map], "delete").mockClear(),
    }));
  });
}

export type KvSpies = Awaited<ReturnType<typeof spyOnKvWrites>>;

export function kvWriteCount(spies: KvSpies): number {
  return spies.reduce((sum, s) => sum + s.put.mock.calls.length + s.delete.mock.calls.length, 0);
}

/**
 * Runs the control Worker's real queue handler on a hand-made batch and returns the ack/retry outcome.
 * `envOverrides` replaces bindings for this delivery only (e.g. SUPABASE_URL pointed at a stand-in).
 */
export async function deliver(queue: string, bodies: unknown[], envOverrides: Partial<Env> = {}) {
  const { createExecutionContext, createMessageBatch, getQueueResult } = await import("cloudflare:test");
  const worker = (await import("../../workers/control")).default;
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: `m-${crypto.randomUUID()}-${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await (worker.queue as ExportedHandlerQueueHandler<Env>)(batch, { ...env, ...envOverrides }, ctx);
  return getQueueResult(batch, ctx);
}
