// GET /_edge/admin/report: reads the R2 batches of the requested window (one listing per hour partition) and
// aggregates them. Bounded: at most MAX_OBJECTS objects are read per report; beyond that the answer says
// `truncated` (at that volume, Analytics Engine's SQL API is the tool — see schemas/analytics.ts).
import * as v from "valibot";
import type { Report } from "../../schemas/analytics";
import { LogRecordSchema, type AccessRecord, type DetectionRecord } from "../../schemas/log-record";
import { aggregate, type Window } from "./aggregate";
import { gunzipNdjson } from "./ndjson-gzip";
import { hourPrefix } from "./partition";

/** With at most 168 listings (7 days of hours) a report stays under the 1,000 operations on Cloudflare services
 * (KV, R2, …) a Worker invocation may make, and holds at most 80,000 records in memory. */
export const MAX_OBJECTS = 800;
const READ_CONCURRENCY = 16;
const HOUR_MS = 3600_000;

export async function buildReport(bucket: R2Bucket, window: Window, maxObjects = MAX_OBJECTS): Promise<Report> {
  const { access, detections, objectsRead, truncated } = await readWindow(bucket, window, maxObjects);
  return { ...aggregate(window, access, detections), objectsRead, truncated };
}

/** The valid records of every batch object in the window's hour partitions (at most `maxObjects` objects). */
export async function readWindow(
  bucket: R2Bucket,
  window: Window,
  maxObjects = MAX_OBJECTS,
): Promise<{ access: AccessRecord[]; detections: DetectionRecord[]; objectsRead: number; truncated: boolean }> {
  const { keys, truncated } = await listWindow(bucket, window, maxObjects);
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
  return { access, detections, objectsRead: keys.length, truncated };
}

/** Object keys of every hour partition that overlaps the window, newest hour first (what a cut-off keeps). */
async function listWindow(bucket: R2Bucket, window: Window, maxObjects: number): Promise<{ keys: string[]; truncated: boolean }> {
  const keys: string[] = [];
  const firstHour = Math.floor(window.from / HOUR_MS) * HOUR_MS;
  for (let hour = Math.floor(window.to / HOUR_MS) * HOUR_MS; hour >= firstHour; hour -= HOUR_MS) {
    let cursor: string | undefined;
    do {
      const page = await bucket.list({ prefix: hourPrefix(hour), cursor, limit: 1000 });
      for (const object of page.objects) {
        if (keys.length === maxObjects) return { keys, truncated: true };
        keys.push(object.key);
      }
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  }
  return { keys, truncated: false };
}
