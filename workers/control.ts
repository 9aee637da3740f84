// The control Worker (CONTRACT.md "Shape"): operator endpoints and the Supabase webhook on fetch, the config and log
// queues and their dead letters on queue, the Cron Triggers on scheduled (workers/scheduled), the ContainerState
// Durable Object class the edge Worker binds, the AlertState class, the RoutingRegistry (the one owner of every
// host, mount and loader token), AnalyticsWindow (Analytics Engine aggregates per window), and EdgeCalls, the RPC entrypoint the edge Worker binds as CONTROL_CALLS.
import { edgeApi } from "./admin/api";
import { consumeLogBatch } from "./log-consumer/consumer";
import { runScheduled } from "./scheduled";
import { persistDeadLetterBatch } from "./shared/dead-letters";
import { queueKind } from "./shared/queues";
import { consumeConfigBatch } from "./sync-consumer/consumer";

export { AlertState } from "../durable/alert-state";
export { AnalyticsWindow } from "../durable/analytics-window";
export { ContainerState } from "../durable/container-state";
export { OperatorAccess } from "../durable/operator-access";
export { RoutingRegistry } from "../durable/routing-registry";
export { EdgeCalls } from "./self-heal/edge-calls";

export default {
  fetch(request, env, ctx): Promise<Response> {
    return edgeApi.fetch(request, env, ctx);
  },

  async queue(batch, env): Promise<void> {
    switch (queueKind(batch.queue)) {
      case "config":
        return consumeConfigBatch(batch, env);
      case "logs":
        await consumeLogBatch(batch, env);
        return;
      case "config-dlq":
        return persistDeadLetterBatch(batch, env, "config");
      case "logs-dlq":
        return persistDeadLetterBatch(batch, env, "logs");
      default:
        // An unknown queue is a deployment mistake: retry so nothing is lost while it is fixed.
        console.error(JSON.stringify({ event: "unknown_queue", queue: batch.queue }));
        batch.retryAll();
    }
  },

  scheduled: runScheduled,
} satisfies ExportedHandler<Env, unknown>;
