// The router's warm path rebuilt one contract rule at a time from the router's own functions, so bench/router.mjs
// can measure what each rule costs in place: one Worker per rung (the var LADDER_STEP), each loaded at the same
// time as the bare Worker. Tight loops of a single piece miss what a piece costs inside a real request (request.cf
// is parsed once per request, for one), which is why the rungs are whole requests.
//   0  decode p, then fetch(upstream + target, { method, the client's own headers, body, redirect: "manual" })
//   1  + resolve the container (host maps and config from the in-isolate caches)
//   2  + read request.cf (the parse behind the geo headers and the access record's country)
//   3  + the edge's upstream request headers (dropped, forwarding and geo headers)
//   4  + the header-only upstream timeout (502/504)
//   5  + the response rules (Cookie Keeper, CORS)
//   6  + the access record and its batched send to LOG_QUEUE
// The target is the decoded `p` parameter on every rung.
import { sendAccessRecord } from "../workers/router/access-log";
import { decodeProxyTarget } from "../workers/router/proxy-target";
import { resolveSite } from "../workers/router/resolve-site";
import { applyResponseRules } from "../workers/router/response-rules";
import { fetchUpstream, upstreamTimeoutMs } from "../workers/router/upstream-fetch";
import { upstreamHeaders } from "../workers/router/upstream-headers";

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

    // The parse happens on the first read of request.cf; the later rungs read it again from the request's cache.
    if (request.cf === undefined) return new Response("the bench needs request.cf", { status: 500 });
    if (step === 2) return fetch(upstreamUrl, clientHeaders);

    const init = { ...clientHeaders, headers: upstreamHeaders(request, site) };
    if (step === 3) return fetch(upstreamUrl, init);
    const upstream = await fetchUpstream(upstreamUrl, init, upstreamTimeoutMs(env));
    if (step === 4) return upstream;

    const outcome = { pathClass: "proxy" as const, path: target, status: upstream.status, upstreamStatus: upstream.status, cookieRewrites: 0 };
    const response = applyResponseRules(upstream, site, null, outcome);
    if (step === 5) return response;
    sendAccessRecord(env, ctx, request, site, outcome);
    return response;
  },
};
