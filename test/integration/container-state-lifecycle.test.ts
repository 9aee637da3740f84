// ContainerState across its life: a restart on stored state, the migration of an object created before KV
// verification existed, versions announced twice, health timestamps, a verification that was due when the
// container was removed, and PUTs that repeat a version the queue applied on its own (replay, drift, sweep).
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
import { operatorPut } from "../support/operator";
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
