// How Analytics Engine aggregates fold together: the log consumer folds a batch's records into a partial, and
// AnalyticsWindow folds the partials of a window, both with mergeAggregates. A point is one dimension set (dataset,
// index, blobs, and the doubles that are dimensions) with sums; the column map is schemas/analytics.ts.
import * as v from "valibot";
import { AE_DOUBLES, AE_SESSION_DOUBLES, type AeDouble } from "../schemas/analytics";

const AGGREGATE_DATASETS = ["access", "session"] as const;

/** A data point as `AnalyticsEngineDataset.writeDataPoint` takes it, and which dataset it is for. */
export const AggregateSchema = v.strictObject({
  dataset: v.picklist(AGGREGATE_DATASETS),
  // Analytics Engine: one index of at most 96 bytes, at most 20 blobs (16 KB together) and 20 doubles.
  indexes: v.tuple([v.pipe(v.string(), v.maxBytes(96))]),
  blobs: v.pipe(v.array(v.string()), v.maxLength(20)),
  doubles: v.pipe(v.array(v.number()), v.maxLength(20)),
});
export type Aggregate = v.InferOutput<typeof AggregateSchema>;

/**
 * How two points of one dimension set combine, double by double: a dimension must be equal (it is part of the key),
 * a sum adds, `ts` keeps the earliest, `durationMax` the largest.
 */
type Merge = "key" | "sum" | "min" | "max";
const ACCESS_MERGE = AE_DOUBLES.map(
  (name): Merge =>
    (({ status: "key", upstreamStatus: "key", ts: "min", durationMax: "max" }) as Partial<Record<AeDouble, Merge>>)[name] ?? "sum",
);
const SESSION_MERGE = AE_SESSION_DOUBLES.map((name): Merge => (name === "ts" ? "min" : "sum"));
const MERGE: Record<Aggregate["dataset"], Merge[]> = { access: ACCESS_MERGE, session: SESSION_MERGE };

/** The dimension set of a point: dataset, index, blobs and the doubles that are dimensions (status, upstream status). */
function aggregateKey(point: Aggregate): string {
  const merge = MERGE[point.dataset];
  return JSON.stringify([point.dataset, point.indexes[0], point.blobs, point.doubles.filter((_, i) => merge[i] === "key")]);
}

/** One point per distinct dimension set of `points`, in the order each set first appears; the inputs are not changed. */
export function mergeAggregates(points: Iterable<Aggregate>): Aggregate[] {
  const merged = new Map<string, Aggregate>();
  for (const point of points) {
    const key = aggregateKey(point);
    const into = merged.get(key);
    if (!into) {
      merged.set(key, { ...point, doubles: [...point.doubles] });
      continue;
    }
    const merge = MERGE[point.dataset];
    into.doubles = into.doubles.map((value, i) => {
      const other = point.doubles[i] ?? 0;
      if (merge[i] === "sum") return value + other;
      if (merge[i] === "min") return Math.min(value, other);
      if (merge[i] === "max") return Math.max(value, other);
      return value;
    });
  }
  return [...merged.values()];
}
