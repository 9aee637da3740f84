// GET /_edge/admin/report: its query and its answer, the same whether the report was read from R2 or from
// Analytics Engine (workers/reports). The OpenAPI description is generated from these.
import * as v from "valibot";
import { CONTAINER_ID, containerIdRule, sinceParam } from "./fields";
import { VISIT_MODES } from "./log-record";

export const ReportQuerySchema = v.strictObject({
  since: v.optional(sinceParam("window ending now: 15m, 1h, 24h, 7d (at most 7d; default 24h)"), "24h"),
  container: v.optional(
    v.pipe(
      v.string(),
      v.regex(CONTAINER_ID, containerIdRule("container")),
      v.description("one container (default: all the caller may read)"),
    ),
  ),
  source: v.optional(
    v.pipe(
      v.picklist(["r2", "analytics-engine"], 'source must be "r2" or "analytics-engine"'),
      v.description("default: analytics-engine when CF_ACCOUNT_ID and ANALYTICS_API_TOKEN are set, else r2"),
    ),
  ),
});

const Rate = v.nullable(v.number());
const Count = v.pipe(v.number(), v.integer(), v.minValue(0));
const ranked = <K extends string>(key: K, value: v.GenericSchema<unknown, string | number>) =>
  v.array(v.object({ [key]: value, count: Count } as Record<K, typeof value> & { count: typeof Count }));

/** The figures of one period, for the comparison with the period before the window. */
const PeriodSummarySchema = v.object({
  from: v.string(),
  to: v.string(),
  requests: Count,
  errors: v.pipe(Count, v.description("5xx answers")),
  latencyP95: Rate,
  sessions: Count,
  adblockRate: Rate,
  itpRate: Rate,
  recoveredRate: Rate,
  botShare: Rate,
});

/** GET /_edge/admin/report: the same shape whether it was read from R2 or from Analytics Engine. */
export const ReportSchema = v.object({
  containerId: v.nullable(v.string()),
  from: v.string(),
  to: v.string(),
  source: v.pipe(
    v.picklist(["r2", "analytics-engine"]),
    v.description("r2: the raw batches (local runs); analytics-engine: the SQL API (production)"),
  ),
  objectsRead: v.pipe(Count, v.description("R2 batch objects read (0 for analytics-engine)")),
  truncated: v.pipe(v.boolean(), v.description("the window held more R2 batches than one report reads; figures cover the newest part")),
  requests: v.object({
    total: Count,
    errors: v.pipe(Count, v.description("5xx answers")),
    bucketSeconds: v.pipe(Count, v.description("length of one series bucket")),
    series: v.pipe(
      v.array(v.object({ t: v.string(), count: Count, errors: Count, previous: v.nullable(Count) })),
      v.description("zero-filled, oldest first; t is the bucket start; previous is the same bucket one period earlier"),
    ),
  }),
  previous: v.pipe(
    v.nullable(PeriodSummarySchema),
    v.description("the period of equal length just before the window; null when it could not be read whole"),
  ),
  statusClasses: v.record(v.string(), Count),
  statuses: ranked("status", v.number()),
  topPaths: ranked("path", v.string()),
  hosts: ranked("host", v.string()),
  countries: v.pipe(ranked("country", v.string()), v.description('two-letter country codes; "unknown" when the edge had none')),
  latencyMs: v.pipe(
    v.object({ p50: Rate, p95: Rate, samples: Count }),
    v.description("time to the upstream's answer headers, proxied requests only"),
  ),
  cookieKeeper: v.object({ rewrites: Count, requestsWithRewrites: Count }),
  bots: v.pipe(
    v.object({
      requestsChecked: Count,
      requestsBot: Count,
      requestShare: Rate,
      sessionsChecked: Count,
      sessionsBot: Count,
      sessionShare: Rate,
    }),
    v.description("botDetection verdicts: only records that carry one count, so shares are of checked traffic (null: nothing checked)"),
  ),
  detection: v.object({
    sessions: Count,
    adblock: Count,
    itp: Count,
    adblockRate: Rate,
    itpRate: Rate,
    etp: v.pipe(Count, v.description("Firefox sessions (Enhanced Tracking Protection is on by default there)")),
    etpRate: Rate,
    recoveredRate: v.pipe(Rate, v.description("sessions with ad-block, ITP or ETP: measured only because tracking was first-party")),
    modes: v.pipe(
      v.record(v.picklist(VISIT_MODES), Count),
      v.description("sessions per deployment mode the edge measured (same-origin, subdomain, cross-site, unknown)"),
    ),
  }),
});

export type Report = v.InferOutput<typeof ReportSchema>;
export type PeriodSummary = v.InferOutput<typeof PeriodSummarySchema>;
