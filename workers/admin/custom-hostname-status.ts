// Cloudflare's custom hostname object -> the control plane's record: a small state (pending | active | failed), the
// errors Cloudflare gives, and the exact DNS records the customer must create.

import type { DnsRecord, HostnameRecord, HostnameState } from "../../durable/custom-hostname-table";
import type { CustomHostname } from "../../schemas/cloudflare";

/** Hostname (ownership) statuses that serve traffic. */
const ACTIVE_STATUSES = new Set(["active", "active_redeploying"]);
/** Hostname statuses Cloudflare does not leave by itself: the hostname was moved away, blocked or deleted. */
const FAILED_STATUSES = new Set(["moved", "blocked", "pending_blocked", "deleted", "pending_deletion", "test_blocked", "test_failed"]);
/** Certificate statuses with a certificate in service (pending_expiration: still valid, renewal under way). */
const ACTIVE_SSL = new Set(["active", "pending_expiration"]);
/** Certificate statuses that need someone to act: validation or issuance gave up, or the certificate is gone. */
const FAILED_SSL = new Set([
  "validation_timed_out",
  "initializing_timed_out",
  "issuance_timed_out",
  "deployment_timed_out",
  "deletion_timed_out",
  "expired",
  "deleted",
  "inactive",
  "deactivating",
]);

export function stateOf(hostname: CustomHostname): Exclude<HostnameState, "removed"> {
  const status = hostname.status;
  const ssl = hostname.ssl?.status ?? "";
  if (FAILED_STATUSES.has(status) || FAILED_SSL.has(ssl)) return "failed";
  return ACTIVE_STATUSES.has(status) && ACTIVE_SSL.has(ssl) ? "active" : "pending";
}

/** Cloudflare's messages, and for a failed state one line saying which status failed and what to do. */
function errorsOf(hostname: CustomHostname, state: HostnameState): string[] {
  const errors = [
    ...hostname.verification_errors.map((e) => (typeof e === "string" ? e : JSON.stringify(e))),
    ...(hostname.ssl?.validation_errors ?? []).flatMap((e) => (e.message ? [e.message] : [])),
  ];
  if (state !== "failed") return errors;
  const ssl = hostname.ssl?.status ?? "";
  const cause = FAILED_SSL.has(ssl)
    ? `certificate status is ${ssl}: check the DNS records, then PUT the hostname again to restart validation`
    : `hostname status is ${hostname.status}: Cloudflare will not serve it until the cause is fixed`;
  return [...errors, cause];
}

/** CNAME to the SaaS target, ownership TXT, certificate TXT records (gone from Cloudflare's answer once issued). */
function dnsRecordsOf(hostname: CustomHostname, cnameTarget: string): DnsRecord[] {
  const records: DnsRecord[] = [{ type: "CNAME", name: hostname.hostname, value: cnameTarget, purpose: "traffic" }];
  const ownership = hostname.ownership_verification;
  if (ownership?.name && ownership.value) {
    records.push({ type: "TXT", name: ownership.name, value: ownership.value, purpose: "ownership" });
  }
  for (const record of hostname.ssl?.validation_records ?? []) {
    if (record.txt_name && record.txt_value) {
      records.push({ type: "TXT", name: record.txt_name, value: record.txt_value, purpose: "certificate" });
    }
  }
  return records;
}

/**
 * The refresh asks Cloudflare about a pending hostname this many minutes after it was created or its statuses last
 * changed, then hourly: a customer who publishes the records at once goes live within minutes, and one who never does
 * costs one API call an hour (the API allows 1,200 per five minutes per token; docs/custom-domains.md).
 */
const BACKOFF_MINUTES = [1, 2, 5, 15, 60];

function nextCheckAt(changedAt: string, now: string): string {
  const from = Date.parse(changedAt);
  const at = Date.parse(now);
  const step = BACKOFF_MINUTES.map((minutes) => from + minutes * 60_000).find((t) => t > at);
  return new Date(step ?? at + 60 * 60_000).toISOString();
}

export function recordFrom(
  hostname: CustomHostname,
  options: { previous: HostnameRecord | null; liveNow: boolean; cnameTarget: string; now: string },
): HostnameRecord {
  const state = stateOf(hostname);
  const kept = options.previous?.state === "removed" ? null : options.previous;
  const sslStatus = hostname.ssl?.status ?? null;
  const unchanged =
    kept?.cloudflare?.id === hostname.id && kept.cloudflare.status === hostname.status && kept.cloudflare.sslStatus === sslStatus;
  const changedAt = (unchanged && kept?.changedAt) || options.now;
  return {
    host: hostname.hostname,
    state,
    liveNow: options.liveNow,
    activatedAt: kept?.activatedAt ?? (state === "active" ? options.now : null),
    cloudflare: { id: hostname.id, status: hostname.status, sslStatus },
    errors: errorsOf(hostname, state),
    dnsRecords: dnsRecordsOf(hostname, options.cnameTarget),
    checkedAt: options.now,
    changedAt,
    nextCheckAt: state === "pending" ? nextCheckAt(changedAt, options.now) : null,
  };
}

/** Cloudflare no longer has the hostname (deleted outside this API): nothing can be served for it. */
export function goneRecord(previous: HostnameRecord, now: string): HostnameRecord {
  return {
    ...previous,
    state: "failed",
    activatedAt: null,
    cloudflare: null,
    errors: ["the custom hostname no longer exists at Cloudflare: PUT it again to recreate it"],
    dnsRecords: previous.dnsRecords.filter((record) => record.purpose === "traffic"),
    checkedAt: now,
  };
}

export function removedRecord(host: string, now: string): HostnameRecord {
  return { host, state: "removed", liveNow: false, activatedAt: null, cloudflare: null, errors: [], dnsRecords: [], checkedAt: now };
}
