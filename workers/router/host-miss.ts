// A host that live traffic found in neither ROUTING_MAP nor SITE_REGISTRY. If the control plane knows it, KV lost
// it: the control Worker finds the owner and has its keys repaired (workers/self-heal/key-miss.ts). Only the 404
// path calls this, so a hit costs nothing. Unknown hosts are also what scanners send, so each isolate asks about a
// host at most once per HOST_MISS_INTERVAL_MS and about at most HOST_MISS_LOOKUPS_PER_MINUTE hosts a minute.
import type { ControlCalls } from "../shared/control-calls";
import { TtlCache } from "../shared/ttl-cache";
import { normalizeHost, requestHost } from "./host";

const HOST_MISS_INTERVAL_MS = 30_000;
export const HOST_MISS_LOOKUPS_PER_MINUTE = 30;

const asked = new TtlCache<true>(1_000);
let windowStart = 0;
let windowLookups = 0;

export function reportHostMiss(env: { CONTROL_CALLS: unknown }, ctx: ExecutionContext, request: Request, url: URL): void {
  const host = normalizeHost(requestHost(request, url));
  if (host === null || asked.get(host)) return;
  const now = Date.now();
  if (now - windowStart >= 60_000) {
    windowStart = now;
    windowLookups = 0;
  }
  if (windowLookups >= HOST_MISS_LOOKUPS_PER_MINUTE) return;
  windowLookups += 1;
  asked.set(host, true, HOST_MISS_INTERVAL_MS);
  const calls = env.CONTROL_CALLS as ControlCalls;
  // Through a promise, so that even a missing binding becomes a log line and never the 404's failure.
  ctx.waitUntil(
    Promise.resolve()
      .then(() => calls.keyMissed(host))
      .then(
        (result) => {
          if (result.queued) console.warn(JSON.stringify({ event: "host_miss_repair", host, containerId: result.owner }));
        },
        (error) => console.error(JSON.stringify({ event: "host_miss_report_failed", host, error: String(error) })),
      ),
  );
}

/** For tests: forget what this isolate asked. */
export function clearHostMissReports(): void {
  asked.clear();
  windowStart = 0;
  windowLookups = 0;
}
