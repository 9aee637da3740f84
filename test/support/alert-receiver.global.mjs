// vitest globalSetup: a loopback HTTP receiver for alert webhooks, standing where Slack's incoming webhook would be.
// Each test uses its own channel name; the receiver records what every POST carried, and can be told to refuse the
// next N posts (500), as a webhook that is down would.
//   POST /hook/<channel>              records the JSON body; 200, or 500 while a failure is scheduled
//   GET  /__received/<channel>        JSON array of the bodies accepted, in order
//   PUT  /__fail/<channel>?times=N    the next N posts to the channel answer 500 (and are not recorded)
// Its URL is provide()d as `alertReceiverUrl`.
import { createServer } from "node:http";

export default async function setup(project) {
  /** @type {Map<string, unknown[]>} */
  const received = new Map();
  /** @type {Map<string, number>} */
  const failures = new Map();
  const server = createServer(async (req, res) => {
    let text = "";
    for await (const chunk of req) text += chunk;
    const url = new URL(req.url ?? "/", "http://receiver.local");
    const [, kind, channel] = url.pathname.split("/");
    const reply = (status, body) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (kind === "hook" && channel && req.method === "POST") {
      const failing = failures.get(channel) ?? 0;
      if (failing > 0) {
        failures.set(channel, failing - 1);
        return reply(500, { error: "simulated outage" });
      }
      let body;
      try {
        body = JSON.parse(text);
      } catch {
        return reply(400, { error: "invalid JSON" });
      }
      received.set(channel, [...(received.get(channel) ?? []), body]);
      return reply(200, { ok: true });
    }
    if (kind === "__received" && channel && req.method === "GET") return reply(200, received.get(channel) ?? []);
    if (kind === "__fail" && channel && req.method === "PUT") {
      failures.set(channel, Number(url.searchParams.get("times") ?? "1"));
      return reply(200, { ok: true });
    }
    return reply(404, { error: "no such path" });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  project.provide("alertReceiverUrl", `http://127.0.0.1:${server.address().port}`);
  return () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    });
}
