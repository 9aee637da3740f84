// The router's warm path rebuilt one contract rule at a time from the router's own functions, so bench/router.mjs
// can measure what each rule costs in place: one Worker per rung (the var LADDER_STEP), each loaded at the same
// time as the bare Worker. Tight loops of a single piece miss what a piece costs inside a real request (request.cf
// is parsed once per request, on its first read, for one), which is why the rungs are whole requests.
//   0  decode p, then fetch(upstream + target, { method, the client's own headers, body, redirect: "manual" })
//   1  + resolve the container (host maps and config from the in-isolate caches)
//   2  + the edge's upstream request headers (dropped and forwarding headers; every optional module off)
//   3  + the header-only upstream timeout (502/504)
//   4  + the response rules (Cookie Keeper, CORS)
//   5  + the access record (country from CF-IPCountry) and its batched send to LOG_QUEUE: the default router
// From rung 5 on the code is the same; bench/router.mjs gives each rung's container a config that switches one more
// optional module on (6: ipAnonymization truncate, 7: + geoHeaders, 8: + botDetection tag).
// The target is the decoded `p` parameter on every rung.
import { type Outcome, sendAccessRecord } from "../workers/router/access-log";
import { decodeProxyTarget } from "../workers/router/proxy-target";
import { requestModules } from "../workers/router/request-modules";
import { resolveSite } from "../workers/router/resolve-site";
import { applyResponseRules } from "../workers/router/response-rules";
import { fetchUpstream, upstreamTimeoutMs } from "../workers/router/upstream-fetch";
import { upstreamHeaders } from "../workers/router/upstream-headers";
import { botVerdict } from "../workers/shared/bot-verdict";

type LadderEnv = Env & { LADDER_STEP: string; UPSTREAM: string };

export default {
  async fetch(request: Request, env: LadderEnv, ctx: ExecutionContext): Promise<Response> {
    const step = Number(env.LADDER_STEP);
    const url = new URL(request.url);
    const target = decodeProxyTarget(url.searchParams.get("p") ?? "");
    if (target === null) return new Response("p must name the upstream target", { status: 400 });
    const site = await (step >= 1 ? resolveSite(request, env, url, Date.now()) : null);
    const upstreamUrl = (site?.config.upstream ?? env.UPSTREAM) + target;
    const clientHeaders = { method: request.method, headers: request.headers, body: request.body, redirect: "manual" as const };
    if (site === null || step === 1) return fetch(upstreamUrl, clientHeaders);

    // As in workers/router/traffic.ts: the modules compiled once per config, a verdict only when bots are checked.
    const modules = requestModules(site.config);
    const bot = modules.botDetection === null ? null : botVerdict(request);
    const init = { ...clientHeaders, headers: upstreamHeaders(request, site, modules, bot) };
    if (step === 2) return fetch(upstreamUrl, init);
    const upstream = await fetchUpstream(upstreamUrl, init, upstreamTimeoutMs(env));
    if (step === 3) return upstream;

    const outcome: Outcome = {
      pathClass: "proxy",
      path: target,
      status: upstream.status,
      upstreamStatus: upstream.status,
      cookieRewrites: 0,
      bot: bot?.bot ?? null,
    };
    const response = applyResponseRules(upstream, site, null, outcome);
    if (step === 4) return response;
    sendAccessRecord(env, ctx, request, site, outcome);
    return response;
  },
};
