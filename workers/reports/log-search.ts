// GET /_edge/admin/logs: the raw records of the R2 batches, filtered and paginated. Order: newest hour partition
// first; inside an hour, in storage order (objects by key, lines as written). Bounded like the report: one page
// reads at most MAX_OBJECTS_PER_PAGE objects, so a sparse filter over a long window may return a short (even
// empty) page with a cursor: follow cursors until it is null.
import * as v from "valibot";
import { statusClass } from "../../schemas/analytics";
import { type LogRecord, LogRecordSchema } from "../../schemas/log-record";
import type { LogSearchQuery } from "../../schemas/log-search";
import { base64urlToText, textToBase64url } from "../shared/base64url";
import { EdgeError } from "../shared/errors";
import { hourPrefix } from "../shared/log-partition";
import { gunzipNdjson } from "../shared/ndjson-gzip";

/** With at most 168 hour listings this stays well under the 1,000 subrequests a Worker invocation may make. */
const MAX_OBJECTS_PER_PAGE = 100;
const HOUR_MS = 3600_000;

/**
 * Where the next page starts: an hour, and either a key to list after or a line inside an object. A cursor comes back
 * from the client, so it is validated like any input: whole hours, keys inside that hour's partition, a line number.
 */
const PositionSchema = v.pipe(
  v.strictObject({
    /** Start of the hour partition (epoch ms). */
    h: v.pipe(v.number(), v.safeInteger(), v.multipleOf(HOUR_MS)),
    /** Continue listing after this key. */
    a: v.optional(v.pipe(v.string(), v.maxLength(1024))),
    /** Continue inside this object, at line `l`. */
    k: v.optional(v.pipe(v.string(), v.maxLength(1024))),
    l: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(0))),
  }),
  v.check(
    (position) => [position.a, position.k].every((key) => key === undefined || key.startsWith(hourPrefix(position.h))),
    "cursor keys must lie in the cursor's hour",
  ),
);
type Position = v.InferOutput<typeof PositionSchema>;

export interface LogPage {
  records: LogRecord[];
  cursor: string | null;
  objectsRead: number;
  /** Lines that were not valid records (skipped). */
  skipped: number;
}

function encodeCursor(position: Position): string {
  return textToBase64url(JSON.stringify(position));
}

function decodeCursor(cursor: string, query: LogSearchQuery): Position {
  let raw: unknown = null;
  try {
    raw = JSON.parse(base64urlToText(cursor) ?? "null");
  } catch {
    // not JSON: refused below
  }
  const parsed = v.safeParse(PositionSchema, raw);
  if (parsed.success && parsed.output.h >= Math.floor(query.from / HOUR_MS) * HOUR_MS && parsed.output.h <= query.to) return parsed.output;
  throw new EdgeError(400, "invalid_query", "invalid query: cursor does not belong to this search (repeat the same filters and window)");
}

function matches(record: LogRecord, query: LogSearchQuery): boolean {
  if (record.ts < query.from || record.ts > query.to) return false;
  if (query.container && record.containerId !== query.container) return false;
  if (query.kind && record.kind !== query.kind) return false;
  if (query.host && record.host !== query.host) return false;
  if (query.path || query.status) {
    if (record.kind !== "access") return false;
    if (query.path && !record.path.startsWith(query.path)) return false;
    if (
      query.status &&
      (query.status.endsWith("xx") ? statusClass(record.status) !== query.status : String(record.status) !== query.status)
    )
      return false;
  }
  return true;
}

export async function searchLogs(bucket: R2Bucket, query: LogSearchQuery, maxObjects = MAX_OBJECTS_PER_PAGE): Promise<LogPage> {
  const records: LogRecord[] = [];
  let objectsRead = 0;
  let skipped = 0;
  const firstHour = Math.floor(query.from / HOUR_MS) * HOUR_MS;
  const start: Position = query.cursor ? decodeCursor(query.cursor, query) : { h: Math.floor(query.to / HOUR_MS) * HOUR_MS };

  /** Scans one object from `line`; returns the line to resume at when the page filled up inside it. */
  const scan = async (key: string, line: number): Promise<number | null> => {
    const object = await bucket.get(key);
    objectsRead += 1;
    if (!object) return null; // removed between list and get (a failed batch's cleanup)
    const { values, broken } = await gunzipNdjson(object.body);
    skipped += broken;
    for (let i = line; i < values.length; i += 1) {
      const parsed = v.safeParse(LogRecordSchema, values[i]);
      if (!parsed.success) skipped += 1;
      else if (matches(parsed.output, query)) records.push(parsed.output);
      if (records.length === query.limit) return i + 1 < values.length ? i + 1 : null;
    }
    return null;
  };

  for (let hour = start.h; hour >= firstHour; hour -= HOUR_MS) {
    const first = hour === start.h;
    let after = first ? start.a : undefined;
    if (first && start.k !== undefined) {
      const resume = await scan(start.k, start.l ?? 0);
      if (resume !== null) return page({ h: hour, k: start.k, l: resume });
      after = start.k;
      if (records.length === query.limit) return page({ h: hour, a: after });
    }
    for (;;) {
      const listing = await bucket.list({ prefix: hourPrefix(hour), startAfter: after, limit: 1000 });
      for (const object of listing.objects) {
        if (objectsRead === maxObjects) return page({ h: hour, a: after });
        const resume = await scan(object.key, 0);
        if (resume !== null) return page({ h: hour, k: object.key, l: resume });
        after = object.key;
        if (records.length === query.limit) return page({ h: hour, a: after });
      }
      if (!listing.truncated) break;
    }
  }
  return page(null);

  function page(next: Position | null): LogPage {
    return { records, cursor: next ? encodeCursor(next) : null, objectsRead, skipped };
  }
}
