// `/_edge/` answers only on operator hosts (CONTRACT.md "Shape"): there the edge Worker passes it to the real
// control Worker over its service binding; on every customer host it is 404 and never reaches the upstream.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN } from "../support/fixtures";
import { originUrl, seedContainer, uniqueId } from "../support/router-harness";

async function upstreamSaw(path: string): Promise<boolean> {
  const seen = (await (await fetch(`${originUrl()}/__seen`)).json()) as string[];
  return seen.includes(path);
}

describe("operator endpoints on the edge Worker", () => {
  it("reach the control Worker on localhost, on any port", async () => {
    const res = await exports.default.fetch("http://localhost:8787/_edge/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it("reach the control Worker on 127.0.0.1 with the operator's token", async () => {
    const res = await exports.default.fetch("http://127.0.0.1/_edge/admin/containers/nobody-here/status", { headers: ADMIN });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: "not_found", message: expect.stringContaining("nobody-here") });
  });

  for (const [kind, host] of [
    ["an infra host", (c: { infraHosts: string[] }) => c.infraHosts[0]!],
    ["a public host", (c: { publicHosts: string[] }) => c.publicHosts[0]!],
  ] as const) {
    it(`are 404 on ${kind} and never proxied`, async () => {
      const config = await seedContainer();
      const path = `/_edge/admin/containers/${uniqueId()}`;
      const res = await exports.default.fetch(`https://${host(config)}${path}`, { headers: ADMIN });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: "not_found", message: "no such endpoint" });
      expect(await upstreamSaw(path)).toBe(false);
    });
  }

  it("are 404 on an unknown host", async () => {
    const res = await exports.default.fetch("https://stranger.example/_edge/health");
    expect(res.status).toBe(404);
  });

  it("do not trust X-Forwarded-Host to reach them from a customer host", async () => {
    const config = await seedContainer();
    const res = await exports.default.fetch(`https://${config.infraHosts[0]}/_edge/health`, {
      headers: { Host: config.infraHosts[0]!, "X-Forwarded-Host": "localhost" },
    });
    expect(res.status).toBe(404);
  });
});
