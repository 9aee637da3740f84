// One upstream call: redirects are handed back to the browser (the page must see sGTM's Location, and following
// it here could leave the upstream origin), an unreachable upstream is a 502 and a slow one a 504, and so is a
// status a Worker response cannot carry.
import { EdgeError } from "../shared/errors";

export function upstreamTimeoutMs(env: Pick<Env, "UPSTREAM_TIMEOUT_MS">): number {
  const ms = Number(env.UPSTREAM_TIMEOUT_MS);
  return Number.isFinite(ms) && ms > 0 ? ms : 10_000;
}

/**
 * The timeout covers the wait for the response headers only: once they arrive the timer is cleared, so a large
 * body keeps streaming instead of being cut off mid-way.
 */
export async function fetchUpstream(url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, { ...init, redirect: "manual", signal: controller.signal });
  } catch (error) {
    if (controller.signal.aborted) {
      throw new EdgeError(504, "upstream_timeout", `the upstream did not answer within ${timeoutMs} ms`, error);
    }
    throw new EdgeError(502, "upstream_unreachable", "the upstream could not be reached", error);
  } finally {
    clearTimeout(timer);
  }
  // Responses can only be built with 200-599 (and the runtime fails on returning another): a 1xx or 600+ final
  // status from the upstream is its fault, answered like any other broken upstream.
  if (response.status < 200 || response.status > 599) {
    response.body?.cancel().catch(() => undefined);
    throw new EdgeError(502, "upstream_invalid_status", `the upstream answered with status ${response.status}, which HTTP cannot pass on`);
  }
  return response;
}
