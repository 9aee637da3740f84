// Drives the PostgREST stand-in (postgrest-stand-in.mjs) over HTTP from Workers-runtime tests: set what an RPC
// answers, seed or read a table, give the tenant a real database, and read the requests the code under test made.
// One tenant per test.
import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    postgrestStandInUrl: string;
  }
}

/** Mirrors STAND_IN_SERVICE_KEY in postgrest-stand-in.global.mjs (a .mjs file the type checker does not read). */
export const STAND_IN_SERVICE_KEY = "stand-in-service-role-key";

interface RecordedRequest {
  method: string;
  /** Relative to the tenant's Supabase URL, e.g. /rest/v1/rpc/get_edge_config. */
  path: string;
  query: Record<string, string>;
  search: string;
  headers: Record<string, string>;
  body: unknown;
}

export function standInTenant(tenant: string) {
  const base = inject("postgrestStandInUrl");
  const controlUrl = `${base}/__stand-in/t/${tenant}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${controlUrl}${path}`, {
      method,
      headers: { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`stand-in ${method} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : res.json();
  };
  return {
    /** The bindings that point the Worker's supabase-js at this tenant. */
    env: { SUPABASE_URL: `${base}/t/${tenant}`, SUPABASE_SERVICE_ROLE_KEY: STAND_IN_SERVICE_KEY },
    answerRpc: (fn: string, args: Record<string, unknown>, reply: { status?: number; body?: unknown }) =>
      call("PUT", `/rpc/${fn}`, { args, reply }),
    setRows: (table: string, rows: Record<string, unknown>[]) => call("PUT", `/tables/${table}`, rows),
    rows: (table: string) => call("GET", `/tables/${table}`) as Promise<Record<string, unknown>[]>,
    requests: () => call("GET", "/requests") as Promise<RecordedRequest[]>,
    /** Gives this tenant its own migrated database on real PostgreSQL: its RPCs then run the real SQL functions. */
    useDatabase: () => call("PUT", "/database"),
    /** SQL in the tenant's database as the superuser: `exec` for statements, `query` for one SELECT's rows. */
    sqlExec: (sql: string) => call("POST", "/sql/exec", { sql }) as Promise<{ output: string }>,
    sqlQuery: <T = Record<string, unknown>>(sql: string) => call("POST", "/sql/query", { sql }) as Promise<T[]>,
  };
}
