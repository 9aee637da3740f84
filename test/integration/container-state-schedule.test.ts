// ContainerState's one alarm, its pending versions and its health reports: how far apart drift re-sends come, when
// the KV verification is due after an apply, a repair or a failed verification, what an apply leaves behind while a
// newer version is still pending, and when the alerts hear about the container (only on a change of health).
// The jitter of the verification time is pinned at its lowest (Math.random() = 0), so each rule gives one time.

import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import * as v from "valibot";
import { afterEach, describe, expect, it, vi } from "vitest";
import { alertStub } from "../../durable/alert-state";
import { containerStub } from "../../durable/container-state";
import { VERIFY_RETRY_MS } from "../../durable/kv-verify";
import type { UpsertMessage } from "../../schemas/config-message";
import { EdgeConfigSchema } from "../../schemas/edge-config";
import { QUEUES } from "../../workers/shared/queues";
import { deliver } from "../support/control-pipeline";
import { edgeConfig } from "../support/fixtures";
import { statusOf } from "../support/pipeline";

const INTERVAL_MS = Number(env.KV_VERIFY_INTERVAL_MS);
const DRIFT_AFTER_MS = Number(env.DRIFT_AFTER_MS);

afterEach(() => {
  vi.restoreAllMocks();
});

const uniqueId = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

const upsert = (containerId: string, version: number, overrides = {}): UpsertMessage => ({
  type: "upsert",
  containerId,
  version,
  config: edgeConfig({ containerId, version, ...overrides }),
  source: "admin",
});

const parsed = (containerId: string, version: number) => v.parse(EdgeConfigSchema, edgeConfig({ containerId, version }));

const alarmOf = (id: string) => runInDurableObject(containerStub(env, id), (_instance, state) => state.storage.getAlarm());

/** Runs `action` and returns the window [before, after] of the times it could have read from the clock. */
async function timed(action: () => Promise<unknown>): Promise<{ before: number; after: number }> {
  const before = Date.now();
  await action();
  return { before, after: Date.now() };
}

async function expectAlarmAfter(id: string, window: { before: number; after: number }, delayMs: number) {
  const alarm = (await alarmOf(id))!;
  expect(alarm).toBeGreaterThanOrEqual(window.before + delayMs);
  expect(alarm).toBeLessThanOrEqual(window.after + delayMs);
}

describe("drift re-sends", () => {
  it("back off, each waiting twice as long as the one before, up to 64 times DRIFT_AFTER_MS", async () => {
    const id = uniqueId("drift-backoff");
    const stub = containerStub(env, id);
    // Every re-sent message is lost, so the version stays pending.
    const send = await runInDurableObject(stub, (instance) =>
      vi.spyOn((instance as unknown as { env: Env }).env.CONFIG_QUEUE, "send").mockResolvedValue(undefined as never),
    );

    await expectAlarmAfter(id, await timed(() => stub.recordDesired(upsert(id, 1))), DRIFT_AFTER_MS);
    for (const factor of [2, 4, 8, 16, 32, 64, 64]) {
      await expectAlarmAfter(id, await timed(() => runDurableObjectAlarm(stub)), DRIFT_AFTER_MS * factor);
    }
    expect(send).toHaveBeenCalledTimes(7);
    expect(send).toHaveBeenLastCalledWith(expect.objectContaining({ containerId: id, version: 1, source: "drift" }));
  });

  it("keep their backed-off time when a newer version is recorded meanwhile", async () => {
    const id = uniqueId("drift-kept");
    const stub = containerStub(env, id);
    await runInDurableObject(stub, (instance) =>
      vi.spyOn((instance as unknown as { env: Env }).env.CONFIG_QUEUE, "send").mockResolvedValue(undefined as never),
    );
    await stub.recordDesired(upsert(id, 1));
    for (let i = 0; i < 3; i += 1) await runDurableObjectAlarm(stub);
    const backedOff = await alarmOf(id);

    await stub.recordDesired(upsert(id, 2));

    expect(await alarmOf(id)).toBe(backedOff);
  });
});

describe("the KV verification", () => {
  it("of a newly applied container is spread over 50–150 % of the interval (at its lowest: half)", async () => {
    const id = uniqueId("verify-first");
    vi.spyOn(Math, "random").mockReturnValue(0);

    const window = await timed(() => deliver(QUEUES.config, [upsert(id, 1)]));

    await expectAlarmAfter(id, window, INTERVAL_MS * 0.5);
  });

  it("after a later version comes at the steady 90–110 % of the interval (at its lowest: 90 %)", async () => {
    const id = uniqueId("verify-later");
    await deliver(QUEUES.config, [upsert(id, 1)]);
    vi.spyOn(Math, "random").mockReturnValue(0);

    const window = await timed(() => deliver(QUEUES.config, [upsert(id, 2, { gtmId: "GTM-LATER2" })]));

    await expectAlarmAfter(id, window, INTERVAL_MS * 0.9);
  });

  it("is put off by a full interval after a repair, which checked every key", async () => {
    const id = uniqueId("verify-repair");
    vi.spyOn(Math, "random").mockReturnValue(0);
    await deliver(QUEUES.config, [upsert(id, 1)]);

    const window = await timed(() => containerStub(env, id).repair(id));

    await expectAlarmAfter(id, window, INTERVAL_MS * 0.9);
  });

  it("is not scheduled by a repair of a removed container", async () => {
    const id = uniqueId("verify-removed");
    await deliver(QUEUES.config, [upsert(id, 1)]);
    await deliver(QUEUES.config, [{ type: "delete", containerId: id, version: 2 }]);

    await containerStub(env, id).repair(id);

    expect(await alarmOf(id)).toBeNull();
  });
});

describe("a failed KV verification", () => {
  it("is looked at again VERIFY_RETRY_MS (15 minutes) later", async () => {
    const id = uniqueId("verify-retry");
    await deliver(QUEUES.config, [upsert(id, 1)]);
    // A key the container's config names now belongs to another container: the verification must not overwrite it.
    await env.ROUTING_MAP.put(`${id}.edge.example`, "someone-else");

    const window = await timed(() => runDurableObjectAlarm(containerStub(env, id)));

    await expectAlarmAfter(id, window, VERIFY_RETRY_MS);
    expect((await statusOf(id))?.lastError).toMatch(/KV verification of v1 failed/);
  });
});

describe("a failure recorded for a version", () => {
  it("already applied leaves the container in sync: the error is kept, but it is not out of sync", async () => {
    const id = uniqueId("fail-applied");
    await deliver(QUEUES.config, [upsert(id, 1)]);
    const stub = containerStub(env, id);

    await stub.recordFailure(id, 1, "a replayed message for version 1 was invalid");

    expect(await stub.health()).toMatchObject({ outOfSyncSince: null, errorSince: expect.any(Number) });
    expect(await statusOf(id)).toMatchObject({ inSync: true, lastError: "a replayed message for version 1 was invalid" });
  });

  it("not applied yet makes the container out of sync from then", async () => {
    const id = uniqueId("fail-newer");
    await deliver(QUEUES.config, [upsert(id, 1)]);
    const stub = containerStub(env, id);
    const before = Date.now();

    await stub.recordFailure(id, 2, "control plane has no config");

    const health = await stub.health();
    expect(health?.outOfSyncSince).toBeGreaterThanOrEqual(before);
    expect(health?.outOfSyncSince).toBeLessThanOrEqual(Date.now());
  });
});

describe("the alerts", () => {
  it("are told about a container that is in sync but failing, and told again once it recovers", async () => {
    const id = uniqueId("alert-error-only");
    await deliver(QUEUES.config, [upsert(id, 1)]);
    const stub = containerStub(env, id);

    await stub.recordFailure(id, 1, "a replayed message for version 1 was invalid");
    expect((await alertStub(env).plan(Date.now())).watched).toContain(id);

    await deliver(QUEUES.config, [upsert(id, 2, { gtmId: "GTM-AGAIN2" })]);
    expect((await alertStub(env).plan(Date.now())).watched).not.toContain(id);
  });
});

describe("a container that recovered", () => {
  it("does not tell the alerts about its later, healthy changes", async () => {
    const id = uniqueId("alert-recovered");
    await deliver(QUEUES.config, [upsert(id, 1)]);
    const stub = containerStub(env, id);
    await stub.recordFailure(id, 1, "a replayed message for version 1 was invalid");
    await deliver(QUEUES.config, [upsert(id, 2, { gtmId: "GTM-AGAIN2" })]);
    const reached = await runInDurableObject(stub, (instance) =>
      vi.spyOn((instance as unknown as { env: Env }).env.ALERT_STATE, "idFromName"),
    );

    await deliver(QUEUES.config, [upsert(id, 3, { gtmId: "GTM-AGAIN3" })]);

    expect(reached).not.toHaveBeenCalled();
  });
});

describe("an apply while a newer version is pending", () => {
  it("keeps the newer version desired, the container out of sync since it first was, and its drift re-send armed", async () => {
    const id = uniqueId("pending-newer");
    const stub = containerStub(env, id);
    await stub.recordDesired(upsert(id, 1));
    await stub.recordDesired(upsert(id, 2));
    const health = await stub.health();
    const alarm = await alarmOf(id);

    expect(await stub.apply(id, 1, parsed(id, 1))).toMatchObject({ status: "applied", version: 1 });

    expect(await statusOf(id)).toMatchObject({ desiredVersion: 2, appliedVersion: 1, inSync: false, deleted: false });
    expect((await stub.health())?.outOfSyncSince).toBe(health?.outOfSyncSince);
    expect(await alarmOf(id)).toBe(alarm);
  });

  it("keeps a pending removal the newest change: the container shows as deleted and offers no public hosts", async () => {
    const id = uniqueId("pending-removal");
    const stub = containerStub(env, id);
    await stub.recordDesired(upsert(id, 1));
    expect(await stub.requestDelete(id)).toMatchObject({ type: "delete", version: 2 });

    await stub.apply(id, 1, parsed(id, 1));

    expect(await statusOf(id)).toMatchObject({ desiredVersion: 2, appliedVersion: 1, deleted: true });
    expect(await stub.latestPublicHosts(id)).toBeNull();
  });
});

describe("an apply of the pending version", () => {
  it("brings the container in sync: not out of sync any more, and no drift re-send left, only the verification", async () => {
    const id = uniqueId("pending-done");
    const stub = containerStub(env, id);
    await stub.recordDesired(upsert(id, 1));

    await stub.apply(id, 1, parsed(id, 1));

    expect((await stub.health())?.outOfSyncSince).toBeNull();
    expect(await alarmOf(id)).toBeGreaterThan(Date.now() + INTERVAL_MS * 0.4);
  });
});
