// POST /mark-session-detection: one DetectionRecord onto LOG_QUEUE, 202; gated by the module; bad bodies refused.
import { env } from "cloudflare:workers";
import * as v from "valibot";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { EdgeConfigInput } from "../../schemas/edge-config";
import { DetectionRecordSchema } from "../../schemas/log-record";
import { loaderConfig, loaderResponse, siteFor } from "./loader-support";

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

const VALID = JSON.stringify({ sessionId: "sess_12345678", adblock: true, itp: false });

describe("POST /mark-session-detection", () => {
  it("queues one detection record and answers 202", async () => {
    const send = vi.spyOn(env.LOG_QUEUE, "send");
    const before = Date.now();
    const response = await report(VALID);
    expect(response.status).toBe(202);
    expect(send).toHaveBeenCalledTimes(1);
    const record = v.parse(DetectionRecordSchema, send.mock.calls[0]![0]);
    expect(record).toMatchObject({
      kind: "detection",
      containerId: "detect-shop",
      sessionId: "sess_12345678",
      host: "ss.detect-shop.example",
      adblock: true,
      itp: false,
    });
    expect(record.ts).toBeGreaterThanOrEqual(before);
  });

  it("records Firefox ETP, and false for a cached script that does not send it", async () => {
    const send = vi.spyOn(env.LOG_QUEUE, "send");
    await report(JSON.stringify({ sessionId: "sess_firefox1", adblock: false, itp: false, etp: true }));
    await report(VALID);
    expect(send.mock.calls.map(([record]) => (record as { etp: boolean }).etp)).toEqual([true, false]);
  });

  it.each([
    ["https://ss.detect-shop.example", "same-origin"],
    ["https://www.detect-shop.example", "subdomain"],
    ["https://detect-shop.example:8443", "subdomain"],
    ["https://www.other-shop.example", "cross-site"],
    ["null", "unknown"],
    [undefined, "unknown"],
  ])("measures the visit mode from the page's Origin %s as %s", async (origin, mode) => {
    const send = vi.spyOn(env.LOG_QUEUE, "send");
    await report(VALID, {}, origin === undefined ? {} : { Origin: origin });
    expect(send.mock.calls[0]![0]).toMatchObject({ mode });
  });

  it("accepts but records nothing when detection is not active", async () => {
    const send = vi.spyOn(env.LOG_QUEUE, "send");
    const off = await report(VALID, { modules: { adblockDetection: { enabled: false } } });
    const unentitled = await report(VALID, { entitlements: ["cookie_restoration"] });
    expect([off.status, unentitled.status]).toEqual([202, 202]);
    expect(send).not.toHaveBeenCalled();
  });

  it("rejects invalid fields with 400 and queues nothing", async () => {
    const send = vi.spyOn(env.LOG_QUEUE, "send");
    const bad = [
      { sessionId: "short", adblock: true, itp: false },
      { sessionId: "sess_12345678", adblock: "yes", itp: false },
      { sessionId: "sess_12345678", adblock: true },
      { sessionId: "sess_12345678", adblock: true, itp: false, ip: "1.2.3.4" },
    ];
    for (const body of bad) {
      const response = await report(JSON.stringify(body));
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(await response.json()).toMatchObject({ error: "invalid_body" });
    }
    expect(send).not.toHaveBeenCalled();
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
