// Supabase Database Webhook payloads (https://supabase.com/docs/guides/database/webhooks):
// { type, table, schema, record, old_record }. Rows are loose objects: columns may be added to the database
// without breaking the edge; the columns the edge needs are validated strictly.
import * as v from "valibot";
import { ContainerIdSchema, VersionSchema } from "./fields";

/** The transactional outbox row (supabase/migrations): one per change that affects a container's EdgeConfig. */
export const OutboxRowSchema = v.looseObject({
  id: v.union([v.number(), v.string()], "id must be a number or string"),
  container_id: ContainerIdSchema,
  config_version: VersionSchema,
  op: v.picklist(["upsert", "delete"], "op must be upsert or delete"),
});

/** A container row, for projects that point a webhook straight at the containers table. */
export const ContainerRowSchema = v.looseObject({
  id: ContainerIdSchema,
  config_version: VersionSchema,
});

export const WebhookPayloadSchema = v.strictObject({
  type: v.picklist(["INSERT", "UPDATE", "DELETE"], "type must be INSERT, UPDATE or DELETE"),
  table: v.string("table must be a string"),
  schema: v.string("schema must be a string"),
  record: v.nullable(v.record(v.string(), v.unknown(), "record must be an object or null")),
  old_record: v.nullable(v.record(v.string(), v.unknown(), "old_record must be an object or null")),
});

export type WebhookPayload = v.InferOutput<typeof WebhookPayloadSchema>;
export type OutboxRow = v.InferOutput<typeof OutboxRowSchema>;

/** The tables whose webhooks the edge understands. */
export const OUTBOX_TABLE = "edge_outbox";
export const CONTAINERS_TABLE = "containers";
