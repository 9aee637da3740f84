// GET /_edge/openapi.json: an OpenAPI 3.1 description of every operator endpoint, generated from the valibot
// schemas the endpoints validate with (request bodies, query parameters) and answer with (schemas/responses.ts).
// test/integration/openapi-routes.test.ts checks it against the router's own route table, and
// test/integration/openapi.node.test.ts against the OpenAPI 3.1 schema.
import { toJsonSchema } from "@valibot/to-json-schema";
import type * as v from "valibot";
import { ApiKeyCreateSchema, AuditQuerySchema, ListContainersQuerySchema, ReplayBodySchema } from "../../schemas/admin";
import { ThresholdsOverrideSchema } from "../../schemas/alerts";
import { EdgeConfigSchema, StoredEdgeConfigSchema } from "../../schemas/edge-config";
import { LogSearchQuerySchema } from "../../schemas/log-search";
import { ReportQuerySchema, ReportSchema } from "../../schemas/report";
import {
  AcceptedChangeSchema,
  ApiKeyCreatedSchema,
  ApiKeyListSchema,
  ApiKeySchema,
  AuditPageSchema,
  ContainerListSchema,
  ContainerStatusSchema,
  ErrorSchema,
  HealthSchema,
  LogPageSchema,
  ReplayAcceptedSchema,
} from "../../schemas/responses";
import { WebhookPayloadSchema } from "../../schemas/supabase-webhook";

type JsonObject = Record<string, unknown>;
type Auth = "none" | "bearer" | "admin" | "webhook" | "edge";

interface Operation {
  method: "get" | "put" | "post" | "delete";
  /** OpenAPI form: /_edge/admin/containers/{id} */
  path: string;
  summary: string;
  auth: Auth;
  /** For bearer routes: what an API key needs. */
  scope?: string;
  query?: v.GenericSchema & { entries?: Record<string, v.GenericSchema> };
  body?: string;
  responses: Record<number, [string, string?]>;
}

/** Named schemas, referenced as #/components/schemas/<name>. */
const SCHEMAS: Record<string, v.GenericSchema> = {
  EdgeConfig: EdgeConfigSchema,
  StoredEdgeConfig: StoredEdgeConfigSchema,
  ReplayBody: ReplayBodySchema,
  ApiKeyCreate: ApiKeyCreateSchema,
  ThresholdsOverride: ThresholdsOverrideSchema,
  WebhookPayload: WebhookPayloadSchema,
  Error: ErrorSchema,
  Health: HealthSchema,
  AcceptedChange: AcceptedChangeSchema,
  ContainerStatus: ContainerStatusSchema,
  ContainerList: ContainerListSchema,
  ReplayAccepted: ReplayAcceptedSchema,
  Report: ReportSchema,
  LogPage: LogPageSchema,
  ApiKey: ApiKeySchema,
  ApiKeyCreated: ApiKeyCreatedSchema,
  ApiKeyList: ApiKeyListSchema,
  AuditPage: AuditPageSchema,
};

const ID = { name: "id", in: "path", required: true, description: "container id, ^[a-z0-9][a-z0-9_-]{2,63}$", schema: { type: "string" } };
const HOST = {
  name: "host",
  in: "path",
  required: true,
  description: "the customer's host, e.g. ss.shop1.example",
  schema: { type: "string" },
};
const LIVE = {
  name: "live",
  in: "query",
  required: false,
  description: '"now": route the host before Cloudflare reports it active',
  schema: { type: "string", enum: ["now"] },
};
const KEY_ID = { name: "keyId", in: "path", required: true, description: "the key's id (16 hex characters)", schema: { type: "string" } };

const OPERATIONS: readonly Operation[] = [
  { method: "get", path: "/_edge/health", summary: "Liveness", auth: "none", responses: { 200: ["up", "Health"] } },
  { method: "get", path: "/_edge/openapi.json", summary: "This description", auth: "none", responses: { 200: ["OpenAPI 3.1 document"] } },
  {
    method: "post",
    path: "/_edge/hooks/supabase",
    summary: "Supabase Database Webhook (edge_outbox inserts)",
    auth: "webhook",
    body: "WebhookPayload",
    responses: {
      202: ["queued (enqueued false: already applied)", "AcceptedChange"],
      400: ["bad payload", "Error"],
      401: ["wrong secret", "Error"],
    },
  },
  {
    method: "get",
    path: "/_edge/config/{id}",
    summary: "The applied EdgeConfig (fallback origin)",
    auth: "edge",
    responses: {
      200: ["the config with its derived cookieDomains", "StoredEdgeConfig"],
      401: ["wrong secret", "Error"],
      404: ["none applied", "Error"],
    },
  },
  {
    method: "get",
    path: "/_edge/admin/dashboard",
    summary: "The dashboard page (HTML; asks for the token itself)",
    auth: "none",
    responses: { 200: ["HTML page"] },
  },
  {
    method: "get",
    path: "/_edge/admin/containers",
    summary: "Every container with its status and hosts, a page at a time",
    auth: "bearer",
    scope: "read on every container (admin token or a key for *)",
    query: ListContainersQuerySchema,
    responses: {
      200: ["one page", "ContainerList"],
      400: ["bad limit or cursor", "Error"],
      401: ["no or wrong credentials", "Error"],
      403: ["the API key is limited to some containers", "Error"],
    },
  },
  {
    method: "put",
    path: "/_edge/admin/containers/{id}",
    summary: "Create or change a container (the whole EdgeConfig)",
    auth: "bearer",
    scope: "write on the container",
    body: "EdgeConfig",
    responses: {
      202: ["queued; live within seconds", "AcceptedChange"],
      400: ["invalid config, naming the field", "Error"],
      401: ["no or wrong credentials", "Error"],
      403: ["the API key may not change this container", "Error"],
      409: ["stale_version, version_conflict, or key_conflict naming the owner of a host, mount or token", "Error"],
      413: ["body over 64 KiB", "Error"],
    },
  },
  {
    method: "delete",
    path: "/_edge/admin/containers/{id}",
    summary: "Remove a container (every key it owns)",
    auth: "bearer",
    scope: "write on the container",
    responses: {
      202: ["queued", "AcceptedChange"],
      401: ["no or wrong credentials", "Error"],
      403: ["not allowed", "Error"],
      404: ["never configured or already deleted", "Error"],
    },
  },
  {
    method: "get",
    path: "/_edge/admin/containers/{id}/status",
    summary: "Desired and applied version, last error",
    auth: "bearer",
    scope: "read on the container",
    responses: {
      200: ["status", "ContainerStatus"],
      401: ["no or wrong credentials", "Error"],
      403: ["not allowed", "Error"],
      404: ["never configured", "Error"],
    },
  },
  {
    method: "put",
    path: "/_edge/admin/containers/{id}/hostnames/{host}",
    summary: "Add a customer's own tracking domain (a Cloudflare for SaaS custom hostname)",
    auth: "bearer",
    scope: "write on the container",
    responses: {
      200: ["already there: its state and the DNS records to create"],
      201: ["created: its state and the DNS records to create"],
      400: ["bad host", "Error"],
      401: ["no or wrong credentials", "Error"],
      403: ["not allowed", "Error"],
    },
  },
  {
    method: "get",
    path: "/_edge/admin/containers/{id}/hostnames/{host}",
    summary: "A custom hostname's verification and certificate state",
    auth: "bearer",
    scope: "read on the container",
    responses: {
      200: ["its state and the DNS records to create"],
      401: ["no or wrong credentials", "Error"],
      403: ["not allowed", "Error"],
      404: ["no such hostname", "Error"],
    },
  },
  {
    method: "delete",
    path: "/_edge/admin/containers/{id}/hostnames/{host}",
    summary: "Remove a custom hostname",
    auth: "bearer",
    scope: "write on the container",
    responses: {
      200: ["removed"],
      401: ["no or wrong credentials", "Error"],
      403: ["not allowed", "Error"],
      404: ["no such hostname", "Error"],
    },
  },
  {
    method: "get",
    path: "/_edge/admin/alerts",
    summary: "Open and recently resolved alerts, and the thresholds in force (docs/alerts.md)",
    auth: "bearer",
    scope: 'read on every container (a "*" key)',
    responses: { 200: ["the alerts"], 401: ["no or wrong credentials", "Error"], 403: ["not allowed", "Error"] },
  },
  {
    method: "put",
    path: "/_edge/admin/alerts/thresholds/{id}",
    summary: "Override alert thresholds for one container",
    auth: "bearer",
    scope: "write on the container",
    body: "ThresholdsOverride",
    responses: {
      200: ["the thresholds now in force"],
      400: ["bad body", "Error"],
      401: ["no or wrong credentials", "Error"],
      403: ["not allowed", "Error"],
    },
  },
  {
    method: "delete",
    path: "/_edge/admin/alerts/thresholds/{id}",
    summary: "Back to the default thresholds",
    auth: "bearer",
    scope: "write on the container",
    responses: {
      200: ["the default thresholds"],
      401: ["no or wrong credentials", "Error"],
      403: ["not allowed", "Error"],
      404: ["no overrides", "Error"],
    },
  },
  {
    method: "post",
    path: "/_edge/admin/replay",
    summary: "Re-send containers, all containers or the dead letters",
    auth: "bearer",
    scope: "write on every named container; all and deadLetters need the admin token",
    body: "ReplayBody",
    responses: {
      202: ["queued", "ReplayAccepted"],
      400: ["bad body", "Error"],
      401: ["no or wrong credentials", "Error"],
      403: ["not allowed", "Error"],
    },
  },
  {
    method: "get",
    path: "/_edge/admin/report",
    summary: "Traffic, errors, latency and detection figures for a window",
    auth: "bearer",
    scope: "read on the container (without ?container=: every container)",
    query: ReportQuerySchema,
    responses: {
      200: ["the report", "Report"],
      400: ["bad query", "Error"],
      401: ["no or wrong credentials", "Error"],
      403: ["not allowed", "Error"],
      502: ["Analytics Engine unreachable", "Error"],
    },
  },
  {
    method: "get",
    path: "/_edge/admin/logs",
    summary: "Search the raw access and detection records (JSON pages or NDJSON download)",
    auth: "bearer",
    scope: "read on the container (without ?container=: every container)",
    query: LogSearchQuerySchema,
    responses: {
      200: ["a page of records (format=ndjson: one per line, next page in the Link header)", "LogPage"],
      400: ["bad query", "Error"],
      401: ["no or wrong credentials", "Error"],
      403: ["not allowed", "Error"],
    },
  },
  {
    method: "post",
    path: "/_edge/admin/keys",
    summary: "Create an API key (shown once)",
    auth: "admin",
    body: "ApiKeyCreate",
    responses: {
      201: ["the key, with the secret", "ApiKeyCreated"],
      400: ["bad body", "Error"],
      401: ["no or wrong credentials", "Error"],
      403: ["needs the admin token", "Error"],
    },
  },
  {
    method: "get",
    path: "/_edge/admin/keys",
    summary: "List API keys (never their secrets)",
    auth: "admin",
    responses: { 200: ["the keys", "ApiKeyList"], 401: ["no or wrong credentials", "Error"], 403: ["needs the admin token", "Error"] },
  },
  {
    method: "delete",
    path: "/_edge/admin/keys/{keyId}",
    summary: "Revoke an API key (at once)",
    auth: "admin",
    responses: {
      200: ["the revoked key", "ApiKey"],
      401: ["no or wrong credentials", "Error"],
      403: ["needs the admin token", "Error"],
      404: ["no such key", "Error"],
    },
  },
  {
    method: "get",
    path: "/_edge/admin/audit",
    summary: "The audit log: every write, newest first",
    auth: "admin",
    query: AuditQuerySchema,
    responses: {
      200: ["a page of entries", "AuditPage"],
      401: ["no or wrong credentials", "Error"],
      403: ["needs the admin token", "Error"],
    },
  },
];

function jsonSchema(schema: v.GenericSchema): JsonObject {
  const converted = toJsonSchema(schema, { target: "draft-2020-12", typeMode: "input", errorMode: "ignore" }) as JsonObject;
  delete converted.$schema;
  return converted;
}

function queryParameters(schema: NonNullable<Operation["query"]>): JsonObject[] {
  const properties = (jsonSchema(schema).properties ?? {}) as Record<string, JsonObject>;
  const required = new Set((jsonSchema(schema).required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return { name, in: "query", required: required.has(name), ...(description ? { description } : {}), schema: rest };
  });
}

const SECURITY: Record<Auth, JsonObject[]> = {
  none: [],
  bearer: [{ bearer: [] }],
  admin: [{ bearer: [] }],
  webhook: [{ webhookSecret: [] }],
  edge: [{ edgeAuth: [] }],
};

function operationObject(op: Operation): JsonObject {
  const parameters = [
    ...(op.path.includes("{id}") ? [ID] : []),
    ...(op.path.includes("{host}") ? [HOST] : []),
    ...(op.path.includes("{keyId}") ? [KEY_ID] : []),
    ...(op.path.includes("/hostnames/") && op.method === "put" ? [LIVE] : []),
    ...(op.query ? queryParameters(op.query) : []),
  ];
  const access = op.auth === "admin" ? "Needs the admin token." : op.scope ? `Admin token, or an API key with ${op.scope}.` : undefined;
  return {
    summary: op.summary,
    ...(access ? { description: access } : {}),
    operationId: `${op.method}${op.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
    security: SECURITY[op.auth],
    ...(parameters.length ? { parameters } : {}),
    ...(op.body
      ? { requestBody: { required: true, content: { "application/json": { schema: { $ref: `#/components/schemas/${op.body}` } } } } }
      : {}),
    responses: Object.fromEntries(
      Object.entries(op.responses).map(([code, [description, name]]) => [
        code,
        name ? { description, content: { "application/json": { schema: { $ref: `#/components/schemas/${name}` } } } } : { description },
      ]),
    ),
  };
}

let cached: JsonObject | undefined;

/** Built once per isolate; only `servers` depends on the request. */
export function openApiDocument(origin: string): JsonObject {
  cached ??= {
    openapi: "3.1.0",
    info: {
      title: "Qaxal Edge operator API",
      version: "1",
      description: "Operator endpoints under /_edge/ (operator hosts only). See docs/operate.md.",
    },
    paths: OPERATIONS.reduce<Record<string, JsonObject>>((paths, op) => {
      paths[op.path] = { ...paths[op.path], [op.method]: operationObject(op) };
      return paths;
    }, {}),
    components: {
      schemas: Object.fromEntries(Object.entries(SCHEMAS).map(([name, schema]) => [name, jsonSchema(schema)])),
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "ADMIN_TOKEN, or an API key (qxk_…) from POST /_edge/admin/keys" },
        webhookSecret: { type: "apiKey", in: "header", name: "X-Webhook-Secret", description: "WEBHOOK_SECRET" },
        edgeAuth: { type: "apiKey", in: "header", name: "X-Edge-Auth", description: "EDGE_AUTH_SECRET" },
      },
    },
  };
  return { ...cached, servers: [{ url: origin }] };
}
