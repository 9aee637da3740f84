// Config queue consumer: coalesces each batch to the newest version per container and hands it to that
// container's Durable Object, which writes KV. Acknowledge on applied or stale; retry with backoff on failure.
import * as v from "valibot";
import { containerStub } from "../../durable/container-state";
import { AcceptedEdgeConfigSchema } from "../../schemas/accepted-edge-config";
import { type ConfigMessage, ConfigMessageSchema, type RepairMessage, type VersionedMessage } from "../../schemas/config-message";
import { type EdgeConfig, upstreamAllowed } from "../../schemas/edge-config";
import { describeIssues } from "../../schemas/issues";
import { storeDeadLetter } from "../shared/dead-letters";
import { hostRuleViolation } from "../shared/host-rules";
import { backoffSeconds } from "../shared/queues";
import { fetchEdgeConfig } from "./supabase-source";

type Received = { message: Message<unknown>; body: ConfigMessage };

/** A failure no retry can fix (bad config): the message is kept as a dead letter and acknowledged. */
class PermanentFailure extends Error {}

export async function consumeConfigBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const byContainer = new Map<string, Received[]>();
  await Promise.all(
    batch.messages.map(async (message) => {
      const parsed = v.safeParse(ConfigMessageSchema, message.body);
      if (!parsed.success) {
        const reason = `invalid config message: ${describeIssues(parsed.issues, ConfigMessageSchema)}`;
        console.error(JSON.stringify({ event: "config_message_invalid", id: message.id, reason }));
        await storeDeadLetter(env, "config", message.id, message.body, reason);
        message.ack();
        return;
      }
      const list = byContainer.get(parsed.output.containerId) ?? [];
      list.push({ message, body: parsed.output });
      byContainer.set(parsed.output.containerId, list);
    }),
  );
  await Promise.all([...byContainer.entries()].map(([id, received]) => syncContainer(env, id, received)));
}

async function syncContainer(env: Env, containerId: string, received: Received[]): Promise<void> {
  const versioned = received.filter((r): r is Received & { body: VersionedMessage } => r.body.type !== "repair");
  const repairs = received.filter((r): r is Received & { body: RepairMessage } => r.body.type === "repair");

  if (versioned.length > 0) {
    // Only the newest version matters; older ones in the same batch are superseded and acknowledged.
    const newest = versioned.reduce((a, b) => (b.body.version > a.body.version ? b : a));
    for (const r of versioned) if (r !== newest) r.message.ack();
    await applyNewest(env, containerId, newest);
  }
  if (repairs.length > 0) {
    try {
      await containerStub(env, containerId).repair(containerId);
      for (const r of repairs) r.message.ack();
    } catch (error) {
      console.error(JSON.stringify({ event: "repair_failed", containerId, error: String(error) }));
      for (const r of repairs) r.message.retry({ delaySeconds: backoffSeconds(r.message.attempts) });
    }
  }
}

async function applyNewest(env: Env, containerId: string, newest: Received & { body: VersionedMessage }): Promise<void> {
  const { message, body } = newest;
  const stub = containerStub(env, containerId);
  try {
    const config = body.type === "delete" ? null : await resolveConfig(env, body);
    const version = config?.version ?? body.version;
    const result = await stub.apply(containerId, version, config);
    if (result.status === "failed") {
      // The object has recorded the error itself; only the retry is left to do.
      console.error(
        JSON.stringify({ event: "config_sync_failed", containerId, version, attempts: message.attempts, reason: result.error }),
      );
      message.retry({ delaySeconds: backoffSeconds(message.attempts) });
      return;
    }
    console.log(JSON.stringify({ event: "config_sync", containerId, version, ...result }));
    message.ack();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    await stub.recordFailure(containerId, body.version, reason);
    if (error instanceof PermanentFailure) {
      await storeDeadLetter(env, "config", message.id, message.body, reason);
      message.ack();
      return;
    }
    console.error(JSON.stringify({ event: "config_sync_failed", containerId, version: body.version, attempts: message.attempts, reason }));
    message.retry({ delaySeconds: backoffSeconds(message.attempts) });
  }
}

/**
 * The config a message stands for: its own, or the control plane's. Validated and given its derived fields (cookie
 * domains from the Public Suffix List) before anything is written: every path into KV passes here.
 */
async function resolveConfig(env: Env, body: VersionedMessage & { type: "upsert" }): Promise<EdgeConfig> {
  const raw = body.config !== undefined ? body.config : await fetchFromControlPlane(env, body);
  const parsed = v.safeParse(AcceptedEdgeConfigSchema, raw);
  if (!parsed.success) throw new PermanentFailure(`invalid EdgeConfig: ${describeIssues(parsed.issues, AcceptedEdgeConfigSchema)}`);
  const config = parsed.output;
  if (config.containerId !== body.containerId) {
    throw new PermanentFailure(`config.containerId ${config.containerId} does not match message ${body.containerId}`);
  }
  if (body.config !== undefined && config.version !== body.version) {
    throw new PermanentFailure(`config.version ${config.version} does not match message version ${body.version}`);
  }
  if (!upstreamAllowed(config, env.ALLOW_INSECURE_UPSTREAM)) {
    throw new PermanentFailure("upstream must be https (http only with ALLOW_INSECURE_UPSTREAM=true)");
  }
  const violation = hostRuleViolation(env, config);
  if (violation) throw new PermanentFailure(`${violation.code}: ${violation.message}`);
  return config;
}

async function fetchFromControlPlane(env: Env, body: VersionedMessage): Promise<unknown> {
  const raw = await fetchEdgeConfig(env, body.containerId);
  if (raw === null) throw new Error(`control plane has no config for ${body.containerId}`);
  // A read replica may lag behind the webhook: an older version than announced is retried, not applied.
  const version = (raw as { version?: unknown }).version;
  if (typeof version === "number" && version < body.version) {
    throw new Error(`control plane returned v${version}, older than announced v${body.version}`);
  }
  return raw;
}
