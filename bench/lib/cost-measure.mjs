// From the spies' counts (bench/lib/binding-spies.ts, both Workers) to the cost model's shape
// (bench/cost-model.mjs operationsFor), and the records a run left in R2.
import { gunzipSync } from "node:zlib";

const sum = (values) => values.reduce((a, b) => a + b, 0);

function byNamespace(kvCounts, field) {
  const out = {};
  for (const counts of kvCounts) for (const [ns, c] of Object.entries(counts)) if (c[field]) out[ns] = (out[ns] ?? 0) + c[field];
  return out;
}

/** The operations the two Workers' bindings saw, named like operationsFor's. */
export function measuredOperations({ edge, control }, logQueue = "qaxal-logs") {
  const units = (side) => sum(Object.values(side).map((c) => c.units));
  const log = edge.queueSent.LOG_QUEUE ?? { calls: 0, messages: 0, recordsPerCall: [] };
  const consumerInvocations = control.queueInvocations[logQueue] ?? 0;
  return {
    hits: edge.fetch,
    workerRequests: edge.fetch + control.fetch + sum(Object.values(control.queueInvocations)),
    consumerInvocations,
    kvRead: byNamespace([edge.kv, control.kv], "read"),
    kvWrite: byNamespace([edge.kv, control.kv], "write"),
    logSends: log.calls,
    recordsPerSend: log.recordsPerCall,
    queueMessages: log.messages,
    queueOperations: {
      write: units(edge.queueSent) + units(control.queueSent),
      read: units(control.queueRead),
      delete: units(control.queueDeleted),
    },
    r2: { classA: control.r2.LOG_BUCKET?.classA ?? 0, classB: control.r2.LOG_BUCKET?.classB ?? 0 },
    // Both datasets: ACCESS_ANALYTICS (access records) and SESSION_ANALYTICS (detection records).
    analyticsPoints: sum(Object.values(control.analyticsPoints)),
    // Stub calls of both Workers, and alarm invocations (each billed as a request).
    durableObjectRequests:
      sum(Object.values(edge.durableObjectRequests)) +
      sum(Object.values(control.durableObjectRequests)) +
      sum(Object.values(control.durableObjectAlarms ?? {})),
  };
}

/**
 * Every log object under logs/ in R2, keyed by object key (each object = one consumer batch and hour): its records,
 * or with `withSizes` { lines, size } (size = the stored gzip bytes).
 */
export async function logObjects(mf, { withSizes = false } = {}) {
  const bucket = await mf.getR2Bucket("LOG_BUCKET", "qaxal-control");
  const objects = new Map();
  let cursor;
  do {
    const page = await bucket.list({ prefix: "logs/", cursor });
    for (const { key } of page.objects) {
      const body = Buffer.from(await (await bucket.get(key)).arrayBuffer());
      const lines = gunzipSync(body)
        .toString()
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
      objects.set(key, withSizes ? { lines, size: body.length } : lines);
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return objects;
}

/** Mean UTF-8 JSON bytes of the access and of the detection records in `records`. */
export function recordBytes(records) {
  const mean = (kind) => {
    const sizes = records.filter((r) => r.kind === kind).map((r) => Buffer.byteLength(JSON.stringify(r)));
    return sizes.length ? Math.round(sum(sizes) / sizes.length) : 0;
  };
  return { access: mean("access"), detection: mean("detection") };
}
