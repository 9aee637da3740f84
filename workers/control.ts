// The control Worker (CONTRACT.md "Shape"): operator endpoints and the Supabase webhook on fetch, the config and log
// queues and their dead letters on queue, scheduled checks on the Cron Trigger, the ContainerState Durable Object
// class the edge Worker binds, and the RoutingRegistry (the one owner of every host, mount and loader token).
import { edgeApi } from "./admin/api";
import { refreshPendingHostnames } from "./admin/custom-hostnames";
import { consumeLogBatch } from "./log-consumer/consumer";
import { persistDeadLetterBatch } from "./shared/dead-letters";
import { queueKind } from "./shared/queues";
import { consumeConfigBatch } from "./sync-consumer/consumer";

export { ContainerState } from "../durable/container-state";
export { RoutingRegistry } from "../durable/routing-registry";

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

  // Cron Trigger (wrangler.control.jsonc `triggers`): pending custom hostnames go live once Cloudflare verifies them.
  async scheduled(_controller, env): Promise<void> {
    await refreshPendingHostnames(env);
  },
} satisfies ExportedHandler<Env, unknown>;
