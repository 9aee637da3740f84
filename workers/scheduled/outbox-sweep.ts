// The outbox sweeper (Cron Trigger, every minute): Supabase's webhooks go through pg_net, which sends once and
// never retries, so every minute the control Worker asks for outbox rows nobody acknowledged, puts them on
// CONFIG_QUEUE exactly as the webhook would have, and acknowledges them once the queue accepted them.
// Idle, a run is one RPC. Busy, it is bounded: SWEEP_ROW_LIMIT rows, one Durable Object call per container in them,
// one sendBatch per 100 messages (shared/send-batches.ts), one acknowledging RPC. Running it twice sends nothing
// twice that was applied: the container's Durable Object refuses versions it already applied, and the consumer is
// idempotent.

import { containerStub } from "../../durable/container-state";
import type { VersionedMessage } from "../../schemas/config-message";
import type { OutboxRow } from "../../schemas/supabase-webhook";
import { messageFromOutboxRow } from "../admin/webhook";
import { markOutboxDelivered, outboxRowId, pendingOutboxRows } from "../shared/outbox";
import { supabaseConfigured } from "../shared/postgrest";
import { jsonBytes, sendBatches } from "../shared/send-batches";

/** Rows per run: a backlog drains at this many rows a minute, each run staying far below the subrequest limit. */
const SWEEP_ROW_LIMIT = 100;
/** A row younger than this is left to its webhook, which normally lands within a second or two. */
const SWEEP_MIN_AGE_SECONDS = 10;
/** A failed send is tried again at once, so a passing queue hiccup does not cost a whole minute. */
const SEND_ATTEMPTS = 2;

export interface SweepResult {
  /** Unacknowledged rows the RPC returned. */
  pending: number;
  /** Config messages put on the queue (one per container: its newest pending row). */
  enqueued: number;
  /** Containers whose pending version the Durable Object had already applied (acknowledged, nothing sent). */
  alreadyApplied: number;
  /** Rows acknowledged by this run. */
  acknowledged: number;
  /** Containers left for the next run (Durable Object or queue failure). */
  failed: number;
}

type Group = { rows: OutboxRow[]; message: VersionedMessage };

/** Null when Supabase is not configured (nothing to sweep). Throws when the pending RPC fails. */
export async function sweepOutbox(env: Env): Promise<SweepResult | null> {
  if (!supabaseConfigured(env)) return null;
  const { rows } = await pendingOutboxRows(env, SWEEP_ROW_LIMIT, SWEEP_MIN_AGE_SECONDS);
  const result: SweepResult = { pending: rows.length, enqueued: 0, alreadyApplied: 0, acknowledged: 0, failed: 0 };
  if (rows.length === 0) return result;

  // Only a container's newest row matters: it orders after the others (an upsert reads the current config).
  const groups = new Map<string, Group>();
  for (const row of rows) {
    const group = groups.get(row.container_id);
    if (!group) groups.set(row.container_id, { rows: [row], message: messageFromOutboxRow(row, "sweep") });
    else {
      group.rows.push(row);
      if (row.config_version > group.message.version) group.message = messageFromOutboxRow(row, "sweep");
    }
  }

  // As on the webhook path, the Durable Object records the desired version first: from then on its drift alarm
  // re-sends the change even if this run's send is lost.
  const toAcknowledge: OutboxRow[] = [];
  const toSend: Group[] = [];
  await Promise.all(
    [...groups.values()].map(async (group) => {
      try {
        // No routing names here (the row carries no config): the consumer claims them when it applies.
        const recorded = await containerStub(env, group.message.containerId).recordDesired(group.message);
        if (recorded.status === "accepted") toSend.push(group);
        else {
          result.alreadyApplied += 1;
          toAcknowledge.push(...group.rows);
        }
      } catch (error) {
        result.failed += 1;
        console.error(
          JSON.stringify({ event: "outbox_sweep_record_failed", containerId: group.message.containerId, error: String(error) }),
        );
      }
    }),
  );

  for (const batch of sendBatches(toSend, (group) => jsonBytes(group.message))) {
    if (
      await sendWithRetry(
        env.CONFIG_QUEUE,
        batch.map((group) => group.message),
      )
    ) {
      result.enqueued += batch.length;
      for (const group of batch) toAcknowledge.push(...group.rows);
    } else result.failed += batch.length;
  }

  const ids = toAcknowledge.map(outboxRowId).filter((id): id is number => id !== null);
  result.acknowledged = await markOutboxDelivered(env, ids);
  console.log(JSON.stringify({ event: "outbox_sweep", ...result }));
  return result;
}

async function sendWithRetry(queue: Queue, messages: VersionedMessage[]): Promise<boolean> {
  for (let attempt = 1; attempt <= SEND_ATTEMPTS; attempt += 1) {
    try {
      await queue.sendBatch(messages.map((body) => ({ body })));
      return true;
    } catch (error) {
      console.error(JSON.stringify({ event: "outbox_sweep_send_failed", attempt, messages: messages.length, error: String(error) }));
    }
  }
  return false;
}
