// When a ContainerState re-verifies its KV keys. Every apply and every repair already reads all of a container's
// keys, so the scheduled verification only matters for a container whose config has not changed for a while: once
// a day by default (the var KV_VERIFY_INTERVAL_MS), jittered so that objects created together (a bulk import, a
// replay of every container) do not all read KV in the same minute.

const DEFAULT_VERIFY_INTERVAL_MS = 24 * 3600_000;
/** After a failed verification (KV error, a key another container owns), look again this soon. */
export const VERIFY_RETRY_MS = 15 * 60_000;

function verifyIntervalMs(env: { KV_VERIFY_INTERVAL_MS?: string }): number {
  const interval = Number(env.KV_VERIFY_INTERVAL_MS);
  return Number.isFinite(interval) && interval > 0 ? interval : DEFAULT_VERIFY_INTERVAL_MS;
}

/**
 * The next verification time: 90–110 % of the interval from `now`, or anywhere in 50–150 % for an object's first
 * one (objects configured in the same minute then spread over a whole interval).
 */
export function nextVerifyAt(env: { KV_VERIFY_INTERVAL_MS?: string }, now: number, first = false): number {
  const factor = first ? 0.5 + Math.random() : 0.9 + Math.random() * 0.2;
  return now + Math.round(verifyIntervalMs(env) * factor);
}
