// The OpenAPI description, checked in Node by a real OpenAPI 3.1 validator (@seriousme/openapi-schema-validator,
// which validates against the official OpenAPI schemas with ajv), and its EdgeConfig schema checked with ajv's
// JSON Schema 2020-12 implementation against the same inputs valibot accepts and refuses.
// The comparison with the router's actual routes runs in workerd: openapi-routes.test.ts.
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { openApiDocument } from "../../workers/admin/openapi";
import { edgeConfig } from "../support/fixtures";

const doc = openApiDocument("http://localhost:8787") as {
  paths: Record<
    string,
    Record<string, { parameters?: { name: string; in: string }[]; security: unknown[]; requestBody?: unknown; responses: object }>
  >;
  components: { schemas: Record<string, object> };
};

describe("GET /_edge/openapi.json document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const result = await new Validator().validate(structuredClone(doc) as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc).toMatchObject({ openapi: "3.1.0" });
  });

  it("every $ref points at a component that exists", () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) expect(doc.components.schemas, ref).toHaveProperty(ref);
  });

  it("the EdgeConfig schema, compiled by ajv as JSON Schema 2020-12, agrees with valibot on good and bad configs", () => {
    const ajv = new Ajv2020({ strict: false });
    const validate = ajv.compile(doc.components.schemas.EdgeConfig!);
    expect(validate(edgeConfig({ containerId: "doc-shop" }))).toBe(true);
    const { upstream: _, ...missing } = edgeConfig();
    expect(validate(missing)).toBe(false);
    expect(validate({ ...edgeConfig(), tracking: "on" })).toBe(false);
    expect(validate(edgeConfig({ containerId: "Bad Id" }))).toBe(false);
  });

  it("query parameters come from the query schemas, and admin routes need the bearer token", () => {
    const logs = doc.paths["/_edge/admin/logs"]!.get!;
    expect(logs.parameters!.map((p) => p.name)).toEqual([
      "container",
      "since",
      "from",
      "to",
      "status",
      "path",
      "host",
      "kind",
      "limit",
      "cursor",
      "format",
    ]);
    expect(logs.security).toEqual([{ bearer: [] }]);
    expect(doc.paths["/_edge/health"]!.get!.security).toEqual([]);
  });

  it("every endpoint that needs credentials answers 401 and 403 if they are wrong, and 400 for a bad body or query", () => {
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ name: `${method} ${path}`, ...operation })),
    );
    for (const { name, security, requestBody, parameters, responses } of operations) {
      if (security.length > 0) expect(responses, name).toHaveProperty("401");
      if (JSON.stringify(security).includes("bearer")) expect(responses, name).toHaveProperty("403");
      if (requestBody || parameters?.some((p) => p.in === "query")) expect(responses, name).toHaveProperty("400");
    }
    expect(operations.filter((o) => o.security.length > 0).length).toBeGreaterThan(15);
  });
});
