// Plain HTTP requests with an arbitrary Host header (fetch forbids setting Host), for Node-side tests.
import { request } from "node:http";

/**
 * @param {string | URL} url
 * @param {string} host
 * @param {{ method?: string, headers?: import("node:http").OutgoingHttpHeaders, body?: string | Buffer }} [options]
 * @returns {Promise<{ status: number, headers: import("node:http").IncomingHttpHeaders, body: string }>}
 */
export function hostRequest(url, host, { method = "GET", headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    // A connection of its own: the edge may close one after refusing a request, and a reused socket would then reset.
    const req = request(url, { method, agent: false, headers: { ...headers, Host: host } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end(body);
  });
}
