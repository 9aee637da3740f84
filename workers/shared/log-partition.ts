// Where a batch's records go in R2: one object per hour partition, named by a batch id that depends only on
// the batch's message ids, so a redelivered batch overwrites its own objects instead of adding copies. Written by
// workers/log-consumer; the report and the logs search (workers/reports) list the same hour partitions.

const LOG_PREFIX = "logs/";

/** `logs/dt=YYYY-MM-DD/hour=HH/` (UTC) for an epoch-ms time: Hive partitioning that DuckDB and R2 SQL read. */
export function hourPrefix(ts: number): string {
  const iso = new Date(ts).toISOString();
  return `${LOG_PREFIX}dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}/`;
}

export function objectKey(ts: number, batchId: string): string {
  return `${hourPrefix(ts)}${batchId}.ndjson.gz`;
}

/** SHA-256 over the sorted message ids, first 128 bits as hex: the delivery order does not change it. */
export async function batchId(messageIds: readonly string[]): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode([...messageIds].sort().join("\n")));
  return [...new Uint8Array(digest).slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Groups items by hour prefix, keeping their order inside each group. */
export function byHour<T extends { ts: number }>(items: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const prefix = hourPrefix(item.ts);
    const group = groups.get(prefix);
    if (group) group.push(item);
    else groups.set(prefix, [item]);
  }
  return groups;
}
