// The hostname refresh within Cloudflare's API limits (issue 21): 1,000 pending custom hostnames (HOSTNAME_SCALE=1000;
// 100 by default, as the 1,000 run takes about 17 minutes on a loaded 2-core machine), onboarded through
// the operator API, whose customers publish their DNS records within half an hour, refreshed by the cron once a
// simulated minute against the stand-in (test/support/cloudflare-api-stand-in.mjs), which enforces Cloudflare's 1,200
// requests per five minutes per token with a five-minute 429. Every hostname must reach active, and no call may be
// refused. The stand-in's clock is the cron's clock: each run is one minute later on both.
import { env } from "cloudflare:workers";
import { expect, inject, it } from "vitest";
import { refreshPendingHostnames } from "../../workers/admin/custom-hostnames";
import { cloudflareTenant } from "../support/cloudflare-api-stand-in.client";
import { edgeConfig } from "../support/fixtures";
import { operator, putAndApply } from "../support/operator";

const MINUTE = 60_000;
const HOSTS_PER_CONTAINER = 10;
const CONTAINERS = Math.ceil(inject("hostnameScale") / HOSTS_PER_CONTAINER);

/** Runs `work` over `items`, `width` at a time. */
async function inBatches<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(work));
}

it("1,000 (HOSTNAME_SCALE) pending hostnames all reach active with no 429, and the refresh's calls per hour stay bounded", {
  timeout: 1_800_000,
}, async () => {
  const cf = cloudflareTenant("thousand");
  // Each customer publishes the records between 1 and 30 minutes after Cloudflare shows them.
  await cf.configure({ activateAfterMs: [MINUTE, 30 * MINUTE] });
  const run = crypto.randomUUID().slice(0, 6);
  const containers = Array.from({ length: CONTAINERS }, (_, c) => ({
    id: `rf-${run}-${c}`,
    hosts: Array.from({ length: HOSTS_PER_CONTAINER }, (_, h) => `ss${h}.c${c}-${run}.refresh-shop.com`),
  }));
  await inBatches(containers, 10, (c) => putAndApply(edgeConfig({ containerId: c.id, publicHosts: c.hosts })));
  const start = await cf.now();
  await inBatches(
    containers.flatMap((c) => c.hosts.map((host) => ({ id: c.id, host }))),
    10,
    async ({ id, host }) => {
      const { response } = await operator(`/_edge/admin/containers/${id}/hostnames/${host}`, { method: "PUT" }, cf.env);
      expect(response.status).toBe(201);
    },
  );

  // One run a simulated minute until nothing is pending (at most three hours).
  let pending = true;
  for (let minute = 1; minute <= 180 && pending; minute++) {
    await cf.advanceClock(MINUTE);
    const result = await refreshPendingHostnames(cf.env, await cf.now());
    expect(result.stopped).not.toBe("rate_limited");
    pending = (await env.LOG_BUCKET.list({ prefix: `custom-hostnames/pending/rf-${run}` })).objects.length > 0;
  }

  const requests = await cf.requests();
  expect(requests.filter((r) => r.status === 429)).toEqual([]);
  const perHour = new Map<number, number>();
  for (const r of requests)
    perHour.set(Math.floor((r.at - start) / (60 * MINUTE)), (perHour.get(Math.floor((r.at - start) / (60 * MINUTE))) ?? 0) + 1);
  const busiestFiveMinutes = Math.max(
    ...requests.map((r) => requests.filter((other) => other.at >= r.at && other.at < r.at + 5 * MINUTE).length),
  );
  console.log(
    JSON.stringify({ event: "refresh_budget", calls: requests.length, perHour: Object.fromEntries(perHour), busiestFiveMinutes }),
  );
  expect(busiestFiveMinutes).toBeLessThanOrEqual(1200);

  const states = await Promise.all(
    containers.map(async (c) => {
      const { response } = await operator(`/_edge/admin/containers/${c.id}/status`);
      return ((await response.json()) as { hostnames: { state: string; live: boolean }[] }).hostnames;
    }),
  );
  expect(states.flat()).toHaveLength(CONTAINERS * HOSTS_PER_CONTAINER);
  expect(states.flat().filter((h) => h.state !== "active" || !h.live)).toEqual([]);
  expect(await env.SITE_REGISTRY.get(containers[0]!.hosts[0]!)).toBe(containers[0]!.id);
});
