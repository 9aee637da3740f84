// Alerts: per-container thresholds (operator body of PUT /_edge/admin/alerts/thresholds/:id) and the shapes
// GET /_edge/admin/alerts answers. See docs/alerts.md.
import * as v from "valibot";

const ALERT_KINDS = ["error_rate", "traffic_drop", "dead_letters", "out_of_sync", "last_error", "hostname_inactive"] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

const share = (name: string) =>
  v.pipe(v.number(`${name} must be a number`), v.minValue(0, `${name} must be at least 0`), v.maxValue(1, `${name} must be at most 1`));
const count = (name: string, max: number) =>
  v.pipe(
    v.number(`${name} must be a number`),
    v.safeInteger(`${name} must be a whole number`),
    v.minValue(0, `${name} must be at least 0`),
    v.maxValue(max, `${name} must be at most ${max}`),
  );

/** Every threshold and what it accepts. */
const THRESHOLD_FIELDS = {
  /** Raise when 5xx responses exceed this share of the container's requests in the last few minutes… */
  errorShare: share("errorShare"),
  /** …but only with at least this many requests in that window (a handful of requests proves nothing). */
  errorMinRequests: count("errorMinRequests", 1_000_000),
  /** Raise when the last full hour had fewer than this share of the same hour's baseline… */
  trafficDropRatio: share("trafficDropRatio"),
  /** …when that baseline (mean of the same hour on the previous days) is at least this many requests. */
  trafficMinBaseline: count("trafficMinBaseline", 100_000_000),
  /** Raise when desired > applied for this long. */
  outOfSyncMinutes: count("outOfSyncMinutes", 10_080),
  /** Raise when lastError has been set for this long. */
  lastErrorMinutes: count("lastErrorMinutes", 10_080),
  /** Raise when a custom hostname has not been active for this long (validation normally takes minutes). */
  hostnameInactiveMinutes: count("hostnameInactiveMinutes", 10_080),
  /** No alerts for this container at all. */
  muted: v.boolean("muted must be true or false"),
};

export interface Thresholds {
  errorShare: number;
  errorMinRequests: number;
  trafficDropRatio: number;
  trafficMinBaseline: number;
  outOfSyncMinutes: number;
  lastErrorMinutes: number;
  hostnameInactiveMinutes: number;
  muted: boolean;
}

export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = Object.freeze({
  errorShare: 0.05,
  errorMinRequests: 20,
  trafficDropRatio: 0.25,
  trafficMinBaseline: 50,
  outOfSyncMinutes: 10,
  lastErrorMinutes: 10,
  hostnameInactiveMinutes: 60,
  muted: false,
});

/** PUT body: any subset of the thresholds; the others stay as they are (the default unless set before). */
export const ThresholdsOverrideSchema = v.strictObject({
  errorShare: v.optional(THRESHOLD_FIELDS.errorShare),
  errorMinRequests: v.optional(THRESHOLD_FIELDS.errorMinRequests),
  trafficDropRatio: v.optional(THRESHOLD_FIELDS.trafficDropRatio),
  trafficMinBaseline: v.optional(THRESHOLD_FIELDS.trafficMinBaseline),
  outOfSyncMinutes: v.optional(THRESHOLD_FIELDS.outOfSyncMinutes),
  lastErrorMinutes: v.optional(THRESHOLD_FIELDS.lastErrorMinutes),
  hostnameInactiveMinutes: v.optional(THRESHOLD_FIELDS.hostnameInactiveMinutes),
  muted: v.optional(THRESHOLD_FIELDS.muted),
});
export type ThresholdsOverride = v.InferOutput<typeof ThresholdsOverrideSchema>;

export interface Alert {
  /** `<kind>:<containerId or "*">[:<subject>]`: one alert per condition, never two. */
  key: string;
  kind: AlertKind;
  containerId: string | null;
  /** What the alert is about beyond the container (a hostname), or null. */
  subject: string | null;
  /** One line in plain words, as the webhook sends it. */
  message: string;
  raisedAt: string;
  resolvedAt: string | null;
  /** Whether the webhook got the raise (and, once resolved, the resolution). */
  notified: boolean;
}

/** What ContainerState reports to AlertState (an RPC argument) when a container's health changes. */
export interface ContainerHealth {
  containerId: string;
  /** Epoch ms since desired > applied, or null when in sync. */
  outOfSyncSince: number | null;
  /** Epoch ms since lastError has been set, or null. */
  errorSince: number | null;
  lastError: string | null;
  desiredVersion: number;
  appliedVersion: number;
}
