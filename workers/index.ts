// The one Worker: fetch (operator API, loader, router), queue (config, logs and their dead letters), and the
// ContainerState and RoutingRegistry Durable Object classes.
import { edgeApi } from "./admin/api";
import { consumeLogBatch } from "./log-consumer/consumer";
import { handleTraffic } from "./router/traffic";
import { persistDeadLetterBatch } from "./shared/dead-letters";
import { QUEUES } from "./shared/queues";
import { consumeConfigBatch } from "./sync-consumer/consumer";

export { ContainerState } from "../durable/container-state";
export { RoutingRegistry } from "../durable/routing-registry";

export default {
  async fetch(request, env, ctx): Promise<Response> {
    const url = new URL(request.url);
    // The reserved prefix is answered here on every host and never proxied.
    if (url.pathname.startsWith("/_edge/")) return edgeApi.fetch(request, env, ctx);
    return handleTraffic(request, env, ctx, url);
  },

  async queue(batch, env): Promise<void> {
    switch (batch.queue) {
      case QUEUES.config:
        return consumeConfigBatch(batch, env);
      case QUEUES.logs:
        await consumeLogBatch(batch, env);
        return;
      case QUEUES.configDeadLetters:
        return persistDeadLetterBatch(batch, env, "config");
      case QUEUES.logsDeadLetters:
        return persistDeadLetterBatch(batch, env, "logs");
      default:
        // An unknown queue is a deployment mistake: retry so nothing is lost while it is fixed.
        console.error(JSON.stringify({ event: "unknown_queue", queue: batch.queue }));
        batch.retryAll();
    }
  },
} satisfies ExportedHandler<Env, unknown>;
