// What the edge changes on the upstream's response before the browser sees it: Cookie Keeper's Set-Cookie rewrites
// and the edge's own CORS decision.
import { siteCookieDomain } from "../shared/cookie-domain";
import { applyCors, hasUpstreamCors } from "../shared/cors";
import type { Site } from "../shared/site";
import type { Outcome } from "./access-log";
import { keeperRule, rewriteSetCookies } from "./cookie-keeper";

/** The response to send for `upstream`; records the number of rewritten cookies in `outcome`. */
export function applyResponseRules(upstream: Response, site: Site, allowedOrigin: string | null, outcome: Outcome): Response {
  const rule = keeperRule(site.config);
  const cookies = rule === null ? null : rewriteSetCookies(upstream.headers.getSetCookie(), rule, siteCookieDomain(site));
  // Fetched responses have immutable headers; copy only when something has to change (the common collect hit
  // without Origin or cookies streams through as is).
  if (cookies === null && allowedOrigin === null && !hasUpstreamCors(upstream.headers)) return upstream;

  const response = new Response(upstream.body, upstream);
  if (cookies !== null) {
    response.headers.delete("Set-Cookie");
    for (const header of cookies.headers) response.headers.append("Set-Cookie", header);
    outcome.cookieRewrites = cookies.rewrites;
    if (cookies.overBound > 0) {
      console.warn(
        JSON.stringify({
          event: "cookie_keeper_bound",
          containerId: site.containerId,
          rewritten: cookies.rewrites,
          passedThrough: cookies.overBound,
        }),
      );
    }
  }
  applyCors(response.headers, allowedOrigin);
  return response;
}
