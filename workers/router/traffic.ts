// Live traffic on customer hosts (CONTRACT.md "Live traffic"): resolve the container, answer preflights and loader
// paths at the edge, proxy everything else to the container's upstream, and log one access record per request.
import { BOOT_PATH, DETECTION_PATH, handleLoader } from "../loader/handler";
import { type BotVerdict, botVerdict } from "../shared/bot-verdict";
import { clientKey, overLimit, tooManyRequests } from "../shared/client-limit";
import { allowedOriginOf, errorCorsHeaders, preflightResponse, withLoaderCors } from "../shared/cors";
import { EdgeError, errorResponse } from "../shared/errors";
import type { Site } from "../shared/site";
import { type Outcome, type PathClass, sendAccessRecord } from "./access-log";
import { blockedBotResponse } from "./blocked-bot";
import { reportHostMiss } from "./host-miss";
import { decodeProxyTarget } from "./proxy-target";
import { forwardedBody, unsendableHeader } from "./request-checks";
import { type RequestModules, requestModules } from "./request-modules";
import { resolveSite } from "./resolve-site";
import { applyResponseRules } from "./response-rules";
import { fetchUpstream, upstreamTimeoutMs } from "./upstream-fetch";
import { upstreamHeaders } from "./upstream-headers";

const PROXY_METHODS = new Set(["GET", "HEAD", "POST"]);

export async function handleTraffic(request: Request, env: Env, ctx: ExecutionContext, url: URL): Promise<Response> {
  const startedAt = Date.now();
  let site: Site;
  try {
    site = await resolveSite(request, env, url, startedAt);
  } catch (error) {
    // No container: nothing to attribute a record to, so unknown hosts are not logged. KV may have lost the host.
    // A client that keeps asking for unknown hosts is bounded (only here: a known host never pays for the check).
    if (error instanceof EdgeError && error.code === "unknown_host") {
      if (await overLimit(env.UNKNOWN_HOST_LIMITER, clientKey(request))) return tooManyRequests();
      reportHostMiss(env, ctx, request, url);
    }
    return errorResponse(error);
  }

  // The trusted Origin (or null) is worked out once; the Headers form is only built when an error or a loader
  // response needs it.
  const allowedOrigin = allowedOriginOf(request, site.config);
  const modules = requestModules(site.config);
  const bot = modules.botDetection === null ? null : botVerdict(request);
  const outcome: Outcome = {
    pathClass: "passthrough",
    path: site.path,
    status: 0,
    upstreamStatus: null,
    cookieRewrites: 0,
    bot: bot === null ? null : bot.bot,
    reason: null,
  };
  let response: Response;
  // Both stages fill `outcome` as they learn what the request was.
  try {
    response =
      (await answerAtEdge(request, env, ctx, site, allowedOrigin, outcome)) ??
      (await proxy(request, env, site, allowedOrigin, outcome, modules, bot));
  } catch (error) {
    outcome.reason = error instanceof EdgeError ? error.code : "internal_error";
    response = errorResponse(error, errorCorsHeaders(allowedOrigin));
  }
  outcome.status = response.status;
  sendAccessRecord(env, ctx, request, site, outcome);
  return response;
}

/** What the edge answers itself after resolution (preflights, loader paths), or null when the upstream answers. */
async function answerAtEdge(
  request: Request,
  env: Env,
  ctx: ExecutionContext,
  site: Site,
  allowedOrigin: string | null,
  outcome: Outcome,
): Promise<Response | null> {
  if (request.method === "OPTIONS") {
    outcome.pathClass = "preflight";
    return preflightResponse(request, site);
  }
  // The reserved prefix is never proxied, also not below a same-origin mount (edge.ts only sees the full path).
  if (site.path.startsWith("/_edge/")) throw new EdgeError(404, "not_found", "no such endpoint");

  const loaded = await handleLoader(request, env, ctx, site);
  if (loaded === null) return null;
  outcome.pathClass = loaderPathClass(site.path);
  return withLoaderCors(loaded, allowedOrigin);
}

function loaderPathClass(path: string): PathClass {
  if (path === BOOT_PATH) return "boot";
  if (path === DETECTION_PATH) return "detection";
  return "loader";
}

/** The upstream path + query for this request; throws 400/405 on the obfuscated path when it cannot be proxied. */
function upstreamTarget(request: Request, site: Site, outcome: Outcome): string {
  const { proxyPath, proxyParam } = site.config;
  if (site.path !== proxyPath && `${site.path}/` !== proxyPath) return site.path + site.url.search;

  outcome.pathClass = "proxy";
  if (!PROXY_METHODS.has(request.method)) {
    throw new EdgeError(405, "method_not_allowed", `${proxyPath} accepts GET and POST`);
  }
  const encoded = site.url.searchParams.get(proxyParam);
  if (encoded === null) throw new EdgeError(400, "invalid_proxy_target", `missing ${proxyParam} parameter`);
  const target = decodeProxyTarget(encoded);
  if (target === null) {
    throw new EdgeError(400, "invalid_proxy_target", `${proxyParam} must be base64url of an absolute path`);
  }
  return target;
}

async function proxy(
  request: Request,
  env: Env,
  site: Site,
  allowedOrigin: string | null,
  outcome: Outcome,
  modules: RequestModules,
  bot: BotVerdict | null,
): Promise<Response> {
  const target = upstreamTarget(request, site, outcome);
  const query = target.indexOf("?");
  outcome.path = query === -1 ? target : target.slice(0, query);
  // Loader paths above are the edge's own answers and keep working for bots (their detection records carry the
  // verdict); only what would reach the upstream is refused.
  if (bot?.bot && modules.botDetection === "block") {
    outcome.reason = "bot_blocked";
    return blockedBotResponse(outcome.path, allowedOrigin);
  }

  const headers = upstreamHeaders(request, site, modules, bot);
  let upstream: Response;
  try {
    upstream = await fetchUpstream(
      site.config.upstream + target,
      { method: request.method, headers, body: forwardedBody(request) },
      upstreamTimeoutMs(env),
    );
  } catch (error) {
    throw error instanceof EdgeError && error.code === "upstream_unreachable" ? (unsendableHeader(headers) ?? error) : error;
  }
  outcome.upstreamStatus = upstream.status;
  return applyResponseRules(upstream, request, env, site, allowedOrigin, outcome);
}
