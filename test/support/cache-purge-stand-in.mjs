// An HTTP stand-in for Cloudflare's purge API, by single-file URL: POST /client/v4/zones/<zone id>/purge_cache with
// JSON { "files": [<url> | { url, headers }] } (API reference "Purge Cached Content", the SDK's `cache.purge`,
// node_modules/cloudflare/resources/cache/cache.d.ts). It answers the v4 envelope { success, errors, messages,
// result: { id } } and refuses what Cloudflare refuses:
//   - no or a wrong `Authorization: Bearer <token>`: 403, code 10000 "Authentication error";
//   - another zone id: 400, code 7003;
//   - `files` missing, empty or not URLs, or a URL whose host is not on the zone: 400 (purge by URL only reaches
//     content cached under the zone's own hostnames);
//   - more than 30 files in one request (Free/Pro/Business; cloudflare/cloudflare-docs#21338, #13619): 400;
//   - more URLs than the account's token bucket holds (developers.cloudflare.com/cache/how-to/purge-cache/
//     #availability-and-limits: Free 800 URLs per second; the bucket here is configurable): 429.
// Error codes other than 10000 and 7003 are not documented for this endpoint; the stand-in uses 1012 for a bad body.
// Tests read what was purged and make the next request fail under `/__stand-in/t/<tenant>/...`; one tenant per test.
// Plain JavaScript with JSDoc: the TypeScript program has Workers types only.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";

const FILES_PER_REQUEST = 30;

/** @typedef {{ purged: string[][], failures: number[], bucket: number, refill: number, at: number }} Tenant */

const envelope = (result) => ({ success: true, errors: [], messages: [], result });
const failure = (code, message) => ({ success: false, errors: [{ code, message }], messages: [], result: null });

/** @param {{ token: string, zoneId: string, zoneName: string, urlsPerSecond?: number }} options */
export async function startCachePurgeStandIn({ token, zoneId, zoneName, urlsPerSecond = 800 }) {
  /** @type {Map<string, Tenant>} */
  const tenants = new Map();
  const tenant = (name) => {
    if (!tenants.has(name)) tenants.set(name, { purged: [], failures: [], bucket: urlsPerSecond, refill: urlsPerSecond, at: Date.now() });
    return /** @type {Tenant} */ (tenants.get(name));
  };
  const onZone = (url) => {
    try {
      const { protocol, hostname } = new URL(url);
      return (protocol === "https:" || protocol === "http:") && (hostname === zoneName || hostname.endsWith(`.${zoneName}`));
    } catch {
      return false;
    }
  };

  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const raw = Buffer.concat(chunks).toString("utf8");
    const send = (status, body) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? "/", "http://stand-in");

    const control = url.pathname.match(/^\/__stand-in\/t\/([^/]+)\/(purged|fail-next|limit)$/);
    if (control) {
      const t = tenant(control[1]);
      if (control[2] === "purged") return send(200, t.purged);
      const body = JSON.parse(raw || "{}");
      if (control[2] === "fail-next") t.failures.push(body.status);
      else Object.assign(t, { bucket: body.urlsPerSecond, refill: body.urlsPerSecond, at: Date.now() });
      return send(200, {});
    }

    const api = url.pathname.match(/^\/t\/([^/]+)\/client\/v4\/zones\/([^/]+)\/purge_cache$/);
    if (!api || req.method !== "POST") return send(404, failure(7000, "No route for that URI"));
    const t = tenant(api[1]);
    if (req.headers.authorization !== `Bearer ${token}`) return send(403, failure(10000, "Authentication error"));
    if (api[2] !== zoneId)
      return send(400, failure(7003, "Could not route to /zones/purge_cache, perhaps your object identifier is invalid?"));
    const injected = t.failures.shift();
    if (injected !== undefined) return send(injected, failure(injected === 429 ? 971 : 10001, "injected failure"));

    let files;
    try {
      files = JSON.parse(raw).files;
    } catch {
      return send(400, failure(1012, 'Request must contain one of "purge_everything", "files", "tags", "hosts" or "prefixes"'));
    }
    const urls = Array.isArray(files) ? files.map((f) => (typeof f === "string" ? f : f?.url)) : [];
    if (urls.length === 0 || urls.some((u) => typeof u !== "string" || !onZone(u))) {
      return send(400, failure(1012, `files: each entry must be a URL on ${zoneName}`));
    }
    if (urls.length > FILES_PER_REQUEST) return send(400, failure(1012, `files: at most ${FILES_PER_REQUEST} URLs per request`));
    const now = Date.now();
    t.bucket = Math.min(t.refill, t.bucket + ((now - t.at) / 1000) * t.refill);
    t.at = now;
    if (urls.length > t.bucket) return send(429, failure(971, "Please wait and consider throttling your request speed"));
    t.bucket -= urls.length;
    t.purged.push(urls);
    return send(200, envelope({ id: randomUUID().replaceAll("-", "") }));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}
