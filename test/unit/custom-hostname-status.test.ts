// Cloudflare's custom hostname statuses -> pending | active | failed, and which records may be live.
import { describe, expect, it } from "vitest";
import { type HostnameRecord, isLive } from "../../durable/custom-hostname-table";
import type { CustomHostname } from "../../schemas/cloudflare";
import { recordFrom, stateOf } from "../../workers/admin/custom-hostname-status";

function hostname(status: string, sslStatus: string | null): CustomHostname {
  return {
    id: "0d89a2ec-1cd0-4e43-b8b8-2a1b0c1c3f5e",
    hostname: "ss.shop1.example",
    status,
    verification_errors: [],
    ownership_verification: null,
    ssl: sslStatus === null ? null : { status: sslStatus, method: "txt", validation_records: [], validation_errors: [] },
  };
}

describe("stateOf", () => {
  it.each([
    ["active", "active", "active"],
    ["active_redeploying", "active", "active"],
    ["active", "pending_expiration", "active"],
    ["pending", "pending_validation", "pending"],
    ["pending", "initializing", "pending"],
    ["pending", "active", "pending"],
    ["active", "pending_deployment", "pending"],
    ["active", null, "pending"],
    ["pending", "validation_timed_out", "failed"],
    ["pending", "issuance_timed_out", "failed"],
    ["active", "expired", "failed"],
    ["moved", "active", "failed"],
    ["blocked", "pending_validation", "failed"],
    ["pending_deletion", "active", "failed"],
  ])("hostname %s with certificate %s is %s", (status, ssl, state) => {
    expect(stateOf(hostname(status, ssl))).toBe(state);
  });
});

describe("isLive", () => {
  const now = "2026-03-01T00:00:00.000Z";
  const record = (status: string, ssl: string, previous: HostnameRecord | null = null, liveNow = false) =>
    recordFrom(hostname(status, ssl), { previous, liveNow, cnameTarget: "fallback.saas.example", now });

  it("only an active hostname is live", () => {
    expect(isLive(record("active", "active"))).toBe(true);
    expect(isLive(record("pending", "pending_validation"))).toBe(false);
    expect(isLive(record("pending", "validation_timed_out"))).toBe(false);
  });

  it("a hostname once active stays live while its certificate renews, but not once it fails", () => {
    const active = record("active", "active");
    expect(active.activatedAt).toBe(now);
    expect(isLive(record("active", "pending_validation", active))).toBe(true);
    expect(isLive(record("moved", "active", active))).toBe(false);
  });

  it("the operator's override is live in every state", () => {
    expect(isLive(record("pending", "pending_validation", null, true))).toBe(true);
    expect(isLive(record("blocked", "active", null, true))).toBe(true);
  });
});
