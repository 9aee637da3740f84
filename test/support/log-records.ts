// Helpers for the log consumer's Workers-runtime tests (record builders: log-record-builders.ts).

import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { consumeLogBatch } from "../../workers/log-consumer/consumer";
import { gunzipNdjson } from "../../workers/shared/ndjson-gzip";

export interface Delivery {
  /** Message ids, in delivery order; defaults to fresh unique ids. */
  ids?: string[];
  attempts?: number;
  env?: Partial<Env>;
}

/**
 * Runs the consumer on a hand-made batch; returns its summary, the batch's ack/retry outcome, and a spy on
 * retryAll (the outcome does not carry the retry delay).
 */
export async function deliverLogs(bodies: unknown[], delivery: Delivery = {}) {
  const ids = delivery.ids ?? bodies.map(() => crypto.randomUUID());
  const batch = createMessageBatch(
    "qaxal-logs",
    bodies.map((body, i) => ({ id: ids[i]!, timestamp: new Date(), attempts: delivery.attempts ?? 1, body })),
  );
  const retryAll = vi.spyOn(batch, "retryAll");
  const ctx = createExecutionContext();
  const summary = await consumeLogBatch(batch, { ...logEnv(), ...delivery.env });
  return { summary, retryAll, result: await getQueueResult(batch, ctx) };
}

/** The bindings the consumer uses, with Supabase off unless a test configures it. */
function logEnv() {
  return {
    LOG_BUCKET: env.LOG_BUCKET,
    ANALYTICS_WINDOW: env.ANALYTICS_WINDOW,
    SUPABASE_URL: "",
    SUPABASE_SERVICE_ROLE_KEY: "",
  };
}

export async function listKeys(prefix: string): Promise<string[]> {
  const listed = await env.LOG_BUCKET.list({ prefix });
  return listed.objects.map((o) => o.key).sort();
}

/** The records stored in one R2 object, in stored order. */
export async function readObject(key: string): Promise<unknown[]> {
  const object = await env.LOG_BUCKET.get(key);
  if (!object) throw new Error(`no object ${key}`);
  const { values, broken } = await gunzipNdjson(object.body);
  if (broken > 0) throw new Error(`${broken} broken lines in ${key}`);
  return values;
}
