// Live traffic on customer hosts. (Foundation version: host -> container -> upstream pass-through.
// The router issue grows this into the full proxy.)
import { getEdgeConfig } from "../shared/config-store";
import { errorResponse, EdgeError } from "../shared/errors";

export async function handleTraffic(request: Request, env: Env, _ctx: ExecutionContext, url: URL): Promise<Response> {
  try {
    const host = (request.headers.get("Host") ?? url.host).toLowerCase().replace(/:\d+$/, "");
    const containerId = (await env.ROUTING_MAP.get(host)) ?? (await env.SITE_REGISTRY.get(host));
    const config = containerId ? await getEdgeConfig(env, containerId) : null;
    if (!config) throw new EdgeError(404, "unknown_host", `no container serves ${host}`);
    return await fetch(new Request(config.upstream + url.pathname + url.search, request));
  } catch (error) {
    return errorResponse(error);
  }
}
