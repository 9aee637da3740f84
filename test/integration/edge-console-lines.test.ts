// The edge writes no console line on the happy path: in production its Workers Logs keep every console line and no
// invocation logs (wrangler.jsonc), so a request that goes well must cost no log event. An error still writes one.
import { afterEach, describe, expect, it, vi } from "vitest";
import { bootSession, callRouter, deadUrl, encodeTarget, routerRequest, seedContainer } from "../support/router-harness";

afterEach(() => {
  vi.restoreAllMocks();
});

const METHODS = ["log", "info", "warn", "error", "debug"] as const;

/** Spies on every console method; returns the lines written. */
function consoleLines(): () => unknown[][] {
  const spies = METHODS.map((method) => vi.spyOn(console, method).mockImplementation(() => {}));
  return () => spies.flatMap((spy) => spy.mock.calls);
}

describe("console lines of the edge", () => {
  it("writes none for a visit: loader script, /boot, collect hits, a cookie rewrite and the detection beacon", async () => {
    const config = await seedContainer();
    const host = config.publicHosts[0]!;
    const lines = consoleLines();
    const cookie = encodeTarget(JSON.stringify(["_ga=GA1.1.1.1; Path=/"]));
    const calls = [
      routerRequest(host, `/l/${config.loaderToken}.js`),
      routerRequest(host, `/k/?p=${encodeTarget("/echo/g/collect?v=2")}`, { method: "POST", body: "x" }),
      routerRequest(host, "/echo", { headers: { Origin: `https://${host}` } }),
      routerRequest(host, `/set-cookies?c=${cookie}`),
    ];
    for (const request of calls) {
      const { response } = await callRouter(request);
      expect(response.status).toBeLessThan(400);
      await response.body?.cancel();
    }
    const sessionId = await bootSession(host);
    const body = JSON.stringify({ sessionId, adblock: true, itp: false });
    const { response } = await callRouter(routerRequest(host, "/mark-session-detection", { method: "POST", body }));
    expect(response.status).toBe(202);
    expect(lines()).toEqual([]);
  });

  it("writes one for an upstream it cannot reach", async () => {
    const config = await seedContainer({ upstream: deadUrl() });
    const lines = consoleLines();
    const { response } = await callRouter(routerRequest(config.publicHosts[0]!, "/echo"));
    expect(response.status).toBe(502);
    expect(lines().map(([line]) => JSON.parse(String(line)).event)).toEqual(["edge_error"]);
  });
});
