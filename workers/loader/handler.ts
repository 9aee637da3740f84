// Placeholder until the loader lands: no path is a loader path yet, so the router proxies everything.
import type { Site } from "../shared/site";

export async function handleLoader(_request: Request, _env: Env, _ctx: ExecutionContext, _site: Site): Promise<Response | null> {
  return null;
}
