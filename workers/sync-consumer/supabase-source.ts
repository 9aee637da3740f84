// Reads a container's EdgeConfig from the control plane (Supabase) when a message carries only
// {containerId, version}. The SQL side is supabase/migrations: the function public.get_edge_config.
import { createClient } from "@supabase/supabase-js";
import { EdgeError } from "../shared/errors";

export const EDGE_CONFIG_RPC = "get_edge_config";

export function supabaseConfigured(env: Pick<Env, "SUPABASE_URL" | "SUPABASE_SERVICE_ROLE_KEY">): boolean {
  return Boolean(env.SUPABASE_URL && env.SUPABASE_SERVICE_ROLE_KEY);
}

export function supabaseClient(env: Pick<Env, "SUPABASE_URL" | "SUPABASE_SERVICE_ROLE_KEY">) {
  if (!supabaseConfigured(env)) {
    throw new EdgeError(503, "supabase_not_configured", "SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY are not set");
  }
  return createClient(env.SUPABASE_URL, env.SUPABASE_SERVICE_ROLE_KEY, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  });
}

/** The raw (unvalidated) EdgeConfig JSON, or null when the control plane does not know the container. */
export async function fetchEdgeConfig(
  env: Pick<Env, "SUPABASE_URL" | "SUPABASE_SERVICE_ROLE_KEY">,
  containerId: string,
): Promise<unknown> {
  const { data, error } = await supabaseClient(env).rpc(EDGE_CONFIG_RPC, { p_container_id: containerId });
  if (error) throw new EdgeError(502, "supabase_error", `reading ${containerId} from Supabase failed`, error.message);
  return data ?? null;
}
