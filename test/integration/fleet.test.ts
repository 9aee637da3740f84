// GET /_edge/admin/fleet: one row per container, worst first, from the real registry, R2 batches, AlertState and
// ContainerState objects.
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { Fleet } from "../../schemas/fleet";
import { edgeConfig } from "../support/fixtures";
import { accessRecord } from "../support/log-record-builders";
import { deliverLogs } from "../support/log-records";
import { admin, putConfig, waitApplied } from "../support/pipeline";

async function fleet(query = "", key?: string): Promise<Fleet> {
  const res = key
    ? await exports.default.fetch(`http://localhost/_edge/admin/fleet${query}`, { headers: { Authorization: `Bearer ${key}` } })
    : await admin(`/_edge/admin/fleet${query}`);
  expect(res.status).toBe(200);
  return res.json<Fleet>();
}

beforeAll(async () => {
  for (const id of ["fleet-ok", "fleet-bad", "fleet-idle"]) await putConfig(edgeConfig({ containerId: id }));
  await waitApplied("fleet-idle", 1);
  const now = Date.now();
  await deliverLogs([
    ...Array.from({ length: 40 }, (_, i) => accessRecord({ containerId: "fleet-ok", ts: now - 60_000 - i, status: i < 1 ? 500 : 200 })),
    ...Array.from({ length: 30 }, (_, i) =>
      accessRecord({ containerId: "fleet-bad", ts: now - 30_000 - i, status: 502, upstreamStatus: null, reason: "upstream_unreachable" }),
    ),
  ]);
});

describe("GET /_edge/admin/fleet", () => {
  it("puts a container whose config is live but whose traffic is all 502 first, red, and says why", async () => {
    const { containers } = await fleet();
    expect(containers.map((c) => c.containerId)).toEqual(["fleet-bad", "fleet-ok", "fleet-idle"]);
    expect(containers[0]).toMatchObject({
      health: "fail",
      sync: "live",
      requests: 30,
      errors: 30,
      errorShare: 1,
      upstreamErrors: 30,
      reasons: [{ reason: "upstream_unreachable", count: 30 }],
    });
    expect(containers[0]!.why[0]).toBe("100.0 % of answers are 5xx (alert above 5.0 %)");
    // One 500 in 40 is under the threshold: yellow, not red.
    expect(containers[1]).toMatchObject({ health: "warn", requests: 40, errors: 1, sync: "live", appliedVersion: 1 });
    expect(containers[2]).toMatchObject({ health: "idle", requests: 0, lastSeen: null });
    expect((await fleet()).counts).toEqual({ fail: 1, warn: 1, ok: 0, idle: 1, gone: 0 });
  });

  it("names the containers behind the platform's 5xx share", async () => {
    const { platform } = await fleet();
    expect(platform).toMatchObject({ requests: 70, errors: 31 });
    expect(platform.topErrors.map((t) => [t.containerId, t.errors])).toEqual([
      ["fleet-bad", 30],
      ["fleet-ok", 1],
    ]);
  });

  it("sorts, searches by id or host, and pages on the server", async () => {
    expect((await fleet("?sort=requests")).containers.map((c) => c.containerId)).toEqual(["fleet-ok", "fleet-bad", "fleet-idle"]);
    expect((await fleet("?sort=name")).containers.map((c) => c.containerId)).toEqual(["fleet-bad", "fleet-idle", "fleet-ok"]);
    const byHost = await fleet("?q=SS.FLEET-IDLE");
    expect(byHost.total).toBe(1);
    expect(byHost.containers[0]!.containerId).toBe("fleet-idle");
    const first = await fleet("?sort=name&limit=2");
    expect(first.next).toBe("2");
    expect(first.ids).toEqual(["fleet-bad", "fleet-idle", "fleet-ok"]);
    const second = await fleet(`?sort=name&limit=2&cursor=${first.next}`);
    expect(second.containers.map((c) => c.containerId)).toEqual(["fleet-ok"]);
    expect(second.next).toBeNull();
  });

  it("shows a key limited to some containers only those, in the rows, the names and the platform figure", async () => {
    const created = await admin("/_edge/admin/keys", {
      method: "POST",
      body: JSON.stringify({ name: "fleet-reader", containers: ["fleet-ok"], access: "read" }),
    });
    const { key } = (await created.json()) as { key: string };
    const scoped = await fleet("", key);
    expect(scoped.ids).toEqual(["fleet-ok"]);
    expect(scoped.containers.map((c) => c.containerId)).toEqual(["fleet-ok"]);
    expect(scoped.platform).toMatchObject({ requests: 40, errors: 1 });
  });

  it("refuses an unknown sort with a 400 naming the choices", async () => {
    const res = await admin("/_edge/admin/fleet?sort=worst");
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain("sort must be one of health, errors, requests");
  });
});
