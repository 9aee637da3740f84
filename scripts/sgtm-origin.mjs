// A local stand-in for a server-side GTM container: serves gtm.js and gtag/js, answers /g/collect and sets the FPID and _ga
// cookies a real sGTM sets (with short lifetimes, so Cookie Keeper's extension is visible), plus /echo for tests
// and /demo, a shop page that embeds the loader.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";

// What the page's loader asked for, recorded where a test can read it: the container id, a GTM environment's
// gtm_auth/gtm_preview and the dataLayer name (`l`), as gtm.js and gtag.js read them.
const TAG_PARAMS = { id: "id", auth: "gtm_auth", preview: "gtm_preview", dataLayer: "l" };
const tagJs = (kind, url) => {
  const seen = { kind };
  for (const [key, param] of Object.entries(TAG_PARAMS)) seen[key] = url.searchParams.get(param);
  const layer = seen.dataLayer ?? "dataLayer";
  return `/* stand-in ${kind} for ${seen.id} */
window.__sgtmStandIn = Object.assign(${JSON.stringify(seen)}, { loadedAt: Date.now() });
window[${JSON.stringify(layer)}] = window[${JSON.stringify(layer)}] || [];
${kind === "gtm.js" ? `window[${JSON.stringify(layer)}].push({ event: "gtm.load" });` : ""}
`;
};

// A demo shop page that embeds the loader with a relative URL, so it works behind the Worker on a whole host
// (ss.demo-shop.localhost/demo -> /l/...) and in same-origin mode (shop.localhost/metrics/demo -> /metrics/l/...).
// `?token=` picks another container's loader token (default: the demo shop's).
const demoPage = (token) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Demo shop</title>
<script async src="l/${token}.js"></script></head>
<body><h1>Demo shop</h1><p>The Qaxal loader restores first-party cookies and loads GTM through the edge.</p></body></html>
`;

function handle(req, res, body) {
  const url = new URL(req.url, "http://origin.local");
  const cookies = req.headers.cookie ?? "";
  if (url.pathname === "/gtm.js" || url.pathname === "/gtag/js") {
    res.writeHead(200, { "Content-Type": "text/javascript", "Cache-Control": "no-store" });
    return res.end(tagJs(url.pathname.slice(1), url));
  }
  if (url.pathname === "/demo") {
    const token = url.searchParams.get("token") ?? "lt_demo_shop";
    if (!/^[A-Za-z0-9_-]{6,64}$/.test(token)) {
      res.writeHead(400, { "Content-Type": "text/plain" });
      return res.end("bad token");
    }
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
    return res.end(demoPage(token));
  }
  if (url.pathname === "/g/collect") {
    const setCookies = [];
    if (!/(^|;\s*)FPID=/.test(cookies)) setCookies.push(`FPID=FPID2.2.${randomBytes(9).toString("base64url")}; Path=/; Max-Age=604800`);
    if (!/(^|;\s*)_ga=/.test(cookies))
      setCookies.push(`_ga=GA1.1.${Math.floor(Math.random() * 1e9)}.${Math.floor(Date.now() / 1000)}; Path=/; Max-Age=604800`);
    res.writeHead(204, { "Set-Cookie": setCookies, "Cache-Control": "no-store" });
    return res.end();
  }
  if (url.pathname === "/echo" || url.pathname.startsWith("/echo/")) {
    res.writeHead(200, { "Content-Type": "application/json" });
    return res.end(
      JSON.stringify({ method: req.method, path: url.pathname, search: url.search, headers: req.headers, bodyBytes: body.length }),
    );
  }
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("not found");
}

/** Starts the stand-in on `port` (0 picks a free one) and resolves to { url, close }. */
export function startSgtmOrigin(port = 0, host = "127.0.0.1") {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => handle(req, res, Buffer.concat(chunks)));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const { port: actual } = /** @type {import("node:net").AddressInfo} */ (server.address());
      resolve({ url: `http://${host}:${actual}`, port: actual, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { url } = await startSgtmOrigin(Number(process.env.SGTM_PORT ?? 8790));
  console.log(`stand-in sGTM origin on ${url}`);
}
