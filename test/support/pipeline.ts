// Helpers for driving the config pipeline from Workers-runtime tests.
import { env, exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { vi } from "vitest";
import { containerStub, type ContainerStatus } from "../../durable/container-state";
import type { EdgeConfigInput } from "../../schemas/edge-config";
import { KV_MAPS } from "../../workers/sync-consumer/kv-sync";
import { ADMIN } from "./fixtures";

export function admin(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(`https://edge.example${path}`, {
    ...init,
    headers: { ...ADMIN, "Content-Type": "application/json", ...(init.headers ?? {}) },
  });
}

export function putConfig(config: EdgeConfigInput): Promise<Response> {
  return admin(`/_edge/admin/containers/${config.containerId}`, { method: "PUT", body: JSON.stringify(config) });
}

export async function statusOf(containerId: string): Promise<ContainerStatus | null> {
  return containerStub(env, containerId).status(containerId);
}

/** Waits until the real queue has delivered and the object reports `version` applied. */
export async function waitApplied(containerId: string, version: number): Promise<ContainerStatus> {
  return vi.waitFor(
    async () => {
      const status = await statusOf(containerId);
      if (!status || status.appliedVersion !== version || !status.inSync) {
        throw new Error(`not yet: ${JSON.stringify(status)}`);
      }
      return status;
    },
    { timeout: 15_000, interval: 100 },
  );
}

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
 * Runs the Worker's real queue handler on a hand-made batch and returns the ack/retry outcome. `envOverrides`
 * replaces bindings for this delivery only (e.g. SUPABASE_URL pointed at a stand-in).
 */
export async function deliver(queue: string, bodies: unknown[], envOverrides: Partial<Env> = {}) {
  const { createExecutionContext, createMessageBatch, getQueueResult } = await import("cloudflare:test");
  const worker = (await import("../../workers/index")).default;
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: `m-${crypto.randomUUID()}-${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await (worker.queue as ExportedHandlerQueueHandler<Env>)(batch, { ...env, ...envOverrides }, ctx);
  return getQueueResult(batch, ctx);
}
