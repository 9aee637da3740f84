// Fuzzing the operator API (issue 24 "Done when": a few thousand generated requests, no 5xx): methods, paths built
// from the API's own segments mixed with odd ones (bad percent-escapes, NUL, dot segments, very long, non-ASCII),
// JSON and non-JSON bodies (near-valid configs among them), and every kind of caller (admin, read, write and scoped
// keys, wrong and missing credentials, the webhook and edge secrets). Custom hostnames run against the Cloudflare API
// stand-in, so the only 5xx left would be the API's own.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { cloudflareTenant } from "../support/cloudflare-api-stand-in.client";
import { edgeConfig } from "../support/fixtures";
import { operator, putAndApply } from "../support/operator";

const SHOP = "fuzz-shop";
const callers: Record<string, Record<string, string>> = {
  admin: {},
  none: { Authorization: "" },
  wrong: { Authorization: "Bearer wrong" },
  forged: { Authorization: "Bearer qxk_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
  webhook: { Authorization: "", "X-Webhook-Secret": "test-webhook-secret" },
  edge: { Authorization: "", "X-Edge-Auth": "test-edge-auth" },
};

const segment = fc.oneof(
  fc.constantFrom("_edge", "admin", "containers", "hostnames", "status", "replay", "keys", "audit", "alerts", "thresholds"),
  fc.constantFrom("logs", "report", "dashboard", "hooks", "supabase", "config", "health", "openapi.json", "scheduled"),
  fc.constantFrom(SHOP, "shop2", `ss.${SHOP}.example`, "0123456789abcdef", "x"),
  fc.constantFrom("%ff", "%", "%E0%A4%A", "%00", "..", ".", "", "a%2Fb", "%2e%2e", "ü", "%F0%9F%98%80", "A".repeat(300)),
  fc.stringMatching(/^[a-z0-9._~%-]{0,20}$/),
);
const param = fc.oneof(fc.constantFrom(SHOP, "shop2", `ss.${SHOP}.example`, "0123456789abcdef"), segment);
/** The API's own routes with generated parameters, and junk paths built from segments. */
const path = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.constantFrom(
          "/_edge/admin/containers/$",
          "/_edge/admin/containers/$/status",
          "/_edge/admin/containers/$/hostnames/$",
          "/_edge/admin/keys/$",
          "/_edge/admin/alerts/thresholds/$",
          "/_edge/config/$",
        ),
        param,
        param,
      )
      .map(([template, a, b]) => template.replace("$", a).replace("$", b)),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "/_edge/admin/containers",
      "/_edge/admin/replay",
      "/_edge/admin/keys",
      "/_edge/admin/audit",
      "/_edge/admin/alerts",
      "/_edge/admin/logs",
      "/_edge/admin/report",
      "/_edge/hooks/supabase",
      "/_edge/health",
      "/_edge/openapi.json",
    ),
  },
  { weight: 2, arbitrary: fc.array(segment, { minLength: 0, maxLength: 6 }).map((segments) => `/_edge/${segments.join("/")}`) },
);
const query = fc.oneof(
  fc.constant(""),
  fc.constantFrom("?live=now", "?limit=0", "?limit=abc", "?cursor=%ff", "?cursor=eyJoIjoxLCJrIjo1fQ", "?since=1h", "?since=-1d"),
  fc.constantFrom("?container=fuzz-shop&since=1h", "?cron=*%20*%20*%20*%20*", "?from=x&to=y", "?limit=1&limit=2"),
);
const body = fc.oneof(
  fc.constant(undefined),
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 100 }),
  fc.constantFrom("null", "[]", '{"containerIds":["fuzz-shop","%ff"]}', '{"all":true}', '{"deadLetters":true}', '{"muted":"yes"}'),
  fc
    .record({
      field: fc.constantFrom("version", "infraHosts", "publicHosts", "upstream", "loaderToken", "modules", "containerId"),
      value: fc.jsonValue(),
    })
    .map(({ field, value }) => JSON.stringify({ ...edgeConfig({ containerId: SHOP, version: 5 }), [field]: value })),
  fc.constantFrom(
    JSON.stringify({ name: "fuzz", containers: [SHOP], access: "write" }),
    JSON.stringify({
      type: "INSERT",
      table: "edge_outbox",
      schema: "public",
      record: { id: 1, container_id: SHOP, config_version: 9, op: "upsert" },
      old_record: null,
    }),
  ),
);
const request = fc.record({
  method: fc.constantFrom("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"),
  path,
  query,
  body,
  // The admin token half the time: it is not rate-limited, so refusals do not turn the rest of the run into 429s.
  caller: fc.oneof(fc.constant("admin"), fc.constantFrom(...Object.keys(callers), "readKey", "writeKey", "scopedKey")),
  contentType: fc.constantFrom("application/json", "text/plain", ""),
  ip: fc.integer({ min: 1, max: 254 }),
});

describe("operator API fuzz", () => {
  const keys: Record<string, string> = {};
  beforeAll(async () => {
    await putAndApply(edgeConfig({ containerId: SHOP }));
    for (const [name, scope, access] of [
      ["readKey", "*", "read"],
      ["writeKey", "*", "write"],
      ["scopedKey", [SHOP], "write"],
    ] as const) {
      const { response } = await operator("/_edge/admin/keys", {
        method: "POST",
        body: JSON.stringify({ name, containers: scope, access }),
      });
      keys[name] = ((await response.json()) as { key: string }).key;
    }
  });

  it("answers 3,000 generated requests without a 5xx", async () => {
    const cf = cloudflareTenant("fuzz");
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const auth = keys[r.caller] ? { Authorization: `Bearer ${keys[r.caller]}` } : callers[r.caller]!;
        const headers: Record<string, string> = { ...auth, "CF-Connecting-IP": `192.0.2.${r.ip}` };
        if (r.contentType) headers["Content-Type"] = r.contentType;
        const withBody = r.body !== undefined && r.method !== "GET" && r.method !== "HEAD";
        const { response } = await operator(
          `${r.path}${r.query}`,
          { method: r.method, headers, body: withBody ? r.body : undefined },
          cf.env,
        );
        const text = await response.text();
        seen.set(response.status, (seen.get(response.status) ?? 0) + 1);
        expect(response.status, `${r.method} ${r.path}${r.query} as ${r.caller}: ${text.slice(0, 200)}`).toBeLessThan(500);
      }),
      { numRuns: 3000, seed: 24 },
    );
    // The fuzz reached past the front door: most answers are not just the 404 for an unknown path.
    expect([...seen.keys()].filter((status) => status !== 404).length).toBeGreaterThan(4);
  }, 300_000);
});
