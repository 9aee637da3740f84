// Property: for any sequence of configs, removals and applies across containers, no routing key ever resolves to a
// container that did not win it. Each run drives the real operator API and config consumer against a small pool of
// names chosen to collide (the same host as infra and public host, whole hosts and mounts on them, a platform domain,
// shared loader tokens), and checks every answer and every KV entry against a reference model written here from the
// rules, not from the registry's code.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { QUEUES } from "../../workers/shared/queues";
import { deliver } from "../support/control-pipeline";
import { edgeConfig } from "../support/fixtures";
import { operatorDelete, operatorPut } from "../support/operator";

type Op = { kind: "put"; c: number; infra: string[]; pub: string[]; token: number } | { kind: "delete"; c: number } | { kind: "deliver" };

const CONTAINERS = 3;
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({
        kind: fc.constant("put" as const),
        c: fc.nat(CONTAINERS - 1),
        // Few names per config: most PUTs then get past the schema and meet each other in the registry.
        infra: fc.subarray(["i0", "i1", "h0"], { maxLength: 1 }),
        pub: fc.subarray(["h0", "h1", "h0/m", "h1/m", "x"], { maxLength: 2 }),
        token: fc.nat(2),
      })
      .filter((put) => put.infra.length + put.pub.length > 0),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), c: fc.nat(CONTAINERS - 1) }) },
  { weight: 2, arbitrary: fc.constant({ kind: "deliver" as const }) },
);

/** A routing key as the rules see it: what kind of name, the host it routes, its domain, and its role. */
interface Key {
  id: string;
  kind: "host" | "mount" | "token";
  host: string;
  domain: string;
  role: "infra" | "public" | "token";
}

/** All pool hosts end in `<label>.example`, which has no multi-label public suffix: the domain is the last two labels. */
const domainOf = (host: string) => host.split(".").slice(-2).join(".");

let runs = 0;

async function runSequence(ops: Op[]): Promise<void> {
  runs += 1;
  const ns = `own${runs}x${crypto.randomUUID().slice(0, 6)}`;
  const hostName: Record<string, string> = {
    i0: `i0.${ns}-edge.example`,
    i1: `i1.${ns}-edge.example`,
    x: `x.${ns}-edge.example`,
    h0: `h0.${ns}-a.example`,
    h1: `h1.${ns}-b.example`,
  };
  const nameOf = (short: string) => (short.endsWith("/m") ? `${hostName[short.slice(0, 2)]}/m` : hostName[short]!);
  const containerId = (c: number) => `${ns}-c${c}`;
  const tokenOf = (t: number) => `lt_${ns}_t${t}`;

  const keyOf = (name: string, role: Key["role"]): Key => {
    if (role === "token") return { id: `token:${name}`, kind: "token", host: "", domain: "", role };
    const host = name.split("/")[0]!;
    const kind = name.includes("/") ? "mount" : "host";
    return { id: `${kind}:${name}`, kind, host, domain: domainOf(host), role };
  };

  // The model: per container, the keys of its applied version and of versions accepted but not yet applied.
  const applied = new Map<string, Key[]>();
  const pending = new Map<string, { version: number; keys: Key[] | null }[]>();
  const version = new Map<string, number>();
  const live = new Set<string>(); // configured and its newest change is not a removal
  const queued: unknown[] = [];

  const claimed = (c: string): Key[] => [...(applied.get(c) ?? []), ...(pending.get(c) ?? []).flatMap((p) => p.keys ?? [])];
  const collides = (mine: Key, theirs: Key) =>
    mine.id === theirs.id ||
    (mine.kind === "host" && theirs.kind === "mount" && theirs.host === mine.host) ||
    (mine.kind === "mount" && theirs.kind === "host" && theirs.host === mine.host);

  function expectedStatus(c: string, keys: Key[]): number {
    const infraDomains = new Set(keys.filter((k) => k.role === "infra").map((k) => k.domain));
    if (keys.some((k) => k.role === "public" && infraDomains.has(k.domain))) return 400;
    const wanted = new Set(keys.map((k) => k.id));
    for (const [owner] of [...applied, ...pending]) {
      for (const theirs of claimed(owner)) {
        for (const mine of keys) {
          if (owner !== c && collides(mine, theirs)) return 409;
          // A public host may not share a registrable domain with any infra host, whoever holds it.
          const opposite = (mine.role === "public" && theirs.role === "infra") || (mine.role === "infra" && theirs.role === "public");
          if (opposite && mine.domain === theirs.domain && !wanted.has(theirs.id)) return 409;
        }
      }
    }
    return 202;
  }

  /** Every pool key resolves (as the router reads KV) to the container whose applied config names it, or to none. */
  async function expectKvMatchesModel(): Promise<void> {
    const ownerOf = new Map<string, string>();
    for (const [c, keys] of applied) {
      for (const key of keys) {
        expect(ownerOf.get(key.id), `model: ${key.id} applied twice`).toBeUndefined();
        ownerOf.set(key.id, c);
      }
    }
    for (const host of Object.values(hostName)) {
      const routed = (await env.ROUTING_MAP.get(host)) ?? (await env.SITE_REGISTRY.get(host));
      expect(routed, host).toBe(ownerOf.get(`host:${host}`) ?? null);
      const mounted = await env.SITE_REGISTRY.get(`${host}/m`);
      expect(mounted, `${host}/m`).toBe(ownerOf.get(`mount:${host}/m`) ?? null);
    }
    for (let t = 0; t < 3; t++)
      expect(await env.LOADER_TOKEN_MAP.get(tokenOf(t)), tokenOf(t)).toBe(ownerOf.get(`token:${tokenOf(t)}`) ?? null);
  }

  for (const step of ops) {
    if (step.kind === "put") {
      const c = containerId(step.c);
      const next = (version.get(c) ?? 0) + 1;
      const config = edgeConfig({
        containerId: c,
        version: next,
        infraHosts: step.infra.map(nameOf),
        publicHosts: step.pub.map(nameOf),
        loaderToken: tokenOf(step.token),
      });
      const keys = [
        ...config.infraHosts!.map((h) => keyOf(h, "infra")),
        ...config.publicHosts!.map((h) => keyOf(h, "public")),
        keyOf(config.loaderToken, "token"),
      ];
      const expected = expectedStatus(c, keys);
      // The registry's rules are under test here, not the host rules (host-rules.test.ts): each PUT's own infra hosts
      // are the platform's domains, so an infra host is never refused for being off the platform.
      const call = await operatorPut(config, { PLATFORM_DOMAINS: config.infraHosts!.join(",") } as Partial<Env>);
      expect(call.response.status, `PUT ${c} v${next} ${JSON.stringify(step)}: ${await call.response.clone().text()}`).toBe(expected);
      if (expected === 202) {
        version.set(c, next);
        pending.set(c, [...(pending.get(c) ?? []), { version: next, keys }]);
        live.add(c);
        queued.push(...call.queued);
      }
    } else if (step.kind === "delete") {
      const c = containerId(step.c);
      const call = await operatorDelete(c);
      expect(call.response.status, `DELETE ${c}`).toBe(live.has(c) ? 202 : 404);
      if (live.has(c)) {
        const next = (version.get(c) ?? 0) + 1;
        version.set(c, next);
        pending.set(c, [...(pending.get(c) ?? []), { version: next, keys: null }]);
        live.delete(c);
        queued.push(...call.queued);
      }
    } else {
      // The consumer applies the newest version per container in the batch; the older ones are superseded.
      // As at the PUTs, the host rules are not under test: the newest queued configs' infra hosts are the platform's.
      const newest = new Map<string, { version: number; infraHosts: string[] }>();
      for (const body of queued as { containerId: string; version: number; config?: { infraHosts?: string[] } }[]) {
        const seen = newest.get(body.containerId);
        if (!seen || body.version > seen.version) {
          newest.set(body.containerId, { version: body.version, infraHosts: body.config?.infraHosts ?? [] });
        }
      }
      const platform = [...newest.values()].flatMap((n) => n.infraHosts).join(",");
      const result = await deliver(QUEUES.config, queued.splice(0), { PLATFORM_DOMAINS: platform } as Partial<Env>);
      expect(result.retryMessages).toEqual([]);
      for (const [c, list] of pending) {
        if (list.length === 0) continue;
        const newest = list.reduce((a, b) => (b.version > a.version ? b : a));
        applied.set(c, newest.keys ?? []);
        pending.set(c, []);
      }
      await expectKvMatchesModel();
    }
  }
  await expectKvMatchesModel();
}

describe("routing ownership", () => {
  it("no routing key ever resolves to a container that did not win it", async () => {
    await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), runSequence), { numRuns: 100 });
  }, 600_000);
});
