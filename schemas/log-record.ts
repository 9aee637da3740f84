// Records on LOG_QUEUE: access records from the router, detection records from the loader.
// Neither ever carries a raw client IP or a cookie value.
import * as v from "valibot";
import { ContainerIdSchema, SESSION_ID } from "./fields";

/** What the router did on a request: which proxy path it took and what the modules changed. */
const PATH_CLASSES = ["proxy", "passthrough", "loader", "boot", "detection", "preflight"] as const;

// The longest request id, method and path a record keeps: the router cuts longer ones, so that an odd request still
// gets a valid record.
export const MAX_RECORD_REQUEST_ID = 64;
export const MAX_RECORD_METHOD = 16;
export const MAX_RECORD_PATH = 512;
/** A reason code: an EdgeError code (workers/shared/errors.ts), lower-case words joined by "_". */
const REASON_CODE = /^[a-z][a-z_]{0,39}$/;

export const AccessRecordSchema = v.strictObject({
  kind: v.literal("access"),
  /** Epoch milliseconds when the request arrived. */
  ts: v.pipe(v.number(), v.safeInteger()),
  requestId: v.pipe(v.string(), v.maxLength(MAX_RECORD_REQUEST_ID)),
  containerId: ContainerIdSchema,
  /** The client-facing host (after X-Public-Host), lower-case, no port. */
  host: v.pipe(v.string(), v.maxLength(253)),
  method: v.pipe(v.string(), v.maxLength(MAX_RECORD_METHOD)),
  pathClass: v.picklist(PATH_CLASSES),
  /** The upstream path without query string (queries can carry identifiers). */
  path: v.pipe(v.string(), v.maxLength(MAX_RECORD_PATH)),
  status: v.pipe(v.number(), v.integer()),
  upstreamStatus: v.nullable(v.pipe(v.number(), v.integer())),
  durationMs: v.pipe(v.number(), v.minValue(0)),
  country: v.nullable(v.pipe(v.string(), v.maxLength(8))),
  /** Number of Set-Cookie headers Cookie Keeper rewrote. */
  cookieRewrites: v.pipe(v.number(), v.integer(), v.minValue(0)),
  /** The bot verdict; null when botDetection was not active (and in records written before it existed). */
  bot: v.optional(v.nullable(v.boolean()), null),
  /**
   * Why the edge answered this request itself instead of the upstream's answer: the error code of its answer
   * (`upstream_unreachable`, `upstream_timeout`, `invalid_proxy_target`, …) or `bot_blocked` (also for the 204 a
   * blocked bot's collect hit gets). Null when the upstream answered, and in records written before it existed.
   */
  reason: v.optional(v.nullable(v.pipe(v.string(), v.regex(REASON_CODE))), null),
});

/** How the page reached the edge (workers/loader/visit-mode.ts). */
export const VISIT_MODES = ["same-origin", "subdomain", "cross-site", "unknown"] as const;
export type VisitMode = (typeof VISIT_MODES)[number];

// `etp` and `mode` are optional so that records queued or stored before they existed still parse.
export const DetectionRecordSchema = v.strictObject({
  kind: v.literal("detection"),
  ts: v.pipe(v.number(), v.safeInteger()),
  containerId: ContainerIdSchema,
  sessionId: v.pipe(v.string(), v.regex(SESSION_ID)),
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

// ---- Packed LOG_QUEUE messages ----
// Queues bills every message three times (write, read, delete) per 64 KB, so an isolate's records travel together:
// one message carries up to MAX_RECORDS_PER_MESSAGE records, versioned so the format can change without guessing.

export const PACKED_LOG_VERSION = 1;

/**
 * Records per message. LOG_CONSUMER_BATCH_SIZE is the local run's log consumer batch (wrangler.control.jsonc; deployed
 * batches take up to 100 messages). AE_POINTS_PER_INVOCATION is Analytics Engine's limit of points per Worker
 * invocation, which AnalyticsWindow's alarm keeps (durable/analytics-window.ts).
 */
export const MAX_RECORDS_PER_MESSAGE = 125;
export const LOG_CONSUMER_BATCH_SIZE = 10;
export const AE_POINTS_PER_INVOCATION = 250;

/**
 * Records an isolate's log buffer holds at most before it sends (workers/shared/log-buffer.ts): what one isolate
 * crash can lose besides the sends in flight. Below MAX_RECORDS_PER_MESSAGE it costs busier isolates more messages
 * (docs/cost.md prices it); an isolate at 1 hit/s reaches it in 50 s, before the buffer's 60 s maximum age.
 */
export const LOG_FLUSH_RECORDS = 50;

/**
 * JSON bytes per message body. Queues allows 128 KB (1 KB = 1,000 bytes) including about 100 bytes of its own
 * metadata; the rest is margin. A record is at most about 1.5 KB, so this binds only for unusually long paths.
 */
export const MAX_MESSAGE_BYTES = 127_000;

/**
 * The envelope. Records are checked one by one by the consumer (LogRecordSchema), not here, so a single bad record
 * is dead-lettered alone instead of taking its message's neighbours with it.
 */
export const PackedLogMessageSchema = v.strictObject({
  v: v.literal(PACKED_LOG_VERSION),
  records: v.pipe(v.array(v.unknown()), v.minLength(1), v.maxLength(MAX_RECORDS_PER_MESSAGE)),
});

export interface PackedLogMessage {
  v: typeof PACKED_LOG_VERSION;
  records: LogRecord[];
}
