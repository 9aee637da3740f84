// GET /_edge/openapi.json: an OpenAPI 3.1 description of every operator endpoint, generated from the valibot
// schemas the endpoints validate with (request bodies, query parameters) and answer with (schemas/responses.ts).
// test/integration/openapi-routes.test.ts checks it against the router's own route table, and
// test/integration/openapi.node.test.ts against the OpenAPI 3.1 schema.
import { toJsonSchema } from "@valibot/to-json-schema";
import type * as v from "valibot";
import { ApiKeyCreateSchema, AuditQuerySchema, ListContainersQuerySchema, ReplayBodySchema } from "../../schemas/admin";
import { ThresholdsOverrideSchema } from "../../schemas/alerts";
import { EdgeConfigSchema, StoredEdgeConfigSchema } from "../../schemas/edge-config";
import { CONTAINER_ID } from "../../schemas/fields";
import { FleetQuerySchema, FleetSchema } from "../../schemas/fleet";
import { LogSearchQuerySchema } from "../../schemas/log-search";
import { ReportQuerySchema, ReportSchema } from "../../schemas/report";
import {
  AcceptedChangeSchema,
  AcceptedConfigChangeSchema,
  ApiKeyCreatedSchema,
  ApiKeyListSchema,
  ApiKeySchema,
  AuditPageSchema,
  ContainerConfigSchema,
  ContainerListSchema,
  ContainerStatusSchema,
  ErrorSchema,
  HealthSchema,
  LogPageSchema,
  ReplayAcceptedSchema,
} from "../../schemas/responses";
import { ScheduledRunQuerySchema } from "../../schemas/scheduled";
import { WebhookPayloadSchema } from "../../schemas/supabase-webhook";

type JsonObject = Record<string, unknown>;
type Method = "get" | "put" | "post" | "delete";

/**
 * Who may call: no one needs credentials ("none"), the admin token ("admin"), a shared secret ("webhook":
 * X-Webhook-Secret, "edge": X-Edge-Auth), or, given a `scope`, the admin token or an API key with that scope.
 */
type Caller = { auth: "none" | "admin" | "webhook" | "edge" } | { scope: string };
/** "key": the admin token or an API key (a Caller with a scope). */
type CallerKind = "none" | "admin" | "key" | "webhook" | "edge";

type Endpoint = Caller & {
  summary: string;
  query?: v.GenericSchema & { entries?: Record<string, v.GenericSchema> };
  /** Query parameters the endpoint reads without a query schema. */
  parameters?: JsonObject[];
  /** The request body: a name in SCHEMAS. */
  body?: string;
  /**
   * Answers by status, besides those the caller, body and query imply (or in their place): a description, or for a
   * success with a body [description, a name in SCHEMAS]. Every 4xx and 5xx answer is an Error.
   */
  answers: Record<number, string | [string, string]>;
};

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
  AcceptedConfigChange: AcceptedConfigChangeSchema,
  ContainerConfig: ContainerConfigSchema,
  ReplayAccepted: ReplayAcceptedSchema,
  Report: ReportSchema,
  LogPage: LogPageSchema,
  Fleet: FleetSchema,
  ApiKey: ApiKeySchema,
  ApiKeyCreated: ApiKeyCreatedSchema,
  ApiKeyList: ApiKeyListSchema,
  AuditPage: AuditPageSchema,
};

const pathParameter = (name: string, description: string) => ({
  name,
  in: "path",
  required: true,
  description,
  schema: { type: "string" },
});

/** The parameters a path names ({id}, …), by name. */
const PATH_PARAMETERS: Record<string, JsonObject> = {
  id: pathParameter("id", `container id, ${CONTAINER_ID.source}`),
  host: pathParameter("host", "the customer's host, e.g. ss.shop1.example"),
  keyId: pathParameter("keyId", "the key's id (16 hex characters)"),
};

const LIVE = {
  name: "live",
  in: "query",
  required: false,
  description: '"now": route the host before Cloudflare reports it active (an unscoped write key only)',
  schema: { type: "string", enum: ["now"] },
};

/** Every operator endpoint, by method and path (OpenAPI form: /_edge/admin/containers/{id}). */
const ENDPOINTS: Record<`${Method} /_edge/${string}`, Endpoint> = {
  "get /_edge/health": { summary: "Liveness", auth: "none", answers: { 200: ["up", "Health"] } },
  "get /_edge/openapi.json": { summary: "This description", auth: "none", answers: { 200: "OpenAPI 3.1 document" } },
  "post /_edge/hooks/supabase": {
    summary: "Supabase Database Webhook (edge_outbox inserts)",
    auth: "webhook",
    body: "WebhookPayload",
    answers: { 202: ["queued (enqueued false: already applied)", "AcceptedChange"], 400: "bad payload" },
  },
  "get /_edge/config/{id}": {
    summary: "The applied EdgeConfig (fallback origin)",
    auth: "edge",
    answers: { 200: ["the config with its derived cookieDomains", "StoredEdgeConfig"], 404: "none applied" },
  },
  "post /_edge/scheduled": {
    summary: "Run what one Cron Trigger runs, now (the local run fires its crons this way)",
    auth: "edge",
    query: ScheduledRunQuerySchema,
    answers: { 200: "each job's result by name", 400: "not one of the Cron Triggers" },
  },
  "get /_edge/admin/dashboard": {
    summary: "The dashboard page (HTML; asks for the token itself)",
    auth: "none",
    answers: { 200: "HTML page" },
  },
  "get /_edge/admin/containers": {
    summary: "Every container the caller may read, with its status and hosts, a page at a time",
    scope: "read (a key limited to some containers lists those)",
    query: ListContainersQuerySchema,
    answers: { 200: ["one page", "ContainerList"], 400: "bad limit or cursor" },
  },
  "get /_edge/admin/containers/{id}": {
    summary: "The accepted EdgeConfig and its version",
    scope: "read on the container",
    answers: { 200: ["the config as accepted", "ContainerConfig"], 404: "never configured, or deleted" },
  },
  "put /_edge/admin/containers/{id}": {
    summary: "Create or change a container (the whole EdgeConfig)",
    scope: "write on the container",
    body: "EdgeConfig",
    answers: {
      202: ["queued; live within seconds (warnings: what will not run as written)", "AcceptedConfigChange"],
      400: "invalid config naming the field, or invalid_json (comments are not allowed)",
      403: "the API key may not change this container",
      409: "stale_version, version_conflict, or key_conflict naming the owner of a host, mount or token",
      413: "body over 64 KiB",
    },
  },
  "delete /_edge/admin/containers/{id}": {
    summary: "Remove a container (every key it owns)",
    scope: "write on the container",
    answers: { 202: ["queued", "AcceptedChange"], 404: "never configured or already deleted" },
  },
  "get /_edge/admin/containers/{id}/status": {
    summary: "Desired and applied version, last error",
    scope: "read on the container",
    answers: { 200: ["status", "ContainerStatus"], 404: "never configured" },
  },
  "put /_edge/admin/containers/{id}/hostnames/{host}": {
    summary: "Add a customer's own tracking domain (a Cloudflare for SaaS custom hostname)",
    scope: "write on the container",
    parameters: [LIVE],
    answers: {
      200: "the container's own hostname again: its state and the DNS records to create",
      201: "created (a fresh hostname, never a previous owner's): its state and the DNS records to create",
      400: "bad host",
      403: "live=now without an unscoped write key",
      409: "the container does not own the host in the routing registry now",
    },
  },
  "get /_edge/admin/containers/{id}/hostnames/{host}": {
    summary: "A custom hostname's verification and certificate state",
    scope: "read on the container",
    answers: { 200: "its state and the DNS records to create", 404: "no such hostname", 409: "the container does not own the host now" },
  },
  "delete /_edge/admin/containers/{id}/hostnames/{host}": {
    summary: "Remove a custom hostname",
    scope: "write on the container",
    answers: { 200: "removed", 404: "no such hostname", 409: "the container does not own the host now" },
  },
  "get /_edge/admin/alerts": {
    summary: "Open and recently resolved alerts, and the thresholds in force (docs/alerts.md)",
    scope: "read (a key limited to some containers sees theirs)",
    answers: { 200: "the alerts" },
  },
  "put /_edge/admin/alerts/thresholds/{id}": {
    summary: "Override alert thresholds for one container",
    scope: "write on the container",
    body: "ThresholdsOverride",
    answers: { 200: "the thresholds now in force" },
  },
  "delete /_edge/admin/alerts/thresholds/{id}": {
    summary: "Back to the default thresholds",
    scope: "write on the container",
    answers: { 200: "the default thresholds", 404: "no overrides" },
  },
  "post /_edge/admin/replay": {
    summary: "Re-send containers, all containers or the dead letters",
    scope: "write on every named container; all and deadLetters need the admin token",
    body: "ReplayBody",
    answers: { 202: ["queued", "ReplayAccepted"] },
  },
  "get /_edge/admin/report": {
    summary: "Traffic, errors, latency and detection figures for a window",
    scope: "read on the container (without ?container=: every container)",
    query: ReportQuerySchema,
    answers: { 200: ["the report", "Report"], 502: "Analytics Engine unreachable" },
  },
  "get /_edge/admin/logs": {
    summary: "Search the raw access and detection records (JSON pages or NDJSON download)",
    scope: "read on the container (without ?container=: every container)",
    query: LogSearchQuerySchema,
    answers: { 200: ["a page of records (format=ndjson: one per line, next page in the Link header)", "LogPage"] },
  },
  "get /_edge/admin/fleet": {
    summary: "Every container with its traffic, 5xx share, upstream errors, sync, custom domains and open alerts, worst first",
    scope: "read (a key limited to some containers sees those)",
    query: FleetQuerySchema,
    answers: { 200: ["one page, sorted and searched over all containers", "Fleet"] },
  },
  "post /_edge/admin/keys": {
    summary: "Create an API key (shown once)",
    auth: "admin",
    body: "ApiKeyCreate",
    answers: { 201: ["the key, with the secret", "ApiKeyCreated"] },
  },
  "get /_edge/admin/keys": { summary: "List API keys (never their secrets)", auth: "admin", answers: { 200: ["the keys", "ApiKeyList"] } },
  "delete /_edge/admin/keys/{keyId}": {
    summary: "Revoke an API key (at once)",
    auth: "admin",
    answers: { 200: ["the revoked key", "ApiKey"], 404: "no such key" },
  },
  "get /_edge/admin/audit": {
    summary: "The audit log: every write, newest first",
    auth: "admin",
    query: AuditQuerySchema,
    answers: { 200: ["a page of entries", "AuditPage"] },
  },
};

/** What a kind of caller brings to every endpoint it may call: the security requirement and the error answers. */
const CALLERS: Record<CallerKind, { security: JsonObject[]; errors: Record<number, string> }> = {
  none: { security: [], errors: {} },
  admin: {
    security: [{ bearer: [] }],
    errors: { 401: "no or wrong credentials", 429: "too many refused calls (Retry-After)", 403: "needs the admin token" },
  },
  key: {
    security: [{ bearer: [] }],
    errors: { 401: "no or wrong credentials", 429: "too many refused calls (Retry-After)", 403: "not allowed" },
  },
  webhook: { security: [{ webhookSecret: [] }], errors: { 401: "wrong secret", 429: "too many refused calls (Retry-After)" } },
  edge: { security: [{ edgeAuth: [] }], errors: { 401: "wrong secret", 429: "too many refused calls (Retry-After)" } },
};

function jsonSchema(schema: v.GenericSchema): JsonObject {
  const converted = toJsonSchema(schema, { target: "draft-2020-12", typeMode: "input", errorMode: "ignore" }) as JsonObject;
  delete converted.$schema;
  return converted;
}

function queryParameters(schema: NonNullable<Endpoint["query"]>): JsonObject[] {
  const properties = (jsonSchema(schema).properties ?? {}) as Record<string, JsonObject>;
  const required = new Set((jsonSchema(schema).required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return { name, in: "query", required: required.has(name), ...(description ? { description } : {}), schema: rest };
  });
}

const schemaRef = (name: string) => ({ "application/json": { schema: { $ref: `#/components/schemas/${name}` } } });

function operationObject(method: Method, path: string, endpoint: Endpoint): JsonObject {
  const caller: CallerKind = "scope" in endpoint ? "key" : endpoint.auth;
  const parameters = [
    ...[...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => PATH_PARAMETERS[name!]!),
    ...(endpoint.parameters ?? []),
    ...(endpoint.query ? queryParameters(endpoint.query) : []),
  ];
  const answers: Endpoint["answers"] = { ...CALLERS[caller].errors };
  if (endpoint.body) answers[400] = "bad body";
  if (endpoint.query) answers[400] = "bad query";
  Object.assign(answers, endpoint.answers);
  const access =
    "scope" in endpoint ? `Admin token, or an API key with ${endpoint.scope}.` : caller === "admin" ? "Needs the admin token." : undefined;
  return {
    summary: endpoint.summary,
    ...(access ? { description: access } : {}),
    operationId: `${method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
    security: CALLERS[caller].security,
    ...(parameters.length ? { parameters } : {}),
    ...(endpoint.body ? { requestBody: { required: true, content: schemaRef(endpoint.body) } } : {}),
    // Integer keys: the answers come out in status order.
    responses: Object.fromEntries(
      Object.entries(answers).map(([status, answer]) => {
        const [description, schema] = typeof answer === "string" ? [answer, Number(status) >= 400 ? "Error" : undefined] : answer;
        return [status, schema ? { description, content: schemaRef(schema) } : { description }];
      }),
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
    paths: Object.entries(ENDPOINTS).reduce<Record<string, JsonObject>>((paths, [key, endpoint]) => {
      const [method, path] = key.split(" ") as [Method, string];
      paths[path] = { ...paths[path], [method]: operationObject(method, path, endpoint) };
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
