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
