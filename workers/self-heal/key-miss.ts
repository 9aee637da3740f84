// A routing key that live traffic missed in KV (a host the edge found in neither ROUTING_MAP nor SITE_REGISTRY):
// the edge cannot tell whose it is, so it asks here. The owner comes from the control plane's source of truth,
// Supabase (public.edge_key_owner over container_hosts and loader_tokens); the owner's ContainerState then queues
// a repair, which rewrites only what is missing or wrong. Containers managed only through the operator API are not
// in Supabase: for them the owner is unknown here and their keys come back with the daily verification instead.
import * as v from "valibot";
import { containerStub } from "../../durable/container-state";
import { ContainerIdSchema } from "../../schemas/fields";
import { acceptedEver } from "../admin/enqueue";
import type { KeyMissResult } from "../shared/control-calls";
import { rpc, supabaseConfigured } from "../shared/postgrest";

const KEY_OWNER_RPC = "edge_key_owner";
/** Longer than any KV key; what the edge sends is a normalized host, so this only guards the RPC. */
const MAX_KEY_LENGTH = 512;

export async function keyMissed(env: Env, key: string): Promise<KeyMissResult> {
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH || !supabaseConfigured(env)) {
    return { owner: null, queued: false };
  }
  const owner = await rpc(env, `looking up the owner of ${key}`, KEY_OWNER_RPC, { p_key: key });
  if (!v.is(ContainerIdSchema, owner)) return { owner: null, queued: false };
  // An owner Supabase knows but the edge never accepted has nothing to repair: no object is created for it.
  if (!(await acceptedEver(env, owner))) return { owner, queued: false };
  const queued = await containerStub(env, owner).kvMiss(owner);
  if (queued) console.warn(JSON.stringify({ event: "kv_miss_repair", containerId: owner, key }));
  return { owner, queued };
}
