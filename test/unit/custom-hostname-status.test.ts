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

describe("the refresh backoff", () => {
  const created = "2026-03-01T00:00:00.000Z";
  const at = (minutes: number) => new Date(Date.parse(created) + minutes * 60_000).toISOString();
  const pending = hostname("pending", "pending_validation");
  const first = recordFrom(pending, { previous: null, liveNow: false, cnameTarget: "t.example", now: created });

  it("checks a pending hostname 1, 2, 5, 15 and 60 minutes after its last change, then hourly", () => {
    expect(first).toMatchObject({ changedAt: created, nextCheckAt: at(1) });
    const checkedAt = (minutes: number) =>
      recordFrom(pending, { previous: first, liveNow: false, cnameTarget: "t.example", now: at(minutes) }).nextCheckAt;
    expect([1, 2, 5, 15, 60, 120].map(checkedAt)).toEqual([at(2), at(5), at(15), at(60), at(120), at(180)]);
  });

  it("starts over when Cloudflare's statuses change, and stops once the hostname is not pending", () => {
    const moved = recordFrom(hostname("pending", "pending_issuance"), {
      previous: first,
      liveNow: false,
      cnameTarget: "t.example",
      now: at(15),
    });
    expect(moved).toMatchObject({ changedAt: at(15), nextCheckAt: at(16) });
    const active = recordFrom(hostname("active", "active"), { previous: moved, liveNow: false, cnameTarget: "t.example", now: at(16) });
    expect(active.nextCheckAt).toBeNull();
  });
});
