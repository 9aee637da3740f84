// What each scheduled job costs when nothing is wrong, counted at the bindings: every KV, R2, Queue and Durable
// Object call the job makes goes through a counting wrapper around the real (miniflare) binding, and outbound
// fetches through a spy. docs/self-healing.md quotes these counts; CPU per run is measured by bench/scheduled.mjs.
import { createExecutionContext, createScheduledController, runDurableObjectAlarm, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { containerStub } from "../../durable/container-state";
import { CRONS, runScheduled } from "../../workers/scheduled";
import { QUEUES } from "../../workers/shared/queues";
import { deliver, spyOnKvWrites } from "../support/control-pipeline";
import { edgeConfig } from "../support/fixtures";
import { standInTenant } from "../support/postgrest-stand-in.client";

type Counts = Record<string, number>;

/** Wraps a binding so that every method call is counted as `<label>.<method>`. */
function counted<T extends object>(target: T, label: string, counts: Counts): T {
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const name = `${label}.${String(property)}`;
        counts[name] = (counts[name] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });
}

/** A Durable Object namespace whose stubs count their calls (each is one Durable Object request). */
function countedNamespace<T extends Rpc.DurableObjectBranded | undefined>(
  namespace: DurableObjectNamespace<T>,
  label: string,
  counts: Counts,
  name?: string,
): DurableObjectNamespace<T> {
  const stubFor = (id: DurableObjectId) => {
    const stub = namespace.get(id) as unknown as Record<string, (...args: unknown[]) => unknown>;
    // A plain object in front of the stub: RPC stubs do not survive being the target of a Proxy.
    return new Proxy(
      {},
      {
        get:
          (_target, property) =>
          (...args: unknown[]) => {
            const key = `${label}.${String(property)}`;
            counts[key] = (counts[key] ?? 0) + 1;
            return stub[String(property)]!(...args);
          },
      },
    );
  };
  return {
    idFromName: (base: string) => namespace.idFromName(name ? `${base}:${name}` : base),
    get: stubFor,
  } as unknown as DurableObjectNamespace<T>;
}

/** The control Worker's env with every binding a job may touch counted; AlertState is the test's own. */
function countingEnv(counts: Counts, alertScope: string, overrides: Partial<Env> = {}): Env {
  return {
    ...env,
    ROUTING_MAP: counted(env.ROUTING_MAP, "kv", counts),
    EDGE_CONFIG: counted(env.EDGE_CONFIG, "kv", counts),
    SITE_REGISTRY: counted(env.SITE_REGISTRY, "kv", counts),
    LOADER_TOKEN_MAP: counted(env.LOADER_TOKEN_MAP, "kv", counts),
    COOKIE_VAULT: counted(env.COOKIE_VAULT, "kv", counts),
    LOG_BUCKET: counted(env.LOG_BUCKET, "r2", counts),
    CONFIG_QUEUE: counted(env.CONFIG_QUEUE, "queue", counts),
    LOG_QUEUE: counted(env.LOG_QUEUE, "queue", counts),
    CONTAINER_STATE: countedNamespace(env.CONTAINER_STATE, "do", counts),
    ALERT_STATE: countedNamespace(env.ALERT_STATE, "do", counts, alertScope),
    ALERT_WEBHOOK_URL: "",
    ...overrides,
  };
}

async function run(cron: string, scheduledTime: number, jobEnv: Env) {
  const ctx = createExecutionContext();
  await runScheduled(createScheduledController({ cron, scheduledTime }), jobEnv, ctx);
  await waitOnExecutionContext(ctx);
}

afterEach(() => vi.restoreAllMocks());

describe("cost of a scheduled run when nothing is wrong", () => {
  it("the outbox sweeper: one RPC (one subrequest), nothing else", async () => {
    const tenant = standInTenant("cost-sweep");
    await tenant.answerRpc("edge_outbox_pending", { p_limit: 100, p_min_age_seconds: 10 }, { body: [] });
    const counts: Counts = {};
    const fetches = vi.spyOn(globalThis, "fetch");
    await run(CRONS.everyMinute, Date.now(), countingEnv(counts, "cost-sweep", tenant.env));
    expect(fetches).toHaveBeenCalledTimes(1);
    expect(counts).toEqual({});
  });

  it("the alert check: two AlertState requests and two R2 listings; once an hour eight more listings", async () => {
    const counts: Counts = {};
    const fetches = vi.spyOn(globalThis, "fetch");
    const halfPast = Math.floor(Date.now() / 3600_000) * 3600_000 + 40 * 24 * 3600_000 + 30 * 60_000;
    // The first run of an hour also compares the last hour with the same hour of the previous 7 days.
    await run(CRONS.everyFiveMinutes, halfPast, countingEnv(counts, "cost-alerts"));
    expect(counts).toEqual({ "do.plan": 1, "do.evaluate": 1, "r2.list": 2 + 8 });

    for (const key of Object.keys(counts)) delete counts[key];
    await run(CRONS.everyFiveMinutes, halfPast + 5 * 60_000, countingEnv(counts, "cost-alerts"));
    // plan + evaluate; one listing for dead letters, one for the hour partition of the last 15 minutes.
    expect(counts).toEqual({ "do.plan": 1, "do.evaluate": 1, "r2.list": 2 });
    expect(fetches).not.toHaveBeenCalled();
  });

  it("a container's daily KV verification: one KV read per key, no write", async () => {
    const id = "cost-verify";
    const config = edgeConfig({
      containerId: id,
      infraHosts: [`${id}.edge.example`],
      publicHosts: [`ss.${id}.example`, `www.${id}.example/metrics`],
    });
    await deliver(QUEUES.config, [{ type: "upsert", containerId: id, version: 1, config }]);
    const spies = await spyOnKvWrites(id);
    const reads = await import("cloudflare:test").then(({ runInDurableObject }) =>
      runInDurableObject(containerStub(env, id), (instance) => {
        const objectEnv = (instance as unknown as { env: Env }).env;
        return (["EDGE_CONFIG", "ROUTING_MAP", "SITE_REGISTRY", "LOADER_TOKEN_MAP"] as const).map((map) =>
          vi.spyOn(objectEnv[map], "get").mockClear(),
        );
      }),
    );
    expect(await runDurableObjectAlarm(containerStub(env, id))).toBe(true);
    // EDGE_CONFIG + 1 infra host + 2 public hosts + the loader token.
    expect(reads.reduce((sum, spy) => sum + spy.mock.calls.length, 0)).toBe(5);
    expect(spies.reduce((sum, s) => sum + s.put.mock.calls.length + s.delete.mock.calls.length, 0)).toBe(0);
  });
});
