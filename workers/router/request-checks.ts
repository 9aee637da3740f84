// Requests the upstream connection cannot carry are the client's mistake: they get a 400 here instead of failing at
// the upstream and being answered as the tenant's outage (502).
import { EdgeError } from "../shared/errors";

/**
 * The body to forward. GET and HEAD carry none: an empty one (`Content-Length: 0`, which some clients send) is
 * dropped, anything else is refused, since fetch() cannot send it.
 */
export function forwardedBody(request: Request): ReadableStream | null {
  const body = request.body;
  if (body === null || (request.method !== "GET" && request.method !== "HEAD")) return body;
  if (request.headers.get("Content-Length") === "0") return null;
  throw new EdgeError(400, "invalid_request", `a ${request.method} request must not carry a body`);
}

/** Control characters and DEL: RFC 9110 field values allow only visible characters, space and tab. */
const UNSENDABLE = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * After the upstream could not be reached: was it the request's own fault? The runtime accepts a header value with
 * a control character or DEL from the client, but the upstream drops the connection on it. `sent` is what was
 * forwarded (a dropped header cannot have caused it). Checked only once the fetch failed, so requests that go
 * through pay nothing for it.
 */
export function unsendableHeader(sent: Headers): EdgeError | null {
  for (const [name, value] of sent) {
    if (UNSENDABLE.test(value)) {
      return new EdgeError(400, "invalid_header", `header ${name} contains a control character`);
    }
  }
  return null;
}
