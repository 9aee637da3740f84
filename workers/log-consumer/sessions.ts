// Detection records into Supabase `loader_sessions`: one upsert per batch, keyed by session id, so a
// redelivered batch (or a session reported twice) updates its row instead of failing or duplicating.
import type { DetectionRecord } from "../../schemas/log-record";
import { type SupabaseEnv, upsert } from "../shared/postgrest";

const SESSIONS_TABLE = "loader_sessions";
const SESSIONS_CONFLICT_KEY = "session_id";

/** A `loader_sessions` row as PostgREST receives it (column names are the control plane's SQL). */
export interface LoaderSessionRow {
  session_id: string;
  container_id: string;
  host: string;
  adblock: boolean;
  itp: boolean;
  etp: boolean;
  mode: string;
  country: string | null;
  /** The bot verdict; null when the container's botDetection was not active (column added by the bot migration). */
  bot: boolean | null;
  detected_at: string;
}

/**
 * One row per session, the newest report winning. Postgres rejects an upsert that touches the same row twice
 * ("ON CONFLICT DO UPDATE command cannot affect row a second time"), so duplicates are folded here.
 */
export function sessionRows(records: readonly DetectionRecord[]): LoaderSessionRow[] {
  const newest = new Map<string, DetectionRecord>();
  for (const record of records) {
    const seen = newest.get(record.sessionId);
    if (!seen || record.ts >= seen.ts) newest.set(record.sessionId, record);
  }
  return [...newest.values()].map((r) => ({
    session_id: r.sessionId,
    container_id: r.containerId,
    host: r.host,
    adblock: r.adblock,
    itp: r.itp,
    etp: r.etp,
    mode: r.mode,
    country: r.country,
    bot: r.bot,
    detected_at: new Date(r.ts).toISOString(),
  }));
}

/** Throws when Supabase refuses or is unreachable, so the caller retries the batch. */
export async function upsertSessions(env: SupabaseEnv, records: readonly DetectionRecord[]): Promise<number> {
  const rows = sessionRows(records);
  if (rows.length === 0) return 0;
  await upsert(env, "writing loader_sessions", SESSIONS_TABLE, rows, SESSIONS_CONFLICT_KEY);
  return rows.length;
}
