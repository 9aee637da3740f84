// Supabase's PostgREST API with plain fetch: the two calls the control Worker makes (an RPC and an upsert) do not
// need supabase-js, which would be most of the bundle. Request shapes as PostgREST documents them
// (https://docs.postgrest.org/en/stable/references/api.html): RPC is POST /rest/v1/rpc/<fn> with the arguments as a
// JSON object; an upsert is POST /rest/v1/<table>?on_conflict=<cols> with `Prefer: resolution=merge-duplicates`.
import { EdgeError } from "./errors";

/** The two settings, spelled out rather than picked from the Workers' generated `Env`: Node-side tests import this too. */
export type SupabaseEnv = { SUPABASE_URL: string; SUPABASE_SERVICE_ROLE_KEY: string };

export function supabaseConfigured(env: SupabaseEnv): boolean {
  return Boolean(env.SUPABASE_URL && env.SUPABASE_SERVICE_ROLE_KEY);
}

/** `what` names the call in the public error message ("reading shop1 from Supabase"). */
async function postgrest(env: SupabaseEnv, what: string, path: string, body: unknown, prefer?: string): Promise<Response> {
  if (!supabaseConfigured(env)) {
    throw new EdgeError(503, "supabase_not_configured", "SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY are not set");
  }
  const key = env.SUPABASE_SERVICE_ROLE_KEY;
  const headers: Record<string, string> = { apikey: key, Authorization: `Bearer ${key}`, "Content-Type": "application/json" };
  if (prefer) headers.Prefer = prefer;
  let response: Response;
  try {
    response = await fetch(`${env.SUPABASE_URL.replace(/\/+$/, "")}/rest/v1/${path}`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
    });
  } catch (error) {
    throw new EdgeError(502, "supabase_error", `${what} failed`, `${path}: ${String(error)}`);
  }
  if (!response.ok) {
    // PostgREST errors are JSON { code, message, details, hint }; the text is for logs only.
    throw new EdgeError(502, "supabase_error", `${what} failed`, `${path}: ${response.status} ${await response.text()}`);
  }
  return response;
}

/** Calls a SQL function; its JSON result (null when it returns NULL). */
export async function rpc(env: SupabaseEnv, what: string, fn: string, args: Record<string, unknown>): Promise<unknown> {
  const text = await (await postgrest(env, what, `rpc/${fn}`, args)).text();
  return text === "" ? null : JSON.parse(text);
}

/** Inserts rows, updating those whose `onConflict` columns already exist. */
export async function upsert(env: SupabaseEnv, what: string, table: string, rows: readonly object[], onConflict: string): Promise<void> {
  const query = `on_conflict=${encodeURIComponent(onConflict)}`;
  const response = await postgrest(env, what, `${table}?${query}`, rows, "resolution=merge-duplicates,return=minimal");
  await response.body?.cancel();
}
