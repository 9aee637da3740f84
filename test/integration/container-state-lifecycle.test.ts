// ContainerState across its life: a restart on stored state, the migration of an object created before KV
// verification existed, versions announced twice, what repairs and drift alarms re-send (and do not), the config
// endpoint, a verification that was due when the container was removed, and PUTs that repeat a version (pending, or
// applied by the queue on its own: replay, drift, sweep).
// Restarts are made by constructing the class again on the object's own storage (what the runtime does when it
// wakes an evicted object); the old schema is the first release's table, as the constructor still creates it.

import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import * as v from "valibot";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ContainerState, containerStub } from "../../durable/container-state";
import type { VersionedMessage } from "../../schemas/config-message";
import { EdgeConfigSchema } from "../../schemas/edge-config";
import { QUEUES } from "../../workers/shared/queues";
import { deliver, kvWriteCount, spyOnKvWrites } from "../support/control-pipeline";
import { edgeConfig } from "../support/fixtures";
import { operatorPut, putAndApply } from "../support/operator";
import { statusOf } from "../support/pipeline";

const INTERVAL_MS = Number(env.KV_VERIFY_INTERVAL_MS);

afterEach(() => {
  vi.restoreAllMocks();
});

const uniqueId = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

/** A container applied through the real queue handler only: its object never recorded a desired message. */
async function appliedFromQueue(prefix: string): Promise<string> {
  const id = uniqueId(prefix);
  const result = await deliver(QUEUES.config, [{ type: "upsert", containerId: id, version: 1, config: edgeConfig({ containerId: id }) }]);
  expect(result.explicitAcks).toHaveLength(1);
  return id;
}

const alarmOf = (id: string) => runInDurableObject(containerStub(env, id), (_instance, state) => state.storage.getAlarm());

/** What the runtime does when it wakes the object again: a new instance on the same storage. */
function restart(id: string): Promise<void> {
  return runInDurableObject(containerStub(env, id), (instance, state) => {
    new ContainerState(state, (instance as unknown as { env: Env }).env);
  });
}

describe("restart", () => {
  it("an object woken again on its stored state keeps its status and its next verification time", async () => {
    const id = await appliedFromQueue("restart");
    const before = await statusOf(id);
    const alarm = await alarmOf(id);
    expect(alarm).not.toBeNull();

    await restart(id);

    expect(await alarmOf(id)).toBe(alarm);
    expect(await statusOf(id)).toEqual(before);
  });

  it("an object created before KV verification existed schedules its first one, spread over the interval, when it wakes", async () => {
    const id = await appliedFromQueue("migrate");
    const config = JSON.stringify(await env.EDGE_CONFIG.get(id, "json"));
    // Back to the first release's table: no verification time, no alarm.
    await runInDurableObject(containerStub(env, id), async (_instance, state) => {
      await state.storage.deleteAlarm();
      state.storage.sql.exec("DROP TABLE state");
      state.storage.sql.exec(`CREATE TABLE state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        container_id TEXT NOT NULL,
        desired_version INTEGER NOT NULL DEFAULT 0,
        desired_message TEXT,
        applied_version INTEGER NOT NULL DEFAULT 0,
        applied_config TEXT,
        last_error TEXT,
        updated_at TEXT NOT NULL,
        drift_attempts INTEGER NOT NULL DEFAULT 0,
        last_repair_at INTEGER NOT NULL DEFAULT 0
      )`);
      state.storage.sql.exec(
        "INSERT INTO state (id, container_id, desired_version, applied_version, applied_config, updated_at) VALUES (1, ?, 1, 1, ?, ?)",
        id,
        config,
        new Date().toISOString(),
      );
    });
    // The jitter at its lowest: a first verification then comes at half the interval (a later one never before 90 %).
    vi.spyOn(Math, "random").mockReturnValue(0);
    const before = Date.now();

    await restart(id);

    const alarm = (await alarmOf(id))!;
    expect(alarm).toBeGreaterThanOrEqual(before + INTERVAL_MS * 0.5);
    expect(alarm).toBeLessThanOrEqual(Date.now() + INTERVAL_MS * 0.5);
    expect(await statusOf(id)).toMatchObject({ appliedVersion: 1, inSync: true, deleted: false, lastError: null });

    // And the verification it scheduled restores a key KV lost.
    await env.ROUTING_MAP.delete(`${id}.edge.example`);
    expect(await runDurableObjectAlarm(containerStub(env, id))).toBe(true);
    expect(await env.ROUTING_MAP.get(`${id}.edge.example`)).toBe(id);
  });
});

describe("versions announced to the object", () => {
  it("a pending version announced again with its config (the first announcement had none) makes that config the latest", async () => {
    const id = uniqueId("announce");
    const stub = containerStub(env, id);
    // The webhook could not read the control plane the first time, so its message carried no config.
    const bare: VersionedMessage = { type: "upsert", containerId: id, version: 2, source: "webhook" };
    const config = edgeConfig({ containerId: id, version: 2, publicHosts: [`new.${id}.example`] });
    const withConfig: VersionedMessage = { ...bare, config: v.parse(EdgeConfigSchema, config) };

    expect(await stub.recordDesired(bare)).toMatchObject({ status: "accepted" });
    expect(await stub.latestPublicHosts(id)).toBeNull();
    expect(await stub.recordDesired(withConfig)).toMatchObject({ status: "accepted" });

    expect(await stub.latestPublicHosts(id)).toEqual([`new.${id}.example`]);
  });

  it("a version recorded but not yet applied counts as out of sync from the moment it was recorded", async () => {
    const id = uniqueId("out-of-sync");
    const stub = containerStub(env, id);
    const before = Date.now();

    await stub.recordDesired({ type: "upsert", containerId: id, version: 1, source: "webhook" });

    const health = await stub.health();
    expect(health).toMatchObject({ containerId: id, desiredVersion: 1, appliedVersion: 0, errorSince: null });
    expect(health!.outOfSyncSince).toBeGreaterThanOrEqual(before);
    expect(health!.outOfSyncSince).toBeLessThanOrEqual(Date.now());
  });
});

describe("repair", () => {
  it("of a container the object never saw does nothing and leaves it unconfigured", async () => {
    const id = uniqueId("repair-unknown");
    const spies = await spyOnKvWrites(id);

    expect(await containerStub(env, id).repair(id)).toEqual({ writes: 0, deletes: 0, resent: false });

    expect(kvWriteCount(spies)).toBe(0);
    expect(await statusOf(id)).toBeNull();
  });
});

describe("repair of a container in sync", () => {
  it("re-sends nothing, although the object keeps the applied version's message", async () => {
    const id = uniqueId("repair-in-sync");
    await putAndApply(edgeConfig({ containerId: id }));
    const stub = containerStub(env, id);
    const send = await runInDurableObject(stub, (instance) => vi.spyOn((instance as unknown as { env: Env }).env.CONFIG_QUEUE, "send"));

    expect(await stub.repair(id)).toEqual({ writes: 0, deletes: 0, resent: false });

    expect(send).not.toHaveBeenCalled();
  });
});

describe("repair of a container whose pending version only failed", () => {
  it("re-sends nothing: no message was recorded for that version (its own retry brings it)", async () => {
    const id = await appliedFromQueue("repair-failed-only");
    const stub = containerStub(env, id);
    await stub.recordFailure(id, 2, "control plane has no config");
    const send = await runInDurableObject(stub, (instance) => vi.spyOn((instance as unknown as { env: Env }).env.CONFIG_QUEUE, "send"));

    expect(await stub.repair(id)).toMatchObject({ resent: false });

    expect(send).not.toHaveBeenCalled();
  });
});

describe("the drift alarm of a version that only failed", () => {
  it("re-sends nothing and is not armed again: no message was recorded for that version", async () => {
    const id = await appliedFromQueue("drift-failed-only");
    const stub = containerStub(env, id);
    await stub.recordFailure(id, 2, "control plane has no config");
    const send = await runInDurableObject(stub, (instance) => vi.spyOn((instance as unknown as { env: Env }).env.CONFIG_QUEUE, "send"));

    expect(await runDurableObjectAlarm(stub)).toBe(true);

    expect(send).not.toHaveBeenCalled();
    // Only the daily verification is left.
    expect(await alarmOf(id)).toBeGreaterThan(Date.now() + INTERVAL_MS * 0.4);
  });
});

describe("the drift alarm of a failure recorded for the applied version", () => {
  it("re-sends nothing: the version it would send is already applied", async () => {
    const id = uniqueId("drift-applied");
    await putAndApply(edgeConfig({ containerId: id }));
    const stub = containerStub(env, id);
    await stub.recordFailure(id, 1, "a replayed message for version 1 was invalid");
    const send = await runInDurableObject(stub, (instance) => vi.spyOn((instance as unknown as { env: Env }).env.CONFIG_QUEUE, "send"));

    expect(await runDurableObjectAlarm(stub)).toBe(true);

    expect(send).not.toHaveBeenCalled();
  });
});

describe("a drift re-send", () => {
  it("does not run the KV verification before it is due", async () => {
    const id = await appliedFromQueue("drift-not-verify");
    const stub = containerStub(env, id);
    await runInDurableObject(stub, (instance) =>
      vi.spyOn((instance as unknown as { env: Env }).env.CONFIG_QUEUE, "send").mockResolvedValue(undefined as never),
    );
    await stub.recordDesired({ type: "upsert", containerId: id, version: 2, source: "webhook" });
    await env.ROUTING_MAP.delete(`${id}.edge.example`);
    const spies = await spyOnKvWrites(id);

    expect(await runDurableObjectAlarm(stub)).toBe(true);

    expect(kvWriteCount(spies)).toBe(0);
    expect(await env.ROUTING_MAP.get(`${id}.edge.example`)).toBeNull();
  });
});

describe("GET /_edge/config/:id", () => {
  it("serves the applied config without queueing a repair (only a KV miss on live traffic does)", async () => {
    const id = await appliedFromQueue("config-read");
    const send = await runInDurableObject(containerStub(env, id), (instance) =>
      vi.spyOn((instance as unknown as { env: Env }).env.CONFIG_QUEUE, "send"),
    );

    const res = await exports.default.fetch(`http://localhost/_edge/config/${id}`, { headers: { "X-Edge-Auth": env.EDGE_AUTH_SECRET } });

    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ containerId: id, version: 1 });
    expect(send).not.toHaveBeenCalled();
  });
});

describe("a verification that was due when the container was removed", () => {
  it("finds nothing left to verify: the keys stay deleted and no alarm is left", async () => {
    const id = await appliedFromQueue("verify-removed");
    await runInDurableObject(containerStub(env, id), async (instance) => {
      // The removal is being applied when the alarm fires: the verification waits for it, then runs.
      const removal = instance.apply(id, 2, null);
      const alarm = instance.alarm();
      expect(await removal).toMatchObject({ status: "applied", version: 2 });
      await alarm;
    });

    expect(await alarmOf(id)).toBeNull();
    expect(await env.EDGE_CONFIG.get(id)).toBeNull();
    expect(await env.ROUTING_MAP.get(`${id}.edge.example`)).toBeNull();
    expect(await statusOf(id)).toMatchObject({ appliedVersion: 2, deleted: true, lastError: null });
  });
});

describe("a PUT repeating a version the queue applied on its own", () => {
  it("with the same content is a repeat: 202, nothing queued", async () => {
    const id = await appliedFromQueue("put-repeat");

    const call = await operatorPut(edgeConfig({ containerId: id }));

    expect(call.response.status).toBe(202);
    expect(await call.response.json()).toEqual({ containerId: id, version: 1, enqueued: false, warnings: [] });
    expect(call.queued).toEqual([]);
  });

  it("with other content is 409 version_conflict", async () => {
    const id = await appliedFromQueue("put-other");

    const call = await operatorPut(edgeConfig({ containerId: id, gtmId: "GTM-OTHER1" }));

    expect(call.response.status).toBe(409);
    expect(await call.response.json()).toMatchObject({ error: "version_conflict" });
    expect(call.queued).toEqual([]);
  });

  it("at the version of a removal is 409 version_conflict", async () => {
    const id = await appliedFromQueue("put-removed");
    expect((await deliver(QUEUES.config, [{ type: "delete", containerId: id, version: 2 }])).explicitAcks).toHaveLength(1);

    const call = await operatorPut(edgeConfig({ containerId: id, version: 2 }));

    expect(call.response.status).toBe(409);
    expect(await call.response.json()).toMatchObject({ error: "version_conflict" });
    expect(call.queued).toEqual([]);
  });
});

describe("a PUT repeated before its version is applied", () => {
  it("is a repeat: 202, nothing queued again", async () => {
    const config = edgeConfig({ containerId: uniqueId("put-pending") });
    // The first PUT's message is recorded but not delivered: the version is accepted, not applied.
    expect((await operatorPut(config)).response.status).toBe(202);

    const again = await operatorPut(config);

    expect(again.response.status).toBe(202);
    expect(await again.response.json()).toEqual({ containerId: config.containerId, version: 1, enqueued: false, warnings: [] });
    expect(again.queued).toEqual([]);
  });
});
