// Traffic figures for the alert check: requests and 5xx responses per container in a time window. The source is
// swappable: this one reads the R2 batches through the report's own reader and aggregation (so it counts exactly
// what GET /_edge/admin/report shows); an Analytics Engine SQL source can take its place for production volumes.
import type { TrafficCounts } from "../../durable/alert-state";
import type { AccessRecord } from "../../schemas/log-record";
import { aggregate } from "../reports/aggregate";
import { readWindow } from "../reports/report";

interface TrafficFigures {
  perContainer: Map<string, TrafficCounts>;
  /** The source stopped before the end of the window: the counts are lower bounds. */
  truncated: boolean;
}

export type TrafficSource = (env: Env, from: number, to: number) => Promise<TrafficFigures>;

/**
 * R2 objects a window may read. A check reads one 15-minute window every run and, once an hour, eight 1-hour
 * windows; this keeps a run under the 1,000 subrequests a Worker invocation may make.
 */
const R2_OBJECTS_PER_WINDOW = 100;

export const r2TrafficSource: TrafficSource = async (env, from, to) => {
  const { access, truncated } = await readWindow(env.LOG_BUCKET, { from, to, containerId: null }, { objects: R2_OBJECTS_PER_WINDOW });
  const byContainer = new Map<string, AccessRecord[]>();
  for (const record of access) {
    const list = byContainer.get(record.containerId);
    if (list) list.push(record);
    else byContainer.set(record.containerId, [record]);
  }
  const perContainer = new Map<string, TrafficCounts>();
  for (const [containerId, records] of byContainer) {
    const report = aggregate({ from, to, containerId }, records, []);
    if (report.requests.total > 0)
      perContainer.set(containerId, { requests: report.requests.total, errors: report.statusClasses["5xx"] ?? 0 });
  }
  return { perContainer, truncated };
};
