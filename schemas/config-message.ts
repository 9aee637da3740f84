// Messages on CONFIG_QUEUE. Producers: operator API, Supabase webhook, the outbox sweeper, Durable Object drift
// alarm, replay.
import * as v from "valibot";
import { ContainerIdSchema, VersionSchema } from "./fields";

const MESSAGE_SOURCES = ["admin", "webhook", "drift", "replay", "dead-letter", "sweep"] as const;

const SourceSchema = v.optional(v.picklist(MESSAGE_SOURCES, `source must be one of ${MESSAGE_SOURCES.join(", ")}`));

/**
 * Upsert: carries the full EdgeConfig, or only {containerId, version} and the consumer reads the config from
 * Supabase. `type` may be omitted so that external producers can send the bare `{containerId, version}` shape.
 * `config` is validated separately (EdgeConfigSchema) so its errors are reported against the config itself.
 */
const UpsertMessageSchema = v.strictObject({
  type: v.optional(v.literal("upsert"), "upsert"),
  containerId: ContainerIdSchema,
  version: VersionSchema,
  config: v.optional(v.unknown()),
  source: SourceSchema,
});

/** Removes every key of the container; `version` orders it against upserts like any other change. */
const DeleteMessageSchema = v.strictObject({
  type: v.literal("delete"),
  containerId: ContainerIdSchema,
  version: VersionSchema,
  source: SourceSchema,
});

/** Re-checks KV against what the Durable Object applied and re-sends a pending version (replay, KV-miss repair). */
const RepairMessageSchema = v.strictObject({
  type: v.literal("repair"),
  containerId: ContainerIdSchema,
  source: SourceSchema,
});

export const ConfigMessageSchema = v.union([UpsertMessageSchema, DeleteMessageSchema, RepairMessageSchema]);

export type UpsertMessage = v.InferOutput<typeof UpsertMessageSchema>;
export type DeleteMessage = v.InferOutput<typeof DeleteMessageSchema>;
export type RepairMessage = v.InferOutput<typeof RepairMessageSchema>;
export type ConfigMessage = v.InferOutput<typeof ConfigMessageSchema>;
export type VersionedMessage = UpsertMessage | DeleteMessage;
