// The report from R2 (local runs, and production without Analytics Engine credentials): reads the batches of the
// window and of the period before it (one listing per hour partition, newest first) and aggregates them.
// Bounded: at most MAX_OBJECTS objects and MAX_RECORDS records per report; beyond that the answer says `truncated`, the comparison with
// the previous period is left out, and at that volume the Analytics Engine source (analytics-sql.ts) is the tool.
import * as v from "valibot";
import { type AccessRecord, type DetectionRecord, LogRecordSchema, MAX_RECORDS_PER_MESSAGE } from "../../schemas/log-record";
import type { Report } from "../../schemas/report";
import { hourPrefix } from "../shared/log-partition";
import { gunzipNdjson } from "../shared/ndjson-gzip";
import { aggregate, previousWindow, summarize, type Window, withPrevious } from "./aggregate";

/**
 * Objects a report reads at most. A 7-day report with its comparison lists 336 hour partitions, and objects plus
 * listings stay under the 1,000 operations on Cloudflare services a Worker invocation may make. It must not be below
 * 336, or a week of steady traffic (one object per hour at least) could never be compared with the week before.
 */
const MAX_OBJECTS = 600;
/**
 * Records a report reads at most, counted from each object's `records` metadata before it is fetched: about 50 MB
 * parsed, inside a Worker's 128 MB whatever the consumer's batch size. Beyond that volume the Analytics Engine source
 * (analytics-sql.ts) answers.
 */
const MAX_RECORDS = 150_000;
/** An object without `records` metadata counts as the most a deployed consumer batch (100 messages) can hold. */
const UNKNOWN_OBJECT_RECORDS = 100 * MAX_RECORDS_PER_MESSAGE;

/** What one read may take: objects (operations) and records (memory). */
export interface ReadBudget {
  objects: number;
  records: number;
}

const BUDGET: ReadBudget = { objects: MAX_OBJECTS, records: MAX_RECORDS };
const READ_CONCURRENCY = 16;
const HOUR_MS = 3600_000;

interface Records {
  access: AccessRecord[];
  detections: DetectionRecord[];
  objectsRead: number;
  /** The hour partition being listed when the object budget ran out; null when everything was read. */
  cutAtHour: number | null;
}

export async function buildReport(bucket: R2Bucket, window: Window, budget = BUDGET): Promise<Report> {
  const before = previousWindow(window);
  const { access, detections, objectsRead, cutAtHour } = await readRecords(bucket, { ...window, from: before.from }, budget);
  // Newest first: a cut-off always loses the previous period first, so it is compared only when read whole. The
  // hour holding window.from also holds the previous period's newest records.
  const truncated = cutAtHour !== null && cutAtHour >= Math.floor(window.from / HOUR_MS) * HOUR_MS;
  const previous = cutAtHour === null ? aggregate(before, access, detections) : null;
  const current = withPrevious(aggregate(window, access, detections), previous);
  return { ...current, source: "r2", previous: previous && summarize(previous), objectsRead, truncated };
}

/** The valid records of every batch object in the window's hour partitions, within `budget`. */
export async function readWindow(
  bucket: R2Bucket,
  window: Window,
  budget: Partial<ReadBudget> = {},
): Promise<{ access: AccessRecord[]; detections: DetectionRecord[]; objectsRead: number; truncated: boolean }> {
  const { access, detections, objectsRead, cutAtHour } = await readRecords(bucket, window, { ...BUDGET, ...budget });
  return { access, detections, objectsRead, truncated: cutAtHour !== null };
}

async function readRecords(bucket: R2Bucket, window: Window, budget: ReadBudget): Promise<Records> {
  const { keys, cutAtHour } = await listWindow(bucket, window, budget);
  const access: AccessRecord[] = [];
  const detections: DetectionRecord[] = [];
  let skipped = 0;
  for (let i = 0; i < keys.length; i += READ_CONCURRENCY) {
    const bodies = await Promise.all(keys.slice(i, i + READ_CONCURRENCY).map((key) => bucket.get(key)));
    for (const object of bodies) {
      if (!object) continue; // removed between list and get (a failed batch's cleanup)
      const { values, broken } = await gunzipNdjson(object.body);
      skipped += broken;
      for (const value of values) {
        const parsed = v.safeParse(LogRecordSchema, value);
        if (!parsed.success) skipped += 1;
        else if (parsed.output.kind === "access") access.push(parsed.output);
        else detections.push(parsed.output);
      }
    }
  }
  if (skipped > 0) console.warn(JSON.stringify({ event: "report_lines_skipped", skipped }));
  return { access, detections, objectsRead: keys.length, cutAtHour };
}

/**
 * Object keys of every hour partition that overlaps the window, newest hour first (what a cut-off keeps), up to
 * the budget's objects and records.
 */
async function listWindow(bucket: R2Bucket, window: Window, budget: ReadBudget): Promise<{ keys: string[]; cutAtHour: number | null }> {
  const keys: string[] = [];
  let records = 0;
  const firstHour = Math.floor(window.from / HOUR_MS) * HOUR_MS;
  for (let hour = Math.floor(window.to / HOUR_MS) * HOUR_MS; hour >= firstHour; hour -= HOUR_MS) {
    let cursor: string | undefined;
    do {
      const page = await bucket.list({ prefix: hourPrefix(hour), cursor, limit: 1000, include: ["customMetadata"] });
      for (const object of page.objects) {
        const count = Number(object.customMetadata?.records) || UNKNOWN_OBJECT_RECORDS;
        if (keys.length === budget.objects || (keys.length > 0 && records + count > budget.records)) return { keys, cutAtHour: hour };
        keys.push(object.key);
        records += count;
      }
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  }
  return { keys, cutAtHour: null };
}
