// A stand-in for the account-level part of Cloudflare's REST API that `npm run deploy` calls (there is no internet
// here). Shapes as Cloudflare documents them (https://developers.cloudflare.com/api/): every answer is the envelope
// { success, errors: [{ code, message }], messages, result }, and
//   GET/POST /accounts/:account/storage/kv/namespaces        list ({ per_page, page }) / create { title }
//   GET/POST /accounts/:account/queues                       list / create { queue_name }
//   GET/POST /accounts/:account/r2/buckets                   list (result.buckets) / create { name }
//   GET      /accounts/:account/workers/scripts/:name/secrets  the Worker's secret names (404, code 10007, when the
//                                                              Worker does not exist)
// A request without the token, or for another account, gets 403 / 404 as the API answers. Every request is recorded.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";

export async function startCloudflareAccountStandIn({ account = "acc123", token = "stand-in-token" } = {}) {
  /**
   * @type {{
   *   namespaces: { id: string, title: string, supports_url_encoding: boolean }[],
   *   queues: { queue_id: string, queue_name: string, created_on: string }[],
   *   buckets: { name: string, creation_date: string }[],
   *   secrets: Map<string, string[]>,
   *   requests: { method: string | undefined, path: string, body: any }[],
   * }}
   */
  const state = { namespaces: [], queues: [], buckets: [], secrets: new Map(), requests: [] };
  const ok = (result, extra = {}) => ({ status: 200, body: { success: true, errors: [], messages: [], result, ...extra } });
  const fail = (status, code, message) => ({ status, body: { success: false, errors: [{ code, message }], messages: [], result: null } });

  function answer(method, path, query, body) {
    const base = `/client/v4/accounts/${account}`;
    if (!path.startsWith(`${base}/`)) return fail(404, 7003, "Could not route to this path: account not found");
    const rest = path.slice(base.length);
    if (rest === "/storage/kv/namespaces" && method === "GET") {
      const perPage = Number(query.get("per_page") ?? 20);
      const page = Number(query.get("page") ?? 1);
      const slice = state.namespaces.slice((page - 1) * perPage, page * perPage);
      return ok(slice, { result_info: { page, per_page: perPage, count: slice.length, total_count: state.namespaces.length } });
    }
    if (rest === "/storage/kv/namespaces" && method === "POST") {
      if (typeof body?.title !== "string") return fail(400, 10019, "title is required");
      if (state.namespaces.some((n) => n.title === body.title))
        return fail(400, 10014, "a namespace with this account ID and title already exists");
      const namespace = { id: randomUUID().replaceAll("-", ""), title: body.title, supports_url_encoding: true };
      state.namespaces.push(namespace);
      return ok(namespace);
    }
    if (rest === "/queues" && method === "GET") return ok(state.queues);
    if (rest === "/queues" && method === "POST") {
      if (state.queues.some((q) => q.queue_name === body?.queue_name)) return fail(409, 11009, "A queue with this name already exists");
      const queue = { queue_id: randomUUID().replaceAll("-", ""), queue_name: body.queue_name, created_on: new Date().toISOString() };
      state.queues.push(queue);
      return ok(queue);
    }
    if (rest === "/r2/buckets" && method === "GET") return ok({ buckets: state.buckets });
    if (rest === "/r2/buckets" && method === "POST") {
      if (state.buckets.some((b) => b.name === body?.name))
        return fail(409, 10004, "The bucket you tried to create already exists, and you own it.");
      const bucket = { name: body.name, creation_date: new Date().toISOString() };
      state.buckets.push(bucket);
      return ok(bucket);
    }
    const secrets = /^\/workers\/scripts\/([\w-]+)\/secrets$/.exec(rest);
    if (secrets && method === "GET") {
      const names = state.secrets.get(/** @type {string} */ (secrets[1]));
      if (!names) return fail(404, 10007, "This Worker does not exist on your account.");
      return ok(names.map((name) => ({ name, type: "secret_text" })));
    }
    return fail(404, 7003, `No route for that URI: ${method} ${rest}`);
  }

  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const url = new URL(req.url ?? "/", "http://stand-in");
    const text = Buffer.concat(chunks).toString("utf8");
    const body = text ? JSON.parse(text) : undefined;
    state.requests.push({ method: req.method, path: url.pathname, body });
    const reply =
      req.headers.authorization !== `Bearer ${token}`
        ? fail(403, 10000, "Authentication error")
        : answer(req.method, url.pathname, url.searchParams, body);
    // No keep-alive: deploy() runs wrangler synchronously in this process, which blocks this server's event loop for
    // seconds, and a pooled connection whose idle timer fires right after that gets reset under the next request.
    res.writeHead(reply.status, { "Content-Type": "application/json", Connection: "close" });
    res.end(JSON.stringify(reply.body));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  return {
    baseUrl: `http://127.0.0.1:${/** @type {import("node:net").AddressInfo} */ (server.address()).port}/client/v4`,
    account,
    token,
    state,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
