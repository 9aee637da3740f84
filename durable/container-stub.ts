// The ContainerState stub without the class: the edge Worker binds ContainerState on the control Worker
// (`script_name`), so edge code must reach it without importing (and bundling) the class and its KV writer.
import type { EdgeConfig } from "../schemas/edge-config";

/**
 * What the edge asks a container's object: its applied config (the fallback origin on a KV miss), and a repair when
 * live traffic missed one of its keys.
 */
export interface ContainerStateReads {
  appliedConfig(containerId: string, fromKvMiss?: boolean): Promise<EdgeConfig | null>;
  kvMiss(containerId: string): Promise<boolean>;
}

export function containerReads(env: { CONTAINER_STATE: DurableObjectNamespace }, containerId: string): ContainerStateReads {
  const namespace = env.CONTAINER_STATE;
  return namespace.get(namespace.idFromName(containerId)) as unknown as ContainerStateReads;
}
