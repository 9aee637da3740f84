// The contract's "Local run" guarantees, on the real `wrangler dev` platform that `npm start` runs.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_ADMIN_TOKEN, loadDemoContainers, startPlatform } from "../../scripts/platform.mjs";
import { hostRequest } from "../support/http.mjs";

const auth = { Authorization: `Bearer ${DEV_ADMIN_TOKEN}`, "Content-Type": "application/json" };
let platform: Awaited<ReturnType<typeof startPlatform>>;
let persistTo: string;

async function pollUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

beforeAll(async () => {
  persistTo = mkdtempSync(join(tmpdir(), "qaxal-local-run-"));
  platform = await startPlatform({ quiet: true, persistTo });
});

afterAll(async () => {
  await platform?.stop();
  rmSync(persistTo, { recursive: true, force: true });
});

describe("local run", () => {
  it("loads the demo containers through the operator API", async () => {
    expect(platform.demo.lines.every((line: string) => line.endsWith("queued"))).toBe(true);
    const ms = await pollUntil(async () => {
      const res = await fetch(`${platform.workerUrl}/_edge/admin/containers/demo-shop/status`, { headers: auth });
      return res.ok && ((await res.json()) as { inSync: boolean }).inSync;
    }, 15_000);
    expect(ms).toBeLessThan(15_000);
  });

  it("a PUT of a new container routes its host within 15 seconds, a DELETE answers 404 within 15 seconds", async () => {
    const config = {
      containerId: "late-shop",
      version: 1,
      upstream: platform.originUrl,
      infraHosts: ["late-shop.edge.localhost"],
      publicHosts: ["ss.late-shop.localhost"],
      loaderToken: "lt_late_shop",
      gtmId: "GTM-LATE01",
    };
    expect((await hostRequest(`${platform.workerUrl}/gtm.js?id=GTM-LATE01`, "late-shop.edge.localhost")).status).toBe(404);
    const put = await fetch(`${platform.workerUrl}/_edge/admin/containers/late-shop`, {
      method: "PUT",
      headers: auth,
      body: JSON.stringify(config),
    });
    expect(put.status).toBe(202);
    await pollUntil(async () => {
      const res = await hostRequest(`${platform.workerUrl}/gtm.js?id=GTM-LATE01`, "late-shop.edge.localhost");
      return res.status === 200 && res.body.includes("GTM-LATE01");
    }, 15_000);

    const del = await fetch(`${platform.workerUrl}/_edge/admin/containers/late-shop`, { method: "DELETE", headers: auth });
    expect(del.status).toBe(202);
    await pollUntil(async () => (await hostRequest(`${platform.workerUrl}/gtm.js`, "late-shop.edge.localhost")).status === 404, 15_000);
  });

  it("the demo follows the ports of each run: a second start on other ports re-PUTs the next version, the same ports change nothing", async () => {
    const config = async () => {
      const res = await fetch(`${platform.workerUrl}/_edge/config/demo-basic`, { headers: { "X-Edge-Auth": "dev-edge-auth" } });
      return (await res.json()) as { version: number; upstream: string };
    };
    await pollUntil(async () => (await config()).version === 1, 15_000);
    const shop = await fetch(`${platform.workerUrl}/_edge/config/demo-shop`, { headers: { "X-Edge-Auth": "dev-edge-auth" } });
    expect(((await shop.json()) as { allowedOrigins: string[] }).allowedOrigins).toEqual([
      `http://shop.localhost:${platform.port}`,
      `http://demo-shop.localhost:${platform.port}`,
    ]);

    // What a second `npm start` with SGTM_PORT=9999 and PORT=9000 does against the same persisted state.
    const moved = await loadDemoContainers(platform.workerUrl, "http://127.0.0.1:9999", 9000);
    expect(moved.lines).toEqual(["demo-shop v2: queued", "demo-basic v2: queued"]);
    await pollUntil(async () => (await config()).upstream === "http://127.0.0.1:9999", 15_000);

    // And a third start on those same ports: nothing new.
    const again = await loadDemoContainers(platform.workerUrl, "http://127.0.0.1:9999", 9000);
    expect(again.lines).toEqual(["demo-shop v2: already applied", "demo-basic v2: already applied"]);
  });
});
