// CONTRACT.md "Live traffic": what a client can repeat for free creates nothing durable for an identity or session
// this edge did not issue, and is bounded per client. Through the router (handleTraffic) with the real KV maps and
// COOKIE_VAULT of miniflare, the real loopback upstream and the real Rate Limiting bindings; every KV call is spied.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { BootResponse } from "../../schemas/loader";
import { handleTraffic } from "../../workers/router/traffic";
import { callRouter, callRouterWith, recordingQueue, routerRequest, seedContainer, uniqueId } from "../support/router-harness";

afterEach(() => {
  vi.restoreAllMocks();
});

const KV = ["ROUTING_MAP", "EDGE_CONFIG", "LOADER_TOKEN_MAP", "SITE_REGISTRY", "COOKIE_VAULT"] as const;

/** Counts reads and writes on every KV namespace of the edge (the calls still reach the real KV). */
function spyKv() {
  const reads = KV.flatMap((name) => [vi.spyOn(env[name], "get"), vi.spyOn(env[name], "getWithMetadata")]);
  const writes = KV.flatMap((name) => [vi.spyOn(env[name], "put"), vi.spyOn(env[name], "delete")]);
  const count = (spies: { mock: { calls: unknown[] } }[]) => spies.reduce((sum, spy) => sum + spy.mock.calls.length, 0);
  return { reads: () => count(reads), writes: () => count(writes), vaultReads: () => count(reads.slice(8)) };
}

let clients = 0;
/** A client address no other test uses: the rate limiters count per address. */
function clientIp(): string {
  clients += 1;
  return `198.51.${Math.floor(clients / 250)}.${(clients % 250) + 1}`;
}

function post(host: string, path: string, body: unknown, headers: Record<string, string> = {}): Request {
  return routerRequest(host, path, { method: "POST", body: JSON.stringify(body), headers: { "CF-Connecting-IP": clientIp(), ...headers } });
}

function cookieValue(response: Response, name: string): string | undefined {
  const header = response.headers.getSetCookie().find((candidate) => candidate.startsWith(`${name}=`));
  return header?.slice(name.length + 1).split(";")[0];
}

const randomFpid = () => `FPID2.2.${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}.1733500000`;

describe("junk /boot", () => {
  it("a random FPID with one _ga: no vault read, no write, no entry, no proof handed out", async () => {
    const config = await seedContainer();
    const host = config.publicHosts[0]!;
    await callRouter(post(host, "/boot", { cookies: {} })); // the config is in the isolate's cache from here on
    const kv = spyKv();
    const fpid = randomFpid();
    const { response } = await callRouter(post(host, "/boot", { cookies: { _ga: "GA1.1.99.99" } }, { Cookie: `FPID=${fpid}` }));
    expect(response.status).toBe(200);
    expect(((await response.json()) as BootResponse).restoreCookies).toEqual([]);
    expect(kv.writes()).toBe(0);
    expect(kv.vaultReads()).toBe(0);
    expect(cookieValue(response, "_qxi")).toBeUndefined();
    expect(cookieValue(response, "_qxb")).toBeUndefined();
    expect(await env.COOKIE_VAULT.get(`${config.containerId}:${fpid}`)).toBeNull();
  });

  it("a proof made for another identity or another container does not vouch", async () => {
    const mine = await seedContainer();
    const other = await seedContainer();
    const issued = (await callRouter(post(other.publicHosts[0]!, "/boot", { cookies: {} }))).response;
    const theirFpid = cookieValue(issued, "FPID")!;
    const theirProof = cookieValue(issued, "_qxi")!;
    const kv = spyKv();
    for (const cookie of [`FPID=${theirFpid}; _qxi=${theirProof}`, `FPID=${randomFpid()}; _qxi=${theirProof}`]) {
      const { response } = await callRouter(post(mine.publicHosts[0]!, "/boot", { cookies: { _ga: "GA1.1.98.98" } }, { Cookie: cookie }));
      expect(response.status).toBe(200);
    }
    expect(kv.writes()).toBe(0);
    expect(kv.vaultReads()).toBe(0);
  });
});

describe("genuine identities keep their backup", () => {
  it("issued by the edge: FPID and its proof, then a backup, then the lost _ga restored", async () => {
    const config = await seedContainer();
    const host = config.publicHosts[0]!;
    const first = (await callRouter(post(host, "/boot", { cookies: {} }))).response;
    const jar = `FPID=${cookieValue(first, "FPID")}; _qxi=${cookieValue(first, "_qxi")}`;
    expect(cookieValue(first, "_qxi")).toMatch(/^[A-Za-z0-9_-]{22}$/);
    await callRouter(post(host, "/boot", { cookies: { _ga: "GA1.1.10.10" } }, { Cookie: jar }));
    const lost = (await callRouter(post(host, "/boot", { cookies: {} }, { Cookie: jar }))).response;
    expect(((await lost.json()) as BootResponse).restoreCookies).toMatchObject([{ name: "_ga", value: "GA1.1.10.10" }]);
  });

  it("set by the upstream: the router adds the proof beside the upstream's FPID, and /boot backs up under it", async () => {
    const config = await seedContainer();
    const host = config.publicHosts[0]!;
    const fpid = randomFpid();
    const cookies = btoa(JSON.stringify([`FPID=${fpid}; Max-Age=63072000; Path=/; HttpOnly`])).replaceAll("=", "");
    const { response: hit } = await callRouter(routerRequest(host, `/set-cookies?c=${cookies}`));
    expect(cookieValue(hit, "FPID")).toBe(fpid);
    const proof = cookieValue(hit, "_qxi");
    expect(proof).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(hit.headers.getSetCookie().find((h) => h.startsWith("_qxi="))).toContain("HttpOnly");

    await callRouter(post(host, "/boot", { cookies: { _ga: "GA1.1.11.11" } }, { Cookie: `FPID=${fpid}; _qxi=${proof}` }));
    expect(await env.COOKIE_VAULT.get(`${config.containerId}:${fpid}`, "json")).toMatchObject({ cookies: { _ga: "GA1.1.11.11" } });

    // sGTM re-sends FPID on every hit: a browser that holds it and a proof is not sent another; a new FPID value is.
    const again = await callRouter(
      routerRequest(host, `/set-cookies?c=${cookies}`, { headers: { Cookie: `FPID=${fpid}; _qxi=${proof}` } }),
    );
    expect(cookieValue(again.response, "_qxi")).toBeUndefined();
    const rotated = await callRouter(
      routerRequest(host, `/set-cookies?c=${cookies}`, { headers: { Cookie: `FPID=${randomFpid()}; _qxi=${proof}` } }),
    );
    expect(cookieValue(rotated.response, "_qxi")).toBe(proof);
  });

  it("an upstream hit that sets FPID still passes when no proof can be made (EDGE_AUTH_SECRET unset)", async () => {
    const config = await seedContainer();
    const cookies = btoa(JSON.stringify([`FPID=${randomFpid()}; Max-Age=63072000; Path=/`])).replaceAll("=", "");
    const request = routerRequest(config.publicHosts[0]!, `/set-cookies?c=${cookies}`);
    const ctx = createExecutionContext();
    const response = await handleTraffic(
      request,
      { ...env, EDGE_AUTH_SECRET: "", LOG_QUEUE: recordingQueue().queue },
      ctx,
      new URL(request.url),
    );
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(204);
    expect(cookieValue(response, "FPID")).toBeDefined();
    expect(cookieValue(response, "_qxi")).toBeUndefined();
  });

  it("a site-set identity the edge never saw set: proof at first sight, nothing stored until it comes back", async () => {
    const config = await seedContainer({ identityCookie: "shop_uid" });
    const host = config.publicHosts[0]!;
    const kv = spyKv();
    const first = (await callRouter(post(host, "/boot", { cookies: { _ga: "GA1.1.12.12" } }, { Cookie: "shop_uid=u-12121212" }))).response;
    expect(kv.writes()).toBe(0);
    const proof = cookieValue(first, "_qxi");
    expect(proof).toBeDefined();
    await callRouter(post(host, "/boot", { cookies: { _ga: "GA1.1.12.12" } }, { Cookie: `shop_uid=u-12121212; _qxi=${proof}` }));
    expect(await env.COOKIE_VAULT.get(`${config.containerId}:u-12121212`, "json")).toMatchObject({ cookies: { _ga: "GA1.1.12.12" } });
  });
});

describe("junk detection beacons", () => {
  it("a made-up session id: 400, no detection record, no KV write", async () => {
    const config = await seedContainer();
    const host = config.publicHosts[0]!;
    await callRouter(post(host, "/boot", { cookies: {} }));
    const kv = spyKv();
    const { response, records } = await callRouter(
      post(host, "/mark-session-detection", { sessionId: "abcdefghijklmnopqrstuvwx", adblock: true, itp: false }),
    );
    expect(response.status).toBe(400);
    expect(records.filter((record) => (record as { kind?: string }).kind === "detection")).toEqual([]);
    expect(kv.writes()).toBe(0);
  });
});

describe("per-client bounds (Rate Limiting bindings, 60 s period)", () => {
  /** Sends `make()` until the first 429; a minute boundary may reset the count once, so up to 2 × limit + 1. */
  async function untilLimited(limit: number, make: () => Request) {
    const log = recordingQueue();
    let passed = 0;
    for (let i = 0; i <= 2 * limit; i++) {
      const [response] = await callRouterWith(log, [make()]);
      if (response!.status === 429) return { passed, response: response!, log };
      passed += 1;
    }
    throw new Error(`no 429 after ${2 * limit + 1} requests`);
  }

  it("/boot and beacons: 120 a minute per client and container, then 429 with Retry-After", async () => {
    const config = await seedContainer();
    const ip = clientIp();
    const { passed, response } = await untilLimited(120, () =>
      routerRequest(config.publicHosts[0]!, "/boot", { method: "POST", body: '{"cookies":{}}', headers: { "CF-Connecting-IP": ip } }),
    );
    expect(passed).toBeGreaterThanOrEqual(120);
    expect(response.headers.get("Retry-After")).toBe("60");
    expect(await response.json()).toMatchObject({ error: "rate_limited" });
    const beacon = await callRouter(
      post(
        config.publicHosts[0]!,
        "/mark-session-detection",
        { sessionId: "abcdefghijklmnopqrstuvwx", adblock: true, itp: false },
        {
          "CF-Connecting-IP": ip,
        },
      ),
    );
    expect(beacon.response.status).toBe(429);
    // Another client, and the same client on another container, are not affected.
    expect((await callRouter(post(config.publicHosts[0]!, "/boot", { cookies: {} }))).response.status).toBe(200);
    const other = await seedContainer();
    expect((await callRouter(post(other.publicHosts[0]!, "/boot", { cookies: {} }, { "CF-Connecting-IP": ip }))).response.status).toBe(200);
  });

  it("an IPv6 client is counted by its /64", async () => {
    const config = await seedContainer();
    clients += 1;
    const prefix = `2001:db8:${clients.toString(16)}:1`;
    let n = 0;
    const { passed } = await untilLimited(120, () => {
      n += 1;
      return routerRequest(config.publicHosts[0]!, "/boot", {
        method: "POST",
        body: '{"cookies":{}}',
        headers: { "CF-Connecting-IP": `${prefix}:${n.toString(16)}::1` },
      });
    });
    expect(passed).toBeGreaterThanOrEqual(120);
  });

  it("unknown hosts: 60 a minute per client, then 429; a known host is never counted", async () => {
    const ip = clientIp();
    const { passed, response } = await untilLimited(60, () =>
      routerRequest(`${uniqueId("junk")}.unknown.example`, "/g/collect", { headers: { "CF-Connecting-IP": ip } }),
    );
    expect(passed).toBeGreaterThanOrEqual(60);
    expect(response.headers.get("Retry-After")).toBe("60");
    const config = await seedContainer();
    const known = await callRouter(routerRequest(config.publicHosts[0]!, "/echo", { headers: { "CF-Connecting-IP": ip } }));
    expect(known.response.status).toBe(200);
  });
});

describe("what one junk request costs (docs/loader.md#junk-requests)", () => {
  const N = 20;

  // KV reads are the host's config lookups, as for any request on it (docs/router.md): not asserted here.
  it(`${N} of each kind after the first: no KV write, no vault read, no detection record`, async () => {
    const config = await seedContainer();
    const host = config.publicHosts[0]!;
    const kinds: Record<string, () => Request> = {
      boot: () => post(host, "/boot", { cookies: { _ga: "GA1.1.1.1" } }, { Cookie: `FPID=${randomFpid()}` }),
      beacon: () =>
        post(host, "/mark-session-detection", {
          sessionId: crypto.randomUUID().replaceAll("-", "").slice(0, 24),
          adblock: true,
          itp: false,
        }),
      sameUnknownHost: () => routerRequest("junk.unknown.example", "/g/collect", { headers: { "CF-Connecting-IP": clientIp() } }),
      newUnknownHost: () => routerRequest(`${uniqueId("junk")}.unknown.example`, "/", { headers: { "CF-Connecting-IP": clientIp() } }),
      randomToken: () => routerRequest(host, `/l/lt_${crypto.randomUUID().replaceAll("-", "")}.js`),
    };
    const cost: Record<string, { reads: number; writes: number; vaultReads: number; detections: number; access: number }> = {};
    for (const [kind, make] of Object.entries(kinds)) {
      await callRouter(make());
      const kv = spyKv();
      const log = recordingQueue();
      for (let i = 0; i < N; i++) await callRouterWith(log, [make()]);
      const detections = log.records.filter((record) => (record as { kind?: string }).kind === "detection").length;
      cost[kind] = {
        reads: kv.reads() / N,
        writes: kv.writes(),
        vaultReads: kv.vaultReads(),
        detections,
        access: log.records.length - detections,
      };
      vi.restoreAllMocks();
    }
    expect(cost).toMatchObject({
      boot: { writes: 0, vaultReads: 0, detections: 0, access: N },
      beacon: { writes: 0, vaultReads: 0, detections: 0, access: N },
      sameUnknownHost: { writes: 0, vaultReads: 0, detections: 0, access: 0 },
      newUnknownHost: { writes: 0, vaultReads: 0, detections: 0, access: 0 },
      randomToken: { writes: 0, vaultReads: 0, detections: 0, access: N },
    });
  });
});
