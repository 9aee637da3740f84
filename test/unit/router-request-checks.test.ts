// forwardedBody on its own. A GET or HEAD with a body reaches a Worker only from a raw HTTP client (the runtime's
// Request constructor refuses to build one), so these requests are Request-shaped objects with the fields the
// function reads; the same cases over real HTTP are in router-raw-http.node.test.ts.
import { describe, expect, it } from "vitest";
import { forwardedBody } from "../../workers/router/request-checks";

function incoming(method: string, headers: Record<string, string>, body: string | null): Request {
  const stream = body === null ? null : new Response(body).body;
  return { method, headers: new Headers(headers), body: stream } as unknown as Request;
}

describe("forwardedBody", () => {
  it("refuses a GET with a body as the client's error, naming the method", () => {
    expect(() => forwardedBody(incoming("GET", { "Content-Length": "3" }, "abc"))).toThrow(
      expect.objectContaining({ status: 400, code: "invalid_request", message: "a GET request must not carry a body" }),
    );
  });

  it("drops the empty body of a HEAD sent with Content-Length: 0", () => {
    expect(forwardedBody(incoming("HEAD", { "Content-Length": "0" }, ""))).toBeNull();
  });

  it("forwards a POST's body as it came", () => {
    const request = incoming("POST", { "Content-Length": "3" }, "abc");
    expect(forwardedBody(request)).toBe(request.body);
  });
});
