// An HTTP stand-in for Supabase's PostgREST (/rest/v1), for testing the edge's and the replay tool's
// @supabase/supabase-js call sites. PostgREST itself cannot run here (it needs Docker or a Haskell binary, and
// this machine has neither), so this server answers the subset of PostgREST's API the project uses and refuses,
// the way PostgREST would, requests whose shape differs from what the Supabase docs describe:
//   every request   apikey: <key> and Authorization: Bearer <key> (the service-role key)
//   POST / PATCH    Content-Type: application/json and a JSON body
//   RPC             POST /rest/v1/rpc/<fn> with the arguments as a JSON object (answers set per fn + arguments)
//   select          GET /rest/v1/<table>?select=a,b&<col>=eq.<v>|is.null|in.(a,b)|gt.<v>...&order=<col>.asc&limit&offset
//   insert/upsert   POST /rest/v1/<table>[?on_conflict=<col>] (Prefer: resolution=merge-duplicates to upsert)
//   update          PATCH /rest/v1/<table>?<filters>
// Every request is recorded (method, path, query, headers, body) so tests can assert its shape.
//
// SQL-backed RPC: a tenant may get its own database on a real PostgreSQL 15 cluster (test/support/postgres.mjs,
// started on first use, with a Supabase project's roles and every supabase/migrations file applied). Its RPCs then
// run the real SQL functions the way PostgREST does, as the role the service key stands for (service_role): the
// JSON body's keys are the named arguments (json_to_record with the function's own argument types), a
// set-returning function answers a JSON array of rows, any other its value; a SQL error becomes PostgREST's error
// body with the SQLSTATE as `code`. Only this HTTP layer is stood in; the SQL behind it is the project's own.
//
// State is per tenant: a base URL `<url>/t/<tenant>` (give that to supabase-js as the Supabase URL) has its own
// tables, RPC answers and request log, so tests running in parallel never see each other. The server is driven
// in-process (Node tests) or over HTTP under `/__stand-in/t/<tenant>/...` (Workers-runtime tests, see
// postgrest-stand-in.client.ts).
// Plain JavaScript with JSDoc: the TypeScript program (tsconfig) has Workers types only, no Node types.
import { createServer } from "node:http";
import { applyMigrations, SUPABASE_ROLES_SQL, startPostgres } from "./postgres.mjs";

/** Primary keys of supabase/migrations' tables: the default conflict target of an upsert, as in PostgreSQL. */
const PRIMARY_KEYS = {
  containers: ["id"],
  container_hosts: ["kind", "host"],
  loader_tokens: ["token"],
  container_entitlements: ["container_id", "entitlement"],
  container_modules: ["container_id", "module"],
  edge_outbox: ["id"],
  edge_tombstones: ["container_id"],
  loader_sessions: ["session_id"],
};

/**
 * @typedef {{ method: string, path: string, query: Record<string, string>, search: string,
 *   headers: Record<string, string>, body: unknown }} RecordedRequest  path is relative to the tenant base
 * @typedef {{ status?: number, body?: unknown }} Reply
 * @typedef {{ tables: Map<string, Record<string, unknown>[]>, rpc: Map<string, Reply>, requests: RecordedRequest[],
 *   database: string | null }} Tenant
 */

/** PostgREST's HTTP status for a SQLSTATE (https://postgrest.org/en/stable/references/errors.html), the subset used. */
function statusForSqlState(code) {
  if (code === "42501") return 403; // insufficient privilege (an authenticated role: 403)
  if (code === "42883") return 404; // undefined function
  if (code.startsWith("23")) return code === "23503" || code === "23505" ? 409 : 400;
  if (code === "P0001" || code.startsWith("22")) return 400;
  return 500;
}

/** One throwaway cluster for the whole run, started when the first tenant asks for a database. */
function sqlBackend() {
  /** @type {Promise<{ pg: any }> | null} */
  let ready = null;
  const start = async () => {
    const pg = await startPostgres();
    await pg.exec(SUPABASE_ROLES_SQL);
    await pg.exec("create database stand_in_template");
    await applyMigrations(pg, { database: "stand_in_template" });
    return { pg };
  };
  const cluster = () => (ready ??= start());
  const quote = (text) => `'${String(text).replaceAll("'", "''")}'`;
  return {
    /** A fresh database for `tenant`, cloned from the migrated template. */
    async create(tenant) {
      const { pg } = await cluster();
      const name = `t_${tenant.replaceAll("-", "_")}`;
      await pg.exec(`drop database if exists ${name}; create database ${name} template stand_in_template;`);
      return name;
    },
    async exec(database, sql) {
      const { pg } = await cluster();
      return pg.exec(sql, { database });
    },
    async query(database, sql) {
      const { pg } = await cluster();
      return pg.query(sql, { database });
    },
    /** POST /rest/v1/rpc/<fn> as PostgREST runs it: returns { status, body }. */
    async rpc(database, fn, args) {
      const { pg } = await cluster();
      const [proc] = await pg.query(
        `select p.proretset as "set", pg_get_function_identity_arguments(p.oid) as args
           from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          where n.nspname = 'public' and p.proname = ${quote(fn)}`,
        { database },
      );
      if (!proc) {
        return {
          status: 404,
          body: {
            code: "PGRST202",
            message: `Could not find the function public.${fn}(${Object.keys(args).join(", ")}) in the schema cache`,
            details: null,
            hint: null,
          },
        };
      }
      const declared =
        proc.args === ""
          ? []
          : proc.args.split(", ").map((arg) => {
              const space = arg.indexOf(" ");
              return { name: arg.slice(0, space), type: arg.slice(space + 1) };
            });
      const unknown = Object.keys(args).filter((key) => !declared.some((d) => d.name === key));
      if (unknown.length > 0) {
        return {
          status: 404,
          body: {
            code: "PGRST202",
            message: `Could not find the function public.${fn}(${Object.keys(args).join(", ")}) in the schema cache`,
            details: null,
            hint: null,
          },
        };
      }
      const given = declared.filter((d) => d.name in args);
      const body = JSON.stringify(args);
      if (body.includes("$stand_in$")) throw new PostgrestError(400, "PGRST102", "unsupported body");
      const record =
        given.length === 0
          ? "(select 1) as a"
          : `json_to_record($stand_in$${body}$stand_in$::json) as a(${given.map((d) => `"${d.name}" ${d.type}`).join(", ")})`;
      const call = `public.${fn}(${given.map((d) => `"${d.name}" := a."${d.name}"`).join(", ")})`;
      const sql = proc.set
        ? `select coalesce(json_agg(r), '[]'::json) from ${record}, ${call} as r`
        : `select to_json(${call}) from ${record}`;
      try {
        const out = await pg.exec(`\\set VERBOSITY verbose\nset role service_role;\n${sql};`, { database });
        // psql prints SQL NULL as nothing; PostgREST answers a function's NULL as JSON null.
        const text = out.trim();
        return { status: 200, body: text === "" ? null : JSON.parse(text) };
      } catch (error) {
        const stderr = error instanceof Error && "stderr" in error ? String(error.stderr) : "";
        const match = /ERROR:\s+([0-9A-Z]{5}): ([^\n]*)/.exec(stderr);
        const code = match?.[1] ?? "XX000";
        return {
          status: statusForSqlState(code),
          body: { code, message: match?.[2] ?? (error instanceof Error ? error.message : String(error)), details: null, hint: null },
        };
      }
    },
    async stop() {
      if (ready) await (await ready).pg.stop();
    },
  };
}

/** Same arguments, same key, whatever their order. */
const rpcKey = (fn, args) =>
  `${fn}:${JSON.stringify(Object.fromEntries(Object.entries(args ?? {}).sort(([a], [b]) => a.localeCompare(b))))}`;

class PostgrestError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** PostgREST filter `<op>.<value>` on one column. */
function matches(value, filter) {
  const dot = filter.indexOf(".");
  const [op, operand] = [filter.slice(0, dot), filter.slice(dot + 1)];
  const text = value === null || value === undefined ? null : String(value);
  switch (op) {
    case "eq":
      return text === operand;
    case "neq":
      return text !== operand;
    case "is":
      return operand === "null" ? text === null : text === operand;
    case "in":
      return operand
        .replace(/^\(|\)$/g, "")
        .split(",")
        .includes(text);
    case "gt":
      return text !== null && compare(value, operand) > 0;
    case "gte":
      return text !== null && compare(value, operand) >= 0;
    case "lt":
      return text !== null && compare(value, operand) < 0;
    case "lte":
      return text !== null && compare(value, operand) <= 0;
    default:
      throw new PostgrestError(400, "PGRST100", `unsupported filter operator "${op}"`);
  }
}

function compare(value, operand) {
  return typeof value === "number" ? value - Number(operand) : String(value).localeCompare(operand);
}

const RESERVED_PARAMS = new Set(["select", "order", "limit", "offset", "on_conflict", "columns"]);

function filterRows(rows, query) {
  const filters = Object.entries(query).filter(([key]) => !RESERVED_PARAMS.has(key));
  return rows.filter((row) => filters.every(([column, filter]) => matches(row[column], filter)));
}

function project(rows, select) {
  if (!select || select === "*") return rows;
  const columns = select.split(",").map((c) => c.trim());
  return rows.map((row) => Object.fromEntries(columns.map((c) => [c, row[c] ?? null])));
}

function order(rows, spec) {
  if (!spec) return rows;
  const [column, direction = "asc"] = spec.split(".");
  const sign = direction === "desc" ? -1 : 1;
  return [...rows].sort((a, b) => sign * (a[column] < b[column] ? -1 : a[column] > b[column] ? 1 : 0));
}

function headerProblem(headers, key) {
  if (headers.apikey !== key) return "apikey header missing or not the service-role key";
  if (headers.authorization !== `Bearer ${key}`) return "Authorization: Bearer <service-role key> missing or wrong";
  return null;
}

function preferences(headers) {
  return String(headers.prefer ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
}

/** @param {Tenant} tenant */
async function answerRest(tenant, request, sql) {
  const { method, path, query, headers, body } = request;
  if ((method === "POST" || method === "PATCH") && !String(headers["content-type"] ?? "").startsWith("application/json")) {
    throw new PostgrestError(415, "PGRST107", "Content-Type must be application/json");
  }
  const rpc = /^\/rest\/v1\/rpc\/([A-Za-z_][A-Za-z0-9_]*)$/.exec(path);
  if (rpc) {
    if (method !== "POST") throw new PostgrestError(405, "PGRST101", "call functions with POST and a JSON object body");
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      throw new PostgrestError(400, "PGRST102", "function arguments must be a JSON object");
    }
    const reply = tenant.rpc.get(rpcKey(rpc[1], body));
    if (!reply && tenant.database !== null) return sql.rpc(tenant.database, rpc[1], body);
    if (!reply) {
      throw new PostgrestError(
        404,
        "PGRST202",
        `Could not find the function public.${rpc[1]}(${Object.keys(body).join(", ")}) in the schema cache`,
      );
    }
    return { status: reply.status ?? 200, body: reply.body ?? null };
  }
  const table = /^\/rest\/v1\/([A-Za-z_][A-Za-z0-9_]*)$/.exec(path)?.[1];
  if (!table) throw new PostgrestError(404, "PGRST125", `Invalid path ${path}`);
  if (tenant.database !== null) throw new PostgrestError(501, "PGRST000", "the stand-in serves only RPCs from a tenant's database");
  const rows = tenant.tables.get(table) ?? [];
  tenant.tables.set(table, rows);
  const representation = preferences(headers).includes("return=representation");

  if (method === "GET") {
    let selected = order(filterRows(rows, query), query.order);
    const offset = Number(query.offset ?? 0);
    selected = selected.slice(offset, query.limit === undefined ? undefined : offset + Number(query.limit));
    return { status: 200, body: project(selected, query.select) };
  }
  if (method === "POST") {
    const incoming = Array.isArray(body) ? body : [body];
    const merge = preferences(headers).includes("resolution=merge-duplicates");
    const keys = query.on_conflict ? query.on_conflict.split(",") : (PRIMARY_KEYS[table] ?? ["id"]);
    const sameKey = (a, b) => keys.every((k) => String(a[k]) === String(b[k]));
    for (const [i, row] of incoming.entries()) {
      if (incoming.slice(0, i).some((earlier) => sameKey(earlier, row))) {
        throw new PostgrestError(500, "21000", "ON CONFLICT DO UPDATE command cannot affect row a second time");
      }
    }
    for (const row of incoming) {
      const existing = rows.findIndex((r) => sameKey(r, row));
      if (existing >= 0 && !merge) throw new PostgrestError(409, "23505", `duplicate key value violates unique constraint "${table}_pkey"`);
      if (existing >= 0) rows[existing] = { ...rows[existing], ...row };
      else rows.push({ ...row });
    }
    return { status: 201, body: representation ? incoming : undefined };
  }
  if (method === "PATCH") {
    const changed = filterRows(rows, query);
    for (const row of changed) Object.assign(row, body);
    return { status: representation ? 200 : 204, body: representation ? changed : undefined };
  }
  throw new PostgrestError(405, "PGRST117", `Unsupported HTTP method ${method}`);
}

function requireDatabase(tenant) {
  if (tenant.database === null) throw new Error("this tenant has no database (PUT /__stand-in/t/<tenant>/database first)");
  return tenant.database;
}

/**
 * @param {{ serviceKey: string, port?: number }} options  serviceKey: the only key accepted
 */
export async function startPostgrestStandIn({ serviceKey, port = 0 }) {
  /** @type {Map<string, Tenant>} */
  const tenants = new Map();
  /** @returns {Tenant} */
  const tenantOf = (name) => {
    let tenant = tenants.get(name);
    if (!tenant) {
      tenant = { tables: new Map(), rpc: new Map(), requests: [], database: null };
      tenants.set(name, tenant);
    }
    return tenant;
  };
  const sql = sqlBackend();

  const control = {
    /** Sets what POST /rest/v1/rpc/<fn> answers for exactly these arguments. */
    answerRpc: (tenant, fn, args, reply) => {
      tenantOf(tenant).rpc.set(rpcKey(fn, args), reply);
    },
    /** Replaces a table's rows. */
    setRows: (tenant, table, rows) => {
      tenantOf(tenant).tables.set(
        table,
        rows.map((row) => ({ ...row })),
      );
    },
    rows: (tenant, table) => tenantOf(tenant).tables.get(table) ?? [],
    /** @returns {RecordedRequest[]} */
    requests: (tenant) => tenantOf(tenant).requests,
    /** Gives the tenant its own migrated database: its RPCs run the real SQL functions from then on. */
    useDatabase: async (tenant) => {
      tenantOf(tenant).database = await sql.create(tenant);
    },
    /** Runs SQL in the tenant's database as the superuser (seeding, inspecting); `query` returns rows. */
    sqlExec: (tenant, text) => sql.exec(requireDatabase(tenantOf(tenant)), text),
    sqlQuery: (tenant, text) => sql.query(requireDatabase(tenantOf(tenant)), text),
  };

  const server = createServer(async (req, res) => {
    const send = (status, body) => {
      res.writeHead(status, body === undefined ? {} : { "Content-Type": "application/json; charset=utf-8" });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    try {
      let text = "";
      for await (const chunk of req) text += chunk;
      const url = new URL(req.url ?? "/", "http://stand-in");

      const driven = /^\/__stand-in\/t\/([\w-]+)\/(rpc|tables|requests|database|sql)(?:\/([\w]+))?$/.exec(url.pathname);
      if (driven) {
        const [, tenant, what, name] = driven;
        const input = text ? JSON.parse(text) : undefined;
        if (what === "rpc" && req.method === "PUT") {
          control.answerRpc(tenant, name, input.args, input.reply);
          return send(204);
        }
        if (what === "tables" && req.method === "PUT") {
          control.setRows(tenant, name, input);
          return send(204);
        }
        if (what === "tables" && req.method === "GET") return send(200, control.rows(tenant, name));
        if (what === "requests" && req.method === "GET") return send(200, control.requests(tenant));
        if (what === "database" && req.method === "PUT") {
          await control.useDatabase(tenant);
          return send(204);
        }
        if (what === "sql" && req.method === "POST" && name === "exec")
          return send(200, { output: await control.sqlExec(tenant, input.sql) });
        if (what === "sql" && req.method === "POST" && name === "query") return send(200, await control.sqlQuery(tenant, input.sql));
        return send(404, { error: `no stand-in control ${req.method} ${url.pathname}` });
      }

      const scoped = /^\/t\/([\w-]+)(\/.*)$/.exec(url.pathname);
      if (!scoped)
        return send(404, { code: "PGRST125", message: "use <stand-in>/t/<tenant> as the Supabase URL", details: null, hint: null });
      const tenant = tenantOf(scoped[1]);
      let body = null;
      let invalidJson = false;
      if (text) {
        try {
          body = JSON.parse(text);
        } catch {
          invalidJson = true;
        }
      }
      /** @type {RecordedRequest} */
      const request = {
        method: req.method ?? "GET",
        path: /** @type {string} */ (scoped[2]),
        query: Object.fromEntries(url.searchParams),
        search: url.search,
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
        body: invalidJson ? text : body,
      };
      tenant.requests.push(request);
      const problem = headerProblem(request.headers, serviceKey);
      if (problem) throw new PostgrestError(401, "PGRST301", problem);
      if (invalidJson) throw new PostgrestError(400, "PGRST102", "Empty or invalid json");
      const reply = await answerRest(tenant, request, sql);
      return send(reply.status, reply.body);
    } catch (error) {
      if (error instanceof PostgrestError)
        return send(error.status, { code: error.code, message: error.message, details: null, hint: null });
      return send(500, { code: "XX000", message: String(error), details: null, hint: null });
    }
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(undefined)));
  const url = `http://127.0.0.1:${/** @type {import("node:net").AddressInfo} */ (server.address()).port}`;
  return {
    url,
    /** The Supabase URL for one tenant. */
    supabaseUrl: (tenant) => `${url}/t/${tenant}`,
    ...control,
    close: async () => {
      await new Promise((resolve) => server.close(() => resolve(undefined)));
      await sql.stop();
    },
  };
}
