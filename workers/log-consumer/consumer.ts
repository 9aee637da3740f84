// LOG_QUEUE consumer. Per batch: unpack the messages and validate every record (a malformed one is kept alone as a
// dead letter in R2), write one gzip NDJSON object per hour partition to R2, upsert detection records into
// Supabase, then one Analytics Engine data point per access record. The batch lands whole or not at all: on an R2
// or Supabase failure the objects this attempt wrote are removed and the whole batch is retried; the DLQ consumer
// keeps what keeps failing.
import type { AccessRecord, DetectionRecord } from "../../schemas/log-record";
import { storeDeadLetter } from "../shared/dead-letters";
import { batchId, byHour, objectKey } from "../shared/log-partition";
import { gzipNdjson } from "../shared/ndjson-gzip";
import { supabaseConfigured } from "../shared/postgrest";
import { backoffSeconds } from "../shared/queues";
import { accessDataPoint, detectionDataPoint } from "./analytics-points";
import { upsertSessions } from "./sessions";
import { unpackMessages } from "./unpack";

export interface LogBatchSummary {
  status: "written" | "retried";
  batchId: string;
  access: number;
  detection: number;
  /** Records (or unreadable messages) kept as dead letters under dead-letters/logs/. */
  malformed: number;
  objects: string[];
  sessionsUpserted: number;
}

type LogEnv = Pick<Env, "LOG_BUCKET" | "ACCESS_ANALYTICS" | "SESSION_ANALYTICS" | "SUPABASE_URL" | "SUPABASE_SERVICE_ROLE_KEY">;

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

  // Analytics Engine last: its writes cannot be undone, so they happen only once the batch is durable.
  // A batch holds at most LOG_CONSUMER_BATCH_SIZE messages of MAX_RECORDS_PER_MESSAGE records: within AE's limit
  // of 250 data points per invocation (schemas/log-record.ts), access and detection points together.
  for (const record of access) env.ACCESS_ANALYTICS.writeDataPoint(accessDataPoint(record));
  for (const record of detection) env.SESSION_ANALYTICS.writeDataPoint(detectionDataPoint(record));
  batch.ackAll();
  summary.objects = written.sort();
  console.log(JSON.stringify({ event: "log_batch", ...summary, objects: written.length }));
  return summary;
}
