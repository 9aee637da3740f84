// Putting config changes on CONFIG_QUEUE. The Durable Object records the desired version first, so a change
// whose message is lost (a failed send) is still re-sent by its drift alarm.
import type { RepairMessage, VersionedMessage } from "../../schemas/config-message";
import { containerStub } from "../../durable/container-state";

/** Returns false (and enqueues nothing) when the version is not newer than the one applied. */
export async function enqueueVersioned(env: Env, message: VersionedMessage): Promise<boolean> {
  const { accepted } = await containerStub(env, message.containerId).recordDesired(message);
  if (accepted) await env.CONFIG_QUEUE.send(message);
  return accepted;
}

/** Queues a repair for each container (every container EDGE_CONFIG lists, for "all"). Returns the count. */
export async function replayContainers(env: Env, containerIds: string[] | "all"): Promise<number> {
  const ids = containerIds === "all" ? await listConfiguredContainers(env) : [...new Set(containerIds)];
  for (let i = 0; i < ids.length; i += 100) {
    const chunk = ids.slice(i, i + 100).map((containerId): { body: RepairMessage } => ({
      body: { type: "repair", containerId, source: "replay" },
    }));
    await env.CONFIG_QUEUE.sendBatch(chunk);
  }
  return ids.length;
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
