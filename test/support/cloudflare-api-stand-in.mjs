// An HTTP stand-in for Cloudflare's API v4 custom hostname endpoints (Cloudflare for SaaS), for testing the control
// Worker's customer domain onboarding. There is no internet here, so Cloudflare's API cannot be reached; this
// server answers the subset the project uses with the request and response shapes of Cloudflare's API reference
// ("Custom Hostnames": create, list, details, edit, delete) and refuses requests shaped otherwise:
//   every request        Authorization: Bearer <token> (else 403, code 10000 "Authentication error")
//                        /zones/<zone id>/custom_hostnames[...] for the one zone it knows (else 400, code 7003)
//   POST   .../custom_hostnames          JSON { hostname, ssl: { method: http|txt|email, type: "dv", settings? } }
//   GET    .../custom_hostnames?hostname= result: array (+ result_info), exact hostname match
//   GET    .../custom_hostnames/<id>      result: the custom hostname; 404 when unknown
//   PATCH  .../custom_hostnames/<id>      JSON { ssl: {...} }; the same SSL settings restart a failed validation
//   DELETE .../custom_hostnames/<id>      result: { id }
// Every answer is the v4 envelope { success, errors: [{ code, message }], messages, result }. A new hostname is
// `pending` (ownership not verified, "custom hostname does not CNAME to this zone.") with its certificate in
// `pending_validation` and the TXT records to publish, as the docs show.
//
// State is per tenant: `<url>/t/<tenant>/client/v4` is one tenant's API base (CF_API_BASE). Tests drive it over HTTP
// under `/__stand-in/t/<tenant>/...` (cloudflare-api-stand-in.client.ts): move a hostname through its states, make
// the next request fail, and read every request made (method, path, query, headers, body).
// Plain JavaScript with JSDoc: the TypeScript program (tsconfig) has Workers types only, no Node types.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";

/**
 * @typedef {{ method: string, path: string, query: Record<string, string>, headers: Record<string, string>, body: unknown }} RecordedRequest
 * @typedef {{ hostnames: Map<string, any>, requests: RecordedRequest[], failures: { status: number, errors: { code: number, message: string }[] }[] }} Tenant
 */

const HOST = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;
const SSL_METHODS = ["http", "txt", "email"];

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

/** The certificate's validation records for TXT DCV, as Cloudflare lists them while the certificate is pending. */
function validationRecords(hostname, method) {
  if (method === "txt") return [{ txt_name: `_acme-challenge.${hostname}`, txt_value: token(), status: "pending" }];
  if (method === "http") {
    return [{ http_url: `http://${hostname}/.well-known/acme-challenge/${token()}`, http_body: token(), status: "pending" }];
  }
  return [{ emails: [`hostmaster@${hostname}`], status: "pending" }];
}

function checkSsl(ssl) {
  if (ssl === null || typeof ssl !== "object" || Array.isArray(ssl)) throw new ApiError(400, 1400, "ssl: must be an object");
  if (ssl.method !== undefined && !SSL_METHODS.includes(ssl.method))
    throw new ApiError(400, 1400, "ssl.method: must be one of http, txt, email");
  if (ssl.type !== undefined && ssl.type !== "dv") throw new ApiError(400, 1400, "ssl.type: must be dv");
  const tls = ssl.settings?.min_tls_version;
  if (tls !== undefined && !["1.0", "1.1", "1.2", "1.3"].includes(tls))
    throw new ApiError(400, 1400, "ssl.settings.min_tls_version: invalid");
}

function newHostname(hostname, ssl) {
  const method = ssl.method ?? "http";
  return {
    id: randomUUID(),
    hostname,
    status: "pending",
    verification_errors: ["custom hostname does not CNAME to this zone."],
    ownership_verification: { type: "txt", name: `_cf-custom-hostname.${hostname}`, value: randomUUID() },
    ownership_verification_http: {
      http_url: `http://${hostname}/.well-known/cf-custom-hostname-challenge/${randomUUID()}`,
      http_body: randomUUID(),
    },
    ssl: {
      id: randomUUID(),
      type: "dv",
      method,
      status: "pending_validation",
      settings: ssl.settings ?? {},
      bundle_method: "ubiquitous",
      certificate_authority: "google",
      wildcard: false,
      validation_records: validationRecords(hostname, method),
      validation_errors: [],
    },
    created_at: new Date().toISOString(),
  };
}

/** @param {Tenant} tenant @param {RecordedRequest} request @param {string} zoneId */
function answerApi(tenant, request, zoneId) {
  const { method, path, query, headers, body } = request;
  const route = /^\/client\/v4\/zones\/([^/]+)\/custom_hostnames(?:\/([^/]+))?$/.exec(path);
  if (!route) throw new ApiError(404, 7000, "No route for that URI");
  if (route[1] !== zoneId) {
    throw new ApiError(400, 7003, `Could not route to ${path}, perhaps your object identifier is invalid?`);
  }
  if ((method === "POST" || method === "PATCH") && !String(headers["content-type"] ?? "").startsWith("application/json")) {
    throw new ApiError(400, 6003, "Invalid request headers: Content-Type must be application/json");
  }
  const id = route[2];
  if (id === undefined) {
    if (method === "GET") {
      const all = [...tenant.hostnames.values()];
      const result = query.hostname ? all.filter((h) => h.hostname === query.hostname) : all;
      return {
        status: 200,
        body: envelope(result, { result_info: { page: 1, per_page: 20, count: result.length, total_count: result.length } }),
      };
    }
    if (method === "POST") {
      if (body === null || typeof body !== "object") throw new ApiError(400, 1400, "body: must be a JSON object");
      if (typeof body.hostname !== "string" || !HOST.test(body.hostname))
        throw new ApiError(400, 1400, "hostname: invalid custom hostname");
      checkSsl(body.ssl);
      if ([...tenant.hostnames.values()].some((h) => h.hostname === body.hostname)) {
        throw new ApiError(409, 1406, "Duplicate custom hostname found.");
      }
      const created = newHostname(body.hostname, body.ssl);
      tenant.hostnames.set(created.id, created);
      return { status: 201, body: envelope(created) };
    }
    throw new ApiError(405, 10405, `Method ${method} not allowed`);
  }
  const existing = tenant.hostnames.get(id);
  if (!existing) throw new ApiError(404, 1436, "The custom hostname was not found.");
  if (method === "GET") return { status: 200, body: envelope(existing) };
  if (method === "DELETE") {
    tenant.hostnames.delete(id);
    return { status: 200, body: envelope({ id }) };
  }
  if (method === "PATCH") {
    if (body === null || typeof body !== "object") throw new ApiError(400, 1400, "body: must be a JSON object");
    if (body.ssl !== undefined) {
      checkSsl(body.ssl);
      const method = body.ssl.method ?? existing.ssl.method;
      // Sent again, the SSL settings ask for domain control validation to run again.
      if (existing.ssl.status !== "active") {
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
    return { status: 200, body: envelope(existing) };
  }
  throw new ApiError(405, 10405, `Method ${method} not allowed`);
}

/**
 * @param {{ token: string, zoneId: string, port?: number }} options  token: the only API token accepted
 */
export async function startCloudflareApiStandIn({ token: apiToken, zoneId, port = 0 }) {
  /** @type {Map<string, Tenant>} */
  const tenants = new Map();
  const tenantOf = (name) => {
    if (!tenants.has(name)) tenants.set(name, { hostnames: new Map(), requests: [], failures: [] });
    return tenants.get(name);
  };

  /** Moves a hostname along: top-level fields and `ssl` fields merged; an active certificate drops its records. */
  function setState(tenant, hostname, change) {
    const found = [...tenantOf(tenant).hostnames.values()].find((h) => h.hostname === hostname);
    if (!found) throw new ApiError(404, 1436, `no custom hostname ${hostname}`);
    const { ssl, ...top } = change;
    Object.assign(found, top);
    if (ssl) Object.assign(found.ssl, ssl);
    if (found.ssl.status === "active") delete found.ssl.validation_records;
    return found;
  }

  const server = createServer(async (req, res) => {
    const send = (status, body) => {
      res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" });
      res.end(JSON.stringify(body));
    };
    try {
      let text = "";
      for await (const chunk of req) text += chunk;
      const url = new URL(req.url ?? "/", "http://stand-in");

      const driven = /^\/__stand-in\/t\/([\w-]+)\/(hostnames|requests|fail-next)(?:\/([^/]+))?$/.exec(url.pathname);
      if (driven) {
        const [, tenant, what, name] = driven;
        const input = text ? JSON.parse(text) : undefined;
        if (what === "hostnames" && req.method === "GET") return send(200, [...tenantOf(tenant).hostnames.values()]);
        if (what === "hostnames" && req.method === "PATCH" && name) return send(200, setState(tenant, decodeURIComponent(name), input));
        if (what === "requests" && req.method === "GET") return send(200, tenantOf(tenant).requests);
        if (what === "fail-next" && req.method === "POST") {
          tenantOf(tenant).failures.push(input);
          return send(200, {});
        }
        return send(404, { error: `no stand-in control ${req.method} ${url.pathname}` });
      }

      const scoped = /^\/t\/([\w-]+)(\/.*)$/.exec(url.pathname);
      if (!scoped) throw new ApiError(404, 7000, "use <stand-in>/t/<tenant>/client/v4 as the API base");
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
        path: scoped[2],
        query: Object.fromEntries(url.searchParams),
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
        body: invalidJson ? text : body,
      };
      tenant.requests.push(request);
      if (request.headers.authorization !== `Bearer ${apiToken}`) throw new ApiError(403, 10000, "Authentication error");
      const failure = tenant.failures.shift();
      if (failure) return send(failure.status, { success: false, errors: failure.errors, messages: [], result: null });
      if (invalidJson) throw new ApiError(400, 6007, "Malformed JSON in request body");
      const reply = answerApi(tenant, request, zoneId);
      return send(reply.status, reply.body);
    } catch (error) {
      if (error instanceof ApiError) {
        return send(error.status, { success: false, errors: [{ code: error.code, message: error.message }], messages: [], result: null });
      }
      return send(500, { success: false, errors: [{ code: 10001, message: String(error) }], messages: [], result: null });
    }
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    close: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  };
}
