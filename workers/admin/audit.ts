// The audit log: every write to the operator API (and every webhook delivery) with who, what, when and the
// result, recorded after the answer is known. Reads are not recorded.
import { operatorAccess } from "../../durable/operator-access";
import { actorOf, type OperatorRequest } from "./access";

const READS = new Set(["GET", "HEAD", "OPTIONS"]);

/** A router `finally` step: records the request if it was an authenticated write, and passes the answer on. */
export async function auditWrites(response: Response, request: OperatorRequest, env: Env): Promise<Response> {
  const principal = request.principal;
  // A 429 is a refusal past the caller's limit (refusal-limit.ts): recording it would let a flood fill the log.
  if (!principal || READS.has(request.method) || response.status === 429) return response;
  let result = "ok";
  let detail = request.audit?.detail ?? null;
  if (response.status >= 300) {
    const body = (await response
      .clone()
      .json()
      .catch(() => null)) as { error?: string; message?: string } | null;
    result = body?.error ?? String(response.status);
    detail = body?.message ?? detail;
  }
  try {
    await operatorAccess(env).record({
      ...actorOf(principal),
      method: request.method,
      // With the query: it can change what a write does (PUT …/hostnames/:host?live=now).
      path: pathWithQuery(request.url),
      containerId: request.audit?.containerId ?? null,
      status: response.status,
      result,
      detail,
    });
  } catch (error) {
    // The change itself has happened; losing its audit line must not turn its answer into an error.
    console.error(JSON.stringify({ event: "audit_write_failed", path: new URL(request.url).pathname, error: String(error) }));
  }
  return response;
}

function pathWithQuery(url: string): string {
  const { pathname, search } = new URL(url);
  return `${pathname}${search}`;
}
