// A Worker that runs one piece of the router's warm path `n` times per request, so bench/router-components.mjs
// can read the CPU each piece costs from the workerd process (CPU time of a tight loop is far steadier than
// throughput on a shared 2-core machine). The pieces are the router's own functions, called as traffic.ts does.
import { keeperRule, rewriteSetCookies } from "../workers/router/cookie-keeper";
import { siteCookieDomain } from "../workers/shared/cookie-domain";
import { applyCors } from "../workers/router/cors-response";
import { accessRecord, sendAccessRecord } from "../workers/router/access-log";
import { fetchUpstream } from "../workers/router/upstream-fetch";
import { decodeProxyTarget } from "../workers/router/proxy-target";
import { resolveSite } from "../workers/router/resolve-site";
import { upstreamHeaders } from "../workers/router/upstream-headers";
import { originAllowed } from "../workers/shared/cors";

// The bindings are wrangler.jsonc's, which name this class.
export { ContainerState } from "../durable/container-state";

const UPSTREAM_COOKIES = ["_ga=GA1.1.123456.1700000000; Path=/; Max-Age=604800", "FPID=FPID2.2.abc; Path=/; Max-Age=604800", "other=1; Path=/"];

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    const piece = url.searchParams.get("piece");
    const n = Number(url.searchParams.get("n") ?? "20000");
    const p = url.searchParams.get("p") ?? "";
    // The "plumbing" pieces fetch this loopback upstream for real, one call after the other: what the proxy does
    // around its fetch beyond a fetch with the client's own headers.
    const upstream = url.searchParams.get("upstream") ?? "";
    const site = await resolveSite(request, env, url, Date.now());
    const rule = keeperRule(site.config);
    let sink = 0;
    for (let i = 0; i < n; i++) {
      switch (piece) {
        case "loop":
          sink += i & 1;
          break;
        case "resolve (warm cache)":
          sink += (await resolveSite(request, env, url, Date.now())).path.length;
          break;
        case "upstream headers":
          sink += upstreamHeaders(request, site).has("x-forwarded-host") ? 1 : 0;
          break;
        case "p decode":
          sink += decodeProxyTarget(p)?.length ?? 0;
          break;
        case "Cookie Keeper rewrite (3 Set-Cookie)":
          sink += rewriteSetCookies(UPSTREAM_COOKIES, rule!, siteCookieDomain(site))?.rewrites ?? 0;
          break;
        case "response rebuild + cookies + CORS": {
          const upstream = new Response(null, { status: 204, headers: [["cache-control", "no-store"], ...UPSTREAM_COOKIES.map((c): [string, string] => ["set-cookie", c])] });
          const cookies = rewriteSetCookies(upstream.headers.getSetCookie(), rule!, siteCookieDomain(site));
          const response = new Response(upstream.body, upstream);
          response.headers.delete("Set-Cookie");
          for (const header of cookies!.headers) response.headers.append("Set-Cookie", header);
          const origin = request.headers.get("Origin");
          applyCors(response.headers, origin !== null && originAllowed(origin, site.config) ? origin : null);
          sink += response.status;
          break;
        }
        case "fetch, client headers (reference)":
          sink += (await fetch(upstream, { method: request.method, headers: request.headers, redirect: "manual" })).status;
          break;
        case "fetch, built upstream headers":
          sink += (await fetch(upstream, { method: request.method, headers: upstreamHeaders(request, site), redirect: "manual" })).status;
          break;
        case "fetch, built headers + timeout (the router's fetch)":
          sink += (await fetchUpstream(upstream, { method: request.method, headers: upstreamHeaders(request, site) }, 10_000)).status;
          break;
        case "access record + batched send":
          sendAccessRecord(env, ctx, request, site, { pathClass: "proxy", path: "/g/collect", status: 204, upstreamStatus: 204, cookieRewrites: 2 });
          // About as many records per 50 ms window as the load test produces (~1,100 requests/s).
          if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 60));
          break;
        case "access record":
          sink += accessRecord(request, site, { pathClass: "proxy", path: "/g/collect", status: 204, upstreamStatus: 204, cookieRewrites: 2 }).status;
          break;
      }
    }
    return new Response(String(sink));
  },
};
