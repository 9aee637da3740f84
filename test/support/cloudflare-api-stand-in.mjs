// An HTTP stand-in for Cloudflare's API v4 custom hostname endpoints (Cloudflare for SaaS), for the control Worker's
// customer domains in tests and in the local run (npm start). There is no internet here, so Cloudflare's API cannot
// be reached; this server answers the subset the project uses as Cloudflare does. Sources:
//   shapes     API reference "Custom Hostnames" (developers.cloudflare.com/api/resources/custom_hostnames/), the
//              cloudflare/api-schemas OpenAPI file, and cloudflare-typescript 7.3.0
//              (src/resources/custom-hostnames/custom-hostnames.ts: create/list/get/edit unwrap `result`, delete
//              does not, and its DeleteResponse is `{ id }`)
//   statuses   "Status codes - Custom hostnames" (developers.cloudflare.com/cloudflare-for-platforms/cloudflare-for-saas/
//              reference/status-codes/custom-hostnames/): POST 201, GET/DELETE 200, PATCH 202; errors 1406 duplicate
//              (409), 1407 invalid hostname, 1409 reserved TLD (test, example, invalid, localhost), 1411 example.com/
//              .net/.org, 1432/1433 validation method/type, 1436 not found (404)
//   limits     "Rate limits" (developers.cloudflare.com/fundamentals/api/reference/limits/): 1,200 requests per five
//              minutes per user token; past it every call is 429 for five minutes, with Retry-After (seconds), and
//              every answer carries `Ratelimit: "default";r=<left>;t=<seconds>` and `Ratelimit-Policy`; the 429 body
//              is code 971 "Please wait and consider throttling your request speed" (as seen in the wild)
//   tokens     issue 21: the ownership and certificate TXT tokens are not in the POST's answer; they appear on a GET a
//              few seconds later
// Routes (each refused otherwise, as Cloudflare does):
//   every request        Authorization: Bearer <token> (else 403, code 10000 "Authentication error")
//   POST   .../custom_hostnames          JSON { hostname, ssl: { method, type: "dv", settings? } } → 201
//   GET    .../custom_hostnames          ?hostname= | hostname.exact= | hostname_status= | page= | per_page= (20, ≤ 50)
//   GET    .../custom_hostnames/<id>      the custom hostname; 404 1436 when unknown
//   PATCH  .../custom_hostnames/<id>      { ssl } → 202; the same SSL settings restart a failed validation
//   DELETE .../custom_hostnames/<id>      bare { "id": … } (no envelope)
// State is per tenant: `<url>/t/<tenant>/client/v4` is one tenant's API base (CF_API_BASE), with its own clock, rate
// limit and hostnames. Tests drive it over HTTP under `/__stand-in/t/<tenant>/...` (cloudflare-api-stand-in.client.ts).
// Plain JavaScript with JSDoc: the TypeScript program (tsconfig) has Workers types only, no Node types.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";

/**
 * @typedef {{ method: string, path: string, query: Record<string, string>, headers: Record<string, string>, body: unknown, at: number, status?: number }} RecordedRequest
 * @typedef {{ tokensAfterMs: number, activateAfterMs: number | [number, number] | null, limit: number }} TenantConfig
 * @typedef {{ hostnames: Map<string, any>, requests: RecordedRequest[], failures: { status: number, errors: { code: number, message: string }[], match?: string }[], offsetMs: number, window: { start: number, count: number, blockedUntil: number }, config: TenantConfig }} Tenant
 */

const HOST = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;
const RESERVED_TLDS = ["test", "example", "invalid", "localhost"];
const EXAMPLE_DOMAINS = ["example.com", "example.net", "example.org"];
const SSL_METHODS = ["http", "txt", "email"];
const WINDOW_MS = 5 * 60_000;
const PER_PAGE = 20;
const MAX_PER_PAGE = 50;

class ApiError extends Error {
  /** @param {number} status @param {number} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const envelope = (result, extra = {}) => ({ success: true, errors: [], messages: [], result, ...extra });
const token = () => randomUUID().replaceAll("-", "");

/** The certificate's validation records, as Cloudflare lists them while the certificate is pending. */
function validationRecords(hostname, method) {
  if (method === "txt") return [{ txt_name: `_acme-challenge.${hostname}`, txt_value: token(), status: "pending" }];
  if (method === "http") {
    return [{ http_url: `http://${hostname}/.well-known/acme-challenge/${token()}`, http_body: token(), status: "pending" }];
  }
  return [{ emails: [`hostmaster@${hostname}`], status: "pending" }];
}

function checkHostname(hostname, allowLocalhost) {
  if (typeof hostname !== "string" || !HOST.test(hostname) || /^[\d.]+$/.test(hostname)) {
    throw new ApiError(
      400,
      1407,
      "Invalid custom hostname. Custom hostnames have to be smaller than 256 characters in length, cannot be IP addresses, cannot contain any special characters.",
    );
  }
  const tld = hostname.split(".").at(-1) ?? "";
  if (RESERVED_TLDS.includes(tld) && !(allowLocalhost && tld === "localhost")) {
    throw new ApiError(
      400,
      1409,
      "Reserved top domain custom hostnames, such as 'test', 'example', 'invalid' or 'localhost', is not supported.",
    );
  }
  if (EXAMPLE_DOMAINS.some((d) => hostname === d || hostname.endsWith(`.${d}`))) {
    throw new ApiError(400, 1411, "Custom hostnames ending in example.com, example.net, or example.org are prohibited.");
  }
}

function checkSsl(ssl) {
  if (ssl === null || typeof ssl !== "object" || Array.isArray(ssl)) throw new ApiError(400, 1434, "The SSL attribute is invalid.");
  if (ssl.method !== undefined && !SSL_METHODS.includes(ssl.method))
    throw new ApiError(400, 1432, "The validation method is not supported. Only http, email, or txt are accepted.");
  if (ssl.type !== undefined && ssl.type !== "dv")
    throw new ApiError(400, 1433, "The validation type is not supported. Only 'dv' is accepted.");
  const tls = ssl.settings?.min_tls_version;
  if (tls !== undefined && !["1.0", "1.1", "1.2", "1.3"].includes(tls))
    throw new ApiError(400, 1425, "Invalid min_tls_version setting. Only '1.0','1.1','1.2' or '1.3' is accepted.");
}

/** A new hostname: pending, its certificate initializing, and no TXT tokens yet (they come on a later GET). */
function newHostname(hostname, ssl, now) {
  return {
    id: randomUUID(),
    hostname,
    status: "pending",
    verification_errors: ["custom hostname does not CNAME to this zone."],
    ssl: {
      id: randomUUID(),
      type: "dv",
      method: ssl.method ?? "http",
      status: "initializing",
      settings: ssl.settings ?? {},
      bundle_method: "ubiquitous",
      certificate_authority: "google",
      wildcard: false,
      validation_errors: [],
    },
    created_at: new Date(now).toISOString(),
    /** Stand-in bookkeeping, never answered. */
    _createdAt: now,
    _tokensAt: null,
  };
}

/** A deterministic delay in [min, max] per hostname, so a test's hostnames validate at spread-out times. */
function delayFor(hostname, delay) {
  if (!Array.isArray(delay)) return delay;
  let hash = 0;
  for (const char of hostname) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return delay[0] + (hash % (delay[1] - delay[0] + 1));
}

/** Moves a hostname along by the tenant's clock: tokens a few seconds after creation, then (if set) validation. */
function advance(tenant, found, now) {
  const { tokensAfterMs, activateAfterMs } = tenant.config;
  if (found._tokensAt === null && now - found._createdAt >= tokensAfterMs) {
    found._tokensAt = now;
    found.ownership_verification = { type: "txt", name: `_cf-custom-hostname.${found.hostname}`, value: randomUUID() };
    found.ownership_verification_http = {
      http_url: `http://${found.hostname}/.well-known/cf-custom-hostname-challenge/${randomUUID()}`,
      http_body: randomUUID(),
    };
    found.ssl.status = "pending_validation";
    found.ssl.validation_records = validationRecords(found.hostname, found.ssl.method);
  }
  if (activateAfterMs !== null && found._tokensAt !== null && found.status === "pending") {
    if (now - found._tokensAt >= delayFor(found.hostname, activateAfterMs)) {
      // The customer's records are in place: ownership verified, certificate issued (its records no longer listed).
      found.status = "active";
      found.verification_errors = [];
      found.ssl.status = "active";
      delete found.ssl.validation_records;
    }
  }
  return found;
}

const visible = (found) => Object.fromEntries(Object.entries(found).filter(([key]) => !key.startsWith("_")));

/** @param {Tenant} tenant @param {RecordedRequest} request @param {string} zoneId @param {number} now @param {boolean} allowLocalhost */
function answerApi(tenant, request, zoneId, now, allowLocalhost) {
  const { method, path, query, headers } = request;
  /** @type {any} JSON from the client, checked field by field below */
  const body = request.body;
  const route = /^\/client\/v4\/zones\/([^/]+)\/custom_hostnames(?:\/([^/]+))?$/.exec(path);
  if (!route) throw new ApiError(404, 7000, "No route for that URI");
  if (route[1] !== zoneId) throw new ApiError(400, 7003, `Could not route to ${path}, perhaps your object identifier is invalid?`);
  if ((method === "POST" || method === "PATCH") && !String(headers["content-type"] ?? "").startsWith("application/json")) {
    throw new ApiError(400, 6003, "Invalid request headers");
  }
  const all = [...tenant.hostnames.values()].map((h) => advance(tenant, h, now));
  const id = route[2];
  if (id === undefined) {
    if (method === "GET") {
      const exact = query["hostname.exact"] ?? query.hostname;
      const matching = all.filter(
        (h) => (exact === undefined || h.hostname === exact) && (query.hostname_status === undefined || h.status === query.hostname_status),
      );
      const perPage = Math.min(Math.max(Number(query.per_page ?? PER_PAGE) || PER_PAGE, 5), MAX_PER_PAGE);
      const page = Math.max(Number(query.page ?? 1) || 1, 1);
      const result = matching.slice((page - 1) * perPage, page * perPage).map(visible);
      const total_pages = Math.max(Math.ceil(matching.length / perPage), 1);
      return {
        status: 200,
        body: envelope(result, {
          result_info: { page, per_page: perPage, count: result.length, total_count: matching.length, total_pages },
        }),
      };
    }
    if (method === "POST") {
      if (body === null || typeof body !== "object") throw new ApiError(400, 1400, "Unable to decode the JSON request body.");
      checkHostname(body.hostname, allowLocalhost);
      checkSsl(body.ssl);
      if (all.some((h) => h.hostname === body.hostname)) throw new ApiError(409, 1406, "Duplicate custom hostname found.");
      const created = newHostname(body.hostname, body.ssl, now);
      tenant.hostnames.set(created.id, created);
      return { status: 201, body: envelope(visible(created)) };
    }
    throw new ApiError(405, 10405, `Method ${method} not allowed`);
  }
  const existing = tenant.hostnames.get(id);
  if (!existing) throw new ApiError(404, 1436, "The custom hostname was not found.");
  if (method === "GET") return { status: 200, body: envelope(visible(existing)) };
  if (method === "DELETE") {
    tenant.hostnames.delete(id);
    return { status: 200, body: { id } };
  }
  if (method === "PATCH") {
    if (body === null || typeof body !== "object") throw new ApiError(400, 1400, "Unable to decode the JSON request body.");
    if (body.ssl !== undefined) {
      checkSsl(body.ssl);
      // Sent again, the SSL settings ask for domain control validation to run again.
      if (existing.ssl.status !== "active" && existing._tokensAt !== null) {
        const method = body.ssl.method ?? existing.ssl.method;
        existing.ssl = {
          ...existing.ssl,
          method,
          settings: body.ssl.settings ?? existing.ssl.settings,
          status: "pending_validation",
          validation_errors: [],
          validation_records: validationRecords(existing.hostname, method),
        };
      }
    }
    return { status: 202, body: envelope(visible(existing)) };
  }
  throw new ApiError(405, 10405, `Method ${method} not allowed`);
}

/**
 * @param {{ token: string, zoneId: string, port?: number, host?: string, defaults?: Partial<TenantConfig>, allowLocalhost?: boolean }} options
 *   token: the only API token accepted; defaults: each new tenant's config (tokensAfterMs 3 s, no automatic
 *   validation, the 1,200 requests per five minutes limit); allowLocalhost: accept *.localhost hostnames, which
 *   Cloudflare refuses (1409), so the local run's demo hosts can be tried
 */
export async function startCloudflareApiStandIn({
  token: apiToken,
  zoneId,
  port = 0,
  host = "127.0.0.1",
  defaults = {},
  allowLocalhost = false,
}) {
  /** @type {Map<string, Tenant>} */
  const tenants = new Map();
  /** @returns {Tenant} */
  const tenantOf = (name) => {
    let tenant = tenants.get(name);
    if (!tenant) {
      tenant = {
        hostnames: new Map(),
        requests: [],
        failures: [],
        offsetMs: 0,
        window: { start: 0, count: 0, blockedUntil: 0 },
        config: { tokensAfterMs: 3000, activateAfterMs: null, limit: 1200, ...defaults },
      };
      tenants.set(name, tenant);
    }
    return tenant;
  };
  const clock = (tenant) => Date.now() + tenant.offsetMs;

  /** Moves a hostname along: top-level fields and `ssl` fields merged; an active certificate drops its records. */
  function setState(name, hostname, change) {
    const tenant = tenantOf(name);
    const found = [...tenant.hostnames.values()].find((h) => h.hostname === hostname);
    if (!found) throw new ApiError(404, 1436, `no custom hostname ${hostname}`);
    // A test moving a hostname on means Cloudflare got that far: its tokens exist by then.
    advance(tenant, found, Math.max(clock(tenant), found._createdAt + tenant.config.tokensAfterMs));
    const { ssl, ...top } = change;
    Object.assign(found, top);
    if (ssl) Object.assign(found.ssl, ssl);
    if (found.ssl.status === "active") delete found.ssl.validation_records;
    return visible(found);
  }

  /** Cloudflare's per-token budget: the answer's rate-limit headers, or the 429 that blocks the token. */
  function rateLimit(tenant, now) {
    const w = tenant.window;
    if (now < w.blockedUntil) return { blocked: Math.ceil((w.blockedUntil - now) / 1000) };
    if (now - w.start >= WINDOW_MS) Object.assign(w, { start: now, count: 0 });
    if (w.count >= tenant.config.limit) {
      w.blockedUntil = now + WINDOW_MS;
      return { blocked: WINDOW_MS / 1000 };
    }
    w.count++;
    const reset = Math.ceil((w.start + WINDOW_MS - now) / 1000);
    return {
      headers: {
        Ratelimit: `"default";r=${tenant.config.limit - w.count};t=${reset}`,
        "Ratelimit-Policy": `"default";q=${tenant.config.limit};w=${WINDOW_MS / 1000}`,
      },
    };
  }

  const server = createServer(async (req, res) => {
    /** @param {number} status @param {unknown} body @param {Record<string, string>} [headers] */
    const send = (status, body, headers = {}) => {
      res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", ...headers });
      res.end(JSON.stringify(body));
    };
    /** @type {RecordedRequest | null} */
    let recorded = null;
    /** @type {Record<string, string>} */
    let limitHeaders = {};
    try {
      let text = "";
      for await (const chunk of req) text += chunk;
      const url = new URL(req.url ?? "/", "http://stand-in");

      const driven = /^\/__stand-in\/t\/([\w-]+)\/(hostnames|requests|fail-next|clock|config)(?:\/([^/]+))?$/.exec(url.pathname);
      if (driven) {
        const [, name, what, hostname] = driven;
        const tenant = tenantOf(name);
        const input = text ? JSON.parse(text) : undefined;
        if (what === "hostnames" && req.method === "GET") {
          return send(
            200,
            [...tenant.hostnames.values()].map((h) => visible(advance(tenant, h, clock(tenant)))),
          );
        }
        if (what === "hostnames" && req.method === "PATCH" && hostname)
          return send(200, setState(name, decodeURIComponent(hostname), input));
        if (what === "requests" && req.method === "GET") return send(200, tenant.requests);
        if (what === "fail-next" && req.method === "POST") {
          tenant.failures.push(input);
          return send(200, {});
        }
        if (what === "clock" && req.method === "POST") {
          tenant.offsetMs += Number(input?.advanceMs ?? 0);
          return send(200, { now: clock(tenant) });
        }
        if (what === "clock" && req.method === "GET") return send(200, { now: clock(tenant) });
        if (what === "config" && req.method === "POST") {
          Object.assign(tenant.config, input);
          return send(200, tenant.config);
        }
        return send(404, { error: `no stand-in control ${req.method} ${url.pathname}` });
      }

      const scoped = /^\/t\/([\w-]+)(\/.*)$/.exec(url.pathname);
      if (!scoped) throw new ApiError(404, 7000, "use <stand-in>/t/<tenant>/client/v4 as the API base");
      const tenant = tenantOf(scoped[1]);
      const now = clock(tenant);
      let body = null;
      let invalidJson = false;
      if (text) {
        try {
          body = JSON.parse(text);
        } catch {
          invalidJson = true;
        }
      }
      recorded = {
        method: req.method ?? "GET",
        path: /** @type {string} */ (scoped[2]),
        query: Object.fromEntries(url.searchParams),
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
        body: invalidJson ? text : body,
        at: now,
      };
      tenant.requests.push(recorded);
      if (recorded.headers.authorization !== `Bearer ${apiToken}`) throw new ApiError(403, 10000, "Authentication error");
      const limit = rateLimit(tenant, now);
      if (limit.blocked !== undefined) {
        recorded.status = 429;
        return send(
          429,
          {
            success: false,
            errors: [{ code: 971, message: "Please wait and consider throttling your request speed" }],
            messages: [],
            result: null,
          },
          { "Retry-After": String(limit.blocked) },
        );
      }
      limitHeaders = limit.headers;
      // The next failure queued for this request (one with `match` only for a path containing it).
      const index = tenant.failures.findIndex((f) => f.match === undefined || recorded?.path.includes(f.match));
      const failure = index === -1 ? undefined : tenant.failures.splice(index, 1)[0];
      if (failure) {
        recorded.status = failure.status;
        return send(failure.status, { success: false, errors: failure.errors, messages: [], result: null }, limitHeaders);
      }
      if (invalidJson) throw new ApiError(400, 1400, "Unable to decode the JSON request body.");
      const reply = answerApi(tenant, recorded, zoneId, now, allowLocalhost);
      recorded.status = reply.status;
      return send(reply.status, reply.body, limitHeaders);
    } catch (error) {
      const status = error instanceof ApiError ? error.status : 500;
      if (recorded) recorded.status = status;
      const errors = [
        error instanceof ApiError ? { code: error.code, message: error.message } : { code: 1500, message: "Internal Server Error" },
      ];
      return send(status, { success: false, errors, messages: [], result: null }, limitHeaders);
    }
  });
  await new Promise((resolve) => server.listen(port, host, () => resolve(undefined)));
  const url = `http://${host}:${/** @type {import("node:net").AddressInfo} */ (server.address()).port}`;
  return {
    url,
    close: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  };
}
