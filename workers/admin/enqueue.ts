// Putting config changes on CONFIG_QUEUE. The Durable Object records the desired version first, so a change
// whose message is lost (a failed send) is still re-sent by its drift alarm.

import { containerStub, type RecordResult } from "../../durable/container-state";
import { conflictMessage, type RoutingNames } from "../../durable/routing-keys";
import { registryStub } from "../../durable/routing-registry";
import type { RepairMessage, UpsertMessage, VersionedMessage } from "../../schemas/config-message";
import { EdgeError } from "../shared/errors";
import { jsonBytes, sendBatches } from "../shared/send-batches";

/**
 * Enqueues nothing when the version is not newer than the one applied ("stale") or when `names` (the version's
 * hosts and token, when known) would route a key another container owns ("conflict").
 */
export async function enqueueVersioned(env: Env, message: VersionedMessage, names?: RoutingNames): Promise<RecordResult> {
  const result = await containerStub(env, message.containerId).recordDesired(message, names);
  if (result.status === "accepted") await env.CONFIG_QUEUE.send(message);
  return result;
}

/**
 * An operator's change (PUT): accepted only when its version is newer than the last accepted one and its hosts and
 * token are free or already its own (claimed in the RoutingRegistry, else 409 naming the owner). Returns false
 * for a repeat of the last accepted change (same version, same content: nothing new to queue); throws 409 otherwise.
 */
export async function enqueueChange(env: Env, message: UpsertMessage, names: RoutingNames): Promise<boolean> {
  const { outcome, lastAccepted, conflict } = await containerStub(env, message.containerId).acceptChange(message, names);
  const { containerId, version } = message;
  if (outcome === "key_conflict" && conflict) throw new EdgeError(409, "key_conflict", conflictMessage(conflict));
  if (outcome === "stale") {
    throw new EdgeError(
      409,
      "stale_version",
      `version ${version} is not newer than version ${lastAccepted}, the last one accepted for ${containerId}; send version ${lastAccepted + 1} or higher`,
    );
  }
  if (outcome === "conflict") {
    throw new EdgeError(
      409,
      "version_conflict",
      `version ${version} of ${containerId} was already accepted with different content; send version ${lastAccepted + 1} or higher to change it`,
    );
  }
  if (outcome === "accepted") await env.CONFIG_QUEUE.send(message);
  return outcome === "accepted";
}

/** Whether the control plane ever accepted a version of `containerId`: asks the registry, creates no ContainerState. */
export async function acceptedEver(env: Pick<Env, "ROUTING_REGISTRY">, containerId: string): Promise<boolean> {
  return (await registryStub(env).known([containerId])).length > 0;
}

/**
 * Queues a repair for each container (every container EDGE_CONFIG lists, for "all"). Named containers the control
 * plane never accepted are skipped and counted: a repair of one would only create an empty object.
 */
export async function replayContainers(env: Env, containerIds: string[] | "all"): Promise<{ enqueued: number; skipped: number }> {
  const named = containerIds === "all" ? null : [...new Set(containerIds)];
  const ids = named ? await registryStub(env).known(named) : await listConfiguredContainers(env);
  const messages = ids.map((containerId): { body: RepairMessage } => ({ body: { type: "repair", containerId, source: "replay" } }));
  for (const batch of sendBatches(messages, (message) => jsonBytes(message.body))) await env.CONFIG_QUEUE.sendBatch(batch);
  return { enqueued: ids.length, skipped: named ? named.length - ids.length : 0 };
}

async function listConfiguredContainers(env: Pick<Env, "EDGE_CONFIG">): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.EDGE_CONFIG.list({ cursor });
    ids.push(...page.keys.map((key) => key.name));
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return ids;
}
