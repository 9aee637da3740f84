// The loader's entry point, called by the router for every request on a resolved customer host (after preflights).
// It answers its own paths and returns null for everything else, which the router then proxies.
import { clientKey, overLimit, tooManyRequests } from "../shared/client-limit";
import { corsHeaders } from "../shared/cors";
import { EdgeError, errorResponse } from "../shared/errors";
import type { Site } from "../shared/site";
import { handleBoot } from "./boot";
import { BAIT_FILE } from "./client";
import { handleDetection } from "./detection";
import { serveBait, serveScript } from "./serve-script";

export const BOOT_PATH = "/boot";
export const DETECTION_PATH = "/mark-session-detection";

type LoaderRoute = { kind: "script"; token: string } | { kind: "bait" } | { kind: "boot" } | { kind: "detection" };

/** Which loader path `path` (mount prefix already stripped) is, or null when it is not one. */
function loaderRoute(path: string, loaderPath: string): LoaderRoute | null {
  if (path === BOOT_PATH) return { kind: "boot" };
  if (path === DETECTION_PATH) return { kind: "detection" };
  if (!path.startsWith(loaderPath) || !path.endsWith(".js")) return null;
  const file = path.slice(loaderPath.length);
  if (file.includes("/")) return null;
  return file === BAIT_FILE ? { kind: "bait" } : { kind: "script", token: file.slice(0, -".js".length) };
}

export async function handleLoader(request: Request, env: Env, ctx: ExecutionContext, site: Site): Promise<Response | null> {
  const route = loaderRoute(site.path, site.config.loaderPath);
  if (route === null) return null;
  if (route.kind === "script" || route.kind === "bait") {
    if (request.method !== "GET" && request.method !== "HEAD") return methodNotAllowed("GET, HEAD");
    return route.kind === "bait" ? serveBait(request) : serveScript(request, env, ctx, site, route.token);
  }

  const cors = corsHeaders(request, site) ?? new Headers();
  if (request.method !== "POST") return methodNotAllowed("POST", cors);
  // /boot and beacons cost a client nothing to repeat: bounded per client and container before any work.
  const client = clientKey(request);
  if (await overLimit(env.LOADER_LIMITER, client === null ? null : `${site.containerId}|${client}`)) return tooManyRequests(cors);
  try {
    if (route.kind === "detection") return await handleDetection(request, env, ctx, site, cors);
    const response = await handleBoot(request, env, ctx, site);
    for (const [name, value] of cors) response.headers.set(name, value);
    return response;
  } catch (error) {
    return errorResponse(error, cors);
  }
}

function methodNotAllowed(allow: string, headers = new Headers()): Response {
  const response = errorResponse(new EdgeError(405, "method_not_allowed", `use ${allow}`), headers);
  response.headers.set("Allow", allow);
  return response;
}
