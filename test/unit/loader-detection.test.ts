// POST /mark-session-detection: one DetectionRecord onto LOG_QUEUE (packed, like every log record), 202; gated by
// the module and by a session the edge started; bad bodies refused.
import { env } from "cloudflare:workers";
import * as v from "valibot";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { EdgeConfigInput } from "../../schemas/edge-config";
import { DetectionRecordSchema, type PackedLogMessage } from "../../schemas/log-record";
import { loaderConfig, loaderResponse, siteFor, startedSession } from "./loader-support";

afterEach(() => {
  vi.restoreAllMocks();
});

function report(body: string, overrides: Partial<EdgeConfigInput> = {}, headers: Record<string, string> = {}) {
  const config = loaderConfig({ containerId: "detect-shop", ...overrides });
  // sendBeacon posts a string as text/plain: the endpoint must not depend on a JSON content type.
  return loaderResponse(siteFor(config, "/mark-session-detection"), {
    method: "POST",
    body,
    headers: { "Content-Type": "text/plain;charset=UTF-8", ...headers },
  });
}

/** The records a spied sendBatch carried, unpacked from their messages. */
function sentRecords(sendBatch: { mock: { calls: unknown[][] } }): unknown[] {
  return sendBatch.mock.calls.flatMap(([messages]) => (messages as { body: PackedLogMessage }[]).flatMap((m) => m.body.records));
}

// A session /boot started for the container, as the page reports it.
let SESSION = "";
let VALID = "";
beforeAll(async () => {
  SESSION = await startedSession(loaderConfig({ containerId: "detect-shop" }));
  VALID = JSON.stringify({ sessionId: SESSION, adblock: true, itp: false });
});

describe("POST /mark-session-detection", () => {
  it("queues one detection record and answers 202", async () => {
    const sendBatch = vi.spyOn(env.LOG_QUEUE, "sendBatch");
    const before = Date.now();
    const response = await report(VALID);
    expect(response.status).toBe(202);
    const records = sentRecords(sendBatch);
    expect(records).toHaveLength(1);
    const record = v.parse(DetectionRecordSchema, records[0]);
    expect(record).toMatchObject({
      kind: "detection",
      containerId: "detect-shop",
      sessionId: SESSION,
      host: "ss.detect-shop.example",
      adblock: true,
      itp: false,
    });
    expect(record.ts).toBeGreaterThanOrEqual(before);
  });

  it("records Firefox ETP, and false for a cached script that does not send it", async () => {
    const sendBatch = vi.spyOn(env.LOG_QUEUE, "sendBatch");
    await report(JSON.stringify({ sessionId: SESSION, adblock: false, itp: false, etp: true }));
    await report(VALID);
    expect(sentRecords(sendBatch).map((record) => (record as { etp: boolean }).etp)).toEqual([true, false]);
  });

  it.each([
    ["https://ss.detect-shop.example", "same-origin"],
    ["https://www.detect-shop.example", "subdomain"],
    ["https://detect-shop.example:8443", "subdomain"],
    ["https://www.other-shop.example", "cross-site"],
    ["null", "unknown"],
    [undefined, "unknown"],
  ])("measures the visit mode from the page's Origin %s as %s", async (origin, mode) => {
    const sendBatch = vi.spyOn(env.LOG_QUEUE, "sendBatch");
    await report(VALID, {}, origin === undefined ? {} : { Origin: origin });
    expect(sentRecords(sendBatch)).toMatchObject([{ mode }]);
  });

  it("accepts but records nothing when detection is not active", async () => {
    const sendBatch = vi.spyOn(env.LOG_QUEUE, "sendBatch");
    const off = await report(VALID, { modules: { adblockDetection: { enabled: false } } });
    const unentitled = await report(VALID, { entitlements: ["cookie_restoration"] });
    expect([off.status, unentitled.status]).toEqual([202, 202]);
    expect(sendBatch).not.toHaveBeenCalled();
  });

  it("rejects invalid fields with 400 and queues nothing", async () => {
    const sendBatch = vi.spyOn(env.LOG_QUEUE, "sendBatch");
    const bad = [
      { sessionId: "short", adblock: true, itp: false },
      { sessionId: SESSION, adblock: "yes", itp: false },
      { sessionId: SESSION, adblock: true },
      { sessionId: SESSION, adblock: true, itp: false, ip: "1.2.3.4" },
    ];
    for (const body of bad) {
      const response = await report(JSON.stringify(body));
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(await response.json()).toMatchObject({ error: "invalid_body" });
    }
    expect(sendBatch).not.toHaveBeenCalled();
  });

  it("records nothing for a session id the edge did not start: made up, altered, or another container's", async () => {
    const sendBatch = vi.spyOn(env.LOG_QUEUE, "sendBatch");
    const altered = `${SESSION.slice(0, 12)}${SESSION[12] === "A" ? "B" : "A"}${SESSION.slice(13)}`;
    const theirs = await startedSession(loaderConfig({ containerId: "detect-other" }));
    for (const sessionId of ["sess_12345678", "abcdefghijklmnopqrstuvwx", altered, theirs]) {
      const response = await report(JSON.stringify({ sessionId, adblock: true, itp: false }));
      expect(response.status, sessionId).toBe(400);
      expect(await response.json()).toMatchObject({ error: "unknown_session" });
    }
    expect(sendBatch).not.toHaveBeenCalled();
  });

  it("rejects invalid JSON with 400", async () => {
    expect((await report("sessionId=1")).status).toBe(400);
  });

  it("rejects bodies over 16 KiB with 413", async () => {
    expect((await report(JSON.stringify({ sessionId: "x".repeat(17 * 1024) }))).status).toBe(413);
  });

  it("reflects a trusted Origin on the 202", async () => {
    const response = await report(VALID, {}, { Origin: "https://www.detect-shop.example" });
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("https://www.detect-shop.example");
    expect(response.headers.get("Access-Control-Allow-Credentials")).toBe("true");
  });
});
