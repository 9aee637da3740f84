// Supabase Database Webhook payload -> config queue message.
import * as v from "valibot";
import { type RoutingNames, routingNames } from "../../durable/routing-keys";
import type { VersionedMessage } from "../../schemas/config-message";
import { EdgeConfigSchema, upstreamAllowed } from "../../schemas/edge-config";
import { describeIssues } from "../../schemas/issues";
import {
  CONTAINERS_TABLE,
  ContainerRowSchema,
  OUTBOX_TABLE,
  type OutboxRow,
  OutboxRowSchema,
  type WebhookPayload,
} from "../../schemas/supabase-webhook";
import { EdgeError } from "../shared/errors";
import { checkHostRules } from "../shared/host-rules";
import { supabaseConfigured } from "../shared/postgrest";
import { fetchEdgeConfig } from "../sync-consumer/supabase-source";

function parseRow<S extends v.GenericSchema>(schema: S, row: unknown, field: string): v.InferOutput<S> {
  const parsed = v.safeParse(schema, row);
  if (!parsed.success) throw new EdgeError(400, "invalid_body", `invalid body: ${field}: ${describeIssues(parsed.issues, schema)}`);
  return parsed.output;
}

/**
 * The outbox (edge_outbox) is the intended source: one row per EdgeConfig change, written in the same
 * transaction. A webhook straight on the containers table is understood too.
 */
export function messageFromWebhook(payload: WebhookPayload): VersionedMessage {
  if (payload.table === OUTBOX_TABLE) {
    if (payload.type === "DELETE") throw new EdgeError(400, "invalid_body", "invalid body: outbox rows are only inserted or updated");
    return messageFromOutboxRow(parseRow(OutboxRowSchema, payload.record, "record"), "webhook");
  }
  if (payload.table === CONTAINERS_TABLE) {
    if (payload.type === "DELETE") {
      const row = parseRow(ContainerRowSchema, payload.old_record, "old_record");
      // The row is gone, so its removal is ordered one version after the last one it had.
      return { type: "delete", containerId: row.id, version: row.config_version + 1, source: "webhook" };
    }
    const row = parseRow(ContainerRowSchema, payload.record, "record");
    return { type: "upsert", containerId: row.id, version: row.config_version, source: "webhook" };
  }
  throw new EdgeError(400, "unsupported_table", `table "${payload.table}" is not a source of edge config (use ${OUTBOX_TABLE})`);
}

/** The config message an outbox row stands for: the consumer reads an upsert's config from Supabase itself. */
export function messageFromOutboxRow(row: OutboxRow, source: "webhook" | "sweep"): VersionedMessage {
  return row.op === "delete"
    ? { type: "delete", containerId: row.container_id, version: row.config_version, source }
    : { type: "upsert", containerId: row.container_id, version: row.config_version, source };
}

/** The outbox row id a webhook payload carries, for acknowledging it; null for other tables or text ids. */
export function outboxIdFromWebhook(payload: WebhookPayload): number | null {
  if (payload.table !== OUTBOX_TABLE || payload.record === null) return null;
  const id = payload.record.id;
  return typeof id === "number" && Number.isSafeInteger(id) && id > 0 ? id : null;
}

/**
 * A webhook announces only {containerId, version}. So that a takeover is refused when it is submitted (409), an
 * upsert's config is read from Supabase here when Supabase is configured, and the message carries it from then on:
 * the consumer applies exactly what was claimed. Without Supabase, or when the read fails, returns nothing usable
 * or lags behind the announced version, the message goes on as it came and the consumer claims the keys when it
 * resolves the config (a conflict then fails the apply and is retried, then dead-lettered).
 */
export async function withClaimableConfig(
  env: Env,
  message: VersionedMessage,
): Promise<{ message: VersionedMessage; names?: RoutingNames }> {
  if (message.type === "delete" || !supabaseConfigured(env)) return { message };
  let raw: unknown;
  try {
    raw = await fetchEdgeConfig(env, message.containerId);
  } catch (error) {
    console.error(JSON.stringify({ event: "webhook_config_read_failed", containerId: message.containerId, error: String(error) }));
    return { message };
  }
  const parsed = v.safeParse(EdgeConfigSchema, raw);
  if (!parsed.success) return { message };
  const config = parsed.output;
  const usable =
    config.containerId === message.containerId && config.version >= message.version && upstreamAllowed(config, env.ALLOW_INSECURE_UPSTREAM);
  if (!usable) return { message };
  checkHostRules(env, config);
  return { message: { ...message, version: config.version, config }, names: routingNames(config) };
}
