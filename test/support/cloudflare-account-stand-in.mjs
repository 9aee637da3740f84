// A stand-in for the part of Cloudflare's REST API that `npm run deploy` calls through the official SDK (there is no
// internet here; the SDK is pointed at it with `baseURL`). It answers as the API does:
// - Every answer is the v4 envelope { success, errors: [{ code, message }], messages, result } (API reference,
//   https://developers.cloudflare.com/api/ "Envelope"; cloudflare-typescript src/core/error.ts reads `errors`).
// - Page-numbered lists carry result_info { page, per_page, count, total_count, total_pages }, 20 per page unless
//   `per_page` says otherwise (cloudflare-typescript src/core/pagination.ts V4PagePaginationArray: it asks for
//   page + 1 until a page comes back empty). R2's bucket list is cursor-paged instead: result { buckets },
//   result_info { cursor, per_page } (src/resources/r2/buckets/buckets.ts BucketListParams).
// - 429 with `Retry-After` (seconds) once `throttle()` is armed: "1200 requests per five minutes per user … all API
//   calls for the next five minutes will be blocked, receiving a HTTP 429"; "retry-after: the number of seconds,
//   rounded up, until more capacity is available" (developers.cloudflare.com/fundamentals/api/reference/limits/).
// - Error codes: 10042 "Please enable R2 through the Cloudflare Dashboard." on every R2 call of an account without R2
//   (cloudflare/workers-sdk#2877); 10014 duplicate KV namespace title (wrangler 4.86 `kv namespace create` checks it;
//   alchemy-run/distilled patches/cloudflare/kv/createNamespace.json); 10004 bucket exists and 10006 no such bucket
//   (distilled patches/cloudflare/r2/createBucket.json, putBucketLifecycle.json); 10020 duplicate_route when a route
//   pattern is already on the zone (the route uniqueness rule, cloudflare-docs PR #8400, and issue 21's report of
//   `duplicate_route [10020]`); 10007 unknown Worker (distilled patches/cloudflare/workers/putDomain.json); 1404 "No
//   quota has been allocated for this zone" on the custom hostname endpoints of a zone without Cloudflare for SaaS
//   (cloudflare-docs cloudflare-for-saas/reference/status-codes/custom-hostnames.mdx); a fallback origin that was never
//   set is a 404 (distilled's FallbackOriginNotFound matches the status only, so the code here is not Cloudflare's
//   and the deploy keys on the status). A duplicate queue name (11009) and an identical DNS record (81058) have no
//   published code we could cite; the deploy never relies on either (it lists before it creates).
// - Without the token: 403 code 10000 "Authentication error"; an unknown account: 404 code 7003.
// Every request is recorded; `reads()` and `writes()` count them.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";

const id = () => randomUUID().replaceAll("-", "");

/**
 * @typedef {{ id: string, pattern: string, script?: string }} Route
 * @typedef {{ id: string, type: string, name: string, content: string, proxied: boolean, comment?: string }} DnsRecord
 * @typedef {{ id: string, name: string, status: string, account: { id: string }, saas: boolean, universalSsl: boolean,
 *   fallbackOrigin: { origin: string, status: string } | null, routes: Route[], dns: DnsRecord[] }} Zone
 */

export async function startCloudflareAccountStandIn({ account = "acc123", token = "stand-in-token", r2Enabled = true } = {}) {
  const state = {
    r2Enabled,
    /** @type {{ id: string, title: string, supports_url_encoding: boolean }[]} */
    namespaces: [],
    /** @type {{ queue_id: string, queue_name: string, created_on: string }[]} */
    queues: [],
    /** @type {{ name: string, creation_date: string }[]} */
    buckets: [],
    /** @type {Map<string, unknown[]>} bucket → lifecycle rules */
    lifecycle: new Map(),
    /** @type {Map<string, string[]>} Worker → secret names */
    secrets: new Map(),
    /** @type {Zone[]} */
    zones: [],
    /** @type {{ id: string, hostname: string, service: string, environment: string, zone_id: string, zone_name: string }[]} */
    domains: [],
    /** @type {{ method: string, path: string, query: string, body: any, status: number }[]} */
    requests: [],
    throttle: { remaining: 0, retryAfter: 1 },
  };

  const envelope = (result, extra = {}) => ({ success: true, errors: [], messages: [], result, ...extra });
  const ok = (result, extra = {}) => ({ status: 200, body: envelope(result, extra) });
  const fail = (status, code, message) => ({ status, body: { success: false, errors: [{ code, message }], messages: [], result: null } });

  /** @param {unknown[]} items @param {URLSearchParams} query */
  function paged(items, query, { maxPerPage = 1000 } = {}) {
    const perPage = Math.min(Number(query.get("per_page") ?? 20), maxPerPage);
    const page = Number(query.get("page") ?? 1);
    const slice = items.slice((page - 1) * perPage, page * perPage);
    return ok(slice, {
      result_info: {
        page,
        per_page: perPage,
        count: slice.length,
        total_count: items.length,
        total_pages: Math.ceil(items.length / perPage),
      },
    });
  }

  /** The SDK sends nested query params with dots (`name.exact=…`, `account.id=…`: src/internal/utils/query.ts). */
  const param = (query, name) => query.get(name) ?? query.get(`${name}.exact`);

  function accountAnswer(method, rest, query, body) {
    if (rest === "/storage/kv/namespaces" && method === "GET") return paged(state.namespaces, query);
    if (rest === "/storage/kv/namespaces" && method === "POST") {
      if (typeof body?.title !== "string") return fail(400, 10019, "title is required");
      if (state.namespaces.some((n) => n.title === body.title))
        return fail(400, 10014, "a namespace with this account ID and title already exists");
      const namespace = { id: id(), title: body.title, supports_url_encoding: true };
      state.namespaces.push(namespace);
      return ok(namespace);
    }
    if (rest === "/queues" && method === "GET") return paged(state.queues, query);
    if (rest === "/queues" && method === "POST") {
      if (state.queues.some((q) => q.queue_name === body?.queue_name)) return fail(409, 11009, "A queue with this name already exists");
      const queue = { queue_id: id(), queue_name: body.queue_name, created_on: new Date().toISOString() };
      state.queues.push(queue);
      return ok(queue);
    }
    if (rest.startsWith("/r2/")) return r2Answer(method, rest, query, body);
    const secrets = /^\/workers\/scripts\/([\w-]+)\/secrets$/.exec(rest);
    if (secrets && method === "GET") {
      const names = state.secrets.get(/** @type {string} */ (secrets[1]));
      if (!names) return fail(404, 10007, "This Worker does not exist on your account.");
      return ok(names.map((name) => ({ name, type: "secret_text" })));
    }
    if (rest === "/workers/domains" && method === "GET") {
      const filters = ["hostname", "service", "zone_id", "zone_name", "environment"].filter((f) => query.has(f));
      return ok(state.domains.filter((d) => filters.every((f) => d[f] === query.get(f))));
    }
    return null;
  }

  function r2Answer(method, rest, query, body) {
    if (!state.r2Enabled) return fail(403, 10042, "Please enable R2 through the Cloudflare Dashboard.");
    if (rest === "/r2/buckets" && method === "GET") {
      const sorted = [...state.buckets].sort((a, b) => a.name.localeCompare(b.name));
      const perPage = Math.min(Number(query.get("per_page") ?? 20), 1000);
      const after = query.get("cursor") ?? "";
      const rest = sorted.filter((b) => b.name > after);
      const slice = rest.slice(0, perPage);
      const cursor = rest.length > perPage ? /** @type {{ name: string }} */ (slice.at(-1)).name : "";
      return ok({ buckets: slice }, { result_info: { cursor, per_page: perPage } });
    }
    if (rest === "/r2/buckets" && method === "POST") {
      if (state.buckets.some((b) => b.name === body?.name))
        return fail(409, 10004, "The bucket you tried to create already exists, and you own it.");
      const bucket = { name: body.name, creation_date: new Date().toISOString() };
      state.buckets.push(bucket);
      return ok(bucket);
    }
    const lifecycle = /^\/r2\/buckets\/([\w-]+)\/lifecycle$/.exec(rest);
    if (lifecycle) {
      const bucket = /** @type {string} */ (lifecycle[1]);
      if (!state.buckets.some((b) => b.name === bucket)) return fail(404, 10006, "The specified bucket does not exist.");
      if (method === "GET") return ok({ rules: state.lifecycle.get(bucket) ?? [] });
      if (method === "PUT") {
        state.lifecycle.set(bucket, body?.rules ?? []);
        return ok({});
      }
    }
    return null;
  }

  function zoneAnswer(method, zone, rest, query, body) {
    if (rest === "/workers/routes" && method === "GET") return ok(zone.routes);
    if (rest === "/workers/routes" && method === "POST") {
      if (zone.routes.some((r) => r.pattern === body?.pattern)) return fail(409, 10020, "duplicate_route");
      const route = { id: id(), pattern: body.pattern, ...(body.script ? { script: body.script } : {}) };
      zone.routes.push(route);
      return ok(route);
    }
    if (rest === "/dns_records" && method === "GET") {
      const name = param(query, "name");
      const type = query.get("type");
      return paged(
        zone.dns.filter((r) => (!name || r.name === name) && (!type || r.type === type)),
        new URLSearchParams({ per_page: query.get("per_page") ?? "100", page: query.get("page") ?? "1" }),
        { maxPerPage: 5_000_000 },
      );
    }
    if (rest === "/dns_records" && method === "POST") {
      if (zone.dns.some((r) => r.name === body?.name && r.type === body?.type && r.content === body?.content)) {
        return fail(400, 81058, "An identical record already exists.");
      }
      const record = {
        id: id(),
        type: body.type,
        name: body.name,
        content: body.content,
        proxied: Boolean(body.proxied),
        ...(body.comment ? { comment: body.comment } : {}),
      };
      zone.dns.push(record);
      return ok(record);
    }
    if (rest.startsWith("/custom_hostnames") && !zone.saas) {
      return fail(
        403,
        1404,
        "No quota has been allocated for this zone. If you are already a paid Cloudflare for SaaS customer, contact your Customer Success Manager for additional provisioning.",
      );
    }
    // Custom hostnames themselves are test/support/cloudflare-api-stand-in.mjs's; a first deploy reads an empty list.
    if (rest === "/custom_hostnames" && method === "GET") return paged([], query);
    if (rest === "/custom_hostnames/fallback_origin" && method === "GET") {
      if (!zone.fallbackOrigin) return fail(404, 1551, "Fallback origin not found");
      return ok(zone.fallbackOrigin);
    }
    if (rest === "/custom_hostnames/fallback_origin" && method === "PUT") {
      zone.fallbackOrigin = { origin: body?.origin, status: "pending_deployment" };
      return ok(zone.fallbackOrigin);
    }
    if (rest === "/ssl/universal/settings" && method === "GET") return ok({ enabled: zone.universalSsl });
    return null;
  }

  function answer(method, path, query, body) {
    const accountBase = `/client/v4/accounts/${account}`;
    if (path.startsWith(`${accountBase}/`)) return accountAnswer(method, path.slice(accountBase.length), query, body);
    if (path.startsWith("/client/v4/accounts/")) return fail(404, 7003, "Could not route to this path: account not found");
    if (path === "/client/v4/zones" && method === "GET") {
      const name = param(query, "name");
      const owner = query.get("account.id");
      const zones = state.zones.filter((z) => (!name || z.name === name) && (!owner || z.account.id === owner));
      return paged(
        zones.map(({ id, name, status, account }) => ({ id, name, status, account })),
        query,
        { maxPerPage: 50 },
      );
    }
    const zonePath = /^\/client\/v4\/zones\/(\w+)(\/.*)$/.exec(path);
    if (zonePath) {
      const zone = state.zones.find((z) => z.id === zonePath[1]);
      if (!zone) return fail(404, 7003, "Could not route to this path: zone not found");
      return zoneAnswer(method, zone, /** @type {string} */ (zonePath[2]), query, body);
    }
    return null;
  }

  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const url = new URL(req.url ?? "/", "http://stand-in");
    const text = Buffer.concat(chunks).toString("utf8");
    const body = text ? JSON.parse(text) : undefined;
    const method = req.method ?? "GET";
    /** @type {Record<string, string>} */
    const headers = { "Content-Type": "application/json" };
    let reply;
    if (state.throttle.remaining > 0) {
      state.throttle.remaining--;
      reply = fail(429, 971, "Please wait and consider throttling your request speed");
      headers["Retry-After"] = String(state.throttle.retryAfter);
    } else if (req.headers.authorization !== `Bearer ${token}`) {
      reply = fail(403, 10000, "Authentication error");
    } else {
      reply = answer(method, url.pathname, url.searchParams, body) ?? fail(404, 7003, `No route for that URI: ${method} ${url.pathname}`);
    }
    state.requests.push({ method, path: url.pathname, query: url.search, body, status: reply.status });
    // No keep-alive: deploy() runs wrangler synchronously in this process, which blocks this server's event loop for
    // seconds, and a pooled connection whose idle timer fires right after that gets reset under the next request.
    res.writeHead(reply.status, { ...headers, Connection: "close" });
    res.end(JSON.stringify(reply.body));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));

  return {
    baseUrl: `http://127.0.0.1:${/** @type {import("node:net").AddressInfo} */ (server.address()).port}/client/v4`,
    account,
    token,
    state,
    /** A zone on this account, active, with Universal SSL; `saas: false` is a zone without Cloudflare for SaaS. */
    addZone(name, { saas = true } = {}) {
      /** @type {Zone} */
      const zone = {
        id: id(),
        name,
        status: "active",
        account: { id: account },
        saas,
        universalSsl: true,
        fallbackOrigin: null,
        routes: [],
        dns: [],
      };
      state.zones.push(zone);
      return zone;
    },
    /** The next `count` requests answer 429 with `Retry-After: retryAfter`. */
    throttle(count, retryAfter = 1) {
      state.throttle = { remaining: count, retryAfter };
    },
    reads: () => state.requests.filter((r) => r.method === "GET").length,
    writes: () => state.requests.filter((r) => r.method !== "GET").length,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
