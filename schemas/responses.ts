// Answers of the operator API, as schemas: the OpenAPI description (workers/admin/openapi.ts) is generated from
// these and from the request schemas, and the types of the answers are inferred from them.
import * as v from "valibot";
import { API_KEY_ACCESS } from "./admin";
import { EdgeConfigSchema } from "./edge-config";
import { LogRecordSchema } from "./log-record";

export const ErrorSchema = v.object({
  error: v.pipe(v.string(), v.description("a stable code: invalid_body, stale_version, forbidden, …")),
  message: v.pipe(v.string(), v.description("what went wrong, in words, naming the field")),
});

export const HealthSchema = v.object({ ok: v.literal(true) });

export const AcceptedChangeSchema = v.object({
  containerId: v.string(),
  version: v.number(),
  enqueued: v.pipe(v.boolean(), v.description("false when this exact change had already been accepted (nothing new was queued)")),
});

/** PUT /_edge/admin/containers/:id: the accepted change and what in it will not work as written. */
export const AcceptedConfigChangeSchema = v.object({
  ...AcceptedChangeSchema.entries,
  warnings: v.pipe(
    v.array(v.string()),
    v.description("accepted, but will not do what it says: e.g. a module enabled without its entitlement does not run"),
  ),
});

/** GET /_edge/admin/containers/:id: the newest accepted config as it was submitted. */
export const ContainerConfigSchema = v.object({
  containerId: v.string(),
  version: v.pipe(v.number(), v.description("the version of this config (the last one accepted)")),
  appliedVersion: v.pipe(v.number(), v.description("the version live traffic uses")),
  inSync: v.pipe(v.boolean(), v.description("this config is the one live traffic uses")),
  config: v.pipe(EdgeConfigSchema, v.description("the EdgeConfig as accepted (PUT it back with a higher version to change it)")),
});

export const ContainerStatusSchema = v.object({
  containerId: v.string(),
  desiredVersion: v.pipe(v.number(), v.description("the last version accepted")),
  appliedVersion: v.pipe(v.number(), v.description("the version live traffic uses")),
  inSync: v.pipe(v.boolean(), v.description("desiredVersion has been applied")),
  deleted: v.pipe(v.boolean(), v.description("the newest change asked for is a removal (DELETE, or a delete from the control plane)")),
  lastError: v.pipe(v.nullable(v.string()), v.description("why the last apply failed (it is retried)")),
  updatedAt: v.string(),
  hostnames: v.pipe(
    v.array(
      v.object({
        host: v.string(),
        state: v.string(),
        live: v.boolean(),
        liveNow: v.boolean(),
        errors: v.array(v.string()),
        checkedAt: v.string(),
      }),
    ),
    v.description("the container's custom hostnames (docs/custom-domains.md)"),
  ),
});

/** What ContainerState.status() returns and GET …/status answers. */
export type ContainerStatus = v.InferOutput<typeof ContainerStatusSchema>;

export const ReplayAcceptedSchema = v.object({
  enqueued: v.pipe(v.number(), v.description("messages queued")),
  skipped: v.pipe(v.number(), v.description("named containers the control plane never accepted: nothing queued for them")),
});

const Scope = v.union([v.literal("*"), v.array(v.string())]);

export const ApiKeySchema = v.object({
  id: v.string(),
  name: v.string(),
  containers: Scope,
  access: v.picklist(API_KEY_ACCESS),
  createdAt: v.string(),
  revokedAt: v.nullable(v.string()),
  lastUsedAt: v.pipe(v.nullable(v.string()), v.description("to the minute")),
});

export const ApiKeyCreatedSchema = v.object({
  ...ApiKeySchema.entries,
  key: v.pipe(v.string(), v.description("the key itself, shown only in this answer: send it as Authorization: Bearer <key>")),
});

export const ApiKeyListSchema = v.object({ keys: v.array(ApiKeySchema) });

export const AuditPageSchema = v.object({
  entries: v.array(
    v.object({
      id: v.number(),
      at: v.string(),
      actor: v.pipe(v.string(), v.description('"admin", "webhook" or "key:<id>"')),
      keyName: v.nullable(v.string()),
      method: v.string(),
      path: v.string(),
      containerId: v.nullable(v.string()),
      status: v.number(),
      result: v.pipe(v.string(), v.description('"ok" or the answer\'s error code')),
      detail: v.nullable(v.string()),
    }),
  ),
  cursor: v.pipe(v.nullable(v.string()), v.description("pass as ?cursor= for older entries; null on the last page")),
});

export const LogPageSchema = v.object({
  window: v.object({ from: v.string(), to: v.string() }),
  records: v.array(LogRecordSchema),
  cursor: v.pipe(v.nullable(v.string()), v.description("null when the window has been read to its end")),
  next: v.pipe(v.nullable(v.string()), v.description("path and query of the next page (window pinned)")),
  objectsRead: v.number(),
});

/** GET /_edge/admin/containers: one page, `next` is the cursor of the following page ("" at the end). */
export const ContainerListSchema = v.object({
  containers: v.array(
    v.object({
      containerId: v.string(),
      status: v.nullable(ContainerStatusSchema),
      infraHosts: v.array(v.string()),
      publicHosts: v.array(v.string()),
    }),
  ),
  next: v.pipe(v.nullable(v.string()), v.description("pass as ?cursor= for the next page; empty or null at the end")),
});
