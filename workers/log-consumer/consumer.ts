// LOG_QUEUE consumer. Per batch: validate every record (malformed ones are counted and dropped), write one gzip
// NDJSON object per hour partition to R2, upsert detection records into Supabase, then one Analytics Engine data
// point per access record. The batch lands whole or not at all: on an R2 or Supabase failure the objects this
// attempt wrote are removed and the whole batch is retried; the DLQ consumer keeps what keeps failing.
import * as v from "valibot";
import { accessDataPoint } from "../../schemas/analytics";
import { LogRecordSchema, type AccessRecord, type DetectionRecord, type LogRecord } from "../../schemas/log-record";
import { backoffSeconds } from "../shared/queues";
import { supabaseConfigured } from "../shared/postgrest";
import { gzipNdjson } from "./ndjson-gzip";
import { batchId, byHour, objectKey } from "./partition";
import { upsertSessions } from "./sessions";

export interface LogBatchSummary {
  status: "written" | "retried";
  batchId: string;
  access: number;
  detection: number;
  malformed: number;
  objects: string[];
  sessionsUpserted: number;
}

type LogEnv = Pick<Env, "LOG_BUCKET" | "ACCESS_ANALYTICS" | "SUPABASE_URL" | "SUPABASE_SERVICE_ROLE_KEY">;

export async function consumeLogBatch(batch: MessageBatch<unknown>, env: LogEnv): Promise<LogBatchSummary> {
  const records: LogRecord[] = [];
  let malformed = 0;
  for (const message of batch.messages) {
    const parsed = v.safeParse(LogRecordSchema, message.body);
    if (parsed.success) records.push(parsed.output);
    else malformed += 1;
  }
  const access = records.filter((r): r is AccessRecord => r.kind === "access");
  const detection = records.filter((r): r is DetectionRecord => r.kind === "detection");
  const id = await batchId(batch.messages.map((m) => m.id));
  const summary: LogBatchSummary = {
    status: "written",
    batchId: id,
    access: access.length,
    detection: detection.length,
    malformed,
    objects: [],
    sessionsUpserted: 0,
  };

  const written: string[] = [];
  try {
    // allSettled, not all: every put must have finished before a failure's cleanup, or a slow put would land
    // after the delete and stay behind.
    const puts = await Promise.allSettled(
      [...byHour(records).values()].map(async (group) => {
        const key = objectKey(group[0]!.ts, id);
        await env.LOG_BUCKET.put(key, await gzipNdjson(group), {
          httpMetadata: { contentType: "application/gzip" },
          customMetadata: { batchId: id, records: String(group.length) },
        });
        written.push(key);
      }),
    );
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
  // A batch holds at most 100 records, under AE's limit of 250 data points per invocation.
  for (const record of access) env.ACCESS_ANALYTICS.writeDataPoint(accessDataPoint(record));
  batch.ackAll();
  summary.objects = written.sort();
  console.log(JSON.stringify({ event: "log_batch", ...summary, objects: written.length }));
  return summary;
}
