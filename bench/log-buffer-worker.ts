// The log buffer alone behind a fetch handler, for bench/log-buffer.mjs: one access record per request into
// workers/shared/log-buffer.ts when BENCH_LOG is "buffer", none when it is "none"; the answer is the same.
import type { AccessRecord } from "../schemas/log-record";
import { type LogQueueEnv, queueLogRecord } from "../workers/shared/log-buffer";

let sequence = 0;

export default {
  fetch(request: Request, env: LogQueueEnv & { BENCH_LOG?: string }, ctx: ExecutionContext): Response {
    sequence += 1;
    const record: AccessRecord = {
      kind: "access",
      ts: Date.now(),
      requestId: `bench-${sequence}`,
      containerId: "bench",
      host: new URL(request.url).hostname,
      method: request.method,
      pathClass: "proxy",
      path: "/g/collect",
      status: 204,
      upstreamStatus: 204,
      durationMs: 1,
      country: "DE",
      cookieRewrites: 0,
      bot: null,
      reason: null,
    };
    if (env.BENCH_LOG === "buffer") queueLogRecord(env, ctx, record);
    return new Response(null, { status: 204 });
  },
};
