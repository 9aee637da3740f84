// A container's custom hostnames (Cloudflare for SaaS), kept in its ContainerState object beside the config state:
// one row per host with what Cloudflare last reported. The object reads them on every KV sync, because a host whose
// custom hostname is not verified must not be in SITE_REGISTRY (nobody may route a domain they have not proven).
// Hosts without a row are operator-managed DNS and behave as before.

/** Containers with cron work (a pending hostname or a deletion), as empty LOG_BUCKET objects under this prefix. */
export const CRON_MARKER_PREFIX = "custom-hostnames/pending/";

/** pending | active | failed map Cloudflare's statuses; removed = deleted at Cloudflare, host held back. */
export type HostnameState = "pending" | "active" | "failed" | "removed";

/**
 * A custom hostname this container no longer may hold (its host left the config, the container was deleted, or it
 * lost the host while the hostname was being created): Cloudflare must delete it. Kept until Cloudflare has (the
 * cron retries every minute), and shown in the container's status as state "deleting".
 */
export interface HostnameDeletion {
  cloudflareId: string;
  host: string;
  since: string;
  attempts: number;
  lastError: string | null;
}

export interface DnsRecord {
  type: "CNAME" | "TXT";
  name: string;
  value: string;
  /** traffic: the CNAME to the SaaS target; ownership: proves the domain; certificate: lets the CA issue. */
  purpose: "traffic" | "ownership" | "certificate";
}

export interface HostnameRecord {
  host: string;
  state: HostnameState;
  /** The operator's override (PUT …?live=now): the host is live whatever Cloudflare says. */
  liveNow: boolean;
  /** When Cloudflare first reported it active (ownership proven). A later pending, such as a renewal, keeps it live. */
  activatedAt: string | null;
  cloudflare: { id: string; status: string; sslStatus: string | null } | null;
  /** Cloudflare's verification and certificate validation errors, plus what a failed state means. */
  errors: string[];
  dnsRecords: DnsRecord[];
  checkedAt: string;
  /** When Cloudflare's statuses last changed (or the hostname was created): the refresh backs off from here. */
  changedAt?: string;
  /** When the cron asks Cloudflare about a pending hostname next (absent: at once). */
  nextCheckAt?: string | null;
}

/** May the host be in SITE_REGISTRY? */
export function isLive(record: HostnameRecord): boolean {
  if (record.state === "removed") return false;
  if (record.liveNow || record.state === "active") return true;
  return record.state === "pending" && record.activatedAt !== null;
}

/** The short form container status shows. */
export function hostnameSummary(record: HostnameRecord) {
  return {
    host: record.host,
    state: record.state,
    live: isLive(record),
    liveNow: record.liveNow,
    errors: record.errors,
    checkedAt: record.checkedAt,
  };
}

/** How a deletion still to do shows in the container's status. */
export function deletionSummary(deletion: HostnameDeletion) {
  return {
    host: deletion.host,
    state: "deleting" as const,
    live: false,
    liveNow: false,
    errors: deletion.lastError ? [deletion.lastError] : [],
    checkedAt: deletion.since,
  };
}

export function createHostnameTable(sql: SqlStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS custom_hostnames (host TEXT PRIMARY KEY, record TEXT NOT NULL)");
  sql.exec(`CREATE TABLE IF NOT EXISTS custom_hostname_deletions (
    cloudflare_id TEXT PRIMARY KEY, host TEXT NOT NULL, since TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT
  )`);
}

export function readDeletions(sql: SqlStorage): HostnameDeletion[] {
  return sql
    .exec<{ cloudflare_id: string; host: string; since: string; attempts: number; last_error: string | null }>(
      "SELECT * FROM custom_hostname_deletions ORDER BY host",
    )
    .toArray()
    .map((row) => ({
      cloudflareId: row.cloudflare_id,
      host: row.host,
      since: row.since,
      attempts: row.attempts,
      lastError: row.last_error,
    }));
}

/** Hands the hostname's Cloudflare id (if it has one) to the deletions and forgets the record. */
export function dropHostname(sql: SqlStorage, record: HostnameRecord, now: string): void {
  if (record.cloudflare) {
    sql.exec(
      "INSERT OR IGNORE INTO custom_hostname_deletions (cloudflare_id, host, since) VALUES (?, ?, ?)",
      record.cloudflare.id,
      record.host,
      now,
    );
  }
  sql.exec("DELETE FROM custom_hostnames WHERE host = ?", record.host);
}

/**
 * When the cron next has work in this container: the earliest next check of a pending hostname, or now ("") for a
 * deletion still to do; null when there is none.
 */
export function cronDue(sql: SqlStorage): string | null {
  if (readDeletions(sql).length > 0) return "";
  const due = readHostnames(sql)
    .filter((record) => record.state === "pending")
    .map((record) => record.nextCheckAt ?? "");
  return due.length === 0 ? null : due.sort()[0]!;
}
export function readHostnames(sql: SqlStorage): HostnameRecord[] {
  return sql
    .exec<{ record: string }>("SELECT record FROM custom_hostnames ORDER BY host")
    .toArray()
    .map((row) => JSON.parse(row.record) as HostnameRecord);
}

export function writeHostname(sql: SqlStorage, record: HostnameRecord): void {
  sql.exec("INSERT OR REPLACE INTO custom_hostnames (host, record) VALUES (?, ?)", record.host, JSON.stringify(record));
}

/** Public hosts the KV sync leaves out of SITE_REGISTRY. */
export function withheldHosts(sql: SqlStorage): Set<string> {
  return new Set(
    readHostnames(sql)
      .filter((record) => !isLive(record))
      .map((record) => record.host),
  );
}
