// Records on LOG_QUEUE: access records from the router, detection records from the loader.
// Neither ever carries a raw client IP or a cookie value.
import * as v from "valibot";
import { ContainerIdSchema } from "./fields";

/** What the router did on a request: which proxy path it took and what the modules changed. */
export const PATH_CLASSES = ["proxy", "passthrough", "loader", "boot", "detection", "preflight"] as const;

export const AccessRecordSchema = v.strictObject({
  kind: v.literal("access"),
  /** Epoch milliseconds when the request arrived. */
  ts: v.pipe(v.number(), v.safeInteger()),
  requestId: v.pipe(v.string(), v.maxLength(64)),
  containerId: ContainerIdSchema,
  /** The client-facing host (after X-Public-Host), lower-case, no port. */
  host: v.pipe(v.string(), v.maxLength(253)),
  method: v.pipe(v.string(), v.maxLength(16)),
  pathClass: v.picklist(PATH_CLASSES),
  /** The upstream path without query string (queries can carry identifiers). */
  path: v.pipe(v.string(), v.maxLength(512)),
  status: v.pipe(v.number(), v.integer()),
  upstreamStatus: v.nullable(v.pipe(v.number(), v.integer())),
  durationMs: v.pipe(v.number(), v.minValue(0)),
  country: v.nullable(v.pipe(v.string(), v.maxLength(8))),
  /** Number of Set-Cookie headers Cookie Keeper rewrote. */
  cookieRewrites: v.pipe(v.number(), v.integer(), v.minValue(0)),
  /** The bot verdict; null when botDetection was not active (and in records written before it existed). */
  bot: v.optional(v.nullable(v.boolean()), null),
});

/** How the page reached the edge (workers/loader/visit-mode.ts). */
export const VISIT_MODES = ["same-origin", "subdomain", "cross-site", "unknown"] as const;
export type VisitMode = (typeof VISIT_MODES)[number];

// `etp` and `mode` are optional so that records queued or stored before they existed still parse.
export const DetectionRecordSchema = v.strictObject({
  kind: v.literal("detection"),
  ts: v.pipe(v.number(), v.safeInteger()),
  containerId: ContainerIdSchema,
  sessionId: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{8,64}$/)),
  host: v.pipe(v.string(), v.maxLength(253)),
  adblock: v.boolean(),
  itp: v.boolean(),
  /** Firefox (Gecko): Enhanced Tracking Protection is on by default there. */
  etp: v.optional(v.boolean(), false),
  mode: v.optional(v.picklist(VISIT_MODES), "unknown"),
  country: v.nullable(v.pipe(v.string(), v.maxLength(8))),
  /** navigator.webdriver as the loader saw it (a browser under automation); false in records from older scripts. */
  webdriver: v.optional(v.boolean(), false),
  /** The bot verdict (the edge's on the report request, or webdriver); null when botDetection was not active. */
  bot: v.optional(v.nullable(v.boolean()), null),
});

export const LogRecordSchema = v.variant("kind", [AccessRecordSchema, DetectionRecordSchema]);

export type AccessRecord = v.InferOutput<typeof AccessRecordSchema>;
export type DetectionRecord = v.InferOutput<typeof DetectionRecordSchema>;
export type LogRecord = v.InferOutput<typeof LogRecordSchema>;
