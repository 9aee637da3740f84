// GET /_edge/openapi.json against the routes the itty router actually has: every route is described and every
// described path is routed. (The document's validity against the OpenAPI 3.1 schema: openapi.node.test.ts.)
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { edgeApi } from "../../workers/admin/api";
import { edgeConfig } from "../support/fixtures";
import { putConfig, waitApplied } from "../support/pipeline";

describe("GET /_edge/openapi.json", () => {
  it("answers without credentials", async () => {
    const res = await exports.default.fetch("https://edge.example/_edge/openapi.json");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ openapi: "3.1.0", servers: [{ url: "https://edge.example" }] });
  });

  it("describes exactly the routes the router has, method by method", async () => {
    const doc = await (await exports.default.fetch("https://edge.example/_edge/openapi.json")).json<{
      paths: Record<string, Record<string, unknown>>;
    }>();
    const described = Object.entries(doc.paths)
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    // itty keeps [method, regex, handlers, path] per route; ALL is the authentication step, not an endpoint.
    const routed = edgeApi.routes
      .filter(([method]) => method !== "ALL")
      .map(([method, , , path]) => `${method} ${path!.replace(/:(\w+)/g, "{$1}")}`)
      .sort();
    expect(described).toEqual(routed);
  });

  it("the ContainerStatus schema names every field a status answer has, and requires each", async () => {
    const containerId = "openapi-status";
    expect((await putConfig(edgeConfig({ containerId }))).status).toBe(202);
    const status = await waitApplied(containerId, 1);
    const doc = await (await exports.default.fetch("https://edge.example/_edge/openapi.json")).json<{
      components: { schemas: { ContainerStatus: { properties: Record<string, unknown>; required: string[] } } };
    }>();
    const schema = doc.components.schemas.ContainerStatus;
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(status).sort());
    expect(schema.required.sort()).toEqual(Object.keys(status).sort());
  });
});
