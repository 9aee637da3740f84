// LOG_QUEUE consumer. Per batch: unpack the messages and validate every record (a malformed one is kept alone as a
// dead letter in R2), write one gzip NDJSON object per hour partition to R2, upsert detection records into
// Supabase, then the Analytics Engine points: one aggregate per distinct dimension set of the counted access
// records, one point per detection record. The batch lands whole or not at all: on an R2 or Supabase failure the
// objects this attempt wrote are removed and the whole batch is retried; the DLQ consumer keeps what keeps failing.
import { type AccessRecord, AE_POINTS_PER_INVOCATION, type DetectionRecord, type LogRecord } from "../../schemas/log-record";
import { storeDeadLetter } from "../shared/dead-letters";
import { batchId, byHour, objectKey } from "../shared/log-partition";
import { gzipNdjson } from "../shared/ndjson-gzip";
import { supabaseConfigured } from "../shared/postgrest";
import { backoffSeconds } from "../shared/queues";
import { accessAggregates, aggregateKey, detectionDataPoint } from "./analytics-points";
import { upsertSessions } from "./sessions";
import { unpackMessages } from "./unpack";

export interface LogBatchSummary {
  status: "written" | "retried";
  batchId: string;
  access: number;
  detection: number;
  /** Records (or unreadable messages) kept as dead letters under dead-letters/logs/. */
  malformed: number;
  /** Analytics Engine points written (access aggregates + detection points). */
  points: number;
  /** Messages left for a later batch because their points would pass Analytics Engine's limit per invocation. */
  deferred: number;
  objects: string[];
  sessionsUpserted: number;
}

type LogEnv = Pick<Env, "LOG_BUCKET" | "ACCESS_ANALYTICS" | "SESSION_ANALYTICS" | "SUPABASE_URL" | "SUPABASE_SERVICE_ROLE_KEY">;

/**
 * The longest prefix of the batch whose Analytics Engine points fit in one invocation (the first message always
 * does: it holds at most MAX_RECORDS_PER_MESSAGE records), and the messages after it.
 */
function withinPointBudget(messages: readonly Message<unknown>[]) {
  const keys = new Set<string>();
  let detections = 0;
  const taken: Message<unknown>[] = [];
  const unpacked: ReturnType<typeof unpackMessages>[] = [];
  for (const message of messages) {
    const one = unpackMessages([message]);
    const newKeys = new Set<string>();
    let newDetections = 0;
    for (const record of one.records) {
      if (record.kind === "detection") newDetections += 1;
      else {
        const key = aggregateKey(record);
        if (key !== null && !keys.has(key)) newKeys.add(key);
      }
    }
    if (taken.length > 0 && keys.size + newKeys.size + detections + newDetections > AE_POINTS_PER_INVOCATION) break;
    for (const key of newKeys) keys.add(key);
    detections += newDetections;
    taken.push(message);
    unpacked.push(one);
  }
  return {
    taken,
    deferred: messages.slice(taken.length),
    records: unpacked.flatMap((u): LogRecord[] => u.records),
    rejected: unpacked.flatMap((u) => u.rejected),
  };
}

export async function consumeLogBatch(batch: MessageBatch<unknown>, env: LogEnv): Promise<LogBatchSummary> {
  const { taken, deferred, records, rejected } = withinPointBudget(batch.messages);
  const access = records.filter((r): r is AccessRecord => r.kind === "access");
  const detection = records.filter((r): r is DetectionRecord => r.kind === "detection");
  const id = await batchId(taken.map((m) => m.id));
  const summary: LogBatchSummary = {
    status: "written",
    batchId: id,
    access: access.length,
    detection: detection.length,
    malformed: rejected.length,
    points: 0,
    deferred: deferred.length,
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

  // Analytics Engine last: its writes cannot be undone, so they happen only once the batch is durable. The taken
  // messages' points fit in AE's limit per invocation (withinPointBudget), access and detection points together.
  const points = accessAggregates(access);
  for (const point of points) env.ACCESS_ANALYTICS.writeDataPoint(point);
  for (const record of detection) env.SESSION_ANALYTICS.writeDataPoint(detectionDataPoint(record));
  summary.points = points.length + detection.length;
  if (deferred.length === 0) batch.ackAll();
  else {
    // Rare (a batch with more distinct dimension sets than AE takes at once): the rest come back in another batch.
    for (const message of taken) message.ack();
    for (const message of deferred) message.retry();
  }
  summary.objects = written.sort();
  console.log(JSON.stringify({ event: "log_batch", ...summary, objects: written.length }));
  return summary;
}
