// The loader behind the real router: containers seeded into KV as the sync consumer leaves them, requests through
// the Worker's fetch entry (or the router with a LOG_QUEUE recorder where the queued records are asserted).
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { LogRecord } from "../../schemas/log-record";
import { bootSession, callRouter, routerRequest, seedContainer, uniqueId } from "../support/router-harness";

function fetchWorker(url: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(url, init);
}

describe("loader paths through the Worker", () => {
  it("serves the script on a public host", async () => {
    const config = await seedContainer();
    const response = await fetchWorker(`https://ss.${config.containerId}.example/l/${config.loaderToken}.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/javascript; charset=utf-8");
    expect(await response.text()).toContain('"k":"/k/"');
  });

  it("serves the script and /boot under a same-origin mount, with the prefix in the script's endpoints", async () => {
    const id = uniqueId("lm");
    const config = await seedContainer({ containerId: id, publicHosts: [`www.${id}.example/metrics`] });
    const script = await (await fetchWorker(`https://www.${id}.example/metrics/l/${config.loaderToken}.js`)).text();
    expect(script).toContain('"m":"/metrics"');
    const boot = await fetchWorker(`https://www.${id}.example/metrics/boot`, { method: "POST", body: "{}" });
    expect(boot.status).toBe(200);
    expect(boot.headers.getSetCookie().find((h) => h.startsWith("FPID="))).toMatch(/^FPID=.*; Domain=\w[\w-]*\.example;/);
  });

  it("answers 404 JavaScript for another container's token on this host", async () => {
    const mine = await seedContainer();
    const other = await seedContainer();
    const response = await fetchWorker(`https://ss.${mine.containerId}.example/l/${other.loaderToken}.js`);
    expect(response.status).toBe(404);
    expect(response.headers.get("Content-Type")).toBe("text/javascript; charset=utf-8");
  });

  it("lets the router answer the /boot preflight for a trusted origin", async () => {
    const config = await seedContainer();
    const origin = `https://www.${config.containerId}.example`;
    const response = await fetchWorker(`https://ss.${config.containerId}.example/boot`, {
      method: "OPTIONS",
      headers: { Origin: origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(origin);
  });

  it("puts the detection record on LOG_QUEUE", async () => {
    const config = await seedContainer();
    const sessionId = await bootSession(`ss.${config.containerId}.example`);
    const body = JSON.stringify({ sessionId, adblock: false, itp: true });
    const { response, records } = await callRouter(
      routerRequest(`ss.${config.containerId}.example`, "/mark-session-detection", { method: "POST", body }),
    );
    expect(response.status).toBe(202);
    // The recorder is typed for the router's access records; the loader's detection record travels the same queue.
    const detections = (records as unknown as LogRecord[]).filter((record) => record.kind === "detection");
    expect(detections).toMatchObject([{ containerId: config.containerId, sessionId, itp: true }]);
  });

  it("leaves other files under the loader path to the proxy", async () => {
    // loaderPath /echo/ on the router's echo upstream: whatever reaches the upstream is echoed back.
    const config = await seedContainer({ loaderPath: "/echo/" });
    for (const path of ["/echo/readme.txt", "/echo/a/b.js"]) {
      const response = await fetchWorker(`https://ss.${config.containerId}.example${path}`);
      expect(response.status, path).toBe(200);
      expect(((await response.json()) as { path: string }).path).toBe(path);
    }
  });
});
