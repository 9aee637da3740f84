// Log record builders for any Workers-runtime test (edge or control): plain values, no bindings imported.
import type { AccessRecord, DetectionRecord } from "../../schemas/log-record";

let sequence = 0;

export function accessRecord(overrides: Partial<AccessRecord> = {}): AccessRecord {
  sequence += 1;
  return {
    kind: "access",
    ts: Date.UTC(2026, 0, 1, 10, 0, 0),
    requestId: `req-${sequence}-${crypto.randomUUID()}`,
    containerId: "shop1",
    host: "ss.shop1.example",
    method: "GET",
    pathClass: "proxy",
    path: "/g/collect",
    status: 200,
    upstreamStatus: 200,
    durationMs: 12,
    country: "DE",
    cookieRewrites: 0,
    bot: null,
    reason: null,
    ...overrides,
  };
}

export function detectionRecord(overrides: Partial<DetectionRecord> = {}): DetectionRecord {
  sequence += 1;
  return {
    kind: "detection",
    ts: Date.UTC(2026, 0, 1, 10, 0, 0),
    containerId: "shop1",
    sessionId: `sess${sequence}_${crypto.randomUUID().slice(0, 8)}`,
    host: "ss.shop1.example",
    adblock: false,
    itp: false,
    etp: false,
    mode: "subdomain",
    country: "DE",
    webdriver: false,
    bot: null,
    ...overrides,
  };
}
