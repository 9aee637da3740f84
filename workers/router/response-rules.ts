// What the edge changes on the upstream's response before the browser sees it: Cookie Keeper's Set-Cookie rewrites
// the identity proof beside an identity cookie the upstream sets, and the edge's own CORS decision.
import { moduleActive } from "../../schemas/edge-config";
import { identityProofHeld, identityProofSetCookie, identitySetBy } from "../loader/identity-proof";
import { siteCookieDomain } from "../shared/cookie-domain";
import { applyCors, hasUpstreamCors } from "../shared/cors";
import type { Site } from "../shared/site";
import type { Outcome } from "./access-log";
import { keeperRule, rewriteSetCookies } from "./cookie-keeper";

/**
 * The response to send for `upstream`; records the number of rewritten cookies in `outcome`. With cookie restoration
 * active, an identity cookie the upstream sets gets the edge's proof beside it (identity-proof.ts).
 */
export async function applyResponseRules(
  upstream: Response,
  request: Request,
  env: Pick<Env, "EDGE_AUTH_SECRET">,
  site: Site,
  allowedOrigin: string | null,
  outcome: Outcome,
): Promise<Response> {
  const rule = keeperRule(site.config);
  const restoring = moduleActive(site.config, "cookieRestoration");
  const setCookies = rule !== null || restoring ? upstream.headers.getSetCookie() : null;
  const cookies = rule === null || setCookies === null ? null : rewriteSetCookies(setCookies, rule, siteCookieDomain(site));
  const { identityCookie } = site.config;
  let identity = restoring && setCookies !== null ? identitySetBy(setCookies, identityCookie) : null;
  if (identity !== null && identityProofHeld(request.headers.get("Cookie"), identityCookie, identity)) identity = null;
  // Fetched responses have immutable headers; copy only when something has to change (the common collect hit
  // without Origin or cookies streams through as is).
  if (cookies === null && identity === null && allowedOrigin === null && !hasUpstreamCors(upstream.headers)) return upstream;

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
  if (identity !== null) {
    // A hit never fails for the proof: without it the visitor's first backup only waits.
    try {
      response.headers.append("Set-Cookie", await identityProofSetCookie(env, identity, site));
    } catch (error) {
      console.error(JSON.stringify({ event: "identity_proof_failed", containerId: site.containerId, error: String(error) }));
    }
  }
  applyCors(response.headers, allowedOrigin);
  return response;
}
