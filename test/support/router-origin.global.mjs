// vitest globalSetup: a real HTTP upstream for the router tests (the Worker proxies to it over loopback, nothing
// is mocked). Its URL is provide()d as `routerOriginUrl`; `routerDeadUrl` is a port with nothing listening.
//   /echo[/...]            JSON: method, path, search, headers, bodyBytes, bodySha256
//   /set-cookies?c=<b64u>  sets each Set-Cookie of the base64url JSON array c, answers 204
//   /redirect              302 to https://elsewhere.example/landing (must be handed back, not followed)
//   /slow?ms=N             waits N ms before the headers
//   /drip?ms=N             sends the headers and "first " at once, then "last" N ms later
//   /cors                  reflects any Origin with credentials, the way sGTM's clients do
//   /many-cookies?n=N      sets N cookies _ga_0 ... _ga_<N-1>, answers 204
//   /status?code=N         answers with status N (Node allows 100-999), body "status N"
//   /__seen                JSON array of every path this origin was asked for (to prove a request never came)
//   anything else          404 text
import { createHash } from "node:crypto";
import { createServer } from "node:http";

const seen = [];

async function handle(req, res) {
  const url = new URL(req.url, "http://origin.local");
  if (url.pathname === "/__seen") {
    res.writeHead(200, { "Content-Type": "application/json" });
    return res.end(JSON.stringify(seen));
  }
  seen.push(url.pathname);
  const hash = createHash("sha256");
  let bodyBytes = 0;
  for await (const chunk of req) {
    bodyBytes += chunk.length;
    hash.update(chunk);
  }
  if (url.pathname === "/echo" || url.pathname.startsWith("/echo/")) {
    res.writeHead(200, { "Content-Type": "application/json", "Set-Cookie": "origin_seen=1; Path=/" });
    return res.end(
      JSON.stringify({
        method: req.method,
        path: url.pathname,
        search: url.search,
        headers: req.headers,
        bodyBytes,
        bodySha256: hash.digest("hex"),
      }),
    );
  }
  if (url.pathname === "/set-cookies") {
    const cookies = JSON.parse(Buffer.from(url.searchParams.get("c") ?? "W10", "base64url").toString("utf8"));
    res.writeHead(204, { "Set-Cookie": cookies });
    return res.end();
  }
  if (url.pathname === "/redirect") {
    res.writeHead(302, { Location: "https://elsewhere.example/landing" });
    return res.end();
  }
  if (url.pathname === "/slow") {
    await new Promise((resolve) => setTimeout(resolve, Number(url.searchParams.get("ms") ?? "0")));
    res.writeHead(200, { "Content-Type": "text/plain" });
    return res.end("slow");
  }
  if (url.pathname === "/drip") {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.write("first ");
    await new Promise((resolve) => setTimeout(resolve, Number(url.searchParams.get("ms") ?? "0")));
    return res.end("last");
  }
  if (url.pathname === "/cors") {
    res.writeHead(200, {
      "Content-Type": "text/plain",
      "Access-Control-Allow-Origin": req.headers.origin ?? "*",
      "Access-Control-Allow-Credentials": "true",
      Vary: "Accept-Encoding",
    });
    return res.end("cors");
  }
  if (url.pathname === "/many-cookies") {
    const n = Number(url.searchParams.get("n") ?? "0");
    res.writeHead(204, { "Set-Cookie": Array.from({ length: n }, (_, i) => `_ga_${i}=GA1.1.${i}.1700000000; Path=/`) });
    return res.end();
  }
  if (url.pathname === "/status") {
    const code = Number(url.searchParams.get("code"));
    res.writeHead(code, { "Content-Type": "text/plain" });
    return res.end(`status ${code}`);
  }
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("not found");
}

function listen(server) {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port)));
}

export default async function setup(project) {
  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  // A request the HTTP parser refuses (a header value with DEL or a control character) drops the connection without
  // an answer, as upstreams behind load balancers do; Node would otherwise answer a bare 400 itself.
  server.on("clientError", (_error, socket) => socket.destroy());
  const port = await listen(server);
  // Reserve a port, then free it: connecting to it is refused, which is what an unreachable upstream looks like.
  const probe = createServer();
  const deadPort = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
  project.provide("routerOriginUrl", `http://127.0.0.1:${port}`);
  project.provide("routerDeadUrl", `http://127.0.0.1:${deadPort}`);
  return () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    });
}
