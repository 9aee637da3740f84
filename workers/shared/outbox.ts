// The control plane's outbox (public.edge_outbox, supabase/migrations): one row per EdgeConfig change, written in
// the changing transaction. Rows stay unacknowledged until the edge has put them on CONFIG_QUEUE: the webhook path
// and the scheduled sweeper both acknowledge through edge_outbox_mark_delivered.
import * as v from "valibot";
import { describeIssues } from "../../schemas/issues";
import { type OutboxRow, OutboxRowSchema } from "../../schemas/supabase-webhook";
import { rpc, type SupabaseEnv } from "./postgrest";

const OUTBOX_PENDING_RPC = "edge_outbox_pending";
const OUTBOX_MARK_RPC = "edge_outbox_mark_delivered";

/** A row id the database gave (bigint identity). Rows re-sent by `npm run replay -- --all` carry a text id. */
export function outboxRowId(row: Pick<OutboxRow, "id">): number | null {
  return typeof row.id === "number" && Number.isSafeInteger(row.id) && row.id > 0 ? row.id : null;
}

/** Unacknowledged rows, oldest first, at most `limit`, none younger than `minAgeSeconds` (left to the webhook). */
export async function pendingOutboxRows(
  env: SupabaseEnv,
  limit: number,
  minAgeSeconds: number,
): Promise<{ rows: OutboxRow[]; invalid: number }> {
  const raw = await rpc(env, "reading the outbox", OUTBOX_PENDING_RPC, { p_limit: limit, p_min_age_seconds: minAgeSeconds });
  if (!Array.isArray(raw)) throw new Error(`${OUTBOX_PENDING_RPC} did not answer with an array`);
  const rows: OutboxRow[] = [];
  let invalid = 0;
  for (const value of raw) {
    const parsed = v.safeParse(OutboxRowSchema, value);
    if (parsed.success) rows.push(parsed.output);
    else {
      invalid += 1;
      console.error(JSON.stringify({ event: "outbox_row_invalid", reason: describeIssues(parsed.issues) }));
    }
  }
  return { rows, invalid };
}

/** Acknowledges rows; returns how many this call changed (already acknowledged ones count 0). */
export async function markOutboxDelivered(env: SupabaseEnv, ids: readonly number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const changed = await rpc(env, "acknowledging outbox rows", OUTBOX_MARK_RPC, { p_ids: ids });
  return typeof changed === "number" ? changed : 0;
}
