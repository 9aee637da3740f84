// Requests that only real HTTP can carry (a Worker cannot build a GET with a body), sent over a socket to the edge
// Worker on workerd (both Workers bundled by wrangler, on miniflare, as the benchmarks run them), proxying to a
// loopback upstream.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkers } from "../../bench/lib/miniflare-worker.mjs";
import { hostRequest } from "../support/http.mjs";

const HOST = "raw-http.edge.example";
let upstream: Server;
let mf: ReturnType<typeof startWorkers>;
let edgeUrl: string;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    let bytes = 0;
    req.on("data", (chunk: Buffer) => (bytes += chunk.length));
    req.on("end", () => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ method: req.method, bytes }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

  mf = startWorkers({ port: 0 });
  edgeUrl = (await mf.ready).toString().replace(/\/$/, "");
  const config = {
    containerId: "raw-http",
    version: 1,
    upstream: upstreamUrl,
    infraHosts: [HOST],
    publicHosts: [],
    loaderToken: "lt_raw_http",
    gtmId: "GTM-RAW123",
  };
  await (await mf.getKVNamespace("ROUTING_MAP", "qaxal-edge")).put(HOST, config.containerId);
  await (await mf.getKVNamespace("EDGE_CONFIG", "qaxal-edge")).put(config.containerId, JSON.stringify(config));
});

afterAll(async () => {
  await mf?.dispose();
  await new Promise((resolve) => upstream?.close(resolve));
});

describe("GET with a body", () => {
  it("a GET with a body is a 400 invalid_request, not the tenant's 502", async () => {
    const res = await hostRequest(`${edgeUrl}/collect`, HOST, { headers: { "Content-Length": "3" }, body: "abc" });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error: "invalid_request" });
  });

  it("a GET with Content-Length: 0 is proxied without a body", async () => {
    const res = await hostRequest(`${edgeUrl}/collect`, HOST, { headers: { "Content-Length": "0" } });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ method: "GET", bytes: 0 });
  });

  it("a POST keeps its body", async () => {
    const res = await hostRequest(`${edgeUrl}/collect`, HOST, { method: "POST", headers: { "Content-Length": "3" }, body: "abc" });
    expect(JSON.parse(res.body)).toEqual({ method: "POST", bytes: 3 });
  });
});
