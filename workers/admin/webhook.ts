// Supabase Database Webhook payload -> config queue message.
import * as v from "valibot";
import type { VersionedMessage } from "../../schemas/config-message";
import { describeIssues } from "../../schemas/issues";
import {
  CONTAINERS_TABLE,
  ContainerRowSchema,
  OUTBOX_TABLE,
  OutboxRowSchema,
  type OutboxRow,
  type WebhookPayload,
} from "../../schemas/supabase-webhook";
import { EdgeError } from "../shared/errors";

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
