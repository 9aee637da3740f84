// The location-cache purges a ContainerState still owes, in its own SQLite table. Each changed key's URLs are purged
// at once (the change reaches live traffic within seconds) and once more after KV_SETTLE_MS: KV may take up to 60 s
// to show a write in other locations (developers.cloudflare.com/kv/concepts/how-kv-works/), and a location that
// re-read the old value in that window would otherwise keep it for LOCATION_CACHE_TTL_MS. A refused purge (429,
// 5xx, timeout) stays due and is retried by the object's alarm, backing off.
import { purgeLocationCaches } from "./config-purge";

export const KV_SETTLE_MS = 65_000;
const RETRY_MS = 5_000;
const MAX_RETRY_MS = 600_000;

type PurgeEnv = Parameters<typeof purgeLocationCaches>[0];

interface PendingPurge extends Record<string, SqlStorageValue> {
  url: string;
  due_at: number;
  settle_at: number;
  attempts: number;
}

export function createPurgeTable(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS pending_purge (
    url TEXT PRIMARY KEY,
    due_at INTEGER NOT NULL,
    settle_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
  )`);
}

/**
 * Records `urls` as due now, and due again `settleMs` from now (KV_SETTLE_MS with the purge API; 0 for the local
 * run, whose one location reads its own KV writes at once).
 */
export function queuePurges(sql: SqlStorage, urls: string[], now: number, settleMs: number): void {
  for (const url of urls) {
    sql.exec("INSERT OR REPLACE INTO pending_purge (url, due_at, settle_at, attempts) VALUES (?, ?, ?, 0)", url, now, now + settleMs);
  }
}

/** When the next purge is due (0: none). */
export function nextPurgeAt(sql: SqlStorage): number {
  return sql.exec<{ due: number | null }>("SELECT MIN(due_at) AS due FROM pending_purge").one().due ?? 0;
}

/**
 * Purges every URL due by `cutoff`. Never throws: a failure is logged and the URLs stay due, later. A URL queued again
 * while the purge was under way (a newer settle_at) keeps its new schedule.
 */
export async function runDuePurges(sql: SqlStorage, env: PurgeEnv, cutoff: number, now = Date.now()): Promise<void> {
  const due = sql.exec<PendingPurge>("SELECT * FROM pending_purge WHERE due_at <= ?", cutoff).toArray();
  if (due.length === 0) return;
  try {
    await purgeLocationCaches(
      env,
      due.map((row) => row.url),
    );
  } catch (error) {
    const attempts = Math.max(...due.map((row) => row.attempts)) + 1;
    const retryAt = now + Math.min(RETRY_MS * 2 ** (attempts - 1), MAX_RETRY_MS);
    for (const row of due) {
      sql.exec(
        "UPDATE pending_purge SET due_at = ?, attempts = ? WHERE url = ? AND settle_at = ?",
        retryAt,
        attempts,
        row.url,
        row.settle_at,
      );
    }
    console.error(JSON.stringify({ event: "config_purge_failed", urls: due.length, attempts, error: String(error) }));
    return;
  }
  for (const row of due) {
    if (row.settle_at <= now) sql.exec("DELETE FROM pending_purge WHERE url = ? AND settle_at <= ?", row.url, now);
    else sql.exec("UPDATE pending_purge SET due_at = settle_at, attempts = 0 WHERE url = ? AND settle_at = ?", row.url, row.settle_at);
  }
}
