// A KV key that live traffic missed although the control plane knows it (lost or evicted in KV): tell the
// container's Durable Object, which queues a repair. Only the miss path calls this; a hit costs nothing. Each
// isolate reports a key at most once per MISS_REPORT_INTERVAL_MS, and the object itself queues at most one repair
// per REPAIR_INTERVAL_MS, so a flood of requests on a lost key becomes one repair.
import { containerReads } from "../../durable/container-stub";
import { TtlCache } from "./ttl-cache";

export const MISS_REPORT_INTERVAL_MS = 30_000;

const reported = new TtlCache<true>(1_000);

export function reportKvMiss(env: Pick<Env, "CONTAINER_STATE">, ctx: ExecutionContext, containerId: string, key: string): void {
  const slot = `${containerId}\u0000${key}`;
  if (reported.get(slot)) return;
  reported.set(slot, true, MISS_REPORT_INTERVAL_MS);
  ctx.waitUntil(
    containerReads(env, containerId)
      .kvMiss(containerId)
      .then((queued) => {
        if (queued) console.warn(JSON.stringify({ event: "kv_miss_repair", containerId, key }));
      })
      .catch((error) => console.error(JSON.stringify({ event: "kv_miss_report_failed", containerId, error: String(error) }))),
  );
}

/** For tests: forget which misses this isolate already reported. */
export function clearKvMissReports(): void {
  reported.clear();
}
