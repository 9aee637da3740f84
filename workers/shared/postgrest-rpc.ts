// Calls a Supabase (PostgREST) function with plain fetch: no client library in Worker code. PostgREST's RPC shape
// (https://postgrest.org/en/stable/references/api/functions.html): POST /rest/v1/rpc/<fn> with the named
// arguments as one JSON object; the answer is the function's value as JSON (an array of rows for a set-returning
// function). Supabase's gateway wants the key twice: `apikey` and `Authorization: Bearer`.
import { EdgeError } from "./errors";

export type SupabaseEnv = Pick<Env, "SUPABASE_URL" | "SUPABASE_SERVICE_ROLE_KEY">;

export function supabaseReady(env: SupabaseEnv): boolean {
  return Boolean(env.SUPABASE_URL && env.SUPABASE_SERVICE_ROLE_KEY);
}

/** Throws 503 when Supabase is not configured and 502 (detail logged, not sent) when PostgREST refuses. */
export async function postgrestRpc<T>(env: SupabaseEnv, fn: string, args: Record<string, unknown>): Promise<T> {
  if (!supabaseReady(env)) {
    throw new EdgeError(503, "supabase_not_configured", "SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY are not set");
  }
  const url = `${env.SUPABASE_URL.replace(/\/+$/, "")}/rest/v1/rpc/${fn}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: {
        apikey: env.SUPABASE_SERVICE_ROLE_KEY,
        Authorization: `Bearer ${env.SUPABASE_SERVICE_ROLE_KEY}`,
        "Content-Type": "application/json",
        Accept: "application/json",
      },
      body: JSON.stringify(args),
    });
  } catch (error) {
    throw new EdgeError(502, "supabase_unreachable", `Supabase RPC ${fn} failed`, error);
  }
  const text = await response.text();
  if (!response.ok) {
    // PostgREST errors are JSON {code, message, details, hint}; keep them for the log only.
    throw new EdgeError(502, "supabase_error", `Supabase RPC ${fn} answered ${response.status}`, text.slice(0, 500));
  }
  try {
    return (text === "" ? null : JSON.parse(text)) as T;
  } catch (error) {
    throw new EdgeError(502, "supabase_error", `Supabase RPC ${fn} answered with invalid JSON`, error);
  }
}
