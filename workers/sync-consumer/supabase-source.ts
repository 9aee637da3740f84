// Reads a container's EdgeConfig from the control plane (Supabase) when a message carries only
// {containerId, version}. The SQL side is supabase/migrations: the function public.get_edge_config.
import { rpc, type SupabaseEnv } from "../shared/postgrest";

export const EDGE_CONFIG_RPC = "get_edge_config";

/** The raw (unvalidated) EdgeConfig JSON, or null when the control plane does not know the container. */
export function fetchEdgeConfig(env: SupabaseEnv, containerId: string): Promise<unknown> {
  return rpc(env, `reading ${containerId} from Supabase`, EDGE_CONFIG_RPC, { p_container_id: containerId });
}
