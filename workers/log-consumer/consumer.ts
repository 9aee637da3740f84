// LOG_QUEUE consumer. Per batch: unpack the messages and validate every record (a malformed one is kept alone as a
// dead letter in R2), write one gzip NDJSON object per hour partition to R2, upsert detection records into
// Supabase, then hand the batch's Analytics Engine aggregates (one per distinct dimension set of the counted access
// records and of the detection records) to AnalyticsWindow, which folds them per window and writes them. The batch
// lands whole or not at all: on an R2 or Supabase failure the objects this attempt wrote are removed and the whole
// batch is retried; the DLQ consumer keeps what keeps failing.
import type { Aggregate } from "../../durable/analytics-merge";
import { analyticsWindowStub } from "../../durable/analytics-window";
import type { AccessRecord, DetectionRecord } from "../../schemas/log-record";
import { storeDeadLetter } from "../shared/dead-letters";
import { batchId, byHour, objectKey } from "../shared/log-partition";
import { gzipNdjson } from "../shared/ndjson-gzip";
import { supabaseConfigured } from "../shared/postgrest";
import { backoffSeconds } from "../shared/queues";
import { accessAggregates, sessionAggregates } from "./analytics-points";
import { upsertSessions } from "./sessions";
import { unpackMessages } from "./unpack";

export interface LogBatchSummary {
  status: "written" | "retried";
  batchId: string;
  access: number;
  detection: number;
  /** Records (or unreadable messages) kept as dead letters under dead-letters/logs/. */
  malformed: number;
  /** Analytics Engine aggregates of the batch handed to AnalyticsWindow (access + session). */
  points: number;
  /** Whether AnalyticsWindow took them; "failed" leaves them out of Analytics Engine (R2 has the records). */
  analytics: "added" | "failed" | "none";
  objects: string[];
  sessionsUpserted: number;
}

type LogEnv = Pick<Env, "LOG_BUCKET" | "ANALYTICS_WINDOW" | "SUPABASE_URL" | "SUPABASE_SERVICE_ROLE_KEY">;

/**
 * Hands the batch's aggregates to AnalyticsWindow. add() is idempotent per batch id, so a call that failed in a way
 * the runtime marks retryable is tried once more. If it still fails the batch is acknowledged all the same: its
 * records are durable in R2 (every report can read them there) and Analytics Engine is only a view of them, while a
 * retry would rewrite R2 and, re-batched under another id, could count the batch twice.
 */
async function addToWindow(env: LogEnv, id: string, points: Aggregate[]): Promise<LogBatchSummary["analytics"]> {
  if (points.length === 0) return "none";
  for (let attempt = 1; ; attempt += 1) {
    try {
      const result = await analyticsWindowStub(env).add(id, points);
      if (result.stored) return "added";
      console.error(JSON.stringify({ event: "analytics_add_failed", batchId: id, points: points.length, error: result.reason }));
      return "failed";
    } catch (error) {
      const { retryable, overloaded } = error as { retryable?: boolean; overloaded?: boolean };
      if (attempt === 1 && retryable === true && overloaded !== true) continue;
      console.error(JSON.stringify({ event: "analytics_add_failed", batchId: id, points: points.length, error: String(error) }));
      return "failed";
    }
  }
}

export async function consumeLogBatch(batch: MessageBatch<unknown>, env: LogEnv): Promise<LogBatchSummary> {
  const { records, rejected } = unpackMessages(batch.messages);
  const access = records.filter((r): r is AccessRecord => r.kind === "access");
  const detection = records.filter((r): r is DetectionRecord => r.kind === "detection");
  const id = await batchId(batch.messages.map((m) => m.id));
  const summary: LogBatchSummary = {
    status: "written",
    batchId: id,
    access: access.length,
    detection: detection.length,
    malformed: rejected.length,
    points: 0,
    analytics: "none",
    objects: [],
    sessionsUpserted: 0,
  };

  const written: string[] = [];
  try {
    // allSettled, not all: every put must have finished before a failure's cleanup, or a slow put would land
    // after the delete and stay behind.
    // Dead letters are keyed by message id and record index, so a retried batch overwrites its own.
    const puts = await Promise.allSettled([
      ...[...byHour(records).values()].map(async (group) => {
        const key = objectKey(group[0]!.ts, id);
        await env.LOG_BUCKET.put(key, await gzipNdjson(group), {
          httpMetadata: { contentType: "application/gzip" },
          customMetadata: { batchId: id, records: String(group.length) },
        });
        written.push(key);
      }),
      ...rejected.map((reject) => storeDeadLetter(env, "logs", reject.id, reject.body, reject.reason)),
    ]);
    const failed = puts.find((p): p is PromiseRejectedResult => p.status === "rejected");
    if (failed) throw failed.reason;
    if (detection.length > 0 && supabaseConfigured(env)) summary.sessionsUpserted = await upsertSessions(env, detection);
  } catch (error) {
    // Best effort: a retry may arrive re-batched under another id, and these objects would then be duplicates.
    await env.LOG_BUCKET.delete(written).catch(() => undefined);
    const attempts = Math.max(1, ...batch.messages.map((m) => m.attempts));
    console.error(JSON.stringify({ event: "log_batch_failed", batchId: id, attempts, error: String(error) }));
    batch.retryAll({ delaySeconds: backoffSeconds(attempts) });
    return { ...summary, status: "retried" };
  }

  // Analytics Engine last: its writes cannot be undone, so they are handed over only once the batch is durable.
  const points = [...accessAggregates(access), ...sessionAggregates(detection)];
  summary.points = points.length;
  summary.analytics = await addToWindow(env, id, points);
  batch.ackAll();
  summary.objects = written.sort();
  console.log(JSON.stringify({ event: "log_batch", ...summary, objects: written.length }));
  return summary;
}
