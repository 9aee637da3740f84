// GET /_edge/admin/logs: the query of a logs search over the R2 batches.
import * as v from "valibot";
import { limitParam } from "./admin";
import { ContainerIdSchema, HostSchema, MAX_SINCE_MS, sinceParam } from "./fields";

/** An instant as ISO 8601 (`2026-11-23T10:00:00Z`) or epoch milliseconds. */
const instantParam = (name: string, description: string) =>
  v.pipe(
    v.string(),
    v.description(description),
    v.check(
      (text) => (/^\d{10,15}$/.test(text) ? true : /^\d{4}-\d\d-\d\dT/.test(text) && !Number.isNaN(Date.parse(text))),
      `${name} must be an ISO 8601 time (2026-11-23T10:00:00Z) or epoch milliseconds`,
    ),
    v.transform((text) => (/^\d+$/.test(text) ? Number(text) : Date.parse(text))),
  );

export const LogSearchQuerySchema = v.pipe(
  v.strictObject({
    container: v.optional(v.pipe(ContainerIdSchema, v.description("only this container's records"))),
    since: v.optional(sinceParam("window ending now: 30m, 6h, 7d (default 1h; ignored when from is given)")),
    from: v.optional(instantParam("from", "window start (ISO 8601 or epoch ms)")),
    to: v.optional(instantParam("to", "window end (default now)")),
    status: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^([1-5]xx|[1-5]\d\d)$/, "status must be a class like 5xx or a code like 404"),
        v.description("a status class (4xx) or code (404)"),
      ),
    ),
    path: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^\/\S{0,511}$/, "path must start with / (a prefix of the upstream path)"),
        v.description("records whose path starts with this"),
      ),
    ),
    host: v.optional(v.pipe(HostSchema, v.description("records of this client-facing host"))),
    kind: v.optional(
      v.pipe(
        v.picklist(["access", "detection"], 'kind must be "access" or "detection"'),
        v.description("access records (requests) or detection records (sessions)"),
      ),
    ),
    limit: limitParam(1000, 100),
    cursor: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^[A-Za-z0-9_-]{1,2048}$/, "cursor must be the cursor of a previous page"),
        v.description("the previous page's cursor"),
      ),
    ),
    format: v.optional(
      v.pipe(
        v.picklist(["json", "ndjson"], 'format must be "json" or "ndjson"'),
        v.description("ndjson: one record per line, as a download"),
      ),
      "json",
    ),
  }),
  v.check((q) => q.from === undefined || q.to === undefined || q.from < q.to, "from must be before to"),
  v.transform((q) => {
    const to = q.to ?? Date.now();
    const from = q.from ?? to - (q.since ?? 3600_000);
    return { ...q, from, to };
  }),
  v.check((q) => q.to - q.from <= MAX_SINCE_MS, "the window must be at most 7 days"),
);

export type LogSearchQuery = v.InferOutput<typeof LogSearchQuerySchema>;
