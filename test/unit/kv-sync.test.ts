import { env } from "cloudflare:workers";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { entriesFor, syncKv } from "../../durable/kv-sync";
import { EdgeConfigSchema } from "../../schemas/edge-config";
import { edgeConfig } from "../support/fixtures";

const config = (overrides = {}) => v.parse(EdgeConfigSchema, edgeConfig(overrides));

describe("entriesFor", () => {
  it("names one key per host and token plus the config itself", () => {
    const entries = entriesFor(
      config({ containerId: "kv-one", infraHosts: ["a.edge.example"], publicHosts: ["ss.a.example", "ss.a.example.de"] }),
    );
    expect(entries.map((e) => `${e.map}:${e.key}`)).toEqual([
      "EDGE_CONFIG:kv-one",
      "ROUTING_MAP:a.edge.example",
      "SITE_REGISTRY:ss.a.example",
      "SITE_REGISTRY:ss.a.example.de",
      "LOADER_TOKEN_MAP:lt_kv-one_token",
    ]);
  });
});

describe("syncKv", () => {
  it("refuses to take over a host another container owns", async () => {
    await env.ROUTING_MAP.put("taken.edge.example", "someone-else");
    const next = config({ containerId: "kv-two", infraHosts: ["taken.edge.example"] });
    await expect(syncKv(env, "kv-two", null, next)).rejects.toThrow(/ROUTING_MAP\[taken.edge.example\] already belong/);
    expect(await env.ROUTING_MAP.get("taken.edge.example")).toBe("someone-else");
  });

  // The last guard holds for every map that names a container, not only hosts (issue 24: a guard skipping
  // LOADER_TOKEN_MAP passed the whole suite).
  it.each([
    ["LOADER_TOKEN_MAP", "lt_taken_token", { loaderToken: "lt_taken_token" }],
    ["SITE_REGISTRY", "ss.taken.example", { publicHosts: ["ss.taken.example"] }],
  ] as const)("refuses to take over a %s key another container owns, and writes nothing", async (map, key, takeover) => {
    const id = `kv-guard-${map === "SITE_REGISTRY" ? "site" : "token"}`;
    await env[map].put(key, "someone-else");
    const next = config({ containerId: id, infraHosts: [`${id}.edge.example`], ...takeover });
    await expect(syncKv(env, id, null, next)).rejects.toThrow(`${map}[${key}] already belong`);
    expect(await env[map].get(key)).toBe("someone-else");
    expect(await env.ROUTING_MAP.get(`${id}.edge.example`)).toBeNull();
    expect(await env.EDGE_CONFIG.get(id)).toBeNull();
  });

  it("does not delete a stale key that now belongs to another container", async () => {
    const previous = config({ containerId: "kv-three", infraHosts: ["moved.edge.example"] });
    await syncKv(env, "kv-three", null, previous);
    await env.ROUTING_MAP.put("moved.edge.example", "new-owner");
    await syncKv(env, "kv-three", previous, config({ containerId: "kv-three", version: 2, infraHosts: [] }));
    expect(await env.ROUTING_MAP.get("moved.edge.example")).toBe("new-owner");
  });

  it("leaves a withheld public host out of SITE_REGISTRY and deletes it when it was live", async () => {
    const both = config({ containerId: "kv-four", publicHosts: ["ss.kv-four.example", "ss.kv-four.example.de"] });
    await syncKv(env, "kv-four", null, both, new Set(["ss.kv-four.example"]));
    expect(await env.SITE_REGISTRY.get("ss.kv-four.example")).toBeNull();
    expect(await env.SITE_REGISTRY.get("ss.kv-four.example.de")).toBe("kv-four");

    await syncKv(env, "kv-four", both, both);
    expect(await env.SITE_REGISTRY.get("ss.kv-four.example")).toBe("kv-four");
    await syncKv(env, "kv-four", both, both, new Set(["ss.kv-four.example.de"]));
    expect(await env.SITE_REGISTRY.get("ss.kv-four.example")).toBe("kv-four");
    expect(await env.SITE_REGISTRY.get("ss.kv-four.example.de")).toBeNull();
  });
});
