// PUT's version rule, from the operator's side: HTTP against the Worker, the real local config queue and KV.
// A PUT is accepted only when its version is newer than the last accepted one; the same version again is a no-op
// when the content is identical (a retried request) and a 409 when it differs.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { edgeConfig } from "../support/fixtures";
import { putConfig, statusOf, waitApplied } from "../support/pipeline";

interface Answer {
  error?: string;
  message?: string;
  enqueued?: boolean;
}

describe("PUT version rule", () => {
  it("the same version with identical content is idempotent: 202, nothing queued again", async () => {
    const config = edgeConfig({ containerId: "ver-same", version: 3 });
    expect((await putConfig(config)).status).toBe(202);
    await waitApplied("ver-same", 3);
    const again = await putConfig(config);
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ containerId: "ver-same", version: 3, enqueued: false, warnings: [] });
    expect(await statusOf("ver-same")).toMatchObject({ desiredVersion: 3, appliedVersion: 3, inSync: true, lastError: null });
  });

  it("the same version with different content is 409 version_conflict and changes nothing", async () => {
    expect((await putConfig(edgeConfig({ containerId: "ver-diff", version: 2 }))).status).toBe(202);
    const res = await putConfig(edgeConfig({ containerId: "ver-diff", version: 2, gtmId: "GTM-OTHER1" }));
    expect(res.status).toBe(409);
    const body = await res.json<Answer>();
    expect(body.error).toBe("version_conflict");
    expect(body.message).toBe("version 2 of ver-diff was already accepted with different content; send version 3 or higher to change it");
    await waitApplied("ver-diff", 2);
    expect(await env.EDGE_CONFIG.get("ver-diff", "json")).toMatchObject({ version: 2, gtmId: "GTM-ABC123" });
  });

  it("a version below one that is accepted but not yet applied is 409 stale_version", async () => {
    expect((await putConfig(edgeConfig({ containerId: "ver-pending", version: 9 }))).status).toBe(202);
    // Sent right away: version 9 is accepted (desired) whether or not the consumer has applied it yet.
    const res = await putConfig(edgeConfig({ containerId: "ver-pending", version: 8 }));
    expect(res.status).toBe(409);
    expect(await res.json<Answer>()).toEqual({
      error: "stale_version",
      message: "version 8 is not newer than version 9, the last one accepted for ver-pending; send version 10 or higher",
    });
    await waitApplied("ver-pending", 9);
  });

  it("50 racing PUTs of mixed versions: the highest is applied, every other one is 409 or superseded", async () => {
    const id = "ver-race";
    // Versions 1-20, several sent twice: some repeats identical, some with other content.
    const bodies = Array.from({ length: 50 }, (_, i) => {
      const version = 1 + ((i * 7) % 20);
      const variant = i % 3 === 0 ? "GTM-VARIANT" : "GTM-ABC123";
      return edgeConfig({ containerId: id, version, gtmId: variant });
    });
    const answers = await Promise.all(
      bodies.map(async (body) => {
        const res = await putConfig(body);
        return { body, status: res.status, answer: await res.json<Answer>() };
      }),
    );

    // Every answer is an acceptance or a 409 that says why; nothing else.
    for (const { status, answer } of answers) {
      expect([202, 409]).toContain(status);
      if (status === 409) expect(["stale_version", "version_conflict"]).toContain(answer.error);
    }
    const accepted = answers.filter((a) => a.status === 202);
    const highest = Math.max(...bodies.map((b) => b.version));
    const winners = accepted.filter((a) => a.body.version === highest);
    // The highest version is accepted (possibly more than once, only with identical content).
    expect(winners.length).toBeGreaterThan(0);
    expect(new Set(winners.map((w) => w.body.gtmId)).size).toBe(1);

    const status = await waitApplied(id, highest);
    expect(status).toMatchObject({ desiredVersion: highest, appliedVersion: highest, lastError: null });
    // What is live is exactly the content of the accepted highest PUT: no other PUT overwrote it silently.
    expect(await env.EDGE_CONFIG.get(id, "json")).toMatchObject({ version: highest, gtmId: winners[0]!.body.gtmId });
    // Every other accepted PUT had a lower version: superseded by the one applied.
    for (const a of accepted) expect(a.body.version).toBeLessThanOrEqual(highest);
  });
});

describe("validation messages", () => {
  it("a missing field is named in plain words with what it needs", async () => {
    const { upstream: _, ...rest } = edgeConfig({ containerId: "ver-missing" });
    const res = await putConfig(rest as never);
    expect(res.status).toBe(400);
    const body = await res.json<Answer>();
    expect(body.message).toMatch(/^invalid body: missing field "upstream" \(required: .*https/);
    expect(body.message).not.toContain("Invalid key");
  });

  it("a wrong type names the field, what is expected and what was sent", async () => {
    const res = await putConfig({ ...edgeConfig({ containerId: "ver-type" }), version: "7" } as never);
    expect(res.status).toBe(400);
    expect((await res.json<Answer>()).message).toBe('invalid body: version must be a number, got the string "7"');
  });

  it("a bad list item names its position and value", async () => {
    const res = await putConfig(edgeConfig({ containerId: "ver-item", infraHosts: ["ok.example", "Bad.Example"] }));
    expect(res.status).toBe(400);
    expect((await res.json<Answer>()).message).toBe(
      'invalid body: infraHosts[1] (got "Bad.Example"): host must be a lower-case DNS name without port',
    );
  });

  it("a nested custom message carries the whole path", async () => {
    const config = edgeConfig({ containerId: "ver-nested" });
    const res = await putConfig({ ...config, modules: { cookieKeeper: { enabled: true, maxAgeDays: 0 } } });
    expect(res.status).toBe(400);
    expect((await res.json<Answer>()).message).toBe("invalid body: modules.cookieKeeper.maxAgeDays must be >= 1");
  });
});
