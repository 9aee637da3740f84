// Request -> Site: which container a request on a customer host belongs to, which host the client sees, and
// (same-origin mode) which mount prefix to strip.

import { upstreamAllowed } from "../../schemas/edge-config";
import { MOUNT_PREFIX } from "../../schemas/fields";
import { getEdgeConfig } from "../shared/config-store";
import { EdgeError } from "../shared/errors";
import type { LocationEnv } from "../shared/location-cache";
import type { Site } from "../shared/site";
import { normalizeHost, requestHost } from "./host";
import { containerForHost, containerForPublicHost } from "./host-lookup";

type ResolveEnv = LocationEnv & Pick<Env, "ROUTING_MAP" | "SITE_REGISTRY" | "EDGE_CONFIG" | "CONTAINER_STATE" | "ALLOW_INSECURE_UPSTREAM">;

interface Route {
  containerId: string;
  mountPrefix: string;
  path: string;
}

/**
 * Whole-host routes first (ROUTING_MAP, then SITE_REGISTRY), then a same-origin mount: SITE_REGISTRY key
 * `host/<first path segment>`, whose prefix is stripped. A path outside every mount on such a host is not ours.
 */
async function route(env: ResolveEnv, host: string, pathname: string): Promise<Route | null> {
  const whole = await containerForHost(env, host);
  if (whole !== null) return { containerId: whole, mountPrefix: "", path: pathname };

  const end = pathname.indexOf("/", 1);
  const segment = end === -1 ? pathname.slice(1) : pathname.slice(1, end);
  // Only a segment that could be a configured prefix is looked up: anything else (favicon.ico, a 600-byte segment
  // that would exceed KV's 512-byte key limit and make the read throw) is simply not a mount.
  if (!MOUNT_PREFIX.test(segment)) return null;
  const mounted = await containerForPublicHost(env, `${host}/${segment}`);
  if (mounted === null) return null;
  return { containerId: mounted, mountPrefix: `/${segment}`, path: end === -1 ? "/" : pathname.slice(end) };
}

/**
 * X-Public-Host picks the client-facing domain of a multi-domain container, but only when SITE_REGISTRY maps it to
 * the container the request already resolved to: a header naming another customer's host is ignored.
 */
async function publicHost(env: ResolveEnv, request: Request, host: string, containerId: string): Promise<string> {
  const header = request.headers.get("X-Public-Host");
  if (header === null) return host;
  const claimed = normalizeHost(header);
  if (claimed === null || claimed === host) return host;
  return (await containerForPublicHost(env, claimed)) === containerId ? claimed : host;
}

/** Throws 400 for a malformed host, 404 when no container (or no config) serves it. */
export async function resolveSite(request: Request, env: ResolveEnv, url: URL, startedAt: number): Promise<Site> {
  const host = normalizeHost(requestHost(request, url));
  if (host === null) throw new EdgeError(400, "invalid_host", "the request does not name a valid host");

  const found = await route(env, host, url.pathname);
  if (found === null) throw new EdgeError(404, "unknown_host", `no container serves ${host}${url.pathname === "/" ? "" : " on this path"}`);

  const config = await getEdgeConfig(env, found.containerId);
  if (config === null) throw new EdgeError(404, "unknown_host", `no container serves ${host}`);
  // The operator API already refuses http upstreams outside local development; this guards a KV value that
  // arrived some other way from turning the edge into a plain-text proxy.
  if (!upstreamAllowed(config, env.ALLOW_INSECURE_UPSTREAM)) {
    throw new EdgeError(502, "upstream_not_allowed", "the container's upstream is not allowed", `http upstream for ${config.containerId}`);
  }

  return {
    containerId: found.containerId,
    config,
    publicHost: await publicHost(env, request, host, found.containerId),
    mountPrefix: found.mountPrefix,
    path: found.path,
    url,
    startedAt,
  };
}
