// The contract's "Local run" guarantees, on the real `wrangler dev` platform that `npm start` runs, with its crons
// fired 30 times as often as in production (the alert check every 10 s) so that scheduled work is seen within a test.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cronCommand } from "../../scripts/local-crons.mjs";
import { DEV_ADMIN_TOKEN, freePort, loadDemoContainers, startPlatform } from "../../scripts/platform.mjs";
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
  platform = await startPlatform({ quiet: true, persistTo, crons: true, cronSpeedup: 30 });
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

  it("fires the control Worker's crons on their own: an alert opens for a container whose every request fails, with no one triggering a check", async () => {
    const deadUpstream = `http://127.0.0.1:${await freePort()}`;
    const put = await fetch(`${platform.workerUrl}/_edge/admin/containers/failing-shop`, {
      method: "PUT",
      headers: auth,
      body: JSON.stringify({
        containerId: "failing-shop",
        version: 1,
        upstream: deadUpstream,
        infraHosts: ["failing-shop.edge.localhost"],
        publicHosts: ["ss.failing-shop.localhost"],
        loaderToken: "lt_failing_shop",
        gtmId: "GTM-FAIL01",
      }),
    });
    expect(put.status, await put.clone().text()).toBe(202);
    await pollUntil(
      async () => (await hostRequest(`${platform.workerUrl}/g/collect`, "failing-shop.edge.localhost")).status === 502,
      15_000,
    );
    // Past the default minimum of 20 requests in the window, every one of them a 502.
    for (let i = 0; i < 25; i++)
      expect((await hostRequest(`${platform.workerUrl}/g/collect?v=2`, "failing-shop.edge.localhost")).status).toBe(502);
    await pollUntil(async () => {
      const res = await fetch(`${platform.workerUrl}/_edge/admin/alerts`, { headers: auth });
      const { open } = (await res.json()) as { open: { kind: string; containerId: string | null }[] };
      return open.some((alert) => alert.kind === "error_rate" && alert.containerId === "failing-shop");
    }, 60_000);
  });

  it("runs a cron's jobs on request: the command npm start prints answers 200 with each job's result", async () => {
    const command = cronCommand(platform.workerUrl, platform.edgeAuth, "*/5 * * * *");
    const { stdout } = await promisify(execFile)("sh", ["-c", `${command} --fail --silent --show-error`]);
    const answer = JSON.parse(stdout) as { cron: string; scheduledTime: string; results: { alertCheck: { raised: unknown[] } } };
    expect(answer.cron).toBe("*/5 * * * *");
    expect(Math.abs(Date.parse(answer.scheduledTime) - Date.now())).toBeLessThan(60_000);
    expect(Array.isArray(answer.results.alertCheck.raised)).toBe(true);

    const everyMinute = await fetch(`${platform.workerUrl}/_edge/scheduled?cron=${encodeURIComponent("* * * * *")}`, {
      method: "POST",
      headers: { "X-Edge-Auth": platform.edgeAuth },
    });
    expect(everyMinute.status).toBe(200);
    expect(Object.keys(((await everyMinute.json()) as { results: object }).results)).toEqual(["outboxSweep", "hostnameRefresh"]);
  });

  it("refuses a cron that is not one of the Cron Triggers (400 naming them) and a caller without the secret (401)", async () => {
    const wrong = await fetch(`${platform.workerUrl}/_edge/scheduled?cron=${encodeURIComponent("0 * * * *")}`, {
      method: "POST",
      headers: { "X-Edge-Auth": platform.edgeAuth },
    });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { message: string }).message).toContain('"* * * * *", "*/5 * * * *"');
    const anonymous = await fetch(`${platform.workerUrl}/_edge/scheduled?cron=${encodeURIComponent("* * * * *")}`, { method: "POST" });
    expect(anonymous.status).toBe(401);
  });
});
