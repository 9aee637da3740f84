// GET <loaderPath><token>.js and the ad-block bait file. Every answer is JavaScript, errors included: a page that
// embeds the loader must never get a syntax error from it.
import { reportKvMiss } from "../shared/kv-miss";
import { containerIdOrNull, LocationCache } from "../shared/location-cache";
import type { Site } from "../shared/site";
import { injectedSettings, matchesIfNoneMatch, renderScript, scriptEtag } from "./script";

/** Browsers and Cloudflare's cache may keep the script this long; a config change reaches pages within it. */
const SCRIPT_MAX_AGE_SECONDS = 300;

/** token → containerId (null: unknown) from LOADER_TOKEN_MAP, behind the isolate and location caches, misses included. */
const tokens = new LocationCache<string | null, Env>({
  kind: "token",
  parse: containerIdOrNull,
  load: (env, token) => env.LOADER_TOKEN_MAP.get(token),
});

function javascript(body: string | null, status: number, cacheControl: string, extra: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: {
      "Content-Type": "text/javascript; charset=utf-8",
      "Cache-Control": cacheControl,
      "X-Content-Type-Options": "nosniff",
      ...extra,
    },
  });
}

function tokenContainer(env: Env, token: string): string | null | Promise<string | null> {
  return tokens.get(env, token);
}

const unknownToken = () => javascript("/* unknown loader token */", 404, "public, max-age=60");

export async function serveScript(request: Request, env: Env, ctx: ExecutionContext, site: Site, token: string): Promise<Response> {
  // This host serves only its own container, whose config names its token: any other token (another container's,
  // none's, a junk one) is unknown without asking KV, so random tokens cost no read at all.
  if (token !== site.config.loaderToken) return unknownToken();
  let containerId: string | null;
  try {
    containerId = await tokenContainer(env, token);
  } catch (error) {
    console.error(JSON.stringify({ event: "loader_token_lookup_failed", containerId: site.containerId, error: String(error) }));
    return javascript("/* loader temporarily unavailable */", 503, "no-store");
  }
  // KV has lost this container's own token: serve the script and have the key repaired.
  if (containerId === null) {
    reportKvMiss(env, ctx, site.containerId, `LOADER_TOKEN_MAP:${token}`);
    containerId = site.containerId;
  }
  // KV maps the token to another container: the two disagree until the sync settles; serve nothing meanwhile.
  if (containerId !== site.containerId) return unknownToken();

  const settings = injectedSettings(site);
  const cache = `public, max-age=${SCRIPT_MAX_AGE_SECONDS}`;
  // The body depends on X-Public-Host (the cookie domain), so shared caches must key on it too.
  const validators = { ETag: scriptEtag(site.config.version, settings), Vary: "X-Public-Host" };
  if (matchesIfNoneMatch(request.headers.get("If-None-Match"), validators.ETag)) return javascript(null, 304, cache, validators);
  return javascript(request.method === "HEAD" ? null : renderScript(settings), 200, cache, validators);
}

/** The bait only has to load when nothing blocks it; it is the same for every container, so it caches long. */
export function serveBait(request: Request): Response {
  return javascript(request.method === "HEAD" ? null : "/* */", 200, "public, max-age=86400");
}

/** For tests: forget cached token lookups. */
export function clearTokenCache(): void {
  tokens.clear();
}
