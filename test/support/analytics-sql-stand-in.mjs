// A stand-in for Cloudflare's Workers Analytics Engine SQL API, which cannot run here (no Cloudflare account, no
// network). It answers at the HTTP boundary with the documented shapes:
//   POST <base>/client/v4/accounts/<account_id>/analytics_engine/sql
//   Authorization: Bearer <token>; body: the SQL text; answer (FORMAT JSON, the default): { meta, data, rows }
//   with 64-bit integers as strings, as ClickHouse's JSON format gives them.
// Data points are loaded by the test (POST <base>/__points), and the SQL is evaluated by a small interpreter of
// the dialect's subset the edge uses: SELECT … FROM <dataset> WHERE … [GROUP BY] [ORDER BY] [LIMIT], with SUM,
// MAX, IF, IN, comparisons, + and *, toDateTime, toStartOfInterval(… INTERVAL 'n' SECOND), toUnixTimestamp and
// quantileExactWeighted(q)(x, w) (the first value whose cumulative weight reaches q of the total).
// Sampling as AE does it (https://developers.cloudflare.com/analytics/analytics-engine/sampling/): a stored row stands
// for `_sample_interval` points written; loading with `sampleInterval: k` keeps one point in k per index and
// stamps it k, so only SUM(_sample_interval * x) gives back the written totals.
// Each test uses its own tenant: base = <url>/t/<tenant>.
import { createServer } from "node:http";

const STAND_IN_ANALYTICS_TOKEN = "stand-in-analytics-token";

// ---- a tiny SQL expression parser ----

function tokenize(sql) {
  const tokens = [];
  const re = /\s*(?:(\d+(?:\.\d+)?)|'((?:[^'\\]|\\.)*)'|([A-Za-z_][A-Za-z0-9_]*)|(>=|<=|!=|[(),*+\-=<>/]))/y;
  while (/\S/.test(sql.slice(re.lastIndex))) {
    const m = re.exec(sql);
    if (!m) break;
    if (m[1] !== undefined) tokens.push({ t: "num", v: Number(m[1]) });
    else if (m[2] !== undefined) tokens.push({ t: "str", v: m[2].replace(/\\(.)/g, "$1") });
    else if (m[3] !== undefined) tokens.push({ t: "id", v: m[3] });
    else tokens.push({ t: "op", v: m[4] });
  }
  return tokens;
}

class Parser {
  constructor(tokens) {
    this.tokens = tokens;
    this.i = 0;
  }
  peek(v) {
    const t = this.tokens[this.i];
    return t && (v === undefined || (t.t !== "str" && String(t.v).toUpperCase() === v.toUpperCase())) ? t : undefined;
  }
  take(v) {
    const t = this.peek(v);
    if (!t) throw new Error(`expected ${v ?? "token"} at ${this.i}: ${JSON.stringify(this.tokens.slice(this.i, this.i + 4))}`);
    this.i += 1;
    return t;
  }
  expr() {
    let e = this.and();
    while (this.peek("OR")) {
      this.take();
      e = { op: "OR", left: e, right: this.and() };
    }
    return e;
  }
  and() {
    let e = this.cmp();
    while (this.peek("AND")) {
      this.take();
      e = { op: "AND", left: e, right: this.cmp() };
    }
    return e;
  }
  cmp() {
    const left = this.add();
    for (const op of [">=", "<=", "!=", "=", ">", "<"])
      if (this.peek(op)) {
        this.take();
        return { op, left, right: this.add() };
      }
    if (this.peek("IN")) {
      this.take();
      this.take("(");
      const list = [this.expr()];
      while (this.peek(",")) {
        this.take();
        list.push(this.expr());
      }
      this.take(")");
      return { op: "IN", left, list };
    }
    return left;
  }
  add() {
    let e = this.mul();
    while (this.peek("+") || this.peek("-")) e = { op: this.take().v, left: e, right: this.mul() };
    return e;
  }
  mul() {
    let e = this.primary();
    while (this.peek("*") || this.peek("/")) e = { op: this.take().v, left: e, right: this.primary() };
    return e;
  }
  primary() {
    const t = this.take();
    if (t.t === "num" || t.t === "str") return { lit: t.v };
    if (t.v === "(") {
      const e = this.expr();
      this.take(")");
      return e;
    }
    if (t.t === "id" && t.v.toUpperCase() === "INTERVAL") {
      const n = Number(this.take().v);
      const unit = this.take().v.toUpperCase();
      return { lit: n * { SECOND: 1, MINUTE: 60, HOUR: 3600, DAY: 86400 }[unit] };
    }
    if (t.t === "id" && this.peek("(")) {
      const args = this.args();
      const params = this.peek("(") ? this.args() : null; // quantileExactWeighted(q)(x, w)
      return params ? { fn: t.v, params: args, args: params } : { fn: t.v, args };
    }
    return { col: t.v };
  }
  args() {
    this.take("(");
    const args = [];
    if (!this.peek(")")) {
      args.push(this.expr());
      while (this.peek(",")) {
        this.take();
        args.push(this.expr());
      }
    }
    this.take(")");
    return args;
  }
}

const AGGREGATES = new Set(["sum", "max", "quantileexactweighted"]);

function isAggregate(e) {
  if (!e || typeof e !== "object") return false;
  if (e.fn && AGGREGATES.has(e.fn.toLowerCase())) return true;
  return [e.left, e.right, ...(e.args ?? []), ...(e.list ?? [])].some(isAggregate);
}

function evalRow(e, row) {
  if ("lit" in e) return e.lit;
  if ("col" in e) {
    if (!(e.col in row)) throw new Error(`unknown column ${e.col}`);
    return row[e.col];
  }
  if (e.fn) {
    const fn = e.fn.toLowerCase();
    const a = e.args.map((x) => evalRow(x, row));
    if (fn === "if") return a[0] ? a[1] : a[2];
    if (fn === "todatetime") return a[0] * 1000;
    if (fn === "tounixtimestamp") return Math.floor(a[0] / 1000);
    if (fn === "tostartofinterval") return Math.floor(a[0] / (a[1] * 1000)) * a[1] * 1000;
    throw new Error(`unsupported function ${e.fn}`);
  }
  const l = evalRow(e.left, row);
  if (e.op === "IN") return e.list.some((x) => evalRow(x, row) === l);
  if (e.op === "AND") return Boolean(l) && Boolean(evalRow(e.right, row));
  if (e.op === "OR") return Boolean(l) || Boolean(evalRow(e.right, row));
  const r = evalRow(e.right, row);
  switch (e.op) {
    case ">=":
      return l >= r;
    case "<=":
      return l <= r;
    case ">":
      return l > r;
    case "<":
      return l < r;
    case "=":
      return l === r;
    case "!=":
      return l !== r;
    case "+":
      return l + r;
    case "-":
      return l - r;
    case "*":
      return l * r;
    case "/":
      return l / r;
  }
  throw new Error(`unsupported operator ${e.op}`);
}

function evalGroup(e, rows) {
  if (e.fn && e.fn.toLowerCase() === "sum") return rows.reduce((sum, row) => sum + Number(evalRow(e.args[0], row)), 0);
  if (e.fn && e.fn.toLowerCase() === "max") return Math.max(...rows.map((row) => Number(evalRow(e.args[0], row))));
  if (e.fn && e.fn.toLowerCase() === "quantileexactweighted") {
    const q = evalRow(e.params[0], {});
    const pairs = rows.map((row) => [evalRow(e.args[0], row), evalRow(e.args[1], row)]).sort((a, b) => a[0] - b[0]);
    const total = pairs.reduce((s, p) => s + p[1], 0);
    let seen = 0;
    for (const [value, weight] of pairs) {
      seen += weight;
      if (seen >= q * total) return value;
    }
    return null;
  }
  if (!isAggregate(e)) return evalRow(e, rows[0]);
  const l = evalGroup(e.left, rows);
  const r = evalGroup(e.right, rows);
  return evalRow({ op: e.op, left: { lit: l }, right: { lit: r } }, {});
}

/** Splits "a, f(b, c) AS x" at top-level commas. */
function splitTop(text) {
  const parts = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === "'" && text[i - 1] !== "\\") quoted = !quoted;
    if (quoted) continue;
    if (c === "(") depth += 1;
    if (c === ")") depth -= 1;
    if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}

function runQuery(sql, datasets) {
  const m =
    /^\s*SELECT\s+(.+?)\s+FROM\s+(\w+)(?:\s+WHERE\s+(.+?))?(?:\s+GROUP BY\s+(\w+))?(?:\s+ORDER BY\s+(\w+)(\s+DESC)?)?(?:\s+LIMIT\s+(\d+))?\s*$/is.exec(
      sql,
    );
  if (!m) throw new Error("unsupported query");
  const [, selectList, dataset, where, groupBy, orderBy, desc, limit] = m;
  const columns = splitTop(selectList).map((item) => {
    const alias = /^(.*)\s+AS\s+(\w+)$/is.exec(item);
    return { name: alias ? alias[2] : item, expr: new Parser(tokenize(alias ? alias[1] : item)).expr() };
  });
  const condition = where ? new Parser(tokenize(where)).expr() : null;
  const rows = (datasets.get(dataset) ?? []).filter((row) => !condition || evalRow(condition, row));
  let groups;
  if (groupBy) {
    const key = columns.find((c) => c.name === groupBy);
    if (!key) throw new Error(`GROUP BY ${groupBy} is not a selected column`);
    const map = new Map();
    for (const row of rows) {
      const k = evalRow(key.expr, row);
      if (!map.has(k)) map.set(k, []);
      map.get(k).push(row);
    }
    groups = [...map.values()];
  } else {
    groups = columns.some((c) => isAggregate(c.expr)) ? [rows] : rows.map((row) => [row]);
  }
  let data = groups.filter((g) => g.length > 0).map((g) => Object.fromEntries(columns.map((c) => [c.name, evalGroup(c.expr, g)])));
  if (orderBy) data.sort((a, b) => (a[orderBy] < b[orderBy] ? -1 : a[orderBy] > b[orderBy] ? 1 : 0) * (desc ? -1 : 1));
  if (limit) data = data.slice(0, Number(limit));
  // ClickHouse's JSON format quotes 64-bit integers: a SUM over integers (_sample_interval) is a UInt64.
  const type = (c) =>
    c.expr.fn?.toLowerCase() === "sum" && data.every((row) => Number.isInteger(row[c.name]))
      ? "UInt64"
      : typeof data[0]?.[c.name] === "string"
        ? "String"
        : "Float64";
  const types = Object.fromEntries(columns.map((c) => [c.name, type(c)]));
  const encoded = data.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, types[k] === "UInt64" ? String(v) : v])));
  return {
    meta: columns.map((c) => ({ name: c.name, type: types[c.name] })),
    data: encoded,
    rows: encoded.length,
    rows_before_limit_at_least: groups.length,
  };
}

// ---- the HTTP server ----

async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startAnalyticsSqlStandIn() {
  /** tenant → { datasets: Map<name, rows[]>, requests: [] } */
  const tenants = new Map();
  const tenant = (name) => {
    if (!tenants.has(name)) tenants.set(name, { datasets: new Map(), written: new Map(), requests: [], failWith: null });
    return tenants.get(name);
  };
  const server = createServer(async (req, res) => {
    const m = /^\/t\/([\w-]+)(\/.*)$/.exec(req.url ?? "");
    const send = (status, value, type = "application/json") => {
      res.writeHead(status, { "Content-Type": type });
      res.end(typeof value === "string" ? value : JSON.stringify(value));
    };
    if (!m) return send(404, { error: "no tenant" });
    const t = tenant(m[1] ?? "");
    const path = m[2] ?? "";
    const text = await body(req);
    if (path === "/__points" && req.method === "POST") {
      // { dataset, sampleInterval?, points: [{ timestamp (epoch ms), indexes: [..], blobs: [..], doubles: [..] }] }
      const { dataset, points, sampleInterval = 1 } = JSON.parse(text);
      const rows = t.datasets.get(dataset) ?? [];
      const seen = t.written;
      for (const p of points) {
        const index = p.indexes?.[0] ?? "";
        const key = `${dataset}\n${index}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        if ((seen.get(key) - 1) % sampleInterval !== 0) continue;
        const row = { dataset, timestamp: p.timestamp, _sample_interval: sampleInterval, index1: index };
        for (let i = 1; i <= 20; i += 1) {
          row[`blob${i}`] = p.blobs?.[i - 1] ?? "";
          row[`double${i}`] = p.doubles?.[i - 1] ?? 0;
        }
        rows.push(row);
      }
      t.datasets.set(dataset, rows);
      return send(200, { stored: rows.length });
    }
    if (path === "/__requests") return send(200, t.requests);
    if (path === "/__fail" && req.method === "POST") {
      t.failWith = JSON.parse(text);
      return send(200, { ok: true });
    }
    const sql = /^\/client\/v4\/accounts\/([^/]+)\/analytics_engine\/sql$/.exec(path);
    if (!sql) return send(404, { error: "not an endpoint of the stand-in" });
    t.requests.push({
      method: req.method,
      account: sql[1] ?? "",
      authorization: req.headers.authorization ?? null,
      contentType: req.headers["content-type"] ?? null,
      body: text,
    });
    if (req.method !== "POST") return send(405, "method not allowed", "text/plain");
    if (req.headers.authorization !== `Bearer ${STAND_IN_ANALYTICS_TOKEN}`) return send(401, "Authentication error", "text/plain");
    if (t.failWith) return send(t.failWith.status, t.failWith.body, "text/plain");
    try {
      return send(200, runQuery(text, t.datasets));
    } catch (error) {
      return send(422, `Query error: ${error instanceof Error ? error.message : String(error)}`, "text/plain");
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve(undefined))) };
}
